"""Signing in: hashed passwords, signed session cookies, CSRF on every form, throttling
kept in the database, and sessions that die with a password change."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.clock import now_utc
from dangjian.errors import ValidationFailed
from dangjian.services import users
from dangjian.web.security import COOKIE
from models import LoginAttempt, User
from tests.web.conftest import sign_in
from tests.web.support import PASSWORD, csrf_of


def test_password_is_stored_as_scrypt_hash(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    user = session.execute(select(User).where(User.username == "sec1")).scalar_one()
    assert PASSWORD not in user.password_hash
    scheme, n, r, p, _salt, _key = user.password_hash.split("$")
    assert (scheme, r, p) == ("scrypt", "8", "1") and int(n) >= 2**12
    assert users.verify_password(PASSWORD, user.password_hash)
    assert not users.verify_password(PASSWORD + "x", user.password_hash)


def test_default_cost_is_owasp_scrypt() -> None:
    assert (users.SCRYPT_N, users.SCRYPT_R, users.SCRYPT_P) == (2**17, 8, 1)   # OWASP's scrypt minimum
    hashed = users.hash_password("abcdefgh")
    assert hashed.startswith("scrypt$131072$8$1$") and users.verify_password("abcdefgh", hashed)
    assert users._needs_rehash(users.hash_password("abcdefgh", n=2**12))


def test_login_pages_and_role_home(client: TestClient) -> None:
    page = client.get("/inbox", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/inbox")
    sign_in(client, "sec1")
    assert client.get("/", follow_redirects=False).headers["location"] == "/inbox"
    inbox = client.get("/inbox")
    assert inbox.status_code == 200 and "东关社区党支部" in inbox.text


def test_wrong_password_is_refused_and_recorded(client: TestClient, session: Session) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": "sec1", "password": "nope-nope",
                                           "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text
    assert 'value="sec1"' in response.text          # the input is kept
    assert session.execute(select(func.count()).select_from(LoginAttempt)
                           .where(LoginAttempt.succeeded.is_(False))).scalar() == 1


def test_login_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "sec1", "password": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.text
    assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar() == 0


def test_forms_need_the_session_csrf_token(client: TestClient, session: Session) -> None:
    sign_in(client, "admin")
    response = client.post("/admin/users", data={"username": "newbie", "password": "abcdefgh12",
                                                 "role": "leader", "unit": "D", "csrf_token": "forged"})
    assert response.status_code == 403
    assert session.execute(select(User).where(User.username == "newbie")).first() is None


def test_tampered_cookie_is_no_session(client: TestClient) -> None:
    sign_in(client, "sec1")
    value = client.cookies.get(COOKIE)
    assert value
    body, mac = value.split(".")
    client.cookies.set(COOKIE, body + "." + ("A" if mac[0] != "A" else "B") + mac[1:])
    assert client.get("/inbox", follow_redirects=False).status_code == 303


def test_account_is_locked_after_failures_and_lock_survives_a_new_app(client: TestClient, app, session: Session) -> None:  # type: ignore[no-untyped-def]
    for _ in range(users.LOCK_ACCOUNT_AFTER):
        page = client.get("/login")
        client.post("/login", data={"username": "sec1", "password": "wrong-wrong", "csrf_token": csrf_of(page.text)})
    page = client.get("/login")
    locked = client.post("/login", data={"username": "sec1", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    # A fresh app (a restart) reads the same attempts from the database.
    from dangjian.web.app import create_app
    from dangjian.web.config import WebConfig
    from dangjian.web.deps import get_db

    again = create_app(engine=session.get_bind(), config=WebConfig(secret_key="other-" + "y" * 40, secure_cookies=False),
                       clock=app.state.clock)  # the restart happens at the same moment
    again.dependency_overrides[get_db] = app.dependency_overrides[get_db]
    with TestClient(again) as fresh:
        page = fresh.get("/login")
        still = fresh.post("/login", data={"username": "sec1", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        assert still.status_code == 429


def test_lock_expires_and_success_resets_the_account_count(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    start = now_utc() - timedelta(hours=1)
    for i in range(users.LOCK_ACCOUNT_AFTER):
        with pytest.raises(users.AuthFailed):
            users.authenticate(session=session, username="sec2", password="bad-bad-bad", ip="10.0.0.1",
                               now=start + timedelta(seconds=i))
    with pytest.raises(users.TooManyAttempts):
        users.authenticate(session=session, username="sec2", password=PASSWORD, ip="10.0.0.1",
                           now=start + timedelta(minutes=1))
    later = start + users.WINDOW + timedelta(minutes=1)
    assert users.authenticate(session=session, username="sec2", password=PASSWORD, ip="10.0.0.2", now=later)


def test_address_is_locked_across_accounts(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    now = now_utc()
    for i in range(users.LOCK_IP_AFTER):
        with pytest.raises(users.AuthFailed):
            users.authenticate(session=session, username=f"ghost{i}", password="x", ip="10.9.9.9", now=now)
    with pytest.raises(users.TooManyAttempts):
        users.authenticate(session=session, username="sec3", password=PASSWORD, ip="10.9.9.9", now=now)
    assert users.authenticate(session=session, username="sec3", password=PASSWORD, ip="10.9.9.10", now=now)


def test_password_change_ends_other_sessions(login, session: Session) -> None:  # type: ignore[no-untyped-def]
    phone, desk = login("sec1"), login("sec1")
    page = desk.get("/account")
    response = desk.post("/account/password", data={"current": PASSWORD, "new": "新的密码-abc-123",
                                                     "again": "新的密码-abc-123", "csrf_token": csrf_of(page.text)},
                         follow_redirects=False)
    assert response.status_code == 303
    assert desk.get("/inbox").status_code == 200                   # this browser got a new cookie
    assert phone.get("/inbox", follow_redirects=False).status_code == 303   # the other is signed out


def test_logout(client: TestClient) -> None:
    sign_in(client, "leader")
    page = client.get("/account")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert client.get("/scores", follow_redirects=False).status_code == 303


def test_add_user_rules(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as err:
        users.add_user(session=session, username="x y", password="short", role="king", unit_id="NOPE", actor="t")
    text = str(err.value)
    assert "用户名" in text and "密码至少" in text and "未知的角色" in text and "未知的组织" in text
    with pytest.raises(ValidationFailed, match="支部书记只能设在党支部"):
        users.add_user(session=session, username="sec9", password="abcdefgh12", role="secretary", unit_id="S",
                       actor="t")


def test_next_parameter_never_leaves_the_site(client: TestClient) -> None:
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
