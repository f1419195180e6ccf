"""基本情况 on the demo county reproduces the opening of seed 002 (民勤县, 2005), set-based."""
from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from dangjian.demo import REFERENCE_DATE, ROSTER_FILES
from dangjian.errors import NotFound, ValidationFailed
from dangjian.services.org_import import import_org
from dangjian.services.overview import members_behind, overview, units_behind


@pytest.fixture
def county(session: Session) -> Session:
    import_org(session=session, paths=list(ROSTER_FILES), actor="测试")
    return session


def test_figures_match_the_report(county: Session) -> None:
    o = overview(session=county, unit_id="620621", as_of=REFERENCE_DATE)
    fig = {f.key: f for f in o.units + o.members + o.categories}
    assert fig["streets"].total == 1                                   # 街道办事处1个，设党总支
    assert (fig["communities"].total, fig["communities"].by_area["urban"],
            fig["communities"].by_area["town"]) == (12, 7, 5)           # 社区12个，城区7个，建制镇5个
    assert fig["branches"].total == 12                                  # 12个社区全部建立了党支部
    assert fig["members"].total == 281 and fig["women"].total == 92     # 组织关系在社区的党员281名，女党员92名
    urban = {k: f.by_area["urban"] for k, f in fig.items()}
    assert urban["members"] == 246 and urban["women"] == 84             # 城区246名，女党员84名
    assert (urban["cat_in_service"], urban["cat_retired"], urban["cat_resident"], urban["cat_laid_off"]) == (46, 61, 107, 32)
    assert fig["under35"].total == 68 and fig["over60"].total == 125     # 35岁以下68名，60岁以上125名


def test_every_figure_opens_to_the_list_behind_it(county: Session) -> None:
    o = overview(session=county, unit_id="620621", as_of=REFERENCE_DATE)
    for f in o.members + o.categories:
        for area, n in f.by_area.items():
            people = members_behind(session=county, unit_id="620621", figure=f.key, as_of=REFERENCE_DATE, area=area)
            assert len(people) == n, (f.key, area)
    for f in o.units:
        assert len(units_behind(session=county, unit_id="620621", figure=f.key)) == f.total
    communities = units_behind(session=county, unit_id="620621", figure="communities")
    assert sum(c.members for c in communities) == 281


def test_a_subtree_and_bad_input(county: Session) -> None:
    one = units_behind(session=county, unit_id="620621", figure="communities")[0]
    o = overview(session=county, unit_id=one.id, as_of=date(2026, 1, 1))
    assert o.figure("members").total == one.members and o.figure("communities").total == 0
    with pytest.raises(ValidationFailed):
        members_behind(session=county, unit_id="620621", figure="nope", as_of=REFERENCE_DATE)
    with pytest.raises(NotFound):
        overview(session=county, unit_id="NOPE", as_of=REFERENCE_DATE)
