"""A real HTTP server on a free local port, standing in for a vendor's API (Asana, Harvest).

Each test scripts the answers per path; the server records every request it saw, so a test can
check the headers and paging the client really sent. The server runs in a thread and is shut down
after the test.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


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
