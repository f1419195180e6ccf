"""Review commands for the level above: list what waits, accept, return, history."""
from __future__ import annotations

from typing import Annotated

import typer

from dangjian.cli.app import err, out, partial_exit_code, review_app
from dangjian.db import session_scope
from dangjian.errors import ValidationFailed
from dangjian.labels import REVIEW_DECISION
from dangjian.reports.wrapping import Table

Unit = Annotated[str, typer.Option("--unit", help="审核单位编码（须为被审核支部的上级组织）")]
Reviewer = Annotated[str, typer.Option("--by", help="审核人（记入审计日志）")]


@review_app.command("list")
def review_list(
    cycle: Annotated[str, typer.Argument(help="考核周期编码")],
    unit: Annotated[str, typer.Option("--unit", help="审核单位编码：列出其下级支部的报送")],
    state: Annotated[str, typer.Option(help="submitted（待审核，默认）或 returned（已退回）")] = "submitted",
) -> None:
    """列出待审核（或已退回待重新报送）的报送记录。"""
    from dangjian.services.review import pending_reviews
    from models import TaskState

    if state not in ("submitted", "returned"):
        raise ValidationFailed(f"state 只能是 submitted 或 returned，收到：{state}", field="state")
    with session_scope() as session:
        rows = pending_reviews(session=session, cycle_code=cycle, unit_id=unit, state=TaskState(state))
    table = Table("报送记录", "版本", "支部", "召开日期", "主题", "任务", "佐证", "报送人", "退回原因")
    for r in rows:
        tasks = "\n".join(f"#{tid} {duty} {label}" for tid, duty, label in r.tasks)
        table.add_row(f"#{r.completion_id}", str(r.version), r.branch_name, str(r.held_on), r.topic, tasks,
                      str(r.evidence_files), r.reported_by, r.last_reason or "")
    out.print(table)
    label = "待审核" if state == "submitted" else "已退回"
    out.print(f"{label}共 {len(rows)} 条")


@review_app.command("accept")
def review_accept(
    completion_ids: Annotated[list[int], typer.Argument(help="报送记录编号，可多个")],
    by: Reviewer, unit: Unit,
    partial: Annotated[bool, typer.Option("--partial", help="只通过校验合格的记录（默认任何一条不合格则全部不处理）")] = False,
) -> None:
    """审核通过：任务按报送情况计为按期完成或逾期完成（以报送日期判断，不看审核日期）。"""
    from dangjian.services.review import accept_many

    with session_scope() as session:
        result = accept_many(session=session, completion_ids=completion_ids, reviewer=by,
                             reviewing_unit=unit, all_or_nothing=not partial)
    ids = "、".join(f"#{r.completion_id}" for r in result.reviews)
    out.print(f"审核通过 {len(result.reviews)} 条：报送记录 {ids}")
    if result.failures:
        err.print(f"未处理 {len(result.failures)} 条：", highlight=False)
        for failure in result.failures:
            err.print(f"  - {failure.line()}", highlight=False, markup=False)
        raise typer.Exit(code=partial_exit_code(len(result.reviews), result.failures[0].error.exit_code))


@review_app.command("return")
def review_return(
    completion_id: Annotated[int, typer.Argument(help="报送记录编号")],
    reason: Annotated[str, typer.Option(help="退回原因（必填）")],
    by: Reviewer, unit: Unit,
) -> None:
    """退回报送：须写明原因；支部用 tasks resubmit 重新报送。"""
    from dangjian.services.review import return_completion

    with session_scope() as session:
        review = return_completion(session=session, completion_id=completion_id, reason=reason,
                                   reviewer=by, reviewing_unit=unit)
    out.print(f"已退回报送记录 #{completion_id}（原因：{review.reason}）；支部可用 tasks resubmit {completion_id} 重新报送")


@review_app.command("history")
def review_history(completion_id: Annotated[int, typer.Argument(help="报送记录编号（任一版本）")]) -> None:
    """查看一次活动各版本的审核记录。"""
    from dangjian.services.review import history

    with session_scope() as session:
        rows = history(session=session, completion_id=completion_id)
    table = Table("审核", "报送记录", "结论", "原因", "审核人", "审核单位", "时间")
    for r in rows:
        table.add_row(str(r.id), f"#{r.completion_id}", REVIEW_DECISION.get(r.decision, r.decision),
                      r.reason or "", r.reviewer, r.reviewing_unit_id, r.at.isoformat(timespec="minutes"))
    out.print(table)
