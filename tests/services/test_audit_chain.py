"""The audit trail shows tampering: the database refuses edits, and when someone gets past
that (triggers disabled by an owner of the database), verification names what changed."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from dangjian.services import audit
from models import AuditEvent, AuditHead

GENESIS = "0" * 64


@pytest.fixture
def chain(committed: Engine) -> Iterator[Engine]:
    """Twelve events in four transactions, an anchor after the eighth."""
    for batch in range(3):
        with Session(committed) as session:
            for i in range(4 if batch < 2 else 0):
                audit.record(session, actor="测试", action="test.write", entity="test",
                             entity_id=batch * 4 + i, after={"n": batch * 4 + i})
            if batch == 1:
                audit.anchor(session, "测试锚点")
            session.commit()
    with Session(committed) as session:
        for i in range(8, 12):
            audit.record(session, actor="测试", action="test.write", entity="test", entity_id=i, after={"n": i})
        session.commit()
    yield committed


def report(engine: Engine) -> audit.ChainReport:
    with Session(engine) as session:
        return audit.check_chain(session)


def disable_triggers(engine: Engine) -> None:
    """What only the database's owner can do: switch the protection off."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            for name in ("audit_event_no_update", "audit_event_no_delete", "audit_head_forward_only",
                         "audit_head_no_delete"):
                conn.execute(text(f"DROP TRIGGER {name}"))


def test_an_intact_chain_verifies_and_matches_its_head_and_anchor(chain: Engine) -> None:
    found = report(chain)
    assert found.intact and found.events == 12 and found.head_count == 12
    assert found.anchors_checked == 1 and found.last_anchor is not None and found.last_anchor.count == 8
    assert audit.problems(found) == []


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = '某人' WHERE seq = 3",
                                       "DELETE FROM audit_event WHERE seq = 12",
                                       "UPDATE audit_head SET count = 11",
                                       "DELETE FROM audit_head"])
def test_the_database_refuses_to_change_or_remove_audit_rows(chain: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="审计"), chain.begin() as conn:
        conn.execute(text(statement))
    assert report(chain).intact


def test_an_edited_event_is_named(chain: Engine) -> None:
    disable_triggers(chain)
    with chain.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = '某人' WHERE seq = 5"))
    found = report(chain)
    assert found.broken == [5] and not found.intact


def test_a_deleted_event_in_the_middle_is_named(chain: Engine) -> None:
    disable_triggers(chain)
    with chain.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 6"))
    found = report(chain)
    assert found.gaps == [6] and 7 in found.broken


def test_a_truncated_tail_shows_against_the_head(chain: Engine) -> None:
    disable_triggers(chain)
    with chain.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq > 10"))
    found = report(chain)
    assert found.broken == [] and found.gaps == []
    assert found.head_problem and "共 12 条，实有 10 条" in found.head_problem


def forge(engine: Engine, seq: int, actor: str) -> None:
    """Rewrite one event and recompute every later hash and the head, as a careful forger would."""
    with Session(engine) as session:
        prev = GENESIS
        for ev in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all():
            if ev.seq >= seq:
                new_actor = actor if ev.seq == seq else ev.actor
                digest = audit.event_hash(prev, audit._payload(ev.at, new_actor, ev.action, ev.entity,
                                                               ev.entity_id, ev.before, ev.after))
                session.execute(update(AuditEvent).where(AuditEvent.seq == ev.seq)
                                .values(actor=new_actor, prev_hash=prev, hash=digest))
                prev = digest
            else:
                prev = ev.hash
        session.execute(update(AuditHead).values(hash=prev))
        session.commit()


def test_a_rewritten_and_rehashed_history_shows_against_the_anchor(chain: Engine) -> None:
    disable_triggers(chain)
    forge(chain, 3, "伪造者")
    found = report(chain)
    assert found.broken == [] and found.gaps == [] and found.head_problem is None   # the forgery is consistent
    assert found.anchors_broken and "测试锚点" in found.anchors_broken[0]
    assert not found.intact


def test_verify_records_a_new_anchor_only_when_the_chain_is_intact(chain: Engine) -> None:
    with Session(chain) as session:
        good = audit.verify(session=session, actor="核验员")
    assert good.intact and good.last_anchor is not None and good.last_anchor.count == 12
    disable_triggers(chain)
    with chain.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = '某人' WHERE seq = 2"))
    with Session(chain) as session:
        bad = audit.verify(session=session, actor="核验员")
    assert not bad.intact and bad.last_anchor is not None and bad.last_anchor.count == 12


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_queued_events_follow_their_transaction_savepoints_included(committed: Engine) -> None:
    with Session(committed) as session:
        audit.record(session, actor="测试", action="outer.before", entity="test", entity_id=1)
        with session.begin_nested():
            audit.record(session, actor="测试", action="kept.savepoint", entity="test", entity_id=2)
        nested = session.begin_nested()
        audit.record(session, actor="测试", action="dropped.savepoint", entity="test", entity_id=3)
        nested.rollback()
        audit.record(session, actor="测试", action="outer.after", entity="test", entity_id=4)
        session.commit()
    with Session(committed) as session:
        audit.record(session, actor="测试", action="never.committed", entity="test", entity_id=5)
    with Session(committed) as session:   # a new transaction does not inherit the closed one's events
        session.commit()
    assert _actions(committed) == ["outer.before", "kept.savepoint", "outer.after"]
    assert report(committed).intact
