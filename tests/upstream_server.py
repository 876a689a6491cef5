"""A loopback stand-in for the upstream service, serving fixture JSON over real HTTP,
with faults that can be injected per request (HTTP 500/503, hangs, connection resets,
truncated JSON). Used by the crawl tests and the benchmarks."""

from __future__ import annotations

import gzip
import json
import socket
import struct
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FEED_PATH = "/information/newmarket/web/webapi"
TEXT_PATH = "/NewsData/GetNewsText.do"


class Upstream:
    """``feeds``: market type -> feed JSON object; ``texts``: infoCode -> text JSON.

    ``faults[key]`` is a list of actions used up one per request, where ``key`` is
    ``"feed:<marketType>"`` or ``"text:<infoCode>"`` and an action is ``500``, ``503``,
    ``"hang"``, ``"reset"``, ``"truncate"``, ``("redirect", url)`` (a 302 to ``url``) or
    ``("gzip-bomb", n)`` (a gzip body that inflates to ``n`` bytes)."""

    def __init__(self, feeds: dict | None = None, texts: dict | None = None):
        self.feeds: dict[str, dict] = {str(k): v for k, v in (feeds or {}).items()}
        self.texts: dict[str, dict] = dict(texts or {})
        self.faults: dict[str, list] = defaultdict(list)
        self.requests: list[str] = []
        self.started: list[float] = []  # time.monotonic() each request arrived
        self.in_flight = self.max_in_flight = 0  # requests being answered now, and the most at once
        self.hang_seconds = 5.0
        self.delay = 0.0  # seconds before every answer, to make a crawl slow enough to interrupt
        self.gate: threading.Event | None = None  # when set up, answers wait until it opens
        self.through_gate = 0  # ... except this many, answered at once first
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @classmethod
    def from_dir(cls, directory: Path) -> Upstream:
        up = cls()
        for path in sorted(Path(directory).glob("feed-marketType-*.json")):
            up.feeds[path.stem.rsplit("-", 1)[1]] = json.loads(path.read_text("utf-8"))
        for path in sorted(Path(directory).glob("text-*.json")):
            up.texts[path.stem.split("-", 1)[1]] = json.loads(path.read_text("utf-8"))
        return up

    # -- server ---------------------------------------------------------------------
    def start(self) -> Upstream:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                upstream.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self) -> dict:
        """The ``-s`` settings that point a crawl at this server."""
        return {"FINEWS_FEED_URL": self.base + FEED_PATH, "FINEWS_TEXT_URL": self.base + TEXT_PATH}

    def count(self, prefix: str = "") -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))

    # -- handling -------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        if parts.path == FEED_PATH:
            key = f"feed:{query.get('marketType', [''])[0]}"
            payload = self.feeds.get(key.split(":", 1)[1], {"record": []})
        elif parts.path == TEXT_PATH:
            key = f"text:{query.get('id', [''])[0]}"
            payload = self.texts.get(key.split(":", 1)[1])
        else:
            key, payload = f"other:{parts.path}", None
        with self.lock:
            self.requests.append(key)
            self.started.append(time.monotonic())
            action = self.faults[key].pop(0) if self.faults.get(key) else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer(h, key, payload, action)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, h: BaseHTTPRequestHandler, key: str, payload, action) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None:
            with self.lock:
                through, self.through_gate = self.through_gate > 0, max(0, self.through_gate - 1)
            if not through:
                self.gate.wait(60)
        if action == "hang":
            time.sleep(self.hang_seconds)
            return self._send(h, 200, payload)
        if action == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if isinstance(action, int):
            return self._send(h, action, {"error": "injected"})
        if isinstance(action, tuple) and action[0] == "redirect":
            h.send_response(302)
            h.send_header("Location", action[1])
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if isinstance(action, tuple) and action[0] == "gzip-bomb":
            body = gzip.compress(b"{" + b" " * action[1], compresslevel=9)
            h.send_response(200)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if payload is None:
            return self._send(h, 404, {"error": "not found"})
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if action == "truncate":
            body = body[: len(body) // 2]
        self._send_bytes(h, 200, body)

    def _send(self, h, status: int, payload) -> None:
        self._send_bytes(h, status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    @staticmethod
    def _send_bytes(h, status: int, body: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
