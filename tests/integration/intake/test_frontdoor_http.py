"""The 1 MiB limit over real HTTP (a werkzeug server in a thread): a chunked body carries no Content-Length,
so only reading it shows its size, and the test client does not send one the way a socket does."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from addon.frontdoor import MAX_BODY
from addon.models.inbox import Delivery
from connectors import generic
from webapp import create_app


@pytest.fixture
def server(container):
    """The app served over a real socket; its port."""
    made = make_server("127.0.0.1", 0, create_app(container), threaded=True)
    thread = threading.Thread(target=made.serve_forever, daemon=True)
    thread.start()
    yield made.server_port
    made.shutdown()
    thread.join(10)


@pytest.fixture
def endpoint(container, company):
    created = container.endpoints.create(company.id, "generic", actor="test")
    return urlsplit(created.url).path, created.generated_secret


def ping_of_size(size: int) -> bytes:
    """A valid generic ping of exactly ``size`` bytes (JSON allows the whitespace that pads it)."""
    head, tail = b'{"id": "ping-%d", "events": []' % size, b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


def send(port: int, path: str, body: bytes, secret: str, *, chunked: bool) -> int:
    """POST ``body`` signed, chunked (no Content-Length) or not; the answer's status."""
    headers = {"Content-Type": "application/json", "Autobill-Signature": generic.signature_header(body, secret)}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
            connection.request("POST", path, body=pieces, headers=headers, encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers=headers)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer 413 and stop reading before the rest is sent; its answer still counts
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.status


def stored(container) -> int:
    with container.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Delivery))


@pytest.mark.parametrize("size", [MAX_BODY + 1, 5 * MAX_BODY])
def test_a_chunked_body_over_one_mebibyte_without_content_length_is_refused_with_413(
        container, server, endpoint, size):
    path, secret = endpoint
    assert send(server, path, ping_of_size(size), secret, chunked=True) == 413
    assert stored(container) == 0


@pytest.mark.parametrize("chunked", [True, False])
def test_a_body_of_exactly_one_mebibyte_is_accepted_and_stored_chunked_or_not(container, server, endpoint, chunked):
    path, secret = endpoint
    assert send(server, path, ping_of_size(MAX_BODY), secret, chunked=chunked) == 200
    assert send(server, path, ping_of_size(MAX_BODY - 1), secret, chunked=chunked) == 200
    assert stored(container) == 2


def test_a_declared_content_length_over_the_limit_is_refused_with_413(container, server, endpoint):
    path, secret = endpoint
    assert send(server, path, ping_of_size(MAX_BODY + 1), secret, chunked=False) == 413
    assert stored(container) == 0
