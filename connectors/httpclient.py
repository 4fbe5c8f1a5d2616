"""The one way connectors call a vendor's API: ``requests`` with timeouts, failures as ``EnrichmentError``.

Used by enrichment (Asana) and polling (Harvest). Error messages name the vendor, the status and
what to check; they never contain a token, because the credentials travel only in headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, NamedTuple

import requests

from connectors.errors import EnrichmentError

# (connect, read) seconds: a vendor that hangs must not hold a worker for RQ's whole job timeout.
DEFAULT_TIMEOUT = (5.0, 30.0)


class RateLimited(EnrichmentError):
    """The vendor answered 429; ``retry_after`` is the seconds it asked us to wait, when it said."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


class ApiResponse(NamedTuple):
    status: int
    data: Any
    headers: Mapping[str, str]


@contextmanager
def session_for(session: requests.Session | None) -> Iterator[requests.Session]:
    """``session`` if the caller gave one, else a new one closed afterwards."""
    if session is not None:
        yield session
        return
    own = requests.Session()
    try:
        yield own
    finally:
        own.close()


def retry_after_seconds(value: str | None) -> float | None:
    """The ``Retry-After`` header as seconds (only the delta-seconds form; dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def get_json(session: requests.Session, url: str, *, vendor: str, headers: Mapping[str, str],
             params: Mapping[str, Any] | None = None, timeout=DEFAULT_TIMEOUT,
             pass_statuses: tuple[int, ...] = ()) -> ApiResponse:
    """GET ``url`` and parse JSON; statuses in ``pass_statuses`` are returned, other failures raise."""
    try:
        response = session.get(url, headers=dict(headers), params=params, timeout=timeout,
                               allow_redirects=False)
    except requests.Timeout:
        raise EnrichmentError(f"{vendor} did not answer in time") from None
    except requests.RequestException as exc:
        raise EnrichmentError(f"could not reach {vendor} ({type(exc).__name__})") from None
    status = response.status_code
    if status in pass_statuses:
        return ApiResponse(status, _json_or_none(response), response.headers)
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        hint = f"; it asked to wait {wait:g} s" if wait is not None else ""
        raise RateLimited(f"{vendor} is rate limiting requests (429){hint}", wait)
    if status in (401, 403):
        raise EnrichmentError(f"{vendor} refused the stored credentials ({status}); check the API token "
                              f"and its access")
    if status >= 300:
        raise EnrichmentError(f"{vendor} answered {status}")
    data = _json_or_none(response)
    if data is None:
        raise EnrichmentError(f"{vendor} answered {status} with a body that is not JSON")
    return ApiResponse(status, data, response.headers)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
