"""An unexpected exception in a request: a Chinese 500 with an error id and the usual security
headers, never a traceback; the traceback goes to the error log under that id."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dangjian.web.app import SECURITY_HEADERS


@pytest.fixture
def failing_client(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DANGJIAN_LOG_DIR", str(tmp_path / "logs"))

    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/boom", boom)
    app.add_api_route("/boom", boom)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client


def logged(tmp_path: Path) -> str:
    return (tmp_path / "logs" / "errors.log").read_text(encoding="utf-8")


def test_an_api_failure_answers_chinese_json_with_an_error_id_and_logs_the_traceback(failing_client, tmp_path):
    response = failing_client.get("/api/boom")
    assert response.status_code == 500
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{8}", body["error_id"])
    assert "服务器内部错误" in body["error"] and body["error_id"] in body["error"]
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    log = logged(tmp_path)
    assert body["error_id"] in log and "Traceback" in log and "secret internal detail" in log


def test_a_page_failure_shows_a_chinese_error_page_with_the_id(failing_client, tmp_path):
    response = failing_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    found = re.search(r"编号 ([0-9a-f]{8})", response.text)
    assert found and found.group(1) in logged(tmp_path)
    assert "Internal Server Error" not in response.text and "Traceback" not in response.text
    assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
