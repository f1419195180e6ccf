"""Plan a cycle: every duty of its rule set × every unit that owes it × every period."""
from __future__ import annotations

from prefect import flow, task

from dangjian.services.cycles import get_cycle
from dangjian.services.planning import plan_cycle as plan_cycle_service
from flows._session import session_scope


@task(name="plan-cycle-tasks")
def plan_tasks(cycle_code: str) -> dict[str, int]:
    with session_scope() as session:
        cycle = get_cycle(session, cycle_code)
        report = plan_cycle_service(session=session, cycle_id=cycle.id or 0, actor="flow:plan_cycle")
    return {"added": report.added, "total": report.total}


@flow(name="plan-cycle", description="按规则集为考核周期生成全部任务（幂等：重复运行不新增）")
def plan_cycle(cycle_code: str) -> dict[str, int]:
    return plan_tasks(cycle_code)
