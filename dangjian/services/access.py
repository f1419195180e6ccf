"""Who may see and do what: every rule is a test on the role and on Unit.path.

An account is scoped to one unit; it reads within that unit's subtree (a path prefix)
and acts as its role allows:

| role      | reads                                  | acts                                      |
|-----------|----------------------------------------|-------------------------------------------|
| admin     | its district                           | configures the district; no reporting     |
| reviewer  | its street                             | accepts or returns completions below it   |
| secretary | its own branch                         | closes and corrects its own branch's tasks|
| leader    | scorecards and overview of its subtree | nothing                                   |

Refusals raise Forbidden (403) before anything is read further or written.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlmodel import Session

from dangjian.db import get_by_id
from dangjian.errors import Forbidden, NotFound
from models import Completion, CompletionTask, Cycle, Evidence, Role, Task, Unit, User


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    unit_id: str
    unit_name: str
    unit_path: str
    unit_kind: str

    def covers(self, path: str) -> bool:
        return path.startswith(self.unit_path)

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        return f"{self.display_name}（{self.username}）"


def principal_for(session: Session, user: User) -> Principal:
    unit = session.get(Unit, user.unit_id)
    if unit is None:
        raise NotFound(f"账号 {user.username} 所属组织 {user.unit_id} 不存在")
    return Principal(user.id or 0, user.username, user.display_name, Role(user.role), unit.id,
                     unit.name, unit.path, str(unit.kind))


ROLE_ACTIONS = {
    "report": {Role.secretary},                         # close / correct tasks
    "review": {Role.reviewer, Role.admin},              # accept / return completions
    "configure": {Role.admin},                          # org, rule sets, cycles, users
    "read_scores": {Role.leader, Role.admin, Role.reviewer, Role.secretary},
    "read_overview": {Role.leader, Role.admin, Role.reviewer},
}
ACTION_TEXT = {
    "report": "报送任务", "review": "审核报送", "configure": "配置组织、规则和周期",
    "read_scores": "查看评分", "read_overview": "查看基本情况",
}


def can(p: Principal, action: str) -> bool:
    return p.role in ROLE_ACTIONS[action]


def require(p: Principal, action: str) -> None:
    if not can(p, action):
        raise Forbidden(f"当前账号（{p.unit_name}）无权{ACTION_TEXT[action]}")


def unit_in_scope(session: Session, p: Principal, unit_id: str) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"未知的组织：{unit_id}", field="unit")
    if not p.covers(unit.path):
        raise Forbidden(f"{unit.name} 不在当前账号（{p.unit_name}）的管辖范围内", field="unit")
    return unit


Row = TypeVar("Row", Task, Completion)


def _stored(session: Session, model: type[Row], row_id: int) -> Row | None:
    return get_by_id(session, model, row_id)   # type: ignore[no-any-return]


def task_in_scope(session: Session, p: Principal, task_id: int, *, write: bool = False) -> Task:
    """A task the principal may read (its owner branch in their subtree); `write`: report on it."""
    task = _stored(session, Task, task_id)
    if task is None:
        raise NotFound(f"任务 #{task_id} 不存在", field="task")
    owner = session.get(Unit, task.owner_unit_id)
    if owner is None or not p.covers(owner.path):
        raise Forbidden(f"任务 #{task_id} 不属于当前账号（{p.unit_name}）的管辖范围，无权查看", field="task")
    if write:
        require(p, "report")
        if task.owner_unit_id != p.unit_id:
            raise Forbidden(f"任务 #{task_id} 不属于{p.unit_name}，无权办理", field="task")
    return task


def completion_in_scope(session: Session, p: Principal, completion_id: int, *,
                        review: bool = False, write: bool = False) -> Completion:
    """A completion the principal may read; `review`: decide on it; `write`: correct it."""
    completion = _stored(session, Completion, completion_id)
    if completion is None:
        raise NotFound(f"报送记录 #{completion_id} 不存在", field="completion")
    branch = session.get(Unit, completion.unit_id)
    if branch is None or not p.covers(branch.path):
        raise Forbidden(f"报送记录 #{completion_id} 不属于当前账号（{p.unit_name}）的管辖范围", field="completion")
    if review:
        require(p, "review")
        if branch.id == p.unit_id:
            raise Forbidden("不能审核本单位自己的报送", field="completion")
    if write:
        require(p, "report")
        if completion.unit_id != p.unit_id:
            raise Forbidden(f"报送记录 #{completion_id} 不属于{p.unit_name}，无权更正", field="completion")
    return completion


def evidence_in_scope(session: Session, p: Principal, evidence_id: int) -> Evidence:
    evidence = get_by_id(session, Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"佐证材料 #{evidence_id} 不存在", field="evidence")
    completion_in_scope(session, p, evidence.completion_id)
    return evidence


def completions_in_scope(session: Session, p: Principal, completion_ids: list[int], *,
                         review: bool = False) -> list[Completion]:
    """All or nothing: one id outside the scope refuses the whole batch."""
    return [completion_in_scope(session, p, cid, review=review) for cid in completion_ids]


def cycles_for(session: Session, p: Principal) -> list[Cycle]:
    """Cycles whose scope overlaps the principal's: they are above it or inside it."""
    rows = session.execute(
        select(Cycle, Unit.path).join(Unit, Unit.id == Cycle.root_unit_id)
        .order_by(Cycle.start_on.desc(), Cycle.code)
    ).all()
    return [c for c, path in rows if p.unit_path.startswith(path) or path.startswith(p.unit_path)]


def cycle_in_scope(session: Session, p: Principal, code: str) -> Cycle:
    for cycle in cycles_for(session, p):
        if cycle.code == code:
            return cycle
    exists = session.execute(select(Cycle.id).where(Cycle.code == code)).first()
    if exists:
        raise Forbidden(f"考核周期 {code} 不在当前账号的管辖范围内", field="cycle")
    raise NotFound(f"未知的考核周期：{code}", field="cycle")


def task_ids_of_completion(session: Session, completion_id: int) -> list[int]:
    return list(session.execute(
        select(CompletionTask.task_id).where(CompletionTask.completion_id == completion_id)
        .order_by(CompletionTask.task_id)
    ).scalars())


def check_import_scope(session: Session, p: Principal, paths: list[Path]) -> None:
    """An administrator imports only inside their district: every unit row must be, or hang
    below, a unit in scope; every member row must belong to such a unit, and an existing
    member may only be changed from inside the scope. Other checks are the import's own."""
    from dangjian.services.roster_format import cell_text, read_tables
    from models import Member

    require(p, "configure")
    units: dict[str, tuple[str, str]] = {}          # new or changed unit id -> (parent id, where)
    members: list[tuple[str, str, str]] = []        # (member id, branch id, where)
    for path in paths:
        tables, _problems = read_tables(path)
        for table in tables:
            for row_no, record in table.rows:
                where = f"{table.label} 第{row_no}行"
                if table.kind == "unit":
                    uid = cell_text(record.get("组织编码"))
                    if uid:
                        units[uid] = (cell_text(record.get("上级编码")), where)
                else:
                    members.append((cell_text(record.get("党员编号")), cell_text(record.get("所在支部")), where))
    known = {u.id: u.path for u in session.execute(select(Unit).where(
        Unit.id.in_(set(units) | {parent for parent, _w in units.values()} | {b for _m, b, _w in members}))).scalars()}

    def inside(uid: str, seen: frozenset[str] = frozenset()) -> bool:
        """In scope now, and (if the files move or add it) hung below a unit in scope."""
        if uid == p.unit_id:
            return True
        if uid in units and uid not in seen:
            if uid in known and not p.covers(known[uid]):
                return False                       # a unit of another district
            parent = units[uid][0]
            return inside(parent, seen | {uid}) if parent else False
        return uid in known and p.covers(known[uid])

    problems = [f"{where} 组织 {uid} 不在 {p.unit_name} 的管辖范围内" for uid, (_parent, where) in units.items()
                if not inside(uid)]
    existing = dict(session.execute(
        select(Member.id, Unit.path).join(Unit, Unit.id == Member.unit_id)
        .where(Member.id.in_({m for m, _b, _w in members}))).all())
    for mid, branch, where in members:
        if branch and not inside(branch):
            problems.append(f"{where} 党员 {mid} 的所在支部 {branch} 不在 {p.unit_name} 的管辖范围内")
        elif mid in existing and not p.covers(existing[mid]):
            problems.append(f"{where} 党员 {mid} 目前属于其他区县，不能在此导入修改")
    if problems:
        raise Forbidden("导入超出管辖范围，未导入任何内容：", details=problems[:50])


def cycle_to_configure(session: Session, p: Principal, code: str) -> Cycle:
    """A cycle the administrator may plan, score or publish: its root is inside their scope."""
    require(p, "configure")
    cycle = cycle_in_scope(session, p, code)
    root = session.get(Unit, cycle.root_unit_id)
    if root is None or not p.covers(root.path):
        raise Forbidden(f"考核周期 {code} 的范围超出 {p.unit_name}，无权操作", field="cycle")
    return cycle


def user_to_manage(session: Session, p: Principal, user_id: int) -> User:
    require(p, "configure")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"账号 #{user_id} 不存在", field="user")
    unit_in_scope(session, p, user.unit_id)
    return user
