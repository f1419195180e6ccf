"""Guards for the layout and the pins: the things that break silently.

- our top-level packages resolve to this repository (not to a same-named package
  installed elsewhere, nor to a file inside flows/ that shadows them);
- Prefect's server app builds with the pinned FastAPI (fastapi 0.155+ breaks it);
- every deployment entrypoint in deployments/prefect.yaml loads by module path and
  is a Prefect flow.
"""
from __future__ import annotations

import importlib
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("models", "rules", "flows", "dangjian", "deployments")
PREFECT_YAML = ROOT / "deployments" / "prefect.yaml"


@pytest.mark.parametrize("name", OUR_PACKAGES)
def test_package_resolves_to_this_repository(name: str) -> None:
    module = importlib.import_module(name)
    file = getattr(module, "__file__", None)
    assert file, f"{name} has no __file__ (namespace package?): {module!r}"
    path = Path(file).resolve()
    assert path.is_relative_to(ROOT), f"{name} comes from {path}, not from {ROOT}"
    assert path == ROOT / name / "__init__.py", f"{name} resolves to {path}"


def test_no_file_in_flows_shadows_a_package() -> None:
    shadowing = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "flows").rglob("*")
        if "__pycache__" not in p.parts
        and (p.stem if p.is_file() and p.suffix == ".py" else p.name if p.is_dir() else None)
        in OUR_PACKAGES
    )
    assert not shadowing, f"named like one of our packages {OUR_PACKAGES}: {shadowing}"


def _locked_version(name: str) -> str:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    m = re.search(rf"^{re.escape(name)}==(\S+)", text, re.MULTILINE)
    assert m, f"{name} is not pinned in requirements.lock"
    return m.group(1)


@pytest.mark.parametrize("dist", ["prefect", "fastapi"])
def test_pinned_versions_are_installed(dist: str) -> None:
    assert metadata.version(dist) == _locked_version(dist)


def test_prefect_server_app_builds() -> None:
    from fastapi import FastAPI
    from prefect.server.api.server import create_app

    app = create_app(ephemeral=True, ignore_cache=True)
    assert isinstance(app, FastAPI)
    api = next(r.app for r in app.routes if getattr(r, "path", None) == "/api")
    paths = api.openapi()["paths"]  # FastAPI walks every route and model here
    assert "/health" in paths and "/flows/" in paths and "/deployments/" in paths


def _entrypoints() -> list[str]:
    if not PREFECT_YAML.exists():
        return []
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load(PREFECT_YAML.read_text(encoding="utf-8")) or {}
    return [str(d.get("entrypoint", "")) for d in doc.get("deployments") or []]


@pytest.mark.parametrize("entrypoint", _entrypoints() or ["<none>"])
def test_deployment_entrypoint_loads_by_module_path(entrypoint: str) -> None:
    if not PREFECT_YAML.exists():
        pytest.skip(f"{PREFECT_YAML.relative_to(ROOT)} does not exist yet")
    assert entrypoint != "<none>", f"{PREFECT_YAML.name} declares no deployments"
    from prefect import Flow

    module_name, sep, attr = entrypoint.partition(":")
    assert sep and attr, f"entrypoint {entrypoint!r} is not 'module.path:flow_function'"
    assert "/" not in module_name and not module_name.endswith(".py"), (
        f"entrypoint {entrypoint!r} names a file path; loading flows by file path "
        "shadows our packages: use a module path like flows.plan_cycle:plan_cycle"
    )
    module = importlib.import_module(module_name)
    assert Path(module.__file__ or "").resolve().is_relative_to(ROOT)
    obj = getattr(module, attr)
    assert isinstance(obj, Flow), f"{entrypoint} is a {type(obj).__name__}, not a Prefect flow"
