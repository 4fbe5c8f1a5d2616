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
from http.server import ThreadingHTTPServer
from socketserver import StreamRequestHandler
from urllib.parse import parse_qs

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
        """A request header's value (names compared without regard to case)."""
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


class Headers(dict):
    """Request headers, looked up without regard to case (keys are stored lower-cased)."""

    def get(self, name: str, default=None):
        """The header's value, or ``default``."""
        return super().get(name.lower(), default)

    def __getitem__(self, name: str):
        return super().__getitem__(name.lower())

    def __contains__(self, name) -> bool:
        return super().__contains__(name.lower())


_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class _Handler(StreamRequestHandler):
    """HTTP/1.1 with keep-alive, parsed by hand: the stdlib handler's email-based parsing costs more
    than the emulator's own work on most requests."""

    timeout = 120  # QuickBooks times requests out after 120 s
    wbufsize = 0

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.track(self.connection, False)

    def handle(self) -> None:
        try:
            while self._one():
                pass
        except (OSError, ValueError):
            pass

    def _one(self) -> bool:
        line = self.rfile.readline(65537)
        if not line:
            return False
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._send(Response(400, b"bad request line", "text/plain"), close=True)
            return False
        method, target, version = parts
        headers = Headers()
        while True:
            raw = self.rfile.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self._body(headers)
        connection = headers.get("connection", "").lower()
        keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        if body is None:
            self._send(json_response({"error": "request body too large"}, 413), close=True)
            return False
        path, _, query = target.partition("?")
        host = headers.get("host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        request = Request(method, path or "/", parse_qs(query, keep_blank_values=True) if query else {},
                          headers, body, f"http://{host}")
        try:
            response = self.server.dispatch(request)
        except Exception:  # noqa: BLE001 - a bug must still answer like QuickBooks, not with a traceback
            log.exception("unexpected error serving %s %s", method, path)
            response = self.server.internal_error()
        if response.drop:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        self._send(response, close=not keep, head=method == "HEAD")
        return keep

    def _body(self, headers: Headers) -> bytes | None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response, close: bool = False, head: bool = False) -> None:
        lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}",
                 f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        if close:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.connection.sendall(payload if head else payload + response.body)


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
