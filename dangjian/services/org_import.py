"""Import the organisation tree and party rosters: `dangjian org import FILE…`.

One call is one transaction. Every file is read and every row checked first, against
the other rows and against what the database already holds; if anything is wrong the
import raises ValidationFailed listing every problem ("members.csv 第12行 身份证号：…")
and writes nothing. Otherwise rows whose id exists are updated in place (a roster
refresh), new ones are inserted, each change gets an audit event, and the transaction
commits. Rows in the database that the files do not mention are left alone.

Blank optional cells: 城乡 inherits the parent's; 设支委会 on a 党支部 is decided by the
roster (7 or more 正式党员, 支部工作条例), and re-decided on every later import;
排序 keeps the stored value. A missing 党小组/入党日期/转正日期 *column* keeps stored
values; a blank cell in a present column clears them.

Reads the whole unit table and member table once each (no per-row queries) and
writes rows with bulk statements. Audit events go through audit.record one at a time
(it reads the previous hash each time): on 20,000 new members that is ~6 of the ~6.6
seconds on SQLite. Formats live in roster_format.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from dangjian.domain.dates import shift_years
from dangjian.errors import NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.roster_format import (
    AREAS,
    CATEGORIES,
    CATEGORY_ALIASES,
    GENDERS,
    MEMBER_REQUIRED,
    STATUSES,
    UNIT_KINDS,
    UNIT_REQUIRED,
    YES_NO,
    CellError,
    Table,
    cell_text,
    id_birth_date,
    id_gender,
    label_of,
    parse_choice,
    parse_date,
    parse_id_number,
    parse_int,
    read_tables,
)
from models import Member, MemberStatus, Unit, UnitKind

ALLOWED_PARENTS: dict[UnitKind, tuple[UnitKind, ...]] = {
    UnitKind.district: (),
    UnitKind.street: (UnitKind.district,),
    UnitKind.community: (UnitKind.street,),
    # A street-level 党总支 is a unit of kind street and may hold branches directly.
    UnitKind.branch: (UnitKind.community, UnitKind.street),
    UnitKind.group: (UnitKind.branch,),
}
COMMITTEE_MIN_FULL = 7          # 正式党员7人以上应当设立党支部委员会
COMMITTEE_FROM = "has_committee_from"   # Unit.attributes key: "roster" or "file"
UNIT_FIELDS = ("name", "kind", "parent_id", "path", "depth", "area", "has_committee",
               "sort_order", "attributes")
MEMBER_FIELDS = ("name", "gender", "birth_date", "id_number", "unit_id", "group_id",
                 "category", "status", "joined_on", "full_on")
KEEP: Any = object()            # optional column absent from the file: keep the stored value
BAD: Any = object()             # cell could not be read (already reported)
Rows = dict[str, dict[str, Any]]  # id → column values
# (entity, id, action, before, after): one audit event, kept until the rows are written
Events = list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any]]]


@dataclass
class ImportReport:
    units_added: int = 0
    units_updated: int = 0      # includes units whose path or committee changed as a consequence
    members_added: int = 0
    members_updated: int = 0
    units_unchanged: int = 0
    members_unchanged: int = 0


@dataclass(frozen=True)
class _Loc:
    table: int
    label: str
    row: int

    def text(self, column: str | None = None) -> str:
        return f"{self.label} 第{self.row}行" + (f" {column}" if column else "")


class _Problems:
    def __init__(self) -> None:
        self._items: list[tuple[int, int, int, str]] = []

    def add(self, loc: _Loc, column: str | None, message: str) -> None:
        self._items.append((loc.table, loc.row, len(self._items), f"{loc.text(column)}：{message}"))

    def __len__(self) -> int:
        return len(self._items)

    def details(self) -> list[str]:
        return [text for *_, text in sorted(self._items)]


class _Cells:
    """Reads one row's cells, reporting each unreadable one under its column."""

    def __init__(self, problems: _Problems, loc: _Loc, record: dict[str, Any]):
        self.problems, self.loc, self.record = problems, loc, record

    def required(self, column: str, parse: Callable[[Any], Any] = cell_text) -> Any:
        if cell_text(self.record.get(column)) == "":
            self.problems.add(self.loc, column, "必填，不能为空")
            return BAD
        return self._parse(column, parse)

    def optional(self, column: str, parse: Callable[[Any], Any] = cell_text) -> Any:
        if column not in self.record:
            return KEEP
        if cell_text(self.record[column]) == "":
            return None
        return self._parse(column, parse)

    def _parse(self, column: str, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.record[column])
        except CellError as exc:
            self.problems.add(self.loc, column, str(exc))
            return BAD


def _code(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value)
        if "/" in text or any(c.isspace() for c in text):
            raise CellError(f"编码“{text}”不能含“/”或空格")
        if len(text) > limit:
            raise CellError(f"编码最长 {limit} 个字符")
        return text
    return parse


def _name(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = cell_text(value)
        if len(text) > limit:
            raise CellError(f"最长 {limit} 个字")
        return text
    return parse


@dataclass
class _UnitRow:
    loc: _Loc
    id: str
    name: Any
    kind: UnitKind
    parent_id: str | None
    area: Any           # Area, or None/KEEP/BAD: inherit from the parent
    committee: Any      # bool, or None/KEEP: roster decides (branches) / 否 (others)
    sort_order: Any     # int, or None/KEEP/BAD: keep stored (0 when new)


@dataclass
class _MemberRow:
    loc: _Loc
    values: dict[str, Any]   # Member columns; KEEP/BAD where not given or unreadable


def _check_header(table: Table, index: int, required: list[str], problems: _Problems) -> bool:
    loc = _Loc(index, table.label, table.header_row)
    seen: set[str] = set()
    for name in table.header:
        if name and name in seen:
            problems.add(loc, None, f"表头中“{name}”出现了两次")
        seen.add(name)
    missing = [c for c in required if c not in seen]
    if missing:
        problems.add(loc, None, f"缺少必填列：{'、'.join(missing)}")
    return not missing


def _check_stray_cells(table: Table, index: int, problems: _Problems) -> None:
    """A value in a column without a header would be silently dropped: refuse the row."""
    named = sum(1 for name in table.header if name)
    for number, columns in table.stray:
        where = "、".join(f"第{c}列" for c in columns)
        problems.add(_Loc(index, table.label, number), None,
                     f"多出 {len(columns)} 个单元格（{where}），表头只有 {named} 列有列名")


def _read_units(table: Table, index: int, problems: _Problems, broken: set[str]) -> list[_UnitRow]:
    rows: list[_UnitRow] = []
    for number, record in table.rows:
        cells = _Cells(problems, _Loc(index, table.label, number), record)
        uid = cells.required("组织编码", _code(40))
        name = cells.required("组织名称", _name(120))
        kind = cells.required("组织类型", lambda v: parse_choice(v, UNIT_KINDS))
        parent = cells.optional("上级编码", _code(40))
        area = cells.optional("城乡", lambda v: parse_choice(v, AREAS))
        committee = cells.optional("设支委会", lambda v: parse_choice(v, YES_NO))
        sort_order = cells.optional("排序", parse_int)
        if BAD in (uid, kind, parent):
            if uid is not BAD:
                broken.add(uid)
            continue
        rows.append(_UnitRow(cells.loc, uid, name, kind, parent, area, committee, sort_order))
    return rows


def _read_members(table: Table, index: int, problems: _Problems) -> list[_MemberRow]:
    rows: list[_MemberRow] = []
    for number, record in table.rows:
        cells = _Cells(problems, _Loc(index, table.label, number), record)
        v: dict[str, Any] = {
            "id": cells.required("党员编号", _code(40)),
            "name": cells.required("姓名", _name(60)),
            "gender": cells.required("性别", lambda x: parse_choice(x, GENDERS)),
            "birth_date": cells.required("出生日期", parse_date),
            "id_number": cells.required("身份证号", parse_id_number),
            "unit_id": cells.required("所在支部", _code(40)),
            "group_id": cells.optional("党小组", _code(40)),
            "category": cells.required(
                "人员类别", lambda x: parse_choice(x, CATEGORIES, CATEGORY_ALIASES)),
            "status": cells.required("党员状态", lambda x: parse_choice(x, STATUSES)),
            "joined_on": cells.optional("入党日期", parse_date),
            "full_on": cells.optional("转正日期", parse_date),
        }
        if v["id_number"] is not BAD:
            _check_id_number_against(v, partial(problems.add, cells.loc, "身份证号"))
        if v["id"] is not BAD:
            rows.append(_MemberRow(cells.loc, v))
    return rows


def _check_id_number_against(v: dict[str, Any], report: Callable[[str], None]) -> None:
    """The birth date and gender digit inside the 身份证号 must match the row's own."""
    number, birth, gender = v["id_number"], v["birth_date"], v["gender"]
    born = id_birth_date(number)
    if born is None:
        report(f"号码中的出生日期 {number[6:14]} 不是有效日期")
    elif birth is not BAD and born != birth:
        report(f"号码中的出生日期 {born.isoformat()} 与出生日期 {birth.isoformat()} 不一致")
    if gender is not BAD and id_gender(number) != gender:
        report(f"号码第17位表示{label_of(GENDERS, id_gender(number))}性，"
               f"与性别“{label_of(GENDERS, gender)}”不一致")


def import_org(*, session: Session, paths: Sequence[Path], actor: str) -> ImportReport:
    """Validate every row of every file, then write all of it or nothing."""
    problems = _Problems()
    if not paths:
        raise ValidationFailed("没有要导入的文件")
    unit_rows: list[_UnitRow] = []
    member_rows: list[_MemberRow] = []
    broken_units: set[str] = set()
    read = [(path, *read_tables(Path(path))) for path in paths]
    # A file that cannot be read makes every row of the others look wrong (members of
    # units never read): report the unreadable files alone.
    unreadable = [message for _, _, file_problems in read for message in file_problems]
    if unreadable:
        missing = all(not Path(path).exists() for path, _, file_problems in read if file_problems)
        error = NotFound if missing else ValidationFailed
        raise error(f"导入失败：{len(unreadable)} 处错误，未写入任何数据", field="file",
                    details=unreadable)
    index = 0
    for _, tables, _ in read:
        for table in tables:
            index += 1
            _check_stray_cells(table, index, problems)
            if table.kind == "unit":
                if _check_header(table, index, UNIT_REQUIRED, problems):
                    unit_rows += _read_units(table, index, problems, broken_units)
            elif _check_header(table, index, MEMBER_REQUIRED, problems):
                member_rows += _read_members(table, index, problems)

    old_units = {r["id"]: dict(r) for r in session.execute(select(Unit.__table__)).mappings()}
    old_members = {r["id"]: dict(r) for r in session.execute(select(Member.__table__)).mappings()}
    units, unit_by_id = _plan_units(unit_rows, old_units, problems)
    members, member_by_id = _plan_members(member_rows, old_members, units, unit_by_id,
                                          broken_units, problems)
    _decide_committees(units, unit_by_id, members)

    if problems:
        session.rollback()
        raise ValidationFailed(f"导入失败：{len(problems)} 处错误，未写入任何数据",
                               details=problems.details())
    try:
        report, events = ImportReport(), []
        _write_units(session, units, unit_by_id, old_units, report, events)
        _write_members(session, members, member_by_id, old_members, report, events)
        for entity, entity_id, action, before, after in events:
            audit.record(session, actor=actor, action=action, entity=entity, entity_id=entity_id,
                         before=before, after=after)
        session.commit()
    except Exception:
        session.rollback()
        raise
    session.expire_all()  # bulk statements bypass the identity map
    return report


# ---------------------------------------------------------------- units

def _plan_units(rows: list[_UnitRow], old: Rows,
                problems: _Problems) -> tuple[Rows, dict[str, _UnitRow]]:
    """The tree after the import (stored units overlaid by the file rows), checked."""
    units = {uid: {**row, "attributes": dict(row["attributes"] or {})} for uid, row in old.items()}
    by_id: dict[str, _UnitRow] = {}
    for r in rows:
        if r.id in by_id:
            problems.add(r.loc, "组织编码", f"{r.id} 重复，{by_id[r.id].loc.text()} 已有")
            continue
        by_id[r.id] = r
        base = units.get(r.id) or {"id": r.id, "area": None, "has_committee": False,
                                   "sort_order": 0, "attributes": {}, "path": "", "depth": 0}
        sort_order = base["sort_order"] if r.sort_order in (None, KEEP, BAD) else r.sort_order
        units[r.id] = {**base, "name": r.name, "kind": r.kind, "parent_id": r.parent_id,
                       "sort_order": sort_order, "attributes": dict(base["attributes"])}

    for r in by_id.values():
        _check_parent(r, units, problems)
    _check_existing_children(by_id, units, old, problems)
    cyclic = _find_cycles(by_id, units, problems)
    _resolve_paths(units, by_id, cyclic)
    return units, by_id


def _kind_label(kind: UnitKind) -> str:
    return label_of(UNIT_KINDS, kind)


def _kinds_text(kinds: tuple[UnitKind, ...]) -> str:
    return "或".join(_kind_label(k) for k in kinds)


def _check_parent(r: _UnitRow, units: Rows, problems: _Problems) -> None:
    allowed = ALLOWED_PARENTS[r.kind]
    if r.parent_id in (None, KEEP):
        if allowed:
            problems.add(r.loc, "上级编码", f"不能为空：只有区县可以没有上级"
                         f"（{_kind_label(r.kind)}的上级应为{_kinds_text(allowed)}）")
        return
    parent = units.get(r.parent_id)
    if parent is None:
        problems.add(r.loc, "上级编码", f"{r.parent_id} 不存在（导入文件和数据库中都没有）")
    elif not allowed:
        problems.add(r.loc, "上级编码", "区县是最上级组织，应当留空")
    elif parent["kind"] not in allowed:
        problems.add(r.loc, "上级编码", f"{_kind_label(r.kind)}的上级应为{_kinds_text(allowed)}，"
                     f"但 {r.parent_id} 是{_kind_label(parent['kind'])}")


def _check_existing_children(by_id: dict[str, _UnitRow], units: Rows,
                             old: Rows, problems: _Problems) -> None:
    """A stored unit the files do not mention must still fit under a parent whose kind changed."""
    for uid, unit in units.items():
        parent_id = unit["parent_id"]
        if uid in by_id or parent_id not in by_id:
            continue
        if old.get(parent_id, {}).get("kind") == units[parent_id]["kind"]:
            continue
        if units[parent_id]["kind"] not in ALLOWED_PARENTS[unit["kind"]]:
            r = by_id[parent_id]
            problems.add(r.loc, "组织类型", f"改为{_kind_label(r.kind)}后，已有下级 {uid}"
                         f"（{_kind_label(unit['kind'])}）不能挂在它下面")


def _find_cycles(by_id: dict[str, _UnitRow], units: Rows, problems: _Problems) -> set[str]:
    done: set[str] = set()
    cyclic: set[str] = set()
    for start in by_id:
        chain: list[str] = []
        position: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in units and current not in done:
            if current in position:
                cycle = chain[position[current]:]
                cyclic.update(cycle)
                first = min((by_id[u] for u in cycle if u in by_id),
                            key=lambda r: (r.loc.table, r.loc.row))
                shown = cycle[cycle.index(first.id):] + cycle[:cycle.index(first.id)] + [first.id]
                problems.add(first.loc, "上级编码", f"上级关系形成循环：{' → '.join(shown)}")
                break
            position[current] = len(chain)
            chain.append(current)
            current = units[current]["parent_id"]
        done.update(chain)
    return cyclic


def _resolve_paths(units: Rows, by_id: dict[str, _UnitRow], cyclic: set[str]) -> None:
    """Path, depth and inherited 城乡 for every unit, top-down (descendants follow a moved parent)."""
    resolved: dict[str | None, tuple[str, int, Any]] = {None: ("/", -1, None)}
    for uid in units:
        chain: list[str] = []
        current: str | None = uid
        while current not in resolved and current in units and current not in cyclic:
            chain.append(current)
            current = units[current]["parent_id"]
            if len(chain) > len(units):
                break
        if current not in resolved:
            continue  # missing parent or a cycle: already reported
        path, depth, area = resolved[current]
        for u in reversed(chain):
            unit = units[u]
            row = by_id.get(u)
            if row is not None:
                unit["area"] = area if row.area in (None, KEEP, BAD) else row.area
            path, depth, area = path + u + "/", depth + 1, unit["area"]
            unit["path"], unit["depth"] = path, depth
            resolved[u] = (path, depth, area)


def _decide_committees(units: Rows, by_id: dict[str, _UnitRow],
                       members: Rows) -> None:
    full: dict[str, int] = defaultdict(int)
    for m in members.values():
        if m["status"] == MemberStatus.full and m.get("active", True):
            full[m["unit_id"]] += 1
    for uid, unit in units.items():
        row = by_id.get(uid)
        attributes = unit["attributes"]
        if row is not None:
            given = row.committee if isinstance(row.committee, bool) else None
            if unit["kind"] != UnitKind.branch:
                unit["has_committee"] = bool(given)
                attributes.pop(COMMITTEE_FROM, None)
                continue
            attributes[COMMITTEE_FROM] = "file" if given is not None else "roster"
            if given is not None:
                unit["has_committee"] = given
        if unit["kind"] == UnitKind.branch and attributes.get(COMMITTEE_FROM) == "roster":
            unit["has_committee"] = full[uid] >= COMMITTEE_MIN_FULL


# ---------------------------------------------------------------- members

def _plan_members(
    rows: list[_MemberRow], old: Rows, units: Rows, unit_rows: dict[str, _UnitRow],
    broken_units: set[str], problems: _Problems,
) -> tuple[Rows, dict[str, _MemberRow]]:
    members = dict(old)
    by_id: dict[str, _MemberRow] = {}
    for r in rows:
        mid = r.values["id"]
        if mid in by_id:
            problems.add(r.loc, "党员编号", f"{mid} 重复，{by_id[mid].loc.text()} 已有")
            continue
        by_id[mid] = r
        base = old.get(mid, {"excused_from_quorum": False, "active": True})
        members[mid] = {**base, **{k: base.get(k) if v is KEEP else v for k, v in r.values.items()}}

    for mid, r in by_id.items():
        _check_member(r, members[mid], units, broken_units, problems)
    _check_id_numbers(members, by_id, problems)
    _check_moved_units(members, by_id, units, unit_rows, old, problems)
    return members, by_id


def _check_member(r: _MemberRow, m: dict[str, Any], units: Rows,
                  broken_units: set[str], problems: _Problems) -> None:
    unit_id, group_id = m["unit_id"], m["group_id"]
    if unit_id is not BAD and unit_id not in broken_units:
        unit = units.get(unit_id)
        if unit is None:
            problems.add(r.loc, "所在支部", f"{unit_id} 不存在（导入文件和数据库中都没有）")
        elif unit["kind"] != UnitKind.branch:
            problems.add(r.loc, "所在支部", f"{unit_id} 是{_kind_label(unit['kind'])}，应填党支部的编码")
    if group_id not in (None, BAD) and group_id not in broken_units:
        group = units.get(group_id)
        if group is None:
            problems.add(r.loc, "党小组", f"{group_id} 不存在（导入文件和数据库中都没有）")
        elif group["kind"] != UnitKind.group:
            problems.add(r.loc, "党小组", f"{group_id} 是{_kind_label(group['kind'])}，应填党小组的编码")
        elif unit_id is not BAD and group["parent_id"] != unit_id:
            problems.add(r.loc, "党小组", f"{group_id} 不属于所在支部 {unit_id}")
    born, joined, full_on = m["birth_date"], m["joined_on"], m["full_on"]
    if isinstance(born, date) and isinstance(joined, date) and joined < shift_years(born, 18):
        problems.add(r.loc, "入党日期", "入党时未满18周岁")
    if isinstance(joined, date) and isinstance(full_on, date) and full_on < joined:
        problems.add(r.loc, "转正日期", "早于入党日期")
    if m["status"] == MemberStatus.probationary and isinstance(full_on, date):
        problems.add(r.loc, "转正日期", "预备党员还没有转正，应当留空")


def _check_id_numbers(members: Rows, by_id: dict[str, _MemberRow],
                      problems: _Problems) -> None:
    """No two members may share a 身份证号 after the import (swaps between rows are fine)."""
    holders: dict[str, list[str]] = defaultdict(list)
    for mid, m in members.items():
        if isinstance(m["id_number"], str):
            holders[m["id_number"]].append(mid)
    for mid, r in by_id.items():
        others = [o for o in holders.get(members[mid]["id_number"], []) if o != mid]
        if not others:
            continue
        other = others[0]
        where = (by_id[other].loc.text() if other in by_id
                 else f"已有党员 {other}（{members[other]['name']}）")
        problems.add(r.loc, "身份证号", f"与{where}重复")


def _check_moved_units(members: Rows, by_id: dict[str, _MemberRow],
                       units: Rows, unit_rows: dict[str, _UnitRow],
                       old: Rows, problems: _Problems) -> None:
    """Stored members the files do not mention must still point at a branch and a group."""
    stranded: dict[str, int] = defaultdict(int)
    for mid, m in old.items():
        if mid in by_id:
            continue
        if m["unit_id"] in unit_rows and units[m["unit_id"]]["kind"] != UnitKind.branch:
            stranded[m["unit_id"]] += 1
        if m["group_id"] in unit_rows and units[m["group_id"]]["kind"] != UnitKind.group:
            stranded[m["group_id"]] += 1
    for uid, count in stranded.items():
        r = unit_rows[uid]
        problems.add(r.loc, "组织类型", f"还有 {count} 名党员登记在 {uid} 下，不能改为{_kind_label(r.kind)}")


# ---------------------------------------------------------------- writing

def _changes(before: dict[str, Any], after: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if before.get(f) != after.get(f)]


def _diff(entity: str, rid: str, new: dict[str, Any], old: dict[str, Any] | None,
          fields: tuple[str, ...], events: Events) -> str | None:
    """"insert", "update" or None (unchanged), noting the audit event."""
    if old is None:
        events.append((entity, rid, f"{entity}.import_create", None, new))
        return "insert"
    changed = _changes(old, new, fields)
    if not changed:
        return None
    events.append((entity, rid, f"{entity}.import_update", {f: old[f] for f in changed},
                          {f: new[f] for f in changed}))
    return "update"


def _write_units(session: Session, units: Rows, unit_rows: dict[str, _UnitRow], old: Rows,
                 report: ImportReport, events: Events) -> None:
    inserts, updates = [], []
    for uid, unit in units.items():
        row = {"id": uid, **{f: unit[f] for f in UNIT_FIELDS}}
        outcome = _diff("unit", uid, row, old.get(uid), UNIT_FIELDS, events)
        if outcome == "insert":
            inserts.append(row)
        elif outcome == "update":
            updates.append(row)
        elif uid in unit_rows:
            report.units_unchanged += 1
    inserts.sort(key=lambda u: u["depth"])   # parents before children
    if inserts:
        session.execute(insert(Unit), inserts)
    if updates:
        session.execute(update(Unit), updates)
    report.units_added, report.units_updated = len(inserts), len(updates)


def _write_members(session: Session, members: Rows, member_rows: dict[str, _MemberRow],
                   old: Rows, report: ImportReport, events: Events) -> None:
    inserts, updates = [], []
    for mid in member_rows:
        row = {"id": mid, **{f: members[mid][f] for f in MEMBER_FIELDS}}
        outcome = _diff("member", mid, row, old.get(mid), MEMBER_FIELDS, events)
        if outcome == "insert":
            inserts.append(row)
        elif outcome == "update":
            updates.append(row)
        else:
            report.members_unchanged += 1
    # A 身份证号 moving between two stored members would trip the unique index mid-update:
    # park the moving numbers on placeholders first.
    stored = {m["id_number"] for m in old.values()}
    parked = [{"id": u["id"], "id_number": f"#{i:017d}"} for i, u in enumerate(updates)
              if u["id_number"] in stored and u["id_number"] != old[u["id"]]["id_number"]]
    if parked:
        session.execute(update(Member), parked)
    if updates:
        session.execute(update(Member), updates)
    if inserts:
        session.execute(insert(Member), inserts)
    report.members_added, report.members_updated = len(inserts), len(updates)
