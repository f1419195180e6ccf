"""Entering what the rules need beyond tasks: declared metric values and manual scores.

Both are checked against the cycle's rule set before anything is written: an unknown
metric or item lists the ones that exist; a value outside the declared range is refused.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from dangjian.errors import NotFound, ValidationFailed
from dangjian.services import audit
from dangjian.services.cycles import get_cycle
from dangjian.services.rule_sets import get_rule_set, load_stored
from models import Cycle, ManualScore, Member, MetricValue, Unit, utcnow
from rules.loader import LoadedRuleSet


def declared_metrics(loaded: LoadedRuleSet) -> dict[str, Any]:
    return {m.code: m for m in getattr(loaded.rule_set, "metrics", None) or []}


def manual_items(loaded: LoadedRuleSet) -> dict[str, Any]:
    return {i.code: i for _, i in loaded.rule_set.scoring.walk_items()
            if getattr(i, "method", "") == "manual"}


def _subject_exists(session: Session, subject_id: str) -> bool:
    return session.get(Unit, subject_id) is not None or session.get(Member, subject_id) is not None


def _rules(session: Session, cycle: Cycle) -> LoadedRuleSet:
    return load_stored(get_rule_set(session, cycle.rule_set_id))


@dataclass(frozen=True)
class MetricEntry:
    subject_id: str
    metric: str
    value: float
    note: str | None = None


def _check_metric(loaded: LoadedRuleSet, entry: MetricEntry, where: str) -> list[str]:
    declared = declared_metrics(loaded)
    spec = declared.get(entry.metric) or next(
        (m for m in declared.values() if m.name == entry.metric), None)
    if spec is None:
        known = "、".join(f"{m.code}（{m.name}）" for m in declared.values()) or "（本规则集未声明任何指标）"
        return [f"{where}未知的指标 {entry.metric}；规则集 {loaded.file_name} 声明的指标：{known}"]
    low, high = getattr(spec, "min", None), getattr(spec, "max", None)
    if (low is not None and entry.value < low) or (high is not None and entry.value > high):
        return [f"{where}指标 {spec.name} 的值 {entry.value:g} 超出范围 [{low}, {high}]"]
    return []


def _canonical(loaded: LoadedRuleSet, metric: str) -> str:
    declared = declared_metrics(loaded)
    if metric in declared:
        return metric
    return next(m.code for m in declared.values() if m.name == metric)


def set_metric_values(*, session: Session, cycle_code: str, entries: list[MetricEntry],
                      entered_by: str, source: str = "命令行") -> int:
    """Store values of declared metrics (one transaction; all valid or nothing written)."""
    cycle = get_cycle(session, cycle_code)
    loaded = _rules(session, cycle)
    problems: list[str] = []
    unknown = 0         # problems that are unknown subjects or metrics
    for n, entry in enumerate(entries, start=1):
        where = f"{source} 第{n}条 " if len(entries) > 1 else ""
        if not _subject_exists(session, entry.subject_id):
            problems.append(f"{where}未知的组织或党员：{entry.subject_id}")
            unknown += 1
        found = _check_metric(loaded, entry, where)
        unknown += sum(1 for p in found if "未知的指标" in p)
        problems += found
    if problems:   # only unknown codes: not found (exit 3); any bad value: invalid (exit 2)
        raise (NotFound if unknown == len(problems) else ValidationFailed)("指标值未保存：", details=problems)
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


def _decode(path: Path) -> str:
    """UTF-8 (BOM allowed), else GB18030: Excel in China saves CSV as GBK."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(f"{path}：无法识别的文件编码，请另存为 UTF-8 CSV", field="file")


def read_metric_csv(path: Path) -> list[MetricEntry]:
    """CSV with header 对象编码,指标,值[,说明] (UTF-8 with or without BOM, or GBK)."""
    if not path.is_file():
        raise NotFound(f"文件不存在：{path}", field="file")
    rows = list(csv.DictReader(io.StringIO(_decode(path), newline="")))
    problems, entries = [], []
    for n, row in enumerate(rows, start=2):
        try:
            entries.append(MetricEntry(row["对象编码"].strip(), row["指标"].strip(),
                                       float(row["值"]), (row.get("说明") or "").strip() or None))
        except KeyError as missing:
            raise ValidationFailed(f"{path.name} 缺少列 {missing}（需要：对象编码,指标,值[,说明]）") from None
        except (TypeError, ValueError):
            problems.append(f"{path.name} 第{n}行 值：“{row.get('值')}”不是数字")
    if problems:
        raise ValidationFailed("指标值未保存：", details=problems)
    return entries


def set_manual_score(*, session: Session, cycle_code: str, subject_id: str, item_code: str,
                     points: float, entered_by: str, note: str | None = None) -> ManualScore:
    """A reviewer's score for a manual item, inside the range the rule set states."""
    cycle = get_cycle(session, cycle_code)
    loaded = _rules(session, cycle)
    items = manual_items(loaded)
    item = items.get(item_code)
    if item is None:
        known = "、".join(f"{i.code}（{i.name}）" for i in items.values()) or "（本规则集没有人工评分条目）"
        raise NotFound(f"未知的人工评分条目 {item_code}；可用：{known}", field="item")
    if not _subject_exists(session, subject_id):
        raise NotFound(f"未知的组织或党员：{subject_id}", field="subject")
    low, high = item.range
    if not low <= points <= high:
        raise ValidationFailed(f"“{item.name}”的分值 {points:g} 超出规则允许的范围 [{low:g}, {high:g}]",
                               field="points")
    row = session.execute(select(ManualScore).where(
        ManualScore.cycle_id == cycle.id, ManualScore.subject_id == subject_id,
        ManualScore.item_code == item_code)).scalar_one_or_none()
    before = {"points": row.points, "entered_by": row.entered_by} if row else None
    row = row or ManualScore(cycle_id=cycle.id or 0, subject_id=subject_id, item_code=item_code,
                             points=points, entered_by=entered_by)
    row.points, row.entered_by, row.note, row.entered_at = points, entered_by, note, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor=entered_by, action="manual_score.set", entity="manual_score",
                 entity_id=row.id or 0, before=before,
                 after={"cycle": cycle.code, "subject": subject_id, "item": item_code,
                        "points": points, "note": note})
    session.commit()
    return row
