"""Clause models of the outcome blocks: `vetoes:`, `designations:` and `quotas:`.

They run after every unit's individual score, in this order (rules.outcomes.engine):

    vetoes:        否决项和直接定级，按文件顺序逐条执行，每条写明理由
      - code: secretary_vacant
        name: 书记缺配超过半年
        when: {metric: secretary_vacant_months, op: ">", value: 6}   # 或 when: "secretary_vacant_months > 6"
        effect: lowest_grade          # | zero_score | {block_designation: <称号代码>} | {set_grade: <等级名>}
        reason: 书记缺配超过半年，直接定为最低等级

    designations:  称号（“五好”党支部、明星党员），每项标准是一个命名的条件
      - code: five_good_branch
        name: 五好党支部
        requires_no_veto: true
        criteria:
          - {name: 制度落实好, when: "organization_life_meeting.missed == 0", unmet: 组织生活会未召开}

    quotas:        名额（比例上限），个人得分之后在全体或街道内排序执行
      - code: five_star_cap
        name: 五星名额
        grade: 五星                   # 或 designation: <称号代码>；或 shares: [{grade: 五星, share: 0.1}, …]
        max_share: 0.3
        scope: overall                # | district | street
        rounding: floor               # | round | ceil：名额数 = 单位数 × 比例，按此取整
        tie_break: [total desc, "section:basic desc", unit_id asc]

A condition (`when:`) is either a formula text (rules.formula) or a mapping:
`{metric, op, value}` (op: > >= < <= == != or gt ge lt le eq ne; quote the symbols in YAML),
`{all: [条件, …]}` (都满足) or `{any: [条件, …]}` (满足其一).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rules.duties import Code, Strict
from rules.numbers import dec, fmt

OPS: dict[str, str] = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "==", "!=": "!=",
                       "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
OP_WORDS = {">": "大于", ">=": "不小于", "<": "小于", "<=": "不大于", "==": "等于", "!=": "不等于"}
EFFECTS = ("lowest_grade", "zero_score", "block_designation", "set_grade")
_EFFECT_HELP = "lowest_grade、zero_score、{block_designation: <称号代码>}、{set_grade: <等级名>}"


class Condition(Strict):
    """One condition: a formula text, a comparison, or all/any of further conditions.

    Written in YAML as a string (→ `expr`) or as a mapping with exactly one form."""

    expr: str | None = Field(default=None, min_length=1, max_length=2000)
    metric: str | None = Field(default=None, min_length=1, max_length=120)
    op: str | None = None
    value: float | None = None
    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _text_is_a_formula(cls, data: Any) -> Any:
        return {"expr": data} if isinstance(data, str) else data

    @field_validator("op")
    @classmethod
    def _known_op(cls, op: str | None) -> str | None:
        if op is None:
            return None
        if op not in OPS:
            raise ValueError(f"未知的比较符 {op!r}（可用：> >= < <= == !=，或 gt ge lt le eq ne；"
                             f"YAML 中 > 和 >= 须加引号，如 op: \">=\"）")
        return OPS[op]

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [name for name, present in (
            ("expr", self.expr is not None),
            ("metric/op/value", self.metric is not None or self.op is not None or self.value is not None),
            ("all", self.all is not None), ("any", self.any is not None)) if present]
        if len(forms) != 1:
            raise ValueError("条件须写成以下之一：公式文字（如 \"total >= 90\"）、"
                             "{metric: 指标, op: 比较符, value: 数值}、{all: [条件, …]}、{any: [条件, …]}"
                             + (f"；这里同时写了 {'、'.join(forms)}" if forms else ""))
        if forms == ["metric/op/value"]:
            missing = [k for k in ("metric", "op", "value") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"比较条件缺少 {'、'.join(missing)}（应写成 {{metric: 指标, op: 比较符, value: 数值}}）")
        return self

    def walk(self) -> list[Condition]:
        """This condition and every condition nested in it."""
        found = [self]
        for sub in (self.all or []) + (self.any or []):
            found += sub.walk()
        return found


@dataclass(frozen=True)
class Effect:
    kind: Literal["lowest_grade", "zero_score", "block_designation", "set_grade"]
    target: str | None = None        # the designation code or grade name

    def describe(self) -> str:
        if self.kind == "lowest_grade":
            return "定为最低等级"
        if self.kind == "zero_score":
            return "总分记为0分"
        if self.kind == "block_designation":
            return f"不得评为称号 {self.target}"
        return f"直接定为“{self.target}”"


class Veto(Strict):
    """否决项或直接定级: when the condition holds, the effect applies, with its reason."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    basis: str | None = None                  # 依据
    when: Condition
    effect: Effect
    reason: str = Field(min_length=1, max_length=300)

    @field_validator("effect", mode="before")
    @classmethod
    def _parse_effect(cls, raw: Any) -> Effect:
        if isinstance(raw, Effect):
            return raw
        if isinstance(raw, str):
            if raw in ("lowest_grade", "zero_score"):
                return Effect(raw)  # type: ignore[arg-type]
            if raw in ("block_designation", "set_grade"):
                what = "称号代码" if raw == "block_designation" else "等级名"
                raise ValueError(f"{raw} 须写明{what}，如 {{{raw}: …}}")
            raise ValueError(f"未知的效果 {raw!r}（可用的效果：{_EFFECT_HELP}）")
        if isinstance(raw, dict) and len(raw) == 1:
            ((kind, target),) = raw.items()
            if kind in ("block_designation", "set_grade"):
                if not isinstance(target, str) or not target:
                    raise ValueError(f"{kind} 的值应为文本，实际为 {target!r}")
                return Effect(kind, target)
            raise ValueError(f"未知的效果 {kind!r}（可用的效果：{_EFFECT_HELP}）")
        raise ValueError(f"效果应写成 {_EFFECT_HELP} 之一，实际为 {raw!r}")

    @property
    def is_veto(self) -> bool:
        """Counts as a veto for `requires_no_veto` (grade or score taken away)."""
        return self.effect.kind in ("lowest_grade", "zero_score")


class Criterion(Strict):
    """One named standard of a designation (e.g. 班子好)."""

    name: str = Field(min_length=1, max_length=60)
    when: Condition
    unmet: str | None = Field(default=None, max_length=200)   # shown when not met; else the numbers


class Designation(Strict):
    """A title granted to each subject meeting every criterion (“五好”党支部, 明星党员)."""

    code: Code
    name: str = Field(min_length=1, max_length=60)
    basis: str | None = None
    note: str | None = None
    requires_no_veto: bool = True
    criteria: list[Criterion] = Field(min_length=1)


class ShareLevel(Strict):
    grade: str = Field(min_length=1, max_length=20)
    share: float = Field(gt=0, le=1)


Rounding = Literal["floor", "round", "ceil"]
ROUNDING_WORDS = {"floor": "向下取整", "round": "四舍五入", "ceil": "向上取整"}
_ROUNDING_MODES = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}


@dataclass(frozen=True)
class TieKey:
    key: str                  # total | unit_id | section:<code> | a metric name
    descending: bool

    def describe(self, label: str) -> str:
        if self.key == "unit_id":
            return f"单位代码{'从大到小' if self.descending else '从小到大'}"
        return f"{label}{'高者在前' if self.descending else '低者在前'}"


class Quota(Strict):
    """名额: at most a share of the subjects in scope may hold a grade or a designation.

    Subjects over the quota (ordered by `tie_break`) move down one grade, or lose the
    designation. `shares` sets several grade quotas at once (10% / 40% / 30%), applied
    from the highest grade down, so a subject moved down competes for the next grade."""

    code: Code
    name: str = Field(min_length=1, max_length=60)
    basis: str | None = None
    note: str | None = None
    grade: str | None = Field(default=None, min_length=1, max_length=20)
    designation: str | None = None
    max_share: float | None = Field(default=None, gt=0, le=1)
    shares: list[ShareLevel] | None = Field(default=None, min_length=1)
    scope: Literal["overall", "district", "street"] = "overall"
    rounding: Rounding = "floor"
    tie_break: list[TieKey] = Field(min_length=1)

    @field_validator("shares")
    @classmethod
    def _shares_at_most_one(cls, shares: list[ShareLevel] | None) -> list[ShareLevel] | None:
        if shares:
            total = sum((dec(s.share) for s in shares), Decimal(0))
            if total > 1:
                parts = " + ".join(fmt(s.share) for s in shares)
                raise ValueError(f"各等级比例之和为 {parts} = {fmt(total)}，超过 1")
            names = [s.grade for s in shares]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"等级 {'、'.join(repeated)} 在 shares 中重复")
        return shares

    @field_validator("tie_break", mode="before")
    @classmethod
    def _parse_tie_break(cls, raw: Any) -> Any:
        if not isinstance(raw, list):
            return raw
        keys: list[TieKey] = []
        for entry in raw:
            parts = entry.split() if isinstance(entry, str) else []
            if len(parts) != 2 or parts[1] not in ("asc", "desc"):
                raise ValueError(f"每一项应写成“键 asc”或“键 desc”（如 total desc），实际为 {entry!r}")
            keys.append(TieKey(parts[0], parts[1] == "desc"))
        if keys and keys[-1].key != "unit_id":
            raise ValueError("最后一项须为 unit_id asc 或 unit_id desc，保证名额边界上不会并列")
        return keys

    @model_validator(mode="after")
    def _one_target(self) -> Quota:
        targets = [k for k in ("grade", "designation", "shares") if getattr(self, k) is not None]
        if len(targets) != 1:
            raise ValueError("名额须且只能写 grade、designation、shares 之一"
                             + (f"；这里写了 {'、'.join(targets)}" if targets else ""))
        if self.shares is not None and self.max_share is not None:
            raise ValueError("写了 shares 时不再写 max_share（比例写在 shares 的每一项里）")
        if self.shares is None and self.max_share is None:
            raise ValueError("缺少必填项 max_share（名额比例，如 0.3 表示至多30%）")
        return self

    def levels(self) -> list[ShareLevel]:
        if self.shares is not None:
            return list(self.shares)
        assert self.grade is not None and self.max_share is not None
        return [ShareLevel(grade=self.grade, share=self.max_share)]

    def allowed(self, share: float, count: int) -> tuple[Decimal, int]:
        """(count × share exactly, the allowed number after rounding)."""
        exact = dec(share) * count
        return exact, int(exact.quantize(Decimal(1), rounding=_ROUNDING_MODES[self.rounding]))
