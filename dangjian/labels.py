"""Chinese labels for codes shown to users."""
from __future__ import annotations

TASK_STATE = {
    "open": "待完成", "overdue": "已逾期", "done": "按期完成", "late": "逾期完成",
    "excused": "已豁免", "not_applicable": "不适用", "missed": "未完成",
    "submitted": "待审核", "returned": "已退回",
}
REVIEW_DECISION = {"accepted": "审核通过", "returned": "退回"}
WAIVER_KIND = {"excused": "豁免", "not_applicable": "不适用"}
UNIT_KIND = {
    "district": "区县", "street": "街道", "community": "社区", "branch": "党支部", "group": "党小组",
}
CYCLE_STATE = {"draft": "草稿", "open": "进行中", "closed": "已结束", "published": "已发布"}
