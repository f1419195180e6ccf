from datetime import date

import pytest
from sqlalchemy import func, select

from dangjian.domain.completion import AttendanceEntry
from dangjian.errors import Conflict, Forbidden, NotFound, ValidationFailed
from dangjian.services.closing import Report, close_tasks, correct_completion
from models import AuditEvent, Completion, Evidence, Presence, Task, TaskState
from tests.support.builders import at, county, planned_cycle


def task(session, cycle, duty, subject, start):
    return session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.duty_code == duty, Task.subject_id == subject,
        Task.period_start == start)).scalar_one()


def present(members):
    return [AttendanceEntry(m.id, Presence.present) for m in members]


def report(held_on, members, **kw):
    return Report(held_on=held_on, topic=kw.pop("topic", "学习党章"), minutes=kw.pop("minutes", "记录"),
                  attendance=present(members), **kw)


def counts(session):
    return tuple(session.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in (Completion, AuditEvent, Evidence))


@pytest.fixture
def world(session):
    c = county(session)
    return c, planned_cycle(session, c)


def test_closing_on_time_marks_the_task_done_and_audits_it(session, world, files_dir):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    completion = close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                             acting_branch="B1", now=at(date(2026, 3, 11)))
    session.refresh(t)
    assert (t.state, t.done_on) == (TaskState.done, date(2026, 3, 10))
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.entity_id.in_(
        [str(t.id), str(completion.id)]))).scalars().all()
    assert {"task.close", "completion.report"} <= set(actions)


def test_one_event_closes_the_monthly_meeting_and_the_quarterly_congress(session, world, files_dir):
    c, cycle = world
    monthly = task(session, cycle, "monthly_member_meeting", "B1", date(2026, 3, 1))
    quarterly = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    close_tasks(session=session, task_ids=[monthly.id, quarterly.id],
                report=report(date(2026, 3, 20), c.big_members), now=at(date(2026, 3, 21)))
    for t in (monthly, quarterly):
        session.refresh(t)
        assert t.state == TaskState.done


def test_congress_without_a_majority_of_voting_members_is_rejected_and_nothing_is_written(session, world):
    c, cycle = world
    t = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    before = counts(session)
    # 8 voting members: 4 present is not more than half. The probationary member does not count.
    attendees = c.big_members[:4] + [c.big_members[-1]]
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 5), attendees),
                    now=at(date(2026, 3, 6)))
    assert "未达到法定人数" in str(error.value) and "应到会有表决权的正式党员 8 名" in str(error.value)
    assert "实到 4 名" in str(error.value)
    session.refresh(t)
    assert t.state == TaskState.open
    assert counts(session) == before


def test_congress_with_five_of_eight_voting_members_counts(session, world):
    c, cycle = world
    t = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 5), c.big_members[:5]),
                now=at(date(2026, 3, 6)))
    session.refresh(t)
    assert t.state == TaskState.done


def test_members_excused_from_quorum_leave_the_expected_count(session, world):
    c, cycle = world
    for m in c.big_members[5:8]:
        m.excused_from_quorum = True
        session.add(m)
    session.commit()
    t = task(session, cycle, "party_congress", "B1", date(2026, 1, 1))
    # 5 expected voters remain; 3 present is a majority.
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 5), c.big_members[:3]),
                now=at(date(2026, 3, 6)))


@pytest.mark.parametrize("held_on, fragment", [
    (date(2026, 4, 2), "不在任务"),
    (date(2026, 12, 20), "晚于今天"),
])
def test_held_date_outside_the_period_or_in_the_future_is_rejected(session, world, held_on, fragment):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1) if fragment == "不在任务" else date(2026, 12, 1))
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id], report=report(held_on, c.big_members),
                    now=at(date(2026, 11, 24)))
    assert fragment in str(error.value)


def test_attendee_from_another_branch_is_rejected(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id],
                    report=report(date(2026, 3, 10), c.big_members + c.small_members[:1]),
                    now=at(date(2026, 3, 11)))
    assert f"{c.small_members[0].id} 不是本支部党员" in str(error.value)


def test_secretary_cannot_close_another_branchs_task(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    with pytest.raises(Forbidden) as error:
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                    acting_branch="B2", now=at(date(2026, 3, 11)))
    assert "无权办理" in str(error.value)
    session.refresh(t)
    assert t.state == TaskState.open


def test_closing_a_closed_task_again_is_a_conflict(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                now=at(date(2026, 3, 11)))
    before = counts(session)
    with pytest.raises(Conflict) as error:
        close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 12), c.big_members),
                    now=at(date(2026, 3, 13)))
    assert "不能重复报送" in str(error.value)
    assert counts(session) == before


def test_unknown_task_is_not_found(session, world):
    c, _ = world
    with pytest.raises(NotFound) as error:
        close_tasks(session=session, task_ids=[999_999], report=report(date(2026, 3, 10), c.big_members))
    assert "#999999 不存在" in str(error.value)


def test_recording_long_after_the_due_date_counts_as_late(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                now=at(date(2026, 5, 1)))
    session.refresh(t)
    assert t.state == TaskState.late


def test_absence_needs_a_reason(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    attendance = present(c.big_members[:5]) + [AttendanceEntry(c.big_members[6].id, Presence.leave)]
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id],
                    report=Report(date(2026, 3, 10), "主题", "记录", attendance), now=at(date(2026, 3, 11)))
    assert "请假须填写原因" in str(error.value)


def test_evidence_is_stored_by_content_hash(session, world, files_dir, tmp_path):
    c, cycle = world
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(b"\xff\xd8\xfffake-jpeg-bytes")
    t = task(session, cycle, "organization_life_meeting", "B1", date(2026, 1, 1))
    completion = close_tasks(session=session, task_ids=[t.id],
                             report=report(date(2026, 11, 20), c.big_members, evidence=[photo]),
                             now=at(date(2026, 11, 21)))
    ev = session.execute(select(Evidence).where(Evidence.completion_id == completion.id)).scalar_one()
    assert ev.original_name == "现场照片.jpg"
    assert (files_dir / ev.stored_name).read_bytes() == photo.read_bytes()
    assert ev.stored_name.startswith(ev.sha256)


def test_evidence_named_by_path_gets_the_web_uploads_checks_and_every_problem_at_once(
        session, world, files_dir, tmp_path):
    c, cycle = world
    empty = tmp_path / "空.jpg"
    empty.write_bytes(b"")
    huge = tmp_path / "录像.pdf"
    with huge.open("wb") as fh:            # 120 MB, sparse: the size is refused before any read
        fh.write(b"%PDF-1.4")
        fh.truncate(120 * 1024 * 1024)
    program = tmp_path / "照片.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 60)
    renamed = tmp_path / "伪装.jpg"
    renamed.write_bytes(b"MZ\x90\x00 not a photo")
    folder = tmp_path / "材料"
    folder.mkdir()
    t = task(session, cycle, "organization_life_meeting", "B1", date(2026, 1, 1))
    before = counts(session)
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id], now=at(date(2026, 11, 21)),
                    report=report(date(2026, 11, 20), c.big_members,
                                  evidence=[empty, huge, program, renamed, folder]))
    details = error.value.details
    assert "佐证材料“空.jpg”是空文件" in details
    assert "佐证材料“录像.pdf”大小 120.0 MB，超过上限 10 MB" in details
    assert any("“照片.exe”不是允许的文件类型" in d for d in details)
    assert any("“伪装.jpg”不是允许的文件类型" in d for d in details)
    assert f"佐证材料“{folder}”是文件夹，不是文件" in details
    assert counts(session) == before and not files_dir.exists()


def test_a_correction_is_a_new_version_and_keeps_the_old_one(session, world):
    c, cycle = world
    t = task(session, cycle, "theme_party_day", "B1", date(2026, 3, 1))
    first = close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members),
                        now=at(date(2026, 3, 11)))
    second = correct_completion(session=session, completion_id=first.id,
                                report=report(date(2026, 3, 9), c.big_members, topic="更正后的主题"),
                                now=at(date(2026, 3, 12)))
    assert (second.chain_id, second.version) == (first.id, 2)
    session.refresh(t)
    assert t.done_on == date(2026, 3, 9)
    assert session.get(Completion, first.id).topic == "学习党章"
    with pytest.raises(Conflict):
        correct_completion(session=session, completion_id=first.id,
                           report=report(date(2026, 3, 9), c.big_members), now=at(date(2026, 3, 12)))


def test_a_party_group_meeting_records_only_members_of_that_group(session, world):
    c, cycle = world
    t = task(session, cycle, "group_meeting", "G1", date(2026, 3, 1))
    outsider = c.big_members[5]          # in the branch, not in 第一党小组
    with pytest.raises(ValidationFailed) as error:
        close_tasks(session=session, task_ids=[t.id],
                    report=report(date(2026, 3, 10), c.big_members[:4] + [outsider]),
                    now=at(date(2026, 3, 11)))
    assert f"{outsider.id} 不是第一党小组的成员" in str(error.value)
    close_tasks(session=session, task_ids=[t.id], report=report(date(2026, 3, 10), c.big_members[:4]),
                now=at(date(2026, 3, 11)))
