"""Web fixtures: the app on the rolled-back test session (`client`), signed in per role."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from dangjian.web.app import create_app
from dangjian.web.config import WebConfig
from dangjian.web.deps import get_db
from tests.web.support import FROZEN, PASSWORD, World, build_world, csrf_of

SECRET = "test-secret-" + "x" * 40


@pytest.fixture
def world(session: Session, files_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    from dangjian.services import users

    monkeypatch.setattr(users, "SCRYPT_N", 2**12)     # cheaper hashing in tests; each hash keeps its N
    return build_world(session, tmp_path)


@pytest.fixture
def app(session: Session, world: World):  # type: ignore[no-untyped-def]
    application = create_app(engine=session.get_bind(), config=WebConfig(secret_key=SECRET, secure_cookies=False),
                             clock=lambda: FROZEN)

    def _db() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_db] = _db
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(page.text), "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def login(app) -> Iterator[Callable[[str], TestClient]]:  # type: ignore[no-untyped-def]
    """login("sec1") → a client signed in as that account (each its own cookie jar)."""
    opened: list[TestClient] = []

    def make(username: str) -> TestClient:
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        opened.append(c)
        return sign_in(c, username)

    yield make
    for c in opened:
        c.__exit__(None, None, None)
