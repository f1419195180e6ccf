""""六个一" pledges: recording, one active pledge per kind, missing pledges, counts for scoring."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.errors import Conflict, NotFound, ValidationFailed
from dangjian.services.pledges import (
    PLEDGE_LABEL,
    close_pledge,
    list_pledges,
    missing_pledges,
    pledge_kind,
    pledge_metrics,
    record_pledge,
)
from models import AuditEvent, Member, MemberStatus, Pledge, PledgeKind, PledgeStatus
from tests.support.builders import County, county

TODAY = date(2026, 6, 30)
TARGETS = {
    PledgeKind.household: "困难户王某一家（东关巷3号）",
    PledgeKind.hygiene: "东关巷1至5号楼院",
    PledgeKind.order: "东关巷夜间巡逻",
    PledgeKind.youth: "青年李某",
    PledgeKind.prospect: "积极分子赵某",
    PledgeKind.resident_unit: "县第二小学",
}


@pytest.fixture
def c(session: Session) -> County:
    return county(session)


def pledge(session: Session, member: str, kind: PledgeKind | str, target: str = "对象",
           started_on: date = date(2026, 3, 1)) -> Pledge:
    return record_pledge(session=session, member_id=member, kind=kind, target=target,
                         started_on=started_on, actor="支部书记", today=TODAY)


def all_six(session: Session, member: str) -> None:
    for kind, target in TARGETS.items():
        pledge(session, member, kind, target)


def rows(session: Session) -> tuple[int, int]:
    return (session.execute(select(func.count()).select_from(Pledge)).scalar_one(),
            session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def test_a_member_with_all_six_is_not_missing_any(session: Session, c: County) -> None:
    all_six(session, "M200")
    missing = {m.member_id: m for m in missing_pledges(session=session, unit_id="B2")}
    assert "M200" not in missing
    assert missing["M201"].kinds == list(PledgeKind)
    assert missing["M201"].describe().startswith("帮扶一个困难家庭、督查一块区域卫生")


def test_missing_pledges_name_the_kinds_each_member_lacks(session: Session, c: County) -> None:
    pledge(session, "M200", PledgeKind.household)
    pledge(session, "M200", PledgeKind.youth)
    (m200,) = [m for m in missing_pledges(session=session, unit_id="B2") if m.member_id == "M200"]
    assert m200.kinds == [PledgeKind.hygiene, PledgeKind.order, PledgeKind.prospect, PledgeKind.resident_unit]


def test_a_second_active_pledge_of_the_same_kind_is_refused_and_nothing_written(
        session: Session, c: County) -> None:
    pledge(session, "M200", PledgeKind.household, "王某一家")
    before = rows(session)
    with pytest.raises(Conflict) as err:
        pledge(session, "M200", PledgeKind.household, "张某一家")
    assert "帮扶一个困难家庭" in str(err.value) and "王某一家" in str(err.value) and "M200" in str(err.value)
    assert rows(session) == before


def test_after_completing_a_pledge_a_new_one_can_start(session: Session, c: County) -> None:
    first = pledge(session, "M200", PledgeKind.youth, "青年李某")
    done = close_pledge(session=session, pledge_id=first.id or 0, status="completed",
                        ended_on=date(2026, 5, 1), actor="支部书记", evidence="李某已就业")
    assert done.status == PledgeStatus.completed and done.evidence == "李某已就业"
    second = pledge(session, "M200", PledgeKind.youth, "青年周某", started_on=date(2026, 5, 2))
    assert [p.target for p in list_pledges(session=session, unit_id="B2")] == ["青年周某"]
    assert {p.id for p in list_pledges(session=session, unit_id="B2", include_closed=True)} == {first.id, second.id}


def test_a_closed_pledge_cannot_be_closed_again(session: Session, c: County) -> None:
    p = pledge(session, "M200", PledgeKind.order)
    close_pledge(session=session, pledge_id=p.id or 0, status="ended", ended_on=date(2026, 4, 1), actor="书记")
    with pytest.raises(Conflict, match="已终止"):
        close_pledge(session=session, pledge_id=p.id or 0, status="completed", ended_on=date(2026, 5, 1),
                     actor="书记")


def test_a_pledge_needs_a_target_and_a_past_start(session: Session, c: County) -> None:
    before = rows(session)
    with pytest.raises(ValidationFailed) as err:
        pledge(session, "M200", PledgeKind.hygiene, "  ", started_on=date(2026, 7, 1))
    text = str(err.value)
    assert "督查一块区域卫生的具体对象" in text and "晚于今天" in text and "M200" in text
    assert rows(session) == before


def test_kinds_can_be_given_in_chinese(session: Session, c: County) -> None:
    assert pledge_kind("联系一个辖区单位") == PledgeKind.resident_unit
    assert pledge_kind("失足青年") == PledgeKind.youth
    with pytest.raises(ValidationFailed, match="household（帮扶一个困难家庭）"):
        pledge_kind("一")


def test_activists_owe_no_pledges_but_probationary_members_do(session: Session, c: County) -> None:
    m = session.get(Member, "M107")
    assert m is not None
    m.status = MemberStatus.activist
    session.add(m)
    session.commit()
    missing = {x.member_id for x in missing_pledges(session=session, unit_id="B1")}
    assert "M107" not in missing and "M190" in missing
    with pytest.raises(ValidationFailed, match="不是在册的预备或正式党员"):
        pledge(session, "M107", PledgeKind.household)


def test_unknown_unit_is_named(session: Session, c: County) -> None:
    with pytest.raises(NotFound, match="NOPE"):
        missing_pledges(session=session, unit_id="NOPE")


def test_counts_per_branch_and_member_for_scoring(session: Session, c: County) -> None:
    all_six(session, "M200")
    pledge(session, "M201", PledgeKind.household)
    pledge(session, "M201", PledgeKind.hygiene)
    metrics = pledge_metrics(session=session, unit_id="S")
    b2 = metrics["B2"]
    assert b2["pledges.members"] == 4 and b2["pledges.active"] == 8 and b2["pledges.complete"] == 1
    assert b2["pledges.missing"] == 4 * 6 - 8 and b2["pledges.household"] == 2 and b2["pledges.youth"] == 1
    assert b2["pledges.rate"] == 0.25
    assert metrics["M201"]["pledges.active"] == 2 and metrics["M201"]["pledges.complete"] == 0
    assert metrics["B1"]["pledges.members"] == 9 and metrics["B1"]["pledges.active"] == 0


def test_labels_follow_the_seed_text() -> None:
    assert list(PLEDGE_LABEL.values()) == ["帮扶一个困难家庭", "督查一块区域卫生", "维持一片区域治安",
                                           "帮教一个失足青年", "培养一个发展对象", "联系一个辖区单位"]
