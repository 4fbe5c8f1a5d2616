"""OAuth 2.0 grants: authorization codes, access tokens, rotating refresh tokens, revocation.

Behaviour follows Intuit's OAuth 2.0 docs and intuitlib 1.2.6: token responses carry ``token_type``
"bearer", ``access_token``, ``refresh_token``, ``expires_in`` (3600) and ``x_refresh_token_expires_in``,
and no ``id_token`` (intuitlib would validate one against keys). Each refresh rotates the refresh
token; a superseded or revoked one gets ``invalid_grant`` (after an optional grace period, during
which it returns a new access token and the grant's current refresh token). Revoking any token of a
grant ends the whole grant.
"""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import asdict, dataclass, field

from sandbox.errors import OAuthError

ACCOUNTING_SCOPES = ("com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment")
OPENID_SCOPES = ("openid", "email", "profile", "phone", "address")
_ALNUM = string.ascii_letters + string.digits


@dataclass
class App:
    """A registered Intuit app: credentials, redirect URIs and webhook subscription."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] | None = None  # None: any http(s) URI on 127.0.0.1 or localhost
    webhook_url: str | None = None
    verifier_token: str | None = None
    webhook_format: str = "classic"
    counters: dict = field(default_factory=lambda: {
        "token_grants": {"authorization_code": 0, "refresh_token": 0}, "invalid_grant": 0})

    def public(self) -> dict:
        """The app as the control API shows it (secrets included: it is a local test tool)."""
        return asdict(self)


@dataclass
class Grant:
    """One consent: an app's access to a realm (or to identity only) on behalf of a person."""

    id: str
    client_id: str
    realm_id: str | None
    scopes: list[str]
    user: dict
    refresh_token: str
    refresh_expires_at: float
    created_at: float
    revoked: bool = False


@dataclass
class AuthCode:
    """An authorization code waiting to be exchanged once."""

    code: str
    client_id: str
    redirect_uri: str
    realm_id: str | None
    scopes: list[str]
    user: dict
    expires_at: float
    used: bool = False


def has_accounting(scopes: list[str]) -> bool:
    """True when the scopes reach company data (so a realm must be chosen)."""
    return any(s in ACCOUNTING_SCOPES for s in scopes)


def person(email: str) -> dict:
    """The identity userinfo reports for ``email`` (a stable ``sub`` per address)."""
    local = email.split("@", 1)[0]
    parts = [p for p in local.replace("_", ".").replace("-", ".").split(".") if p]
    given = parts[0].capitalize() if parts else "Demo"
    family = " ".join(p.capitalize() for p in parts[1:]) or "User"
    return {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email.lower())), "email": email,
            "emailVerified": True, "givenName": given, "familyName": family}


class TokenStore:
    """Every code, grant and token of one emulator."""

    def __init__(self, world):
        self.world = world
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access: dict[str, tuple[str, float]] = {}  # token -> (grant id, expires at)
        self.refresh: dict[str, tuple[str, float | None]] = {}  # token -> (grant id, superseded at)
        self.issued: list[str] = []

    # -- codes --------------------------------------------------------------------------------------
    def new_code(self, client_id: str, redirect_uri: str, realm_id: str | None, scopes: list[str], email: str) -> str:
        """A single-use authorization code, valid for ``code_ttl`` seconds."""
        code = "AB11" + "".join(secrets.choice(_ALNUM) for _ in range(40))
        with self.world.lock:
            self.codes[code] = AuthCode(code, client_id, redirect_uri, realm_id, scopes, person(email),
                                        self.world.clock.timestamp() + self.world.options["code_ttl"])
            self.issued.append(code)
        return code

    def exchange_code(self, app: App, code: str, redirect_uri: str) -> dict:
        """Trade a code for tokens (``invalid_grant`` if it is unknown, used, expired or not this app's)."""
        with self.world.lock:
            found = self.codes.get(code)
            now = self.world.clock.timestamp()
            if found is None or found.used or found.expires_at < now or found.client_id != app.client_id:
                raise self._invalid(app, found.realm_id if found else None, "authorization code is invalid")
            if found.redirect_uri != redirect_uri:
                raise self._invalid(app, found.realm_id, "redirect_uri does not match the authorization request")
            found.used = True
            grant = self._new_grant(app.client_id, found.realm_id, found.scopes, found.user)
            self._count(app, grant.realm_id, "authorization_code")
            return self._body(grant, self._new_access(grant))

    # -- grants -------------------------------------------------------------------------------------
    def grant_directly(self, app: App, realm_id: str, email: str = "owner@demo.example",
                       scopes: list[str] | None = None) -> dict:
        """Tokens for ``app`` on ``realm_id`` without the browser dance (the control API's shortcut)."""
        with self.world.lock:
            grant = self._new_grant(app.client_id, realm_id, scopes or [ACCOUNTING_SCOPES[0], "openid", "email"],
                                    person(email))
            self._count(app, realm_id, "authorization_code")
            return self._body(grant, self._new_access(grant))

    def refresh_grant(self, app: App, token: str) -> dict:
        """Rotate a refresh token; a superseded one is refused unless within the grace period."""
        with self.world.lock:
            entry = self.refresh.get(token)
            grant = self.grants.get(entry[0]) if entry else None
            now = self.world.clock.timestamp()
            if grant is None or grant.client_id != app.client_id or grant.revoked:
                raise self._invalid(app, grant.realm_id if grant else None, "refresh token is invalid")
            if grant.refresh_expires_at < now:
                raise self._invalid(app, grant.realm_id, "refresh token has expired")
            superseded_at = entry[1]
            if superseded_at is not None:
                if now - superseded_at > self.world.options["refresh_grace_seconds"]:
                    raise self._invalid(app, grant.realm_id, "refresh token has been superseded")
                self._count(app, grant.realm_id, "refresh_token")
                return self._body(grant, self._new_access(grant))
            self.refresh[token] = (grant.id, now)
            grant.refresh_token = self._token("refresh")
            self.refresh[grant.refresh_token] = (grant.id, None)
            grant.refresh_expires_at = now + self.world.options["refresh_token_ttl"]
            self._count(app, grant.realm_id, "refresh_token")
            return self._body(grant, self._new_access(grant))

    def revoke(self, app: App, token: str) -> None:
        """End the grant that ``token`` (access or refresh) belongs to; unknown tokens are ignored."""
        with self.world.lock:
            entry = self.access.get(token) or self.refresh.get(token)
            grant = self.grants.get(entry[0]) if entry else None
            if grant is not None and grant.client_id == app.client_id:
                grant.revoked = True
                self.world.changed()

    def grant_for_access(self, token: str) -> tuple[Grant | None, str]:
        """The live grant of an access token, or ``None`` with the reason for the 401."""
        entry = self.access.get(token)
        if entry is None:
            return None, "Token invalid"
        grant = self.grants.get(entry[0])
        if grant is None or grant.revoked:
            return None, "Token revoked"
        if entry[1] <= self.world.clock.timestamp():
            return None, "Token expired"
        return grant, ""

    def expire_access_tokens(self) -> int:
        """Make every access token expired now; returns how many were live."""
        with self.world.lock:
            now = self.world.clock.timestamp()
            live = [t for t, (_, exp) in self.access.items() if exp > now]
            for token in live:
                self.access[token] = (self.access[token][0], now)
            return len(live)

    def connected(self, realm_id: str) -> set[str]:
        """Client ids with a live accounting grant on ``realm_id`` (they get its webhooks)."""
        now = self.world.clock.timestamp()
        return {g.client_id for g in list(self.grants.values())
                if g.realm_id == realm_id and not g.revoked and g.refresh_expires_at > now}

    # -- internals ----------------------------------------------------------------------------------
    def _token(self, kind: str) -> str:
        if kind == "access":
            value = "eyJ" + secrets.token_urlsafe(96)
        else:
            value = "AB11" + str(int(self.world.clock.timestamp())) + "".join(
                secrets.choice(_ALNUM) for _ in range(36))
        self.issued.append(value)
        return value

    def _new_grant(self, client_id: str, realm_id: str | None, scopes: list[str], user: dict) -> Grant:
        now = self.world.clock.timestamp()
        grant = Grant(uuid.uuid4().hex, client_id, realm_id if has_accounting(scopes) else None, list(scopes),
                      dict(user), self._token("refresh"), now + self.world.options["refresh_token_ttl"], now)
        self.grants[grant.id] = grant
        self.refresh[grant.refresh_token] = (grant.id, None)
        self.world.changed()
        return grant

    def _new_access(self, grant: Grant) -> str:
        token = self._token("access")
        self.access[token] = (grant.id, self.world.clock.timestamp() + self.world.options["access_token_ttl"])
        self.world.changed()
        return token

    def _body(self, grant: Grant, access: str) -> dict:
        now = self.world.clock.timestamp()
        return {"token_type": "bearer", "access_token": access, "refresh_token": grant.refresh_token,
                "expires_in": int(self.world.options["access_token_ttl"]),
                "x_refresh_token_expires_in": max(0, int(grant.refresh_expires_at - now))}

    def _count(self, app: App, realm_id: str | None, kind: str) -> None:
        app.counters["token_grants"][kind] += 1
        realm = self.world.realms.get(realm_id) if realm_id else None
        if realm is not None:
            realm.count_grant(kind)

    def _invalid(self, app: App, realm_id: str | None, why: str) -> OAuthError:
        app.counters["invalid_grant"] += 1
        realm = self.world.realms.get(realm_id) if realm_id else None
        if realm is not None:
            realm.count_grant(None)
        else:
            self.world.counters["invalid_grant"] += 1
        return OAuthError(400, "invalid_grant", why)
