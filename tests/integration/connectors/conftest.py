"""Real HTTP servers on free local ports, standing in for a vendor's API (Asana, Harvest).

Each test scripts the answers per path; the server records every request it saw, so a test can
check the headers and paging the client really sent. The server runs in a thread and is shut down
after the test.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FIXTURES = Path(__file__).parents[2] / "fixtures"


class RecordedApi:
    """Routes (method, path) to a recorded response and keeps every request it saw."""

    def __init__(self):
        self.routes: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.requests: list[dict] = []
        self.base_url = ""

    def answer(self, method: str, path: str, *, status: int = 200, fixture: str | None = None,
               body: object = None) -> None:
        """Answer ``method path`` with a fixture file, a JSON value, or raw bytes."""
        if fixture is not None:
            payload = (FIXTURES / fixture).read_bytes()
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        self.routes[(method, path)] = (status, payload)

    def seen(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]


def _handler(api: RecordedApi):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            api.requests.append({"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                                 "headers": dict(self.headers), "body": body})
            status, payload = api.routes.get((self.command, parts.path),
                                             (404, b'{"message": "not recorded"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture(scope="session")
def _vendor_server():
    """One local server per test session (starting one per test costs half a second each)."""
    api = RecordedApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield api
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def vendor_api(_vendor_server):
    """The session's RecordedApi with no routes and no requests seen, for one test."""
    _vendor_server.routes.clear()
    _vendor_server.requests.clear()
    return _vendor_server


@dataclass
class Seen:
    method: str
    path: str
    args: dict
    headers: dict


@dataclass
class FakeVendor:
    """Scripted answers per path; the last answer for a path repeats once the script runs out."""

    base_url: str = ""
    answers: dict = field(default_factory=lambda: defaultdict(deque))
    seen: list = field(default_factory=list)

    def answer(self, path: str, *, status: int = 200, body=None, headers=None, raw: bytes | None = None) -> None:
        """Queue one answer for ``path`` (JSON ``body``, or ``raw`` bytes); ``{base}`` in JSON is replaced."""
        self.answers[path].append((status, body, headers or {}, raw))

    def wsgi(self, environ, start_response):
        request = Request(environ)
        self.seen.append(Seen(request.method, request.path, dict(request.args), dict(request.headers)))
        queue = self.answers.get(request.path)
        if not queue:
            return Response(b'{"error": "not scripted"}', 599)(environ, start_response)
        status, body, headers, raw = queue.popleft() if len(queue) > 1 else queue[0]
        if raw is None:
            raw = json.dumps(body).replace("{base}", self.base_url).encode()
        response = Response(raw, status, headers={"Content-Type": "application/json", **headers})
        return response(environ, start_response)


@pytest.fixture
def vendor():
    """A ``FakeVendor`` served over real HTTP on 127.0.0.1; ``vendor.base_url`` is its address."""
    fake = FakeVendor()
    server = make_server("127.0.0.1", 0, fake.wsgi, threaded=True)
    fake.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    thread.join(5)
    server.server_close()
