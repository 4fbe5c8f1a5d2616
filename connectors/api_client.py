"""The one way connectors call a vendor's API: ``requests`` with timeouts, failures as ``EnrichmentError``.

Used by enrichment (HubSpot, Pipedrive, Salesforce, Stripe, Asana) and polling (Harvest). Error
messages name the vendor, the method, the path (never its query) and the status, and never contain
a credential: credentials travel only in headers. Requests go only to the configured base URL's
scheme and host and redirects are not followed, so neither a forged next-page link nor a redirect
can collect a stored token. A 429 is ``RateLimited`` with the ``Retry-After`` the vendor asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import load_json, setting
from connectors.errors import EnrichmentError, PayloadError

# (connect, read) seconds: a vendor that hangs must not hold a worker for RQ's whole job timeout.
DEFAULT_TIMEOUT = (5.0, 10.0)


class RateLimited(EnrichmentError):
    """The vendor answered 429; ``retry_after`` is the seconds it asked us to wait, when it said."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = 429


def retry_after_seconds(value: str | None) -> float | None:
    """The ``Retry-After`` header as seconds (only the delta-seconds form; dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def stored_token(credentials: Any, keys: Iterable[str], missing: str) -> str:
    """The token in ``credentials`` (a str, or a dict under the first of ``keys`` set); else ``missing``."""
    if isinstance(credentials, Mapping):
        credentials = next((credentials[key] for key in keys if credentials.get(key)), None)
    if not isinstance(credentials, str) or not credentials.strip():
        raise EnrichmentError(missing)
    return credentials.strip()


class JsonApi:
    """GET and POST JSON against one vendor API with fixed auth headers; use it as a context manager."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str], vendor: str,
                 session: requests.Session | None = None, timeout: Any = None):
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self._origin = urlsplit(self.base_url)[:2]
        self._headers = {"Accept": "application/json", **headers}
        self._own_session = session is None
        self._session = session or requests.Session()
        if not timeout:
            timeout = DEFAULT_TIMEOUT
        self._timeout = tuple(float(t) for t in timeout) if isinstance(timeout, tuple | list) else float(timeout)

    @classmethod
    def for_endpoint(cls, vendor: str, *, headers: Mapping[str, str], base_url: str | None, default_base_url: str,
                     session: requests.Session | None, settings: Mapping[str, Any] | None) -> JsonApi:
        """A client for one endpoint: ``base_url``, else the ``api_base_url`` setting, else the vendor's default."""
        return cls(base_url or setting(settings, "api_base_url", default_base_url), headers=headers, vendor=vendor,
                   session=session, timeout=setting(settings, "http_timeout"))

    def __enter__(self) -> JsonApi:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this client opened it (a session the caller gave stays open)."""
        if self._own_session:
            self._session.close()

    def get(self, path: str, params: Any = None, *, missing_ok: bool = False) -> Any:
        """The decoded JSON answer to ``GET base_url + path``; ``None`` for a 404 when ``missing_ok``."""
        return self._call("GET", self.base_url + path, params=params, missing_ok=missing_ok)

    def post(self, path: str, body: Any) -> Any:
        """The decoded JSON answer to ``POST base_url + path`` with a JSON body."""
        return self._call("POST", self.base_url + path, json_body=body)

    def follow(self, url: str, *, what: str = "next-page link") -> Any:
        """The decoded JSON answer to ``GET url``, a link the vendor gave; refused if it leaves the API's host."""
        if urlsplit(url)[:2] != self._origin:
            raise EnrichmentError(f"{self.vendor}'s {what} points at another host; not following it")
        return self._call("GET", url)

    def _call(self, method: str, url: str, *, params: Any = None, json_body: Any = None,
              missing_ok: bool = False) -> Any:
        parts = urlsplit(url)
        where = f"{self.vendor} {method} {parts.path}"
        if parts[:2] != self._origin:  # e.g. a path that smuggles in "@host"
            raise EnrichmentError(f"{where} would leave the API's host; not sending it")
        try:
            response = self._session.request(method, url, params=params, json=json_body, headers=self._headers,
                                             timeout=self._timeout, allow_redirects=False)
        except requests.Timeout as exc:
            raise EnrichmentError(f"{where} timed out after {self._limit(exc):g} s") from None
        except requests.RequestException as exc:
            raise EnrichmentError(f"could not reach {where} ({type(exc).__name__})") from None
        status = response.status_code
        if missing_ok and status == 404:
            return None
        if not 200 <= status < 300:
            raise _status_error(where, status, response.headers)
        try:
            return load_json(response.content)
        except PayloadError as exc:
            raise EnrichmentError(f"{where} answered {status} with a body that is not JSON ({exc.message})") from None

    def _limit(self, exc: requests.Timeout) -> float:
        if not isinstance(self._timeout, tuple):
            return self._timeout
        return self._timeout[0] if isinstance(exc, requests.ConnectTimeout) else self._timeout[1]


def _status_error(where: str, status: int, headers: Mapping[str, str]) -> EnrichmentError:
    if status == 429:
        wait = retry_after_seconds(headers.get("Retry-After"))
        hint = f"; it asked to wait {wait:g} s" if wait is not None else ""
        return RateLimited(f"{where} is rate limiting requests (HTTP 429){hint}", wait)
    if status in (401, 403):
        error = EnrichmentError(f"{where} refused the stored credentials (HTTP {status}); check the API token "
                                f"and its access")
    else:
        try:
            phrase = f" {HTTPStatus(status).phrase}"
        except ValueError:
            phrase = ""
        error = EnrichmentError(f"{where} answered {status} (HTTP {status}{phrase})")
    error.status = status  # type: ignore[attr-defined]
    return error


@contextmanager
def unexpected_answers(vendor: str, what: str) -> Iterator[None]:
    """Turn a vendor answer of an unexpected shape (a list where an object was due) into an ``EnrichmentError``."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise EnrichmentError(f"{vendor} answered {what} in an unexpected shape ({type(exc).__name__})") from None


@contextmanager
def unreadable_as_enrichment(where: str) -> Iterator[None]:
    """Turn a ``PayloadError`` about a field of a vendor answer into an ``EnrichmentError`` at ``where``."""
    try:
        yield
    except PayloadError as exc:
        raise EnrichmentError(f"{where}: {exc.message}") from None


def enrich_each(api: JsonApi, events: Iterable[Any], complete: Callable[[Any], Any],
                what: Callable[[Any], str]) -> list:
    """``complete(event)`` for each event; an answer of an unexpected shape is an ``EnrichmentError``."""
    with api:
        done = []
        for event in events:
            with unexpected_answers(api.vendor, what(event)):
                done.append(complete(event))
        return done
