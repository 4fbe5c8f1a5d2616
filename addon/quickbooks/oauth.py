"""``IntuitOAuth``: the OAuth port on intuitlib (intuit-oauth), pointed anywhere by configuration.

intuitlib takes a discovery-document URL as its ``environment`` (the emulator's in demo mode).
Its ``AuthClient`` fetches that document in its constructor and sends requests without a timeout,
so this adapter fetches the document once per process and gives every request a timeout.
https://github.com/intuit/oauth-pythonclient/blob/master/intuitlib/client.py
"""

from __future__ import annotations

import json
import threading

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from intuitlib.utils import get_discovery_doc

from addon.companies import Identity
from addon.ledger.faults import InvalidGrant, Rejected, Transient
from addon.oauth import CONNECT, SIGN_IN, OAuthClient, TokenGrant

SCOPES = {CONNECT: [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL, Scopes.PROFILE],
          SIGN_IN: [Scopes.OPENID, Scopes.EMAIL, Scopes.PROFILE]}


class _TimedSession(requests.Session):
    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


class _Client(AuthClient):
    """An ``AuthClient`` built from an already fetched discovery document, with request timeouts."""

    def __init__(self, doc: dict, client_id: str, client_secret: str, redirect_uri: str, environment: str,
                 timeout: float):
        requests.Session.__init__(self)  # skip AuthClient.__init__: it would fetch the document again
        self.timeout = timeout
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uri, self.environment, self.state_token = redirect_uri, environment, None
        self.auth_endpoint = doc["authorization_endpoint"]
        self.token_endpoint = doc["token_endpoint"]
        self.revoke_endpoint = doc["revocation_endpoint"]
        self.issuer_uri = doc["issuer"]
        self.jwks_uri = doc["jwks_uri"]
        self.user_info_url = doc["userinfo_endpoint"]
        self.realm_id = self.access_token = self.refresh_token = self.id_token = None
        self.expires_in = self.x_refresh_token_expires_in = None

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def _fault(exc: Exception, what: str):
    """The fault for an intuitlib or network failure; never includes the request (it carries tokens)."""
    if isinstance(exc, AuthClientError):
        tid = exc.intuit_tid
        try:
            error = json.loads(exc.content or b"{}").get("error")
        except (ValueError, AttributeError):
            error = None
        if error == "invalid_grant":
            return InvalidGrant(f"Intuit no longer accepts this company's authorization ({what})",
                                qbo_code="invalid_grant", intuit_tid=tid)
        if exc.status_code >= 500 or exc.status_code == 429:
            return Transient(f"Intuit's OAuth service answered {exc.status_code} ({what})", intuit_tid=tid)
        return Rejected(f"Intuit refused the request ({what}): HTTP {exc.status_code} {error or ''}".strip(),
                        qbo_code=error, intuit_tid=tid)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return Transient(f"Intuit's OAuth service did not answer ({what}): {type(exc).__name__}")
    raise exc


class IntuitOAuth(OAuthClient):
    """Intuit OAuth 2.0 through intuitlib, for one app (client id, secret, redirect URI)."""

    def __init__(self, client_id: str, client_secret: str, redirect_uri: str, environment: str,
                 timeout: float = 30.0):
        self.client_id, self._secret = client_id, client_secret
        self.redirect_uri, self.environment, self.timeout = redirect_uri, environment, timeout
        self._doc: dict | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IntuitOAuth(client_id={self.client_id!r}, environment={self.environment!r})"

    def _client(self) -> _Client:
        with self._lock:
            if self._doc is None:
                try:
                    self._doc = get_discovery_doc(self.environment, session=_TimedSession(self.timeout))
                except (AuthClientError, requests.RequestException) as exc:
                    raise _fault(exc, "discovery document") from None
        return _Client(self._doc, self.client_id, self._secret, self.redirect_uri, self.environment, self.timeout)

    def authorization_url(self, purpose: str, state: str) -> str:
        """Intuit's authorize page for ``purpose`` (connect or sign in), carrying ``state``."""
        return self._client().get_authorization_url(SCOPES[purpose], state_token=state)

    @staticmethod
    def _grant(client: _Client) -> TokenGrant:
        refresh_in = client.x_refresh_token_expires_in
        return TokenGrant(client.access_token, client.refresh_token, int(client.expires_in or 3600),
                          int(refresh_in) if refresh_in is not None else None)

    def exchange_code(self, code: str) -> TokenGrant:
        """Tokens for an authorization code."""
        client = self._client()
        try:
            client.get_bearer_token(code)
        except (AuthClientError, requests.RequestException) as exc:
            raise _fault(exc, "authorization code") from None
        return self._grant(client)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """New tokens for ``refresh_token``."""
        client = self._client()
        try:
            client.refresh(refresh_token=refresh_token)
        except (AuthClientError, requests.RequestException) as exc:
            raise _fault(exc, "refresh") from None
        return self._grant(client)

    def revoke(self, token: str) -> None:
        """Revoke ``token`` at Intuit."""
        try:
            self._client().revoke(token=token)
        except (AuthClientError, requests.RequestException) as exc:
            raise _fault(exc, "revoke") from None

    def user_info(self, access_token: str) -> Identity:
        """Who signed in (OpenID userinfo)."""
        try:
            info = self._client().get_user_info(access_token=access_token).json()
        except (AuthClientError, requests.RequestException) as exc:
            raise _fault(exc, "userinfo") from None
        except ValueError:
            raise Transient("Intuit's userinfo answer was not JSON") from None
        name = " ".join(p for p in (info.get("givenName"), info.get("familyName")) if p) or info.get("name")
        return Identity(sub=str(info["sub"]), email=info.get("email"), name=name or None)
