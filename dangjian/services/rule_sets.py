"""Rule sets as stored, immutable versions: what a cycle plans and scores with."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound
from dangjian.services import audit
from models import RuleSetVersion
from rules.loader import LoadedRuleSet, load_rule_set_file, load_rule_set_text


def register_rule_set(*, session: Session, path: Path, actor: str) -> RuleSetVersion:
    """Validate a rule file and store it; the same content twice returns the stored version."""
    loaded = load_rule_set_file(path)
    existing = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.sha256 == loaded.sha256)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    meta = loaded.rule_set.rule_set
    clash = session.execute(
        select(RuleSetVersion).where(
            RuleSetVersion.code == meta.code, RuleSetVersion.version == meta.version
        )
    ).scalar_one_or_none()
    if clash is not None:
        raise Conflict(
            f"规则集 {meta.code} 的版本 {meta.version} 已存在且内容不同"
            f"（已存 sha256 {clash.sha256[:12]}…）：修改规则后请提升 rule_set.version",
            field="rule_set.version",
        )
    record = RuleSetVersion(
        code=meta.code, version=meta.version, name=meta.name, sha256=loaded.sha256,
        file_name=Path(loaded.file_name).name, source=loaded.source,
    )
    session.add(record)
    session.flush()
    audit.record(
        session, actor=actor, action="rule_set.register", entity="rule_set", entity_id=record.id or 0,
        after={"code": meta.code, "version": meta.version, "sha256": loaded.sha256},
    )
    session.commit()
    return record


def get_rule_set(session: Session, rule_set_id: int) -> RuleSetVersion:
    record = session.get(RuleSetVersion, rule_set_id)
    if record is None:
        raise NotFound(f"规则集 #{rule_set_id} 不存在")
    return record


def load_stored(record: RuleSetVersion) -> LoadedRuleSet:
    """The exact rules a cycle was bound to, parsed from the stored source."""
    return _parse(record.sha256, record.source, record.file_name)


@lru_cache(maxsize=32)
def _parse(sha256: str, source: str, file_name: str) -> LoadedRuleSet:
    # Stored sources never change (keyed by their hash), so parsing once per process is safe.
    return load_rule_set_text(source, file_name)
