"""The typer app, its consoles, and the Prefect environment for the embedded default."""
from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(
    help="社区党建工作流与考核引擎：计划任务、报送、督办、评分。",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="组织机构与党员名册", no_args_is_help=True)
rules_app = typer.Typer(help="规则集：校验、样例测试、登记", no_args_is_help=True)
cycle_app = typer.Typer(help="考核周期", no_args_is_help=True)
tasks_app = typer.Typer(help="任务：查看、办结、更正", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(rules_app, name="rules")
app.add_typer(cycle_app, name="cycle")
app.add_typer(tasks_app, name="tasks")

out = Console()
err = Console(stderr=True)


def prepare_prefect(home: Path | None = None) -> None:
    """Prefect keeps its own database beside ours, never in the same file (DESIGN.md).

    Must run before `prefect` is imported: Prefect reads these settings once.
    """
    os.environ.setdefault("PREFECT_HOME", str((home or Path(".dangjian") / "prefect").resolve()))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_CLI_PROMPT", "false")
