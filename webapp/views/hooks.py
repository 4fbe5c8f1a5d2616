"""The ingest endpoints: ``POST /hooks/<source>/<endpoint-token>`` (the order of work is ``addon.frontdoor``'s)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from addon import frontdoor

bp = Blueprint("hooks", __name__)


def _read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is longer than ``limit`` bytes (chunked bodies are cut off there)."""
    try:
        data = request.stream.read(limit + 1)
    except RequestEntityTooLarge:
        return None
    return None if len(data) > limit else data


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
