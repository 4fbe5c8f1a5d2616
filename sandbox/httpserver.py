"""A small threaded HTTP/1.1 server: one thread per connection, keep-alive, nothing else imported.

The standard library's ``ThreadingHTTPServer`` is enough to serve well over the throughput the
benchmarks need, and keeps the emulator free of dependencies. Handlers get a ``Request`` and return a
``Response``; an unexpected exception becomes QuickBooks' generic 500 Fault, never a traceback.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sandbox import jsonio

log = logging.getLogger("sandbox")
MAX_BODY = 10 * 1024 * 1024


@dataclass
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: object
    body: bytes
    base_url: str

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name`` (names compared without regard to case)."""
        values = self.query.get(name)
        if values is None:
            lowered = name.lower()
            values = next((v for k, v in self.query.items() if k.lower() == lowered), None)
        return values[0] if values else None

    def header(self, name: str, default: str = "") -> str:
        """A request header's value."""
        return self.headers.get(name, default)


@dataclass
class Response:
    """What a handler answers; ``drop`` closes the connection without answering."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


def json_response(value, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON response."""
    return Response(status, jsonio.dumps(value), "application/json;charset=UTF-8", headers or [])


def html_response(text: str, status: int = 200) -> Response:
    """An HTML page."""
    return Response(status, text.encode("utf-8"), "text/html; charset=utf-8")


def redirect(location: str) -> Response:
    """A 302 redirect."""
    return Response(302, b"", "text/plain", [("Location", location)])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sandbox-qbo"
    sys_version = ""
    timeout = 120  # QuickBooks times requests out after 120 s

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        request = Request(self.command, parts.path or "/", parse_qs(parts.query, keep_blank_values=True),
                          self.headers, body or b"", f"http://{host}")
        if body is None:
            response = json_response({"error": "request body too large"}, 413)
        else:
            try:
                response = self.server.dispatch(request)
            except Exception:  # noqa: BLE001 - a bug must still answer like QuickBooks, not with a traceback
                log.exception("unexpected error serving %s %s", self.command, parts.path)
                response = self.server.internal_error()
        if response.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class Server(ThreadingHTTPServer):
    """The threaded server; ``dispatch`` routes a ``Request`` to the emulator."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], dispatch: Callable[[Request], Response],
                 internal_error: Callable[[], Response]):
        self.dispatch = dispatch
        self.internal_error = internal_error
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        """Remember open connections so ``close_all`` can end idle keep-alive threads."""
        with self._conn_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_all(self) -> None:
        """Shut every open connection (their threads then end)."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
