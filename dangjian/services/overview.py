"""基本情况 of a subtree, like the opening of a county's party-building report (seed 002):
units by kind, party members by category, women, under 35 and over 60, members developed
and activists in training, each split by 城区 / 建制镇 where the branch says which.

Set-based: one GROUP BY over units and one over members joined to their branch, whatever
the size of the subtree. `members_behind` lists the people behind any member figure, so
every number on the page can be opened.

Definitions (as of a Shanghai date `as_of`):
- 党员: active members whose status is 正式 or 预备 (activists and candidates are not yet members).
- 35岁以下: not yet 35 on `as_of`; 60岁以上: 60 or older on `as_of`.
- 新发展党员: joined_on (入党日期) within the calendar year of `as_of`.
- 入党积极分子 / 发展对象: active people with that status on the roster now.
- 新确定入党积极分子: people whose 发展党员 case recorded the step 确定入党积极分子 this year
  (the milestone's date, corrections honoured).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, exists, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from dangjian.domain.dates import shift_years
from dangjian.errors import NotFound, ValidationFailed
from models import Member, MemberCategory, MemberStatus, Unit, UnitKind
from models.development import DevelopmentCase, Milestone

ACTIVIST_STEP = "activist"      # 确定入党积极分子 in rules/data/development_process.yaml

CATEGORY_LABEL = {
    "in_service": "在职职工党员", "retired": "离退休党员", "laid_off": "下岗职工党员",
    "floating": "流动党员", "self_employed": "个体私营党员", "resident": "居民党员",
    "student": "学生党员", "farmer": "农民党员",
}
AREA_LABEL = {"urban": "城区", "town": "建制镇", "": "未标明"}
MEMBER_STATUSES = (MemberStatus.full, MemberStatus.probationary)


def _activists_named_between(start: date, end: date) -> Any:
    """Member ids whose 确定入党积极分子 milestone (not superseded by a correction) falls in [start, end]."""
    later = aliased(Milestone)
    return (select(DevelopmentCase.member_id)
            .join(Milestone, Milestone.case_id == DevelopmentCase.id)
            .where(Milestone.step == ACTIVIST_STEP, Milestone.recorded_on.between(start, end),
                   ~exists().where(later.supersedes_id == Milestone.id)))


def member_filters(as_of: date) -> dict[str, tuple[str, ColumnElement[bool]]]:
    """Figure key → (label, condition on Member). The page and the lists use the same ones."""
    is_member = Member.status.in_(MEMBER_STATUSES)
    figures: dict[str, tuple[str, ColumnElement[bool]]] = {
        "members": ("党员", is_member),
        "women": ("女党员", and_(is_member, Member.gender == "female")),
        "probationary": ("预备党员", and_(is_member, Member.status == MemberStatus.probationary)),
        "under35": ("35岁以下党员", and_(is_member, Member.birth_date > shift_years(as_of, -35))),
        "over60": ("60岁以上党员", and_(is_member, Member.birth_date <= shift_years(as_of, -60))),
        "developed": (f"{as_of.year}年新发展党员", and_(
            is_member, Member.joined_on >= date(as_of.year, 1, 1), Member.joined_on <= as_of)),
        "activists_trained": (f"{as_of.year}年新确定入党积极分子",
                              Member.id.in_(_activists_named_between(date(as_of.year, 1, 1), as_of))),
        "activists": ("入党积极分子", Member.status == MemberStatus.activist),
        "candidates": ("发展对象", Member.status == MemberStatus.candidate),
    }
    for category in MemberCategory:
        figures[f"cat_{category.value}"] = (CATEGORY_LABEL[category.value],
                                            and_(is_member, Member.category == category))
    return figures


@dataclass
class Figure:
    key: str
    label: str
    total: int
    by_area: dict[str, int] = field(default_factory=dict)


@dataclass
class Overview:
    unit_id: str
    unit_name: str
    as_of: date
    units: list[Figure]            # streets, communities, branches, groups
    members: list[Figure]          # the headline member figures
    categories: list[Figure]       # members by category
    areas: list[str]               # area keys present, in display order

    def figure(self, key: str) -> Figure:
        for f in self.units + self.members + self.categories:
            if f.key == key:
                return f
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        def rows(figures: list[Figure]) -> list[dict[str, Any]]:
            return [{"key": f.key, "label": f.label, "total": f.total, "by_area": f.by_area} for f in figures]

        return {"unit_id": self.unit_id, "unit_name": self.unit_name, "as_of": self.as_of.isoformat(),
                "areas": {a: AREA_LABEL[a] for a in self.areas}, "units": rows(self.units),
                "members": rows(self.members), "categories": rows(self.categories)}


UNIT_FIGURES = (
    ("streets", UnitKind.street, "街道（党工委、党总支）"),
    ("communities", UnitKind.community, "社区"),
    ("branches", UnitKind.branch, "党支部"),
    ("groups", UnitKind.group, "党小组"),
)
HEADLINE = ("members", "women", "probationary", "under35", "over60", "developed", "activists_trained",
            "activists", "candidates")


def _root(session: Session, unit_id: str) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field="unit")
    return unit


def overview(*, session: Session, unit_id: str, as_of: date) -> Overview:
    root = _root(session, unit_id)
    area = func.coalesce(Unit.area, "", type_=String)
    unit_counts: dict[tuple[str, str], int] = {
        (str(kind), str(a)): n for kind, a, n in session.execute(
            select(Unit.kind, area, func.count()).where(Unit.path.startswith(root.path), Unit.id != root.id)
            .group_by(Unit.kind, area)
        ).all()
    }
    figures = member_filters(as_of)
    columns = [func.sum(case((cond, 1), else_=0)).label(key) for key, (_label, cond) in figures.items()]
    member_rows = session.execute(
        select(area.label("area"), *columns).select_from(Member).join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(root.path), Member.active.is_(True)).group_by(area)
    ).mappings().all()
    per_area = {str(r["area"]): {k: int(r[k] or 0) for k in figures} for r in member_rows}
    areas = [a for a in ("urban", "town", "")
             if a in per_area or any(k[1] == a for k in unit_counts)]

    def member_figure(key: str) -> Figure:
        by_area = {a: per_area.get(a, {}).get(key, 0) for a in areas}
        return Figure(key, figures[key][0], sum(by_area.values()), by_area)

    units = []
    for key, kind, label in UNIT_FIGURES:
        by_area = {a: unit_counts.get((kind.value, a), 0) for a in areas}
        if sum(by_area.values()) or kind != UnitKind.street:
            units.append(Figure(key, label, sum(by_area.values()), by_area))
    categories = [member_figure(f"cat_{c.value}") for c in MemberCategory]
    return Overview(root.id, root.name, as_of, units, [member_figure(k) for k in HEADLINE],
                    [c for c in categories if c.total], areas)


@dataclass(frozen=True)
class PersonRow:
    id: str
    name: str
    gender: str
    birth_date: date
    category: str
    status: str
    joined_on: date | None
    branch_id: str
    branch_name: str
    area: str


@dataclass(frozen=True)
class UnitRow:
    id: str
    name: str
    kind: str
    parent_name: str | None
    area: str
    members: int


def figure_keys(as_of: date) -> dict[str, str]:
    keys = {key: label for key, _kind, label in UNIT_FIGURES}
    keys.update({k: label for k, (label, _c) in member_filters(as_of).items()})
    return keys


def members_behind(*, session: Session, unit_id: str, figure: str, as_of: date,
                   area: str | None = None, limit: int = 5000) -> list[PersonRow]:
    """The people counted in one member figure of `overview` (same conditions)."""
    root = _root(session, unit_id)
    figures = member_filters(as_of)
    if figure not in figures:
        raise ValidationFailed(f"未知的统计项：{figure}", field="figure")
    query = (
        select(Member, Unit.name, func.coalesce(Unit.area, "", type_=String)).join(Unit, Unit.id == Member.unit_id)
        .where(Unit.path.startswith(root.path), Member.active.is_(True), figures[figure][1])
    )
    if area is not None:
        query = query.where(func.coalesce(Unit.area, "", type_=String) == area)
    rows = session.execute(query.order_by(Unit.path, Member.id).limit(limit)).all()
    return [PersonRow(m.id, m.name, str(m.gender), m.birth_date, str(m.category), str(m.status),
                      m.joined_on, m.unit_id, name, str(a)) for m, name, a in rows]


def units_behind(*, session: Session, unit_id: str, figure: str, area: str | None = None) -> list[UnitRow]:
    """The units counted in one unit figure of `overview`."""
    root = _root(session, unit_id)
    kinds = {key: kind for key, kind, _label in UNIT_FIGURES}
    if figure not in kinds:
        raise ValidationFailed(f"未知的统计项：{figure}", field="figure")
    parent = Unit.__table__.alias("parent")
    below = Unit.__table__.alias("below")
    counts = (
        select(below.c.path.label("path"), func.count().label("n"))
        .select_from(Member).join(below, below.c.id == Member.unit_id)
        .where(Member.active.is_(True), Member.status.in_(MEMBER_STATUSES), below.c.path.startswith(root.path))
        .group_by(below.c.path).subquery()
    )
    members = (select(func.coalesce(func.sum(counts.c.n), 0)).where(counts.c.path.startswith(Unit.path))
               .correlate(Unit).scalar_subquery())
    query = (
        select(Unit, parent.c.name, members)
        .outerjoin(parent, parent.c.id == Unit.parent_id)
        .where(Unit.path.startswith(root.path), Unit.id != root.id, Unit.kind == kinds[figure])
    )
    if area is not None:
        query = query.where(func.coalesce(Unit.area, "", type_=String) == area)
    return [UnitRow(u.id, u.name, str(u.kind), pname, str(u.area or ""), int(n))
            for u, pname, n in session.execute(query.order_by(Unit.path)).all()]
