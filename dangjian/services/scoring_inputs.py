"""Entering what the rules need beyond tasks: declared metric values and manual scores.

Both are checked against the cycle's rule set before anything is written: an unknown
metric or item lists the ones that exist; a value outside the declared range is refused.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dangjian.errors import DomainError, NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.cycle_state import require_writable
from dangjian.services.cycles import get_cycle
from dangjian.services.rule_sets import get_rule_set, load_stored
from dangjian.services.text_files import read_csv_records
from models import Cycle, ManualScore, Member, MetricValue, Unit, utcnow
from rules.loader import LoadedRuleSet


def declared_metrics(loaded: LoadedRuleSet) -> dict[str, Any]:
    return {m.code: m for m in getattr(loaded.rule_set, "metrics", None) or []}


def manual_items(loaded: LoadedRuleSet) -> dict[str, Any]:
    return {i.code: i for _, i in loaded.rule_set.scoring.walk_items()
            if getattr(i, "method", "") == "manual"}


def _subject_exists(session: Session, subject_id: str) -> bool:
    return session.get(Unit, subject_id) is not None or session.get(Member, subject_id) is not None


# Units of a declared metric that count whole things: 3.5 人 is refused.
COUNT_UNITS = frozenset({"人", "名", "个", "次", "项", "户", "件", "起", "个月", "本", "家", "所", "处",
                         "篇", "条", "场", "期"})
# Beyond this a float no longer holds every whole number: no real count or rate is that large.
LARGEST = 1e15


def number_problem(value: float, *, unit: str | None = None, low: float | None = None,
                   high: float | None = None) -> str | None:
    """Why `value` cannot be stored (Chinese, without the field's name), or None."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return f"“{value}”不是有限的数字"
    if abs(value) > LARGEST:
        return f"{_g(value)} 超出可录入的数值范围（绝对值不超过 10 的 15 次方）"
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{_g(value)} 超出范围（{shown_range(low, high)}）"
    if unit in COUNT_UNITS and value != int(value):
        return f"{_g(value)} 不是整数（单位为“{unit}”）"
    return None


def _g(value: float) -> str:
    return f"{value:g}".replace("e+", "e")


def scored_subjects(session: Session, cycle: Cycle, loaded: LoadedRuleSet) -> tuple[set[str], bool]:
    """Ids the cycle's rule set gives a scorecard, and whether they are members."""
    # scoring_metrics imports this module, hence the late import
    from dangjian.services.scoring_metrics import scores_members, scoring_subjects

    root = session.get(Unit, cycle.root_unit_id)
    if root is None:
        return set(), scores_members(loaded)
    return {s.subject_id for s in scoring_subjects(session, root, loaded)}, scores_members(loaded)


def _subject_problem(session: Session, loaded: LoadedRuleSet, scored: tuple[set[str], bool],
                     subject_id: str, what: str) -> str | None:
    ids, members = scored
    if subject_id in ids:
        return None
    if not _subject_exists(session, subject_id):
        return f"未知的组织或党员：{subject_id}"
    whom = "本周期内的党员" if members else f"本周期内的{_kind_name(loaded)}"
    return f"{subject_id} 不是规则集 {loaded.file_name} 的考核对象（只考核{whom}），不能录入{what}"


def _kind_name(loaded: LoadedRuleSet) -> str:
    from dangjian.labels import UNIT_KIND

    kind = str(getattr(loaded.rule_set.scoring.subject, "kind", ""))
    return UNIT_KIND.get(kind, kind)


def _rules(session: Session, cycle: Cycle) -> LoadedRuleSet:
    return load_stored(get_rule_set(session, cycle.rule_set_id))


@dataclass(frozen=True)
class MetricEntry:
    subject_id: str
    metric: str
    value: float
    note: str | None = None
    where: str | None = None        # "a.csv 第3行 ": where the entry came from, for messages


def _check_metric(loaded: LoadedRuleSet, entry: MetricEntry, where: str, members: bool) -> list[str]:
    declared = declared_metrics(loaded)
    spec = declared.get(entry.metric) or next(
        (m for m in declared.values() if m.name == entry.metric), None)
    if spec is None:
        known = "、".join(f"{m.code}（{m.name}）" for m in declared.values()) or "（本规则集未声明任何指标）"
        return [f"{where}未知的指标 {entry.metric}；规则集 {loaded.file_name} 声明的指标：{known}"]
    problems = []
    per_member = getattr(spec, "per", "unit") == "member"
    if per_member != members:
        problems.append(f"{where}指标 {spec.name}（{spec.code}）按{'党员' if per_member else '组织'}录入，"
                        f"而规则集 {loaded.file_name} 考核的是{'党员' if members else '组织'}：{entry.subject_id} 不能录入")
    problem = number_problem(entry.value, unit=getattr(spec, "unit", None), low=getattr(spec, "min", None),
                             high=getattr(spec, "max", None))
    if problem:
        problems.append(f"{where}{entry.subject_id} 的指标 {spec.name} 的值 {problem}")
    return problems


def shown_number(value: float) -> str:
    """A number as a user reads it: 95, 3.5, never Python's inf/nan."""
    if math.isnan(value):
        return "（不是数字）"
    if math.isinf(value):
        return "无穷大" if value > 0 else "负无穷大"
    return f"{value:g}"


def shown_range(low: float | None, high: float | None) -> str:
    """[0, None] as "0 及以上", [0, 100] as "0–100"."""
    if low is not None and high is not None:
        return f"{shown_number(low)}–{shown_number(high)}"
    if low is not None:
        return f"{shown_number(low)} 及以上"
    if high is not None:
        return f"{shown_number(high)} 及以下"
    return "不限"


def _canonical(loaded: LoadedRuleSet, metric: str) -> str:
    declared = declared_metrics(loaded)
    if metric in declared:
        return metric
    return next(m.code for m in declared.values() if m.name == metric)


def set_metric_values(*, session: Session, cycle_code: str, entries: list[MetricEntry],
                      entered_by: str, source: str = "命令行", problems: Sequence[str] = ()) -> int:
    """Store values of declared metrics (one transaction; all valid or nothing written).

    `problems` found earlier (rows of a file that did not parse) are reported together with
    every problem of `entries`, so a file's errors come back in one pass."""
    cycle = get_cycle(session, cycle_code)
    loaded = _rules(session, cycle)
    scored = scored_subjects(session, cycle, loaded)
    problems = list(problems)
    unknown = 0         # problems that are unknown subjects or metrics
    for n, entry in enumerate(entries, start=1):
        where = entry.where or (f"{source} 第{n}条 " if len(entries) > 1 else "")
        problem = _subject_problem(session, loaded, scored, entry.subject_id, f"指标 {entry.metric}")
        if problem:
            unknown += problem.startswith("未知的组织")
            problems.append(where + problem)
        found = _check_metric(loaded, entry, where, scored[1])
        unknown += sum(1 for p in found if "未知的指标" in p)
        problems += found
    if problems:   # only unknown codes: not found (exit 3); any bad value: invalid (exit 2)
        error = NotFound if unknown == len(problems) else ValidationFailed
        raise error("指标值未保存：", details=problems)
    require_writable(session, [cycle.id or 0], "录入指标值")
    for entry in entries:
        code = _canonical(loaded, entry.metric)
        row = session.execute(select(MetricValue).where(
            MetricValue.cycle_id == cycle.id, MetricValue.subject_id == entry.subject_id,
            MetricValue.metric == code)).scalar_one_or_none()
        before = {"value": row.value, "entered_by": row.entered_by} if row else None
        row = row or MetricValue(cycle_id=cycle.id or 0, subject_id=entry.subject_id, metric=code,
                                 value=entry.value, entered_by=entered_by)
        row.value, row.entered_by, row.note, row.entered_at = entry.value, entered_by, entry.note, utcnow()
        session.add(row)
        session.flush()
        audit.record(session, actor=entered_by, action="metric.set", entity="metric_value",
                     entity_id=row.id or 0, before=before,
                     after={"cycle": cycle.code, "subject": entry.subject_id, "metric": code,
                            "value": entry.value, "note": entry.note})
    session.commit()
    return len(entries)


def _scored_rows(path: Path, columns: tuple[str, str, str], note_column: str
                 ) -> tuple[list[tuple[str, str, str, float, str | None]], list[str]]:
    """A CSV of (subject, code, number[, note]) rows, UTF-8 or GBK (see text_files): each row
    that parses as (where, subject, code, number, note), and what is wrong with the others
    (file and line named). A bad header refuses at once."""
    subject, code, number = columns
    header, rows = read_csv_records(path)
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValidationFailed(f"{path.name} 缺少列 {'、'.join(missing)}（需要：{','.join(columns)}[,{note_column}]）",
                               field="file")
    problems, parsed = [], []
    for line, row in rows:
        where = f"{path.name} 第{line}行 "
        if row.get(None):       # type: ignore[call-overload]
            problems.append(f"{where}多出 {len(row[None])} 个单元格（表头只有 {len(header)} 列）")  # type: ignore[index]
            continue
        cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
        try:
            value = float(cells[number])
        except ValueError:
            problems.append(f"{where}{number}：“{cells[number]}”不是数字")
            continue
        if not cells[subject] or not cells[code]:
            problems.append(f"{where}{subject}和{code}不能为空")
            continue
        parsed.append((where, cells[subject], cells[code], value, cells.get(note_column) or None))
    return parsed, problems


def parse_metric_csv(path: Path) -> tuple[list[MetricEntry], list[str]]:
    """CSV with header 对象编码,指标,值[,说明]: the rows that parse, and the others' problems."""
    rows, problems = _scored_rows(path, ("对象编码", "指标", "值"), "说明")
    return [MetricEntry(subject, metric, value, note, where) for where, subject, metric, value, note in rows], problems


def read_metric_csv(path: Path) -> list[MetricEntry]:
    entries, problems = parse_metric_csv(path)
    if problems:
        raise ValidationFailed("指标值未保存：", details=problems)
    return entries


def import_metric_csv(*, session: Session, cycle_code: str, path: Path, entered_by: str) -> int:
    """`metrics import`: every problem of the file, parsing and rules alike, in one refusal."""
    entries, problems = parse_metric_csv(path)
    return set_metric_values(session=session, cycle_code=cycle_code, entries=entries, entered_by=entered_by,
                             source=path.name, problems=problems)


@dataclass(frozen=True)
class ManualEntry:
    subject_id: str
    item_code: str
    points: float
    note: str | None = None
    where: str = ""                 # "a.csv 第3行 ": where the entry came from, for messages


def _manual_problems(session: Session, loaded: LoadedRuleSet, scored: tuple[set[str], bool],
                     entry: ManualEntry) -> list[tuple[type[DomainError], str, str]]:
    """(error kind, message, field) of each thing wrong with one manual score."""
    items = manual_items(loaded)
    item = items.get(entry.item_code)
    if item is None:
        known = "、".join(f"{i.code}（{i.name}）" for i in items.values()) or "（本规则集没有人工评分条目）"
        return [(NotFound, f"{entry.where}未知的人工评分条目 {entry.item_code}；可用：{known}", "item")]
    found: list[tuple[type[DomainError], str, str]] = []
    problem = _subject_problem(session, loaded, scored, entry.subject_id, f"人工评分“{item.name}”（{item.code}）")
    if problem:
        found.append((NotFound if problem.startswith("未知的组织") else ValidationFailed, entry.where + problem,
                      "subject"))
    low, high = item.range
    problem = number_problem(entry.points)
    if problem is None and not low <= entry.points <= high:
        problem = f"{shown_number(entry.points)} 超出规则允许的范围（{shown_range(low, high)}）"
    if problem:
        found.append((ValidationFailed, f"{entry.where}{entry.subject_id} 的“{item.name}”分值 {problem}", "points"))
    return found


def set_manual_scores(*, session: Session, cycle_code: str, entries: Sequence[ManualEntry],
                      entered_by: str, problems: Sequence[str] = ()) -> list[ManualScore]:
    """Reviewers' scores for manual items, each inside the range the rule set states; one
    transaction, every problem (with `problems` found earlier while reading) in one refusal."""
    cycle = get_cycle(session, cycle_code)
    loaded = _rules(session, cycle)
    scored = scored_subjects(session, cycle, loaded)
    found = [(ValidationFailed, p, "file") for p in problems]
    for entry in entries:
        found += _manual_problems(session, loaded, scored, entry)
    if len(found) == 1:
        kind, message, field = found[0]
        raise kind(message, field=field)
    if found:   # only unknown codes: not found (exit 3); any bad value: invalid (exit 2)
        kind = NotFound if all(k is NotFound for k, _, _ in found) else ValidationFailed
        raise kind("人工评分未保存：", details=[m for _, m, _ in found])
    require_writable(session, [cycle.id or 0], "录入人工评分")
    rows = []
    for entry in entries:
        row = session.execute(select(ManualScore).where(
            ManualScore.cycle_id == cycle.id, ManualScore.subject_id == entry.subject_id,
            ManualScore.item_code == entry.item_code)).scalar_one_or_none()
        before = {"points": row.points, "entered_by": row.entered_by} if row else None
        row = row or ManualScore(cycle_id=cycle.id or 0, subject_id=entry.subject_id, item_code=entry.item_code,
                                 points=entry.points, entered_by=entered_by)
        row.points, row.entered_by, row.note, row.entered_at = entry.points, entered_by, entry.note, utcnow()
        session.add(row)
        session.flush()
        audit.record(session, actor=entered_by, action="manual_score.set", entity="manual_score",
                     entity_id=row.id or 0, before=before,
                     after={"cycle": cycle.code, "subject": entry.subject_id, "item": entry.item_code,
                            "points": entry.points, "note": entry.note})
        rows.append(row)
    session.commit()
    return rows


def set_manual_score(*, session: Session, cycle_code: str, subject_id: str, item_code: str,
                     points: float, entered_by: str, note: str | None = None) -> ManualScore:
    """A reviewer's score for one manual item (see set_manual_scores)."""
    (row,) = set_manual_scores(session=session, cycle_code=cycle_code, entered_by=entered_by,
                               entries=[ManualEntry(subject_id, item_code, points, note)])
    return row


def parse_manual_csv(path: Path) -> tuple[list[ManualEntry], list[str]]:
    """CSV with header 对象编码,条目,分数[,理由]: the rows that parse, and the others' problems."""
    rows, problems = _scored_rows(path, ("对象编码", "条目", "分数"), "理由")
    return [ManualEntry(subject, item, points, note, where) for where, subject, item, points, note in rows], problems


def import_manual_csv(*, session: Session, cycle_code: str, path: Path, entered_by: str) -> int:
    """`manual import`: every problem of the file, parsing and rules alike, in one refusal."""
    entries, problems = parse_manual_csv(path)
    return len(set_manual_scores(session=session, cycle_code=cycle_code, entries=entries,
                                 entered_by=entered_by, problems=problems))
