"""Leaders: the scorecard of their subtree with charts data, drill-down to the branch, its
task and evidence, 基本情况 with the lists behind every figure, xlsx export; nothing writes,
and another subtree is refused."""
from __future__ import annotations

import io
import json
import re

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.domain.completion import AttendanceEntry
from dangjian.services.closing import Report, close_tasks
from dangjian.services.scoring import score_cycle
from models import AuditEvent
from tests.web.support import TODAY, World, png_bytes


def _score(session: Session, world: World) -> int:
    return score_cycle(session=session, cycle_id=world.cycle.id, as_of=TODAY).version


def _audit(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_scorecard_page_ranks_and_drills_down(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    _score(session, world)
    leader = login("leader")
    before = _audit(session)
    page = leader.get("/scores")
    assert page.status_code == 200
    text = page.text
    assert "测试县 · 评分" in text and 'id="ranking"' in text and "三会一课" in text
    assert "东关社区党支部" in text and "北山社区党支部" in text
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', text, re.DOTALL).group(1))
    assert sum(g["value"] for g in data["grades"]) == 3
    assert {c["name"] for c in data["children"]} == {"测试镇社区党总支", "北山街道"}
    assert data["items"] and all(i["max"] for i in data["items"])
    assert 'src="/static/vendor/echarts.min.js"' in text
    street = leader.get("/scores/unit/S?cycle=2026")
    assert street.status_code == 200 and "东关社区" in street.text and "北山社区党支部" not in street.text
    branch = leader.get("/scores/unit/B1?cycle=2026")
    assert branch.status_code == 200 and 'id="lines"' in branch.text and "党员大会按期召开" in branch.text
    task_ids = re.findall(r'href="/tasks/(\d+)"', branch.text)
    assert task_ids and leader.get(f"/tasks/{task_ids[0]}").status_code == 200
    assert _audit(session) == before                          # reading writes nothing


def test_trend_against_the_previous_run_and_score_change(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _score(session, world)
    for task in [world.task(session, world.c.big, "theme_party_day", TODAY)]:
        close_tasks(session=session, task_ids=[task.id], acting_branch="B1", report=Report(
            held_on=TODAY, topic="主题党日", minutes="记录",
            attendance=[AttendanceEntry(m.id) for m in world.c.big_members]))
    _score(session, world)
    page = login("leader").get("/scores/unit/B1?cycle=2026")
    assert "较第 1 版评分" in page.text


def test_other_subtree_is_forbidden(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    _score(session, world)
    leader2 = login("leader2")
    assert leader2.get("/scores").status_code == 200
    assert "东关社区党支部" not in leader2.get("/scores").text
    for url in ("/scores/unit/B1?cycle=2026", "/scores/unit/S", "/scores/export.xlsx?cycle=2026&unit=S",
                "/overview?unit=S", "/overview/list?unit=S&figure=women"):
        assert leader2.get(url).status_code == 403, url
    sec = login("sec1")
    assert sec.get("/scores").status_code == 200
    assert sec.get("/scores/unit/B2?cycle=2026").status_code == 403
    assert sec.get("/overview").status_code == 403


def test_evidence_is_visible_to_the_leader_above_only(login, session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    photo = tmp_path / "现场.png"
    photo.write_bytes(png_bytes())
    task = world.task(session, world.c.big, "party_lecture", TODAY)
    close_tasks(session=session, task_ids=[task.id], acting_branch="B1", report=Report(
        held_on=TODAY, topic="党课", minutes="记录", evidence=[photo],
        attendance=[AttendanceEntry(m.id) for m in world.c.big_members]))
    page = login("leader").get(f"/tasks/{task.id}")
    ids = re.findall(r'href="/evidence/(\d+)"', page.text)
    assert ids and login("leader").get(f"/evidence/{ids[0]}").content == png_bytes()
    assert login("leader2").get(f"/evidence/{ids[0]}").status_code == 403
    assert login("sec2").get(f"/evidence/{ids[0]}").status_code == 403


def test_scorecard_export_is_what_is_on_screen(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    _score(session, world)
    response = login("leader").get("/scores/export.xlsx?cycle=2026&unit=S")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    names = [row[3] for row in wb["评分排名"].iter_rows(min_row=4, values_only=True)]
    assert set(names) == {"东关社区党支部", "西湖社区党支部"}


def test_overview_figures_link_to_their_lists(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    leader = login("leader")
    page = leader.get(f"/overview?as_of={TODAY.isoformat()}")
    assert page.status_code == 200
    assert "测试县 · 基本情况" in page.text
    members = re.search(r'data-figure="members">(\d+)<', page.text)
    assert members and int(members.group(1)) == 9 + 4 + 3
    women = int(re.search(r'data-figure="women">(\d+)<', page.text).group(1))
    listing = leader.get(f"/overview/list?figure=women&as_of={TODAY.isoformat()}")
    assert listing.status_code == 200 and listing.text.count("<td>女</td>") == women
    units = leader.get("/overview/list?figure=branches")
    assert "北山社区党支部" in units.text and "东关社区党支部" in units.text
    xlsx = leader.get(f"/overview/export.xlsx?as_of={TODAY.isoformat()}")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=3, values_only=True))
    assert ("党员", 16) == rows[[r[0] for r in rows].index("党员")][:2]
    bad = leader.get("/overview?as_of=2026-13-45")
    assert bad.status_code == 422 and "2026-13-45 不是有效日期" in bad.text


def test_no_scores_yet_is_a_plain_message(login, world: World) -> None:  # type: ignore[no-untyped-def]
    page = login("leader").get("/scores")
    assert page.status_code == 200 and "尚无评分结果" in page.text
