"""`dangjian users add|list|token|deactivate` and `dangjian web` as users run them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "dangjian" / "demo" / "data"


def _env(cwd: Path) -> dict[str, str]:
    return {**os.environ, "DANGJIAN_DATABASE_URL": f"sqlite:///{cwd / 'cli.db'}",
            "DANGJIAN_FILES_DIR": str(cwd / "files"), "NO_COLOR": "1", "COLUMNS": "200",
            "DANGJIAN_WEB_SECRET_FILE": str(cwd / "secret")}


def run(*args: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dangjian", *args], cwd=cwd, env={**_env(cwd), **extra}, check=False,
                          capture_output=True, text=True, timeout=120)


def test_users_commands_and_the_web_server(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    assert run("org", "import", str(DEMO / "units.csv"), str(DEMO / "members.csv"), cwd=tmp_path).returncode == 0
    bad = run("users", "add", "sec", "--role", "secretary", "--unit", "620621", "--password", "abcd-1234-xy",
              cwd=tmp_path)
    assert bad.returncode == 2 and "支部书记只能设在党支部" in bad.stderr
    ok = run("users", "add", "zhang", "--role", "admin", "--unit", "620621", "--name", "张主任", cwd=tmp_path,
             DANGJIAN_NEW_PASSWORD="abcd-1234-xy")
    assert ok.returncode == 0, ok.stderr
    again = run("users", "add", "zhang", "--role", "admin", "--unit", "620621", "--password", "abcd-1234-xy",
                cwd=tmp_path)
    assert again.returncode == 5 and "已存在" in again.stderr
    listing = run("users", "list", cwd=tmp_path)
    assert "zhang" in listing.stdout and "区县管理员" in listing.stdout
    token = run("users", "token", "zhang", "--name", "脚本", cwd=tmp_path)
    assert token.returncode == 0
    plain = token.stdout.strip().splitlines()[-1]
    assert plain.startswith("dj_")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dangjian", "web", "--port", str(port)], cwd=tmp_path,
                              env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/me",
                                                 headers={"Authorization": f"Bearer {plain}"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    body = response.read().decode("utf-8")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "dangjian web did not answer"
                time.sleep(0.3)
        assert '"unit_name":"民勤县"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            page = response.read().decode("utf-8")
            assert "登录" in page and "secure" in response.headers.get("set-cookie", "").lower()
    finally:
        server.terminate()
        server.wait(10)
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600
    off = run("users", "deactivate", "zhang", cwd=tmp_path)
    assert off.returncode == 0 and "已停用" in off.stdout
