"""`dangjian demo`: a whole assessment year for the seed county, on the embedded default.

A fresh database in the demo directory, the county roster through the same import users
run, cycle 2026 under the shipped rule set, planning, a simulated year of reporting, the
sweep and the cycle's end (final score) through real Prefect flows, a ranked scorecard on screen and in xlsx.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from time import perf_counter

from rich.console import Console

DEMO_DATA = Path(__file__).parent / "data"
RULE_FILE = Path(__file__).resolve().parents[2] / "rules" / "sets" / "community_branch_basic.yaml"
CYCLE_CODE = "2026"
ROOT_UNIT = "620621"
# The simulated clock: the year is over and the district scores it on the first working
# Monday of 2027. Fixed so that every run prints the same scorecard.
SCORING_DAY = date(2027, 1, 4)


@dataclass
class DemoPaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "dangjian.db"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    @property
    def xlsx(self) -> Path:
        return self.root / f"scorecard-{CYCLE_CODE}.xlsx"

    @property
    def json(self) -> Path:
        return self.root / f"scorecard-{CYCLE_CODE}.json"


def point_settings_at(paths: DemoPaths) -> None:
    """A fresh database and file store for the demo, never the user's own."""
    paths.root.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{paths.database}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(paths.files, ignore_errors=True)
    shutil.rmtree(paths.root / "evidence", ignore_errors=True)
    os.environ["DANGJIAN_DATABASE_URL"] = f"sqlite:///{paths.database.resolve()}"
    os.environ["DANGJIAN_FILES_DIR"] = str(paths.files.resolve())
    from dangjian.db import _engine_for
    from dangjian.settings import get_settings

    get_settings.cache_clear()
    _engine_for.cache_clear()


def run_demo(paths: DemoPaths, console: Console) -> float:
    started = perf_counter()
    point_settings_at(paths)
    from dangjian.db import get_engine, session_scope
    from dangjian.demo.simulate import simulate_year
    from dangjian.reports.scorecard import render_table, to_json, write_xlsx
    from dangjian.schema import upgrade_to_head
    from dangjian.services.cycles import create_cycle
    from dangjian.services.org_import import import_org
    from dangjian.services.rule_sets import register_rule_set
    from dangjian.services.scorecards import scorecard_document
    from dangjian.services.scoring import publish_run
    from flows.close_cycle import close_cycle
    from flows.plan_cycle import plan_cycle
    from flows.sweep_overdue import sweep_overdue

    step = console.rule
    step("1. 建库并导入组织与党员名册")
    upgrade_to_head(get_engine())
    with session_scope() as session:
        imported = import_org(session=session, actor="区委组织部（演示）",
                              paths=[DEMO_DATA / "units.csv", DEMO_DATA / "members.csv"])
    console.print(f"组织 {imported.units_added} 个，党员 {imported.members_added} 名（数据来源：种子文档 002 的基本情况）")

    step("2. 登记规则集并创建 2026 年度考核周期")
    with session_scope() as session:
        rules = register_rule_set(session=session, path=RULE_FILE, actor="区委组织部（演示）")
        cycle = create_cycle(session=session, code=CYCLE_CODE, name="2026年度社区党建目标责任制考核",
                             root_unit_id=ROOT_UNIT, rule_set_id=rules.id or 0,
                             start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
                             actor="区委组织部（演示）")
    console.print(f"规则集：{rules.name}（sha256 {rules.sha256[:12]}…）")

    step("3. 计划流程（Prefect）：生成全年任务")
    console.print("首次启动 Prefect 临时服务需要数十秒……")
    first = plan_cycle(CYCLE_CODE)
    again = plan_cycle(CYCLE_CODE)
    console.print(f"新增任务 {first['added']} 条；再次运行计划新增 {again['added']} 条（幂等）")

    step("4. 模拟全年报送（支部书记办结任务）")
    with session_scope() as session:
        stats = simulate_year(session, cycle.id or 0, paths.root / "evidence")
    console.print(f"报送活动 {stats.events} 次，办结任务 {stats.tasks_closed} 条，未开展 {stats.skipped} 次")
    for line in stats.rejected:
        console.print(f"[yellow]被拒绝的报送：[/yellow]{line}", highlight=False)

    step("5. 督办流程与周期结束流程（Prefect）：逾期、未完成、最终评分")
    swept = sweep_overdue(CYCLE_CODE, SCORING_DAY.isoformat())
    console.print(f"截至 {SCORING_DAY}：标记逾期未完成任务 {swept[CYCLE_CODE]} 条")
    ended = close_cycle(CYCLE_CODE, SCORING_DAY.isoformat())[CYCLE_CODE]
    with session_scope() as session:
        publish_run(session=session, cycle_id=cycle.id or 0, version=ended["score_version"],
                    actor="区委组织部（演示）")
    console.print(f"周期结束：未完成任务 {ended['missed']} 条记为未完成；"
                  f"最终评分第 {ended['score_version']} 版已发布")

    step("6. 评分排名")
    with session_scope() as session:
        doc = scorecard_document(session=session, cycle_code=CYCLE_CODE, explain=True)
    render_table(doc, explain=False, console=console)
    write_xlsx(doc, paths.xlsx, explain=True)
    paths.json.write_text(to_json(doc), encoding="utf-8")
    return perf_counter() - started
