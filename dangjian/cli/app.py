"""The typer app, its consoles, and the Prefect environment for the embedded default."""
from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

app = typer.Typer(
    help="社区党建工作流与考核引擎：计划任务、报送、督办、评分。",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="组织机构与党员名册", no_args_is_help=True)
rules_app = typer.Typer(help="规则集：校验、样例测试、登记", no_args_is_help=True)
cycle_app = typer.Typer(help="考核周期", no_args_is_help=True)
tasks_app = typer.Typer(help="任务：查看、报送（办结）、更正/重新报送、批量办结、豁免", no_args_is_help=True)
review_app = typer.Typer(help="审核：上级组织审核下级支部的报送", no_args_is_help=True)
members_app = typer.Typer(help="党员：党费、“六个一”承诺、自行脱党预警", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(rules_app, name="rules")
app.add_typer(cycle_app, name="cycle")
app.add_typer(tasks_app, name="tasks")
channels_app = typer.Typer(help="通知渠道：邮件、企业微信/钉钉群机器人、Webhook", no_args_is_help=True)
warnings_app = typer.Typer(help="预警：有组织无活动、连续红色、应建未建", no_args_is_help=True)
app.add_typer(channels_app, name="channels")
app.add_typer(warnings_app, name="warnings")
app.add_typer(review_app, name="review")
app.add_typer(members_app, name="members")
develop_app = typer.Typer(help="发展党员：立案、逐步登记（时间规则校验）、查看档案与下一步", no_args_is_help=True)
app.add_typer(develop_app, name="develop")
targets_app = typer.Typer(help="目标责任制：设定、逐级分解、责任书签订、进度报送", no_args_is_help=True)
app.add_typer(targets_app, name="targets")

out = Console()
err = Console(stderr=True, soft_wrap=True)

EXIT_PARTIAL = 7    # --partial wrote the good rows and refused the others


def require_files(paths: list[Path] | Path | None, what: str = "文件") -> None:
    """Missing input files are "not found" (exit 3), all named at once, before any work. (A
    folder, an empty or a wrong file is for its reader to refuse, with everything else wrong.)"""
    from dangjian.errors import NotFound

    listed = [] if paths is None else [paths] if isinstance(paths, Path) else list(paths)
    problems = [f"{what}不存在：{p}" for p in listed if not p.exists()]
    if len(problems) == 1:
        raise NotFound(problems[0], field="file")
    if problems:
        raise NotFound(f"{len(problems)} 个{what}找不到：", field="file", details=problems)


def partial_exit_code(written: int, first_failure_code: int) -> int:
    """After refused rows: 7 when good rows were written anyway (--partial), else the refusal's code."""
    return EXIT_PARTIAL if written else first_failure_code


def prepare_prefect(home: Path | None = None) -> None:
    """Prefect keeps its own database beside ours, never in the same file (DESIGN.md).

    Must run before `prefect` is imported: Prefect reads these settings once.
    """
    prefect_home = Path(os.environ.setdefault(
        "PREFECT_HOME", str((home or Path(".dangjian") / "prefect").resolve())))
    prefect_home.mkdir(parents=True, exist_ok=True)   # Prefect creates only the last level
    # Failures reach the user as our own Chinese message; Prefect's tracebacks stay in its log.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_CLI_PROMPT", "false")


CLI_TAG = "dangjian-cli"


def run_flow(flow_fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a flow from a command: tagged with this process's pid, after marking as crashed
    the runs of commands that died without finishing (kill -9, a power cut), which would
    otherwise stay RUNNING in Prefect's records for good."""
    from prefect import tags

    with prefect_server():
        mark_orphaned_runs_crashed()
        with tags(CLI_TAG, f"pid:{os.getpid()}", f"host:{socket.gethostname()}", f"boot:{_boot_id()}"):
            return flow_fn(*args, **kwargs)


@contextlib.contextmanager
def prefect_server() -> Iterator[None]:
    """Without PREFECT_API_URL, flows need a server of their own. Prefect's ephemeral one
    outlives a command killed with kill -9; ours (dangjian.prefect_local) dies with it.
    Same PREFECT_HOME, so the same run records. After prepare_prefect()."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dangjian.prefect_local import local_server

    with local_server(Path(os.environ["PREFECT_HOME"]), services=False) as server, \
            temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


def _boot_id() -> str:
    """Changes at every boot (Linux): a run from an earlier boot has certainly died."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()[:8]
    except OSError:
        return "unknown"


def _tag(tags: list[str], name: str) -> str | None:
    return next((t.split(":", 1)[1] for t in tags if t.startswith(name + ":")), None)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_orphaned_runs_crashed() -> int:
    """Runs started by a `dangjian` command whose process is gone → Crashed. Returns how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    marked = 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[CLI_TAG]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.RUNNING, StateType.PENDING, StateType.SCHEDULED]))))
        here, boot = socket.gethostname(), _boot_id()
        for run in runs:
            pid, host = _tag(run.tags, "pid"), _tag(run.tags, "host")
            if pid is None or not pid.isdigit() or host != here:
                continue        # another machine's command: only that machine can tell
            gone = _tag(run.tags, "boot") != boot or (int(pid) != os.getpid() and not _alive(int(pid)))
            if gone:   # not forced: a run that finished meanwhile keeps its final state
                client.set_flow_run_state(run.id, Crashed(message=f"运行它的命令进程（pid {pid}）已不在：被终止或断电"))
                marked += 1
    return marked
