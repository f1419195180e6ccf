"""The web's rule check refuses hostile drafts the way `rules check` does: at once, with the
Chinese limit message, nothing stored."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from models import RuleSetVersion
from tests.rules.test_hostile_files import billion_laughs
from tests.web.support import World, csrf_of


def _stored(session: Session) -> int:
    return session.execute(select(func.count()).select_from(RuleSetVersion)).scalar_one()


def test_an_alias_bomb_draft_is_refused_with_the_node_limit(login, session: Session, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/rules")
    before = _stored(session)
    response = admin.post("/admin/rules/check", data={"csrf_token": csrf_of(page.text), "cycle": ""},
                          files={"file": ("bomb.yaml", billion_laughs().encode(), "text/yaml")})
    assert response.status_code == 422
    assert "内容超过 100000 个节点上限" in response.text
    assert _stored(session) == before


def test_a_draft_over_1_mb_is_refused_naming_the_limit(login, world: World) -> None:  # type: ignore[no-untyped-def]
    admin = login("admin")
    page = admin.get("/admin/rules")
    big = b"# " + b"x" * (3 * 1024 * 1024)
    response = admin.post("/admin/rules/check", data={"csrf_token": csrf_of(page.text), "cycle": ""},
                          files={"file": ("big.yaml", big, "text/yaml")})
    assert response.status_code == 422
    assert "规则文件超过 1 MB 上限（实际 3.0 MB）" in response.text
