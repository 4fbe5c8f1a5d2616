"""The front door: one request to ``POST /hooks/<source>/<token>``, answered in a fixed order.

1. find the endpoint and its connector (unknown: 404);
2. size (over 1 MiB: 413) and content type (415);
3. a handshake or ping the connector answers itself (Asana's handshake only while the endpoint awaits
   one, its secret stored first; Toggl's validation ping), never stored;
4. verify authenticity on the raw bytes (anything the connector raises: 401, counted, body not kept);
5. store the delivery under the sender's dedupe key and commit;
6. enqueue its id;
7. answer 2xx (Salesforce's SOAP acknowledgement is that answer, sent only after the store). A
   delivery stored before is answered 2xx and not processed again.

Nothing here parses more than the connector's ``delivery_key`` needs: a body that is authentic but
unreadable is stored and shown in the inbox as unparseable once the delivery job reads it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import connectors
from addon import inbox
from addon.clock import utcnow
from addon.models.inbox import EndpointStatus
from connectors.base import Headers, body_digest
from connectors.errors import UnknownConnector, VerificationError

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
XML_SOURCES = frozenset({"salesforce"})
XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a sender."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, **content: Any) -> Answer:
        """A JSON answer."""
        return cls(status, json.dumps(content).encode(), {"Content-Type": "application/json"})

    @classmethod
    def error(cls, status: int, code: str, message: str) -> Answer:
        """An error in the shape every autobill JSON error has."""
        return cls.json(status, error={"code": code, "message": message})


def content_type_accepted(source: str, content_type: str | None, declared_length: int | None) -> bool:
    """True when the request's media type is one the source sends (no type is fine for an empty body)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not media:
        return not declared_length
    if source in XML_SOURCES:
        return media in XML_TYPES
    return media == "application/json" or media.endswith("+json")


def receive(container: Any, *, source: str, token: str, headers: Mapping[str, str], declared_length: int | None,
            read_body: Callable[[int], bytes | None], url: str, method: str = "POST",
            now: datetime | None = None) -> Answer:
    """Answer one request to ``/hooks/<source>/<token>``; never raises."""
    try:
        return _receive(container, source, token, Headers(headers), declared_length, read_body, url, method,
                        now or utcnow())
    except Exception:  # noqa: BLE001 - the sender must retry, never see a stack trace
        log.exception("the front door could not take a %s delivery", source)
        return Answer.error(503, "unavailable", "autobill could not store this delivery now; please retry")


def _receive(container, source, token, headers, declared_length, read_body, url, method, now) -> Answer:
    try:
        connector = connectors.get(source)
    except UnknownConnector:
        return Answer.error(404, "not_found", "no such endpoint")
    endpoint = container.endpoints.resolve(source, token)
    if endpoint is None:
        return Answer.error(404, "not_found", "no such endpoint")
    if declared_length is not None and declared_length > MAX_BODY:
        return Answer.error(413, "too_large", f"the body is over {MAX_BODY} bytes")
    if not content_type_accepted(source, headers.get("Content-Type"), declared_length):
        expected = "text/xml" if source in XML_SOURCES else "application/json"
        return Answer.error(415, "unsupported_media_type", f"send the body as {expected}")
    body = read_body(MAX_BODY)
    if body is None:
        return Answer.error(413, "too_large", f"the body is over {MAX_BODY} bytes")
    early = _handshake_or_ping(container, connector, endpoint, body, headers)
    if early is not None:
        return early
    try:
        connector.verify(body, headers, endpoint.secret, url=url, method=method, now=now, settings=endpoint.settings)
    except Exception as exc:  # noqa: BLE001 - whatever the connector raises, the request is not authentic
        reason = exc.message if isinstance(exc, VerificationError) else "the request could not be verified"
        container.endpoints.record_rejection(endpoint.id, reason)
        return Answer.error(401, "not_authentic", reason)
    try:
        key = connector.delivery_key(body, headers)
    except Exception:  # noqa: BLE001 - a key is never worth losing a delivery over
        key = body_digest(body)
    stored = inbox.store(container, endpoint, key=key, body=body, headers=headers, now=now)
    if getattr(connector, "REPLY_AFTER_STORE", False):
        acknowledgement = _reply(connector, body, headers)
        if acknowledgement is not None:
            return acknowledgement
    return Answer.json(200, received=True, delivery_id=stored.delivery_id, duplicate=not stored.new)


def _reply(connector, body: bytes, headers: Headers) -> Answer | None:
    try:
        made = connector.reply(body, headers)
    except Exception:  # noqa: BLE001 - a broken reply is no reply
        log.exception("%s reply broke", connector.__name__)
        return None
    if made is None:
        return None
    status, reply_headers, reply_body = made
    return Answer(status, reply_body, dict(reply_headers))


def _handshake_or_ping(container, connector, endpoint, body: bytes, headers: Headers) -> Answer | None:
    handshake = getattr(connector, "handshake_secret", None)
    if handshake is not None:
        try:
            secret = handshake(body, headers)
        except Exception:  # noqa: BLE001 - not a handshake it can read, so not a handshake
            secret = None
        if not secret:
            return None
        if endpoint.status == EndpointStatus.AWAITING_HANDSHAKE and container.endpoints.accept_handshake(
                endpoint.id, secret):
            return _reply(connector, body, headers) or Answer.json(200, handshake=True)
        reason = "a handshake was refused: this endpoint has its secret already"
        container.endpoints.record_rejection(endpoint.id, reason)
        return Answer.error(401, "not_authentic", reason)
    if callable(getattr(connector, "reply", None)) and not getattr(connector, "REPLY_AFTER_STORE", False):
        return _reply(connector, body, headers)
    return None
