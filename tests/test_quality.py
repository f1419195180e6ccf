"""The quality gate: ruff and mypy as configured in pyproject.toml, and the import layering.

Ruff's rule selection and mypy's checked paths live in pyproject.toml, so `ruff check .` and
plain `mypy` run by hand check exactly what these tests check.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)


# ---------------------------------------------------------------- ruff

def test_ruff_finds_nothing() -> None:
    lint = PYPROJECT["tool"]["ruff"]["lint"]
    assert lint.get("select"), "[tool.ruff.lint] select must name the rules (ruff's defaults move)"
    result = run_tool("ruff", "check", ".", "--output-format", "concise")
    assert result.returncode == 0, (
        f"ruff check . exited {result.returncode}; fix these (or `ruff check . --fix`):\n"
        f"{result.stdout}{result.stderr}")


# ---------------------------------------------------------------- mypy

# The paths that were clean when the gate was introduced; the gate may grow, never shrink.
MYPY_CORE = {"models", "rules", "dangjian/domain"}


def test_mypy_finds_no_errors() -> None:
    files = PYPROJECT["tool"]["mypy"]["files"]
    assert MYPY_CORE <= set(files), f"[tool.mypy] files must keep {sorted(MYPY_CORE)}"
    # No paths: mypy checks exactly [tool.mypy] files. Its cache is the usual .mypy_cache
    # (git-ignored), shared with runs by hand, so a rerun only re-checks what changed.
    result = run_tool("mypy", "--cache-dir", str(ROOT / ".mypy_cache"))
    assert result.returncode == 0 and "Success" in result.stdout, (
        f"mypy exited {result.returncode} on {files}:\n{result.stdout}{result.stderr}")


# ---------------------------------------------------------------- import layering

# rules/ and dangjian/domain/ are pure: no database, no web, no CLI, no Prefect. They may read
# the plain enums of models/ (UnitKind, MemberStatus, …: the vocabulary they reason about),
# but nothing else from there, not the tables.
PURE_FORBIDDEN = (
    "sqlalchemy", "sqlmodel",             # includes sqlalchemy.orm.Session and sqlmodel.Session
    "dangjian.db", "dangjian.services", "dangjian.web", "dangjian.cli",
    "flows", "deployments", "prefect", "fastapi", "typer",
)
MODELS_FORBIDDEN = (
    "dangjian.services", "dangjian.web", "dangjian.cli", "flows", "deployments", "prefect",
)
ENUM_BASES = {"Enum", "StrEnum", "IntEnum"}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, package: str) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, name) for every import anywhere in the source (functions and
    TYPE_CHECKING blocks included); name is None for `import x`. `package` is the one the
    file is in, for relative imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            for alias in node.names:
                yield node.lineno, module, alias.name


def within(module: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if module == p or module.startswith(p + ".")), None)


def model_enums() -> dict[str, set[str]]:
    """The enum classes each models module defines (`models` re-exports them all)."""
    found: dict[str, set[str]] = {}
    for path in python_files("models"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[module_name(path)] = {
            node.name for node in tree.body if isinstance(node, ast.ClassDef)
            and any((b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")) in ENUM_BASES
                    for b in node.bases)}
    found["models"] = set().union(*found.values())
    return found


def source_violations(where: str, source: str, package: str, forbidden: tuple[str, ...],
                      enums: dict[str, set[str]] | None) -> list[str]:
    """Imports of `forbidden` modules; with `enums`, also anything from models but its enums."""
    problems = []
    for line, module, name in imports(source, package):
        shown = module if name is None else f"{name} from {module}"
        targets = [module] if name is None else [module, f"{module}.{name}"]
        hit = next((p for t in targets if (p := within(t, forbidden))), None)
        if hit is not None:
            problems.append(f"{where}:{line}: imports {shown} ({hit} is off limits here)")
        elif (enums is not None and within(module, ("models",))
              and name not in enums.get(module, set())):
            problems.append(f"{where}:{line}: imports {shown}; from models only the plain enums "
                            "may be used here, not tables or helpers")
    return problems


def layering_violations(packages: tuple[str, ...], forbidden: tuple[str, ...], *,
                        only_enums_from_models: bool) -> list[str]:
    enums = model_enums() if only_enums_from_models else None
    problems = []
    for package in packages:
        for path in python_files(package):
            name = module_name(path)
            own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            problems += source_violations(str(path.relative_to(ROOT)),
                                          path.read_text(encoding="utf-8"), own_package,
                                          forbidden, enums)
    return problems


def test_rules_and_domain_stay_free_of_database_web_cli_and_prefect() -> None:
    problems = layering_violations(("rules", "dangjian/domain"), PURE_FORBIDDEN,
                                   only_enums_from_models=True)
    assert not problems, "\n".join(problems)


def test_models_do_not_import_the_layers_above_them() -> None:
    problems = layering_violations(("models",), MODELS_FORBIDDEN, only_enums_from_models=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "expected"), [
    ("from sqlmodel import Session", "sqlmodel is off limits"),
    ("def f():\n    from sqlalchemy.orm import Session", "sqlalchemy is off limits"),
    ("import prefect.flows", "prefect is off limits"),
    ("from dangjian import services", "dangjian.services is off limits"),
    ("from ..db import session_scope", "dangjian.db is off limits"),
    ("from models.org import Unit", "only the plain enums"),
    ("from models import Member", "only the plain enums"),
    ("import models", "only the plain enums"),
])
def test_the_layering_check_catches(source: str, expected: str) -> None:
    problems = source_violations("probe.py", source, "dangjian.domain", PURE_FORBIDDEN,
                                 model_enums())
    assert len(problems) == 1 and expected in problems[0], problems


def test_the_layering_check_allows_enums_from_models() -> None:
    source = ("from models import UnitKind\nfrom models.org import MemberStatus\n"
              "from dangjian.errors import NotFound\nfrom dangjian.clock import today")
    assert source_violations("probe.py", source, "rules", PURE_FORBIDDEN, model_enums()) == []
