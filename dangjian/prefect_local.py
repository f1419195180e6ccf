"""A real local Prefect server, started and stopped by us.

Prefect's ephemeral server (what a flow call starts when no PREFECT_API_URL is set) runs
without its scheduling services, so deployments served against it never run on their
own. `dangjian serve` therefore starts this: `prefect server start` as a child process,
with its own database under PREFECT_HOME (or PREFECT_SERVER_DATABASE_CONNECTION_URL), its
log in PREFECT_HOME/server.log, and the scheduler on. The child dies with its parent, even
after kill -9 of the parent (PR_SET_PDEATHSIG on Linux).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

# What the scheduler logs when a loop fails; a healthy server never logs these.
SCHEDULER_FAILURE_MARKERS = ("Traceback (most recent call last)", "Unexpected error in: ",
                             "InvalidRequestError", "Error running")


@dataclass
class LocalServer:
    api_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def scheduler_failures(self) -> list[str]:
        """Lines of the server log that show a failing service loop (empty when healthy)."""
        return [line for line in self.log_text().splitlines()
                if any(marker in line for marker in SCHEDULER_FAILURE_MARKERS)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pdeathsig_setter() -> Callable[[], None] | None:
    """Linux: a function for the child, before exec, asking the kernel to send it SIGTERM
    when its parent dies, however the parent dies. libc is loaded here, in the parent, so
    the child only makes one C call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def set_pdeathsig() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_pdeathsig


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def local_server(home: Path, *, port: int | None = None, scheduler_loop_seconds: float | None = None,
                 startup_timeout: float = 120.0, extra_env: dict[str, str] | None = None,
                 services: bool = True) -> Iterator[LocalServer]:
    """Start `prefect server start` for the duration of the block; stop it afterwards.
    `services=False`: the API only (no scheduler), as a flow command needs."""
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false",
           "PREFECT_SERVER_LOGGING_LEVEL": os.environ.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"),
           "PREFECT_LOGGING_LEVEL": "WARNING", **(extra_env or {})}
    env.pop("PREFECT_API_URL", None)
    if scheduler_loop_seconds is not None:
        env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = str(scheduler_loop_seconds)
    log_path = home / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "--no-prompt", "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui", "--analytics-off", *([] if services else ["--no-services"])],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            # Started before Prefect starts any thread of ours; the hook makes one C call.
            preexec_fn=_pdeathsig_setter())  # noqa: PLW1509
    server = LocalServer(api_url=api_url, log_path=log_path, process=process)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(api_url):
            if process.poll() is not None:
                raise RuntimeError(f"Prefect 服务器启动失败（退出码 {process.returncode}），见日志 {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Prefect 服务器 {startup_timeout:.0f} 秒内未就绪，见日志 {log_path}")
            time.sleep(0.3)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)
