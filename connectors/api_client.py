"""A small JSON-over-HTTP client for enrichment: base URL from settings, a timeout, clear errors.

Every failure (no answer, a timeout, a non-2xx status, a body that is not JSON) becomes an
``EnrichmentError`` whose message names the request path and status but never a credential,
so the caller can retry with backoff and show a person what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests

from connectors.base import load_json
from connectors.errors import EnrichmentError, PayloadError

DEFAULT_TIMEOUT_SECONDS = 10.0


class JsonApi:
    """GET and POST JSON against one vendor API with fixed auth headers."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        vendor: str,
        session: requests.Session | None = None,
        timeout: float | None = None,
    ):
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.vendor = vendor
        self._headers = {"Accept": "application/json", **headers}
        self._session = session or requests.Session()
        self._timeout = float(timeout or DEFAULT_TIMEOUT_SECONDS)

    def get(self, path: str, params: Any = None) -> Any:
        """The decoded JSON answer to ``GET base_url + path``."""
        return self._call("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        """The decoded JSON answer to ``POST base_url + path`` with a JSON body."""
        return self._call("POST", path, json_body=body)

    def _call(self, method: str, path: str, *, params: Any = None, json_body: Any = None) -> Any:
        url = self.base_url + path
        where = f"{self.vendor} {method} {path.split('?')[0]}"
        try:
            response = self._session.request(
                method, url, params=params, json=json_body, headers=self._headers, timeout=self._timeout
            )
        except requests.Timeout:
            raise EnrichmentError(f"{where} timed out after {self._timeout:g} s") from None
        except requests.RequestException as exc:
            raise EnrichmentError(f"{where} failed: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            error = EnrichmentError(f"{where} answered HTTP {response.status_code}")
            error.status = response.status_code  # type: ignore[attr-defined]
            raise error
        try:
            return load_json(response.content)
        except PayloadError as exc:
            raise EnrichmentError(f"{where} answered something that is not JSON ({exc.message})") from None



@contextmanager
def unexpected_answers(vendor: str, what: str) -> Iterator[None]:
    """Turn a vendor answer of an unexpected shape (a list where an object was due) into an ``EnrichmentError``."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise EnrichmentError(f"{vendor} answered {what} in an unexpected shape ({type(exc).__name__})") from None
