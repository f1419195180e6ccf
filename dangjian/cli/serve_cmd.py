"""`dangjian serve`: every deployment of deployments/prefect.yaml, served in one process.

The embedded default needs no work pool and no worker: Prefect's `serve()` runs each
deployment's schedule itself. The schedules are read from deployments/prefect.yaml, so
they are written once, for `prefect deploy` and for `dangjian serve` alike. Entrypoints
stay module paths (`flows.chase:chase`), never file paths.
"""
from __future__ import annotations

import contextlib
import importlib
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from ruamel.yaml import YAML

import deployments
from dangjian.cli.app import app, err, out, prepare_prefect, require_files
from dangjian.errors import ValidationFailed

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

# `deployments.__path__`, not `__file__`: an editable install may see it as a namespace package.
PREFECT_YAML = next((Path(p) / "prefect.yaml" for p in deployments.__path__
                     if (Path(p) / "prefect.yaml").is_file()), Path("deployments/prefect.yaml")).resolve()
SCHEDULE_KEYS = {"cron", "interval", "rrule", "timezone", "active", "parameters", "day_or", "slug"}


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str | None = None
    interval: float | None = None      # seconds
    rrule: str | None = None
    timezone: str | None = None
    active: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str                    # "package.module:flow_function"
    description: str | None
    parameters: dict[str, Any]
    schedules: tuple[ScheduleSpec, ...]
    tags: tuple[str, ...] = ()


def read_specs(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    """The deployments of a prefect.yaml, checked enough to serve them."""
    doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    specs: list[DeploymentSpec] = []
    for i, raw in enumerate(doc.get("deployments") or [], start=1):
        name = raw.get("name")
        entrypoint = raw.get("entrypoint") or ""
        where = f"{path} 第{i}个部署（{name or '未命名'}）"
        if not name or ":" not in entrypoint or entrypoint.split(":", 1)[0].endswith(".py") \
                or "/" in entrypoint:
            raise ValidationFailed(f"{where}：需要 name，且 entrypoint 必须是模块路径，如 flows.chase:chase",
                                   field="entrypoint")
        schedules = []
        for s in raw.get("schedules") or []:
            unknown = set(s) - SCHEDULE_KEYS
            kinds = [k for k in ("cron", "interval", "rrule") if s.get(k) is not None]
            if unknown or len(kinds) != 1:
                raise ValidationFailed(f"{where}：每个 schedule 须且只须写 cron、interval、rrule 之一"
                                       + (f"（未知字段：{'、'.join(sorted(unknown))}）" if unknown else ""),
                                       field="schedules")
            schedules.append(ScheduleSpec(
                cron=s.get("cron"), interval=float(s["interval"]) if s.get("interval") is not None else None,
                rrule=s.get("rrule"), timezone=s.get("timezone"), active=bool(s.get("active", True)),
                parameters=dict(s.get("parameters") or {})))
        specs.append(DeploymentSpec(name=name, entrypoint=entrypoint, description=raw.get("description"),
                                    parameters=dict(raw.get("parameters") or {}),
                                    schedules=tuple(schedules), tags=tuple(raw.get("tags") or ())))
    return specs


def check_entrypoints(specs: list[DeploymentSpec], path: Path) -> None:
    """Every entrypoint's module exists, found without importing it (nor Prefect)."""
    import importlib.util

    missing = []
    for spec in specs:
        module = spec.entrypoint.partition(":")[0]
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            missing.append(f"{spec.name}：找不到入口模块 {module}")
    if missing:
        raise ValidationFailed(f"{path}：部署的入口无法加载", field="entrypoint", details=missing)


def load_flow(entrypoint: str) -> Any:
    module, _, attr = entrypoint.partition(":")
    found = getattr(importlib.import_module(module), attr, None)
    if found is None:
        raise ValidationFailed(f"入口 {entrypoint}：模块 {module} 中没有 {attr}", field="entrypoint")
    return found


def build_deployments(path: Path = PREFECT_YAML) -> list[RunnerDeployment]:
    """RunnerDeployments for `prefect.serve`, with the yaml's schedules; starts nothing."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval, RRule

    built = []
    for spec in read_specs(path):
        schedules = []
        for s in spec.schedules:
            common: dict[str, Any] = {"timezone": s.timezone, "active": s.active,
                                      "parameters": s.parameters}
            if s.cron is not None:
                schedules.append(Cron(s.cron, **common))
            elif s.interval is not None:
                schedules.append(Interval(timedelta(seconds=s.interval), **common))
            else:
                schedules.append(RRule(s.rrule or "", **common))
        flow = load_flow(spec.entrypoint)
        built.append(flow.to_deployment(
            name=spec.name, schedules=schedules or None, parameters=spec.parameters,
            description=spec.description, tags=list(spec.tags) or None,
            entrypoint_type=EntrypointType.MODULE_PATH))
    return built


@app.command()
def serve(
    prefect_file: Annotated[Path, typer.Option("--prefect-file", help="部署定义文件")] = PREFECT_YAML,
    limit: Annotated[int | None, typer.Option(help="同时运行的流程数上限")] = None,
) -> None:
    """内嵌模式：在本进程中按 deployments/prefect.yaml 的定时（北京时间）运行全部流程。

    未设置 PREFECT_API_URL 时先在后台启动一个本地 Prefect 服务器（含调度服务，数据在
    PREFECT_HOME 下），退出时一并停止；设置了则使用那台服务器。
    """
    require_files(prefect_file)
    specs = read_specs(prefect_file)          # a broken file is reported before anything starts
    check_entrypoints(specs, prefect_file)
    from dangjian.cli.database_check import DatabaseUnreachable, check_initialised
    from dangjian.settings import get_settings

    try:
        check_initialised(get_settings().database_url)
    except DatabaseUnreachable as error:   # a server that is down now may be back by the next run
        err.print(f"注意：{error}。服务照常启动；连不上数据库期间到点的流程会失败，恢复后的下一次运行补做。",
                  highlight=False, markup=False)
    prepare_prefect()
    with contextlib.ExitStack() as stack:
        if not os.environ.get("PREFECT_API_URL"):
            from dangjian.prefect_local import local_server

            home = Path(os.environ["PREFECT_HOME"])
            out.print(f"正在启动本地 Prefect 服务器（数据与日志在 {home}）…", highlight=False)
            server = stack.enter_context(local_server(home))
            os.environ["PREFECT_API_URL"] = server.api_url
            out.print(f"Prefect 服务器已就绪：{server.api_url}", highlight=False)
        from prefect import serve as prefect_serve

        built = build_deployments(prefect_file)
        for spec in specs:
            when = "；".join(f"{s.cron or s.rrule or f'每 {s.interval:g} 秒'}（{s.timezone or 'UTC'}）"
                            for s in spec.schedules) or "无定时，按需触发"
            out.print(f"{spec.name}：{spec.description or spec.entrypoint} —— {when}", highlight=False)
        out.print("按 Ctrl-C 停止。", highlight=False)
        try:
            prefect_serve(*built, limit=limit, print_starting_message=False)
        except KeyboardInterrupt:
            pass
    out.print("已停止。", highlight=False)
