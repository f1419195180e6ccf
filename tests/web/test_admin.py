"""District administrators: roster import with row errors, rule sets checked with line numbers,
examples and what-if before registering, cycles and accounts; errors keep the input."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from models import Cycle, Member, RuleSetVersion, ScoreRun, Unit, User
from tests.web.support import TODAY, World, csrf_of, review_rules_text

UNITS_CSV = "组织编码,组织名称,组织类型,上级编码,城乡,设支委会,排序\nC9,新城社区,社区,S,城区,,\nB9,新城社区党支部,党支部,C9,城区,,\n"
MEMBERS_CSV = ("党员编号,姓名,性别,出生日期,身份证号,所在支部,党小组,人员类别,党员状态,入党日期,转正日期\n"
               "M901,钱一,女,1980-05-01,620621198005010029,B9,,居民,正式党员,2005-07-01,2006-07-01\n")


def _count(session: Session, model) -> int:  # type: ignore[no-untyped-def]
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_org_tree_and_import(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/org")
    assert page.status_code == 200 and "北山街道" in page.text
    roster = admin.get("/admin/org?unit=B1")
    assert "党员名册（9）" in roster.text
    ok = admin.post("/admin/org/import", data={"csrf_token": csrf_of(page.text)}, files=[
        ("files", ("units.csv", UNITS_CSV.encode("utf-8-sig"), "text/csv")),
        ("files", ("members.csv", MEMBERS_CSV.encode(), "text/csv"))], follow_redirects=False)
    assert ok.status_code == 303, ok.text
    assert "导入完成" in admin.get("/admin/org").text
    assert session.get(Member, "M901") is not None


def test_import_row_errors_are_listed_and_nothing_is_written(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/org")
    bad = MEMBERS_CSV.replace("1980-05-01", "1980-13-01").replace(",B9,", ",NOPE,")
    response = admin.post("/admin/org/import", data={"csrf_token": csrf_of(page.text)}, files=[
        ("files", ("units.csv", UNITS_CSV.encode(), "text/csv")), ("files", ("名册.csv", bad.encode(), "text/csv"))])
    assert response.status_code in (403, 422)
    assert "名册.csv 第2行" in response.text
    assert session.get(Unit, "C9") is None and session.get(Member, "M901") is None


def test_import_outside_the_district_is_refused(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    other = Unit(id="X", name="外县", kind="district", path="/X/", depth=0)
    session.add(other)
    session.commit()
    admin = login("admin")
    page = admin.get("/admin/org")
    units = "组织编码,组织名称,组织类型,上级编码\nXS,外县街道,街道,X\n"
    response = admin.post("/admin/org/import", data={"csrf_token": csrf_of(page.text)},
                          files=[("files", ("units.csv", units.encode(), "text/csv"))])
    assert response.status_code == 403 and "不在 测试县 的管辖范围内" in response.text
    assert session.get(Unit, "XS") is None


def test_import_refuses_files_that_are_not_rosters(login, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/org")
    response = admin.post("/admin/org/import", data={"csrf_token": csrf_of(page.text)},
                          files=[("files", ("roster.xlsx", b"\x7fELF\x02\x01\x01\x00binary", "application/octet-stream"))])
    assert response.status_code == 422 and "不是允许的文件类型" in response.text


def test_rule_file_errors_are_shown_at_their_lines(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/rules")
    text = review_rules_text().replace("frequency: quarterly", "frequency: sometimes", 1)
    line = text.split("\n").index(next(x for x in text.split("\n") if "frequency: sometimes" in x)) + 1
    before = _count(session, RuleSetVersion)
    response = admin.post("/admin/rules/check", data={"csrf_token": csrf_of(page.text), "cycle": ""},
                          files={"file": ("draft.yaml", text.encode(), "text/yaml")})
    assert response.status_code == 422
    assert f'class="bad-line" id="L{line}"' in response.text and f"第{line}行" in response.text
    assert _count(session, RuleSetVersion) == before


def test_rule_file_examples_what_if_and_register(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/rules")
    draft = review_rules_text().replace('version: "2026.1-web"', 'version: "2026.2"', 1).replace(
        "deduct: {missed: 5, late: 2}", "deduct: {missed: 6, late: 2}", 1)
    before = _count(session, RuleSetVersion), _count(session, ScoreRun)
    response = admin.post("/admin/rules/check", data={"csrf_token": csrf_of(page.text), "cycle": "2026",
                                                      "as_of": TODAY.isoformat()},
                          files={"file": ("draft.yaml", draft.encode(), "text/yaml")})
    assert response.status_code == 200, response.text
    assert "校验通过" in response.text and "通过：全部按期完成得满分" in response.text
    assert 'id="what-if"' in response.text and "未写入任何评分结果" in response.text
    assert (_count(session, RuleSetVersion), _count(session, ScoreRun)) == before
    register = admin.post("/admin/rules/register", data={"csrf_token": csrf_of(response.text),
                                                         "file_name": "draft.yaml", "source": draft},
                          follow_redirects=False)
    assert register.status_code == 303
    assert session.execute(select(RuleSetVersion).where(RuleSetVersion.version == "2026.2")).scalar_one()


def test_failing_examples_hide_the_register_button(login, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/rules")
    draft = review_rules_text().replace("max: 15\n          method: duty_deduction\n          duty: party_congress",
                                        "max: 14\n          method: duty_deduction\n          duty: party_congress", 1)
    response = admin.post("/admin/rules/check", data={"csrf_token": csrf_of(page.text), "cycle": ""},
                          files={"file": ("draft.yaml", draft.encode(), "text/yaml")})
    assert "失败" in response.text and "rules-register" not in response.text


def test_cycle_create_plan_score_publish(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/cycles")
    token = csrf_of(page.text)
    bad = admin.post("/admin/cycles", data={"csrf_token": token, "code": "2027", "name": "2027年度考核", "root": "D",
                                            "rule_set": str(world.cycle.rule_set_id), "start": "2027-12-31",
                                            "end": "2027-01-01"})
    assert bad.status_code == 422 and "早于开始日期" in bad.text and 'value="2027年度考核"' in bad.text
    assert session.execute(select(Cycle).where(Cycle.code == "2027")).first() is None
    made = admin.post("/admin/cycles", data={"csrf_token": token, "code": "2027", "name": "2027年度考核", "root": "D",
                                             "rule_set": str(world.cycle.rule_set_id), "start": "2027-01-01",
                                             "end": "2027-12-31"}, follow_redirects=False)
    assert made.status_code == 303
    unplanned = admin.post("/admin/cycles/2027/plan", data={"csrf_token": token})
    assert unplanned.status_code == 422 and "2027" in unplanned.text          # no holiday calendar for 2027 yet
    assert session.execute(select(Cycle.state).where(Cycle.code == "2027")).scalar_one() == "draft"
    again = admin.post("/admin/cycles/2026/plan", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 303 and "新增任务 0 条" in admin.get("/admin/cycles").text
    scored = admin.post("/admin/cycles/2026/score", data={"csrf_token": token}, follow_redirects=False)
    assert scored.status_code == 303
    published = admin.post("/admin/cycles/2026/publish", data={"csrf_token": token, "version": "1"},
                           follow_redirects=False)
    assert published.status_code == 303
    assert session.execute(select(ScoreRun.published)).scalar_one() is True
    assert "已发布" in admin.get("/admin/cycles").text
    early = admin.post("/admin/cycles/2026/close", data={"csrf_token": token})
    assert early.status_code == 409 and "2026-12-31 才结束" in early.text     # the app's today is 2026-11-24
    assert session.execute(select(Cycle.state).where(Cycle.code == "2026")).scalar_one() == "open"


def test_accounts(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/users")
    assert "东关支部书记王" in page.text
    token = csrf_of(page.text)
    bad = admin.post("/admin/users", data={"csrf_token": token, "username": "newsec", "display_name": "新书记",
                                           "password": "short", "role": "secretary", "unit": "B2"})
    assert bad.status_code == 422 and "密码至少" in bad.text and 'value="新书记"' in bad.text
    assert session.execute(select(User).where(User.username == "newsec")).first() is None
    ok = admin.post("/admin/users", data={"csrf_token": token, "username": "newsec", "display_name": "新书记",
                                          "password": "abcd-1234-xy", "role": "secretary", "unit": "B2"},
                    follow_redirects=False)
    assert ok.status_code == 303
    user = session.execute(select(User).where(User.username == "newsec")).scalar_one()
    off = admin.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": token}, follow_redirects=False)
    assert off.status_code == 303
    session.refresh(user)
    assert user.active is False


def test_non_admins_cannot_configure(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    for who in ("reviewer", "leader", "sec1"):
        c = login(who)
        assert c.get("/admin/cycles").status_code == 403
        token = csrf_of(c.get("/account").text)
        assert c.post("/admin/cycles/2026/score", data={"csrf_token": token}).status_code == 403
        assert c.post("/admin/users", data={"csrf_token": token, "username": "evil", "password": "abcd-1234-xy",
                                            "role": "admin", "unit": "D"}).status_code == 403
    assert _count(session, ScoreRun) == 0
    assert session.execute(select(User).where(User.username == "evil")).first() is None


def test_scoring_from_the_web_refuses_a_future_date_and_an_unplanned_cycle(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    token = csrf_of(admin.get("/admin/cycles").text)
    future = admin.post("/admin/cycles/2026/score", data={"csrf_token": token, "as_of": "2026-11-25"})
    assert future.status_code == 422 and "晚于今天（2026-11-24，北京时间）" in future.text
    admin.post("/admin/cycles", data={"csrf_token": token, "code": "2027", "name": "2027年度考核", "root": "D",
                                      "rule_set": str(world.cycle.rule_set_id), "start": "2027-01-01",
                                      "end": "2027-12-31"}, follow_redirects=False)
    unplanned = admin.post("/admin/cycles/2027/score", data={"csrf_token": token})
    assert unplanned.status_code == 409 and "尚未生成任务，不能评分" in unplanned.text
    assert _count(session, ScoreRun) == 0
