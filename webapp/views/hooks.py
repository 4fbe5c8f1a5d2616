"""The ingest endpoints: ``POST /hooks/<source>/<endpoint-token>`` (the order of work is ``addon.frontdoor``'s)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from addon import frontdoor

bp = Blueprint("hooks", __name__)


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is longer than ``limit`` bytes (a chunked body is read until it is).

    ``request.stream`` caps a body without Content-Length (chunked) at ``MAX_CONTENT_LENGTH`` and reads
    the same for a body of exactly the limit and one of 5 MiB, so the body is read from a stream that
    allows one byte more: reaching that byte means too large. Reads may come back short; loop to the end.
    """
    try:
        stream = get_input_stream(request.environ, max_content_length=limit + 1)
        chunks, size = [], 0
        while size <= limit:
            chunk = stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        return None
    return None if size > limit else b"".join(chunks)


@bp.post("/hooks/<source>/<token>")
def receive(source: str, token: str):
    """Take one webhook delivery: verify, store, enqueue, acknowledge."""
    container = current_app.config["CONTAINER"]
    # The URL as the sender called it (HubSpot signs it): the public URL, not the one a proxy forwards to.
    query = request.query_string.decode("latin-1")
    url = container.settings.web_url + request.path + (f"?{query}" if query else "")
    answer = frontdoor.receive(container, source=source, token=token, headers=dict(request.headers),
                               declared_length=request.content_length, read_body=_read_body, url=url,
                               method=request.method)
    return Response(answer.body, status=answer.status, headers=dict(answer.headers))
