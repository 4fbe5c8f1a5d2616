"""A local HTTP server in a thread that answers like a vendor API from recorded responses."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

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
