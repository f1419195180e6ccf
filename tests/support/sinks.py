"""Real receivers on 127.0.0.1 for notification tests: an SMTP server (aiosmtpd) and an
HTTP server taking robot-style JSON posts. Messages really travel over sockets."""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str


class SmtpSink:
    """An SMTP server that keeps every message it accepts."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        part = msg.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        with self._lock:
            self.mails.append(Mail(tuple(envelope.rcpt_tos), str(msg["Subject"]), body))
        return "250 Message accepted for delivery"

    def smtp_url(self) -> str:
        """What DANGJIAN_SMTP_URL would hold: plain SMTP on the sink, a fixed sender."""
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=dangjian@example.org"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class Post:
    path: str
    payload: dict[str, Any]
    status: int


class WebhookSink:
    """An HTTP server taking JSON posts, like a WeCom/DingTalk group robot.

    `fail_next(path, n)` answers the next n posts to `path` with HTTP 500; `hold(path)`
    keeps posts to `path` waiting for an answer (recorded on arrival) until `release()`.
    """

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._failures: dict[str, int] = {}
        self._held: set[str] = set()
        self._release = threading.Event()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?", 1)[0]
                with sink._lock:
                    status = 500 if sink._failures.get(path, 0) > 0 else 200
                    if status == 500:
                        sink._failures[path] -= 1
                    sink.posts.append(Post(path, payload, status))
                    held = path in sink._held
                if held:
                    sink._release.wait(timeout=60)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode":0}' if status == 200 else b'{"errcode":500}')

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def fail_next(self, path: str, times: int = 1) -> None:
        with self._lock:
            self._failures[path] = times

    def hold(self, path: str) -> None:
        with self._lock:
            self._held.add(path)

    def release(self) -> None:
        self._release.set()

    def arrived(self, path: str) -> list[dict[str, Any]]:
        """Payloads that reached `path`, answered or not."""
        return [p.payload for p in self.posts if p.path == path]

    def received(self, path: str) -> list[dict[str, Any]]:
        """Payloads accepted (HTTP 200) at `path`."""
        return [p.payload for p in self.posts if p.path == path and p.status == 200]

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
