"""Jinja filters: Chinese labels and number formats shared by every page."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from dangjian.clock import SHANGHAI
from dangjian.labels import CYCLE_STATE, REVIEW_DECISION, TASK_STATE, UNIT_KIND
from dangjian.reports.formatting import fmt_points

PRESENCE = {"present": "出席", "leave": "请假", "absent": "缺席"}
ROLE = {"admin": "区县管理员", "reviewer": "街道审核员", "secretary": "支部书记", "leader": "领导"}
GRADE_CLASS = {"优秀": "g-excellent", "良好": "g-good", "合格": "g-pass", "不合格": "g-fail"}
STATE_CLASS = {"open": "s-open", "overdue": "s-overdue", "done": "s-done", "late": "s-late",
               "submitted": "s-submitted", "returned": "s-returned", "missed": "s-missed",
               "excused": "s-excused", "not_applicable": "s-excused"}


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def install(env: Environment) -> None:
    env.filters.update(
        task_state=lambda s: TASK_STATE.get(str(s), str(s)),
        state_class=lambda s: STATE_CLASS.get(str(s), ""),
        unit_kind=lambda k: UNIT_KIND.get(str(k), str(k)),
        cycle_state=lambda s: CYCLE_STATE.get(str(s), str(s)),
        decision=lambda d: REVIEW_DECISION.get(str(d), str(d)),
        presence=lambda p: PRESENCE.get(str(p), str(p)),
        role=lambda r: ROLE.get(str(r), str(r)),
        grade_class=lambda g: GRADE_CLASS.get(str(g or ""), ""),
        points=fmt_points,
        when=_when,
        size=lambda n: f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB",
    )
