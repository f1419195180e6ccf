"""Generated hostile JSON for the API's report endpoints (close tasks, correct a completion):
whatever comes in, the answer is a 4xx with a JSON error body, never a 500, and the
database is exactly as it was."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from tests.services.test_input_properties import database_state
from tests.web.support import TODAY, World
from tests.web.test_api import _token

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXT = st.text(max_size=12)                                 # NUL and lone surrogates included
LONG = st.text(alphabet="党建a\x00 ", min_size=200, max_size=3000)
HUGE = st.sampled_from([0, -1, -(2**63) - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 10**400])
IDS = st.integers(min_value=-(2**70), max_value=2**70) | HUGE
JUNK = st.recursive(st.none() | st.booleans() | st.floats() | IDS | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=8)
# Never a day a real task could be closed on: before the 2026 cycle or after the frozen today.
DAYS = (st.dates(max_value=date(2025, 12, 31)) | st.dates(min_value=date(2026, 11, 25))).map(date.isoformat)
HELD_ON = DAYS | st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "nan", "NaN", "inf",
                                  "", "2026-11-24T25:00", "+2026-11-24", "20261124"]) | JUNK
ATTENDANCE = st.lists(st.fixed_dictionaries(
    {"member_id": TEXT | LONG | IDS}, optional={"presence": st.sampled_from(["present", "leave", "absent", "x"]) | JUNK,
                                                "reason": TEXT | LONG | JUNK}), max_size=4) | JUNK
FIELDS = {"held_on": HELD_ON, "topic": TEXT | LONG | JUNK, "minutes": TEXT | LONG | JUNK, "attendance": ATTENDANCE}


def payload(task_ids: st.SearchStrategy[object], members: list[str]) -> st.SearchStrategy[object]:
    """Mostly well-formed reports (they reach the services), else any shape at all."""
    shaped = st.fixed_dictionaries({
        "task_ids": task_ids, "held_on": DAYS | st.sampled_from(["0001-01-01", "9999-12-31"]),
        "topic": TEXT | LONG, "minutes": TEXT | LONG,
        "attendance": st.lists(st.fixed_dictionaries(
            {"member_id": st.sampled_from(members) | TEXT | LONG},
            optional={"presence": st.sampled_from(["present", "leave", "absent"]), "reason": TEXT | LONG}),
            max_size=6)})
    loose = st.fixed_dictionaries({}, optional={"task_ids": task_ids | JUNK, **FIELDS, "extra": JUNK})
    return st.one_of(shaped, shaped, loose, JUNK)


def signed_in(client, session: Session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """sec1's bearer header, used once: the token's first use is recorded, later ones are not."""
    headers = _token(session, "sec1")
    assert client.get("/api/me", headers=headers).status_code == 200
    return headers


def answered_without_writing(client, session: Session, method_path: str, headers, body) -> None:  # type: ignore[no-untyped-def]
    before = database_state(session)
    response = client.post(method_path, json=body, headers=headers)
    session.rollback()                         # what closing the request's session does
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert isinstance(response.json().get("error"), str)
    assert database_state(session) == before


def test_generated_close_payloads_get_a_4xx_and_write_nothing(client, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    sec = signed_in(client, session)
    own = [world.task(session, world.c.big, d, TODAY).id for d in ("party_congress", "committee_meeting")]
    theirs = world.task(session, world.c.small, "party_congress", TODAY).id
    task_ids = st.lists(st.sampled_from([*own, theirs]) | IDS, min_size=1, max_size=4)

    @SETTINGS
    @given(body=payload(task_ids, [m.id for m in world.c.big_members]))
    def check(body: object) -> None:
        answered_without_writing(client, session, "/api/tasks/close", sec, body)

    check()


def test_generated_corrections_get_a_4xx_and_write_nothing(client, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    sec = signed_in(client, session)
    congress = world.task(session, world.c.big, "party_congress", TODAY)
    made = close_tasks(session=session, task_ids=[congress.id], acting_branch="B1", report=Report(
        held_on=TODAY, topic="党员大会", minutes="记录", attendance=[AttendanceEntry(m.id) for m in world.c.big_members]))

    @SETTINGS
    @given(completion_id=st.one_of(st.just(made.id), st.just(made.id), IDS),
           body=payload(st.lists(IDS, max_size=2), [m.id for m in world.c.big_members]))
    def check(completion_id: int, body: object) -> None:
        answered_without_writing(client, session, f"/api/completions/{completion_id}/correct", sec, body)

    check()
