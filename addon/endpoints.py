"""Endpoints: one unguessable ingest URL per company and source, with its secrets in the vault.

The URL is ``<public URL>/hooks/<source>/<token>``. The token is found by its SHA-256, so the table
holds no usable URL in the clear; the vault keeps it readable for ``autobill endpoints list``. The
signing secret comes from the vendor (``--secret-stdin``), from autobill (generic: generated and
shown once), or from a handshake (Asana); Salesforce signs nothing and names its org in settings.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

import connectors
from addon.audit import AuditChain
from addon.clock import utcnow
from addon.db import Database
from addon.errors import InvalidInput, NotFound
from addon.models.base import new_id
from addon.models.companies import Company
from addon.models.inbox import Endpoint, EndpointStatus
from addon.vault import Vault
from connectors.errors import ConnectorError, UnknownConnector

GENERATED_SECRET = frozenset({"generic"})  # autobill makes the secret and shows it once
NO_SECRET = frozenset({"salesforce"})  # no signature: the org id in settings and the URL token
REQUIRED_SETTINGS = {"salesforce": ("organization_id",), "harvest": ("account_id",)}
CACHE_LIMIT = 10_000


def token_digest(token: str) -> str:
    """The SHA-256 (hex) an endpoint is looked up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def uses_handshake(source: str) -> bool:
    """True for sources that hand over their signing secret in a handshake (Asana)."""
    return callable(getattr(connectors.get(source), "handshake_secret", None))


@dataclass(frozen=True)
class EndpointInfo:
    """What people and the front door see of an endpoint (never a secret)."""

    id: str
    company_id: str
    source: str
    status: str
    settings: Mapping[str, Any]
    created_at: datetime
    created_by: str
    has_secret: bool
    has_api_credentials: bool
    rejected_count: int
    last_rejected_at: datetime | None
    last_rejected_reason: str | None


@dataclass(frozen=True)
class ResolvedEndpoint:
    """An endpoint found by its URL, with its signing secret decrypted (for the front door only)."""

    id: str
    company_id: str
    source: str
    status: str
    settings: Mapping[str, Any]
    secret: str | None = field(repr=False)


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint, its URL, and the secret autobill generated (shown once; None otherwise)."""

    endpoint: EndpointInfo
    url: str
    generated_secret: str | None = field(repr=False)


def _info(row: Endpoint) -> EndpointInfo:
    return EndpointInfo(row.id, row.company_id, row.source, row.status, json.loads(row.settings or "{}"),
                        row.created_at, row.created_by, row.secret is not None, row.api_credentials is not None,
                        row.rejected_count, row.last_rejected_at, row.last_rejected_reason)


def _check_settings(source: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(settings, Mapping):
        raise InvalidInput("endpoint settings must be a JSON object")
    missing = [name for name in REQUIRED_SETTINGS.get(source, ()) if not settings.get(name)]
    if missing:
        raise InvalidInput(f"{source} endpoints need the setting(s) {', '.join(missing)} "
                           f"(--setting {missing[0]}=...)")
    try:
        check = getattr(connectors.get(source), "check_settings", None)
    except UnknownConnector:
        check = None  # a polled source (Harvest) or one refused by the caller
    if check is not None:
        try:
            check(settings)  # a connector's own settings (custom fields) are refused here, not at delivery
        except ConnectorError as exc:
            raise InvalidInput(f"{source} endpoint setting refused: {exc.message}") from None
    return dict(settings)


class Endpoints:
    """Creates, lists and resolves endpoints; keeps their secrets in the vault."""

    def __init__(self, database: Database, vault: Vault, audit: AuditChain, public_url: str,
                 clock: Callable[[], datetime] = utcnow, cache_seconds: float = 0.0):
        self.database = database
        self.vault = vault
        self.audit = audit
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        # The front door looks an endpoint up on every request; a few seconds of memory spare the database
        # (a change made by another process is seen after at most this long).
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, ResolvedEndpoint | None]] = {}

    def url_for(self, source: str, token: str) -> str:
        """The URL senders post to."""
        return f"{self.public_url}/hooks/{source}/{token}"

    def create(self, company_id: str, source: str, *, secret: str | None = None, api_credentials: Any = None,
               settings: Mapping[str, Any] | None = None, actor: str) -> CreatedEndpoint:
        """A new endpoint for ``source``; a generic endpoint gets a generated secret, returned once."""
        polled = source in connectors.POLLED  # no webhooks: tick polls the API with the stored credentials
        try:
            if not polled:
                connectors.get(source)
        except UnknownConnector:
            raise InvalidInput(f"no source called {source!r}; known: {', '.join(connectors.sources())}") from None
        settings = _check_settings(source, settings or {})
        generated = None
        handshake = not polled and uses_handshake(source)
        if polled:
            if secret:
                raise InvalidInput(f"{source} sends no webhooks, so it has no signing secret; do not pass one")
            if not api_credentials:
                raise InvalidInput(f"{source} endpoints need the API token autobill polls with (--api-token-stdin)")
        elif source in GENERATED_SECRET:
            if secret:
                raise InvalidInput(f"autobill generates the {source} signing secret; do not pass one")
            secret = generated = "abs_" + secrets.token_urlsafe(32)
        elif handshake:
            if secret:
                raise InvalidInput(f"{source} sends its signing secret in a handshake; do not pass one")
        elif source not in NO_SECRET and not secret:
            raise InvalidInput(f"{source} endpoints need the signing secret {source} issues (--secret-stdin)")
        token = secrets.token_urlsafe(24)
        now = self.clock()
        row = Endpoint(
            id=new_id("ep"), company_id=company_id, source=source, token_digest=token_digest(token),
            token=self.vault.encrypt(token), secret=self.vault.encrypt(secret) if secret else None,
            api_credentials=self.vault.encrypt(json.dumps(api_credentials)) if api_credentials is not None else None,
            settings=json.dumps(settings, sort_keys=True),
            status=(EndpointStatus.AWAITING_HANDSHAKE if handshake else EndpointStatus.ACTIVE).value,
            created_at=now, created_by=actor, rejected_count=0,
        )
        with self.database.unit_of_work() as session:
            if session.get(Company, company_id) is None:
                raise NotFound(f"no company {company_id!r}")
            session.add(row)
            session.flush()
            self.audit.append(company_id, "endpoint.created", actor=actor, subject=f"endpoint:{row.id}",
                              details={"source": source, "settings": settings, "signing": (
                                  "generated" if generated else "handshake" if handshake else
                                  "none" if secret is None else "stored"),
                                  "api_access_stored": api_credentials is not None}, session=session)
        return CreatedEndpoint(_info(row), self.url_for(source, token), generated)

    def list(self, company_id: str) -> list[EndpointInfo]:
        """The company's endpoints, oldest first."""
        with self.database.unit_of_work() as session:
            rows = session.execute(select(Endpoint).where(Endpoint.company_id == company_id)
                                   .order_by(Endpoint.created_at, Endpoint.id)).scalars()
            return [_info(row) for row in rows]

    def url(self, company_id: str, endpoint_id: str) -> str:
        """The endpoint's URL (decrypted from the vault)."""
        row = self._row(company_id, endpoint_id)
        return self.url_for(row.source, self.vault.decrypt(row.token))

    def get(self, company_id: str, endpoint_id: str) -> EndpointInfo:
        """One endpoint of the company, or ``NotFound``."""
        return _info(self._row(company_id, endpoint_id))

    def _row(self, company_id: str, endpoint_id: str) -> Endpoint:
        with self.database.unit_of_work() as session:
            row = session.get(Endpoint, endpoint_id)
            if row is None or row.company_id != company_id:
                raise NotFound(f"no endpoint {endpoint_id!r} in company {company_id!r}")
            return row

    def resolve(self, source: str, token: str) -> ResolvedEndpoint | None:
        """The endpoint behind ``/hooks/<source>/<token>``, or None (unknown, another source, disabled)."""
        digest = token_digest(token)
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > time.monotonic():
            found = cached[1]
        else:
            with self.database.unit_of_work() as session:
                row = session.execute(select(Endpoint).where(Endpoint.token_digest == digest)).scalar()
            found = None if row is None else ResolvedEndpoint(
                row.id, row.company_id, row.source, row.status, json.loads(row.settings or "{}"),
                self.vault.decrypt(row.secret) if row.secret else None)
            if self.cache_seconds > 0:
                if len(self._cache) > CACHE_LIMIT:
                    self._cache.clear()
                self._cache[digest] = (time.monotonic() + self.cache_seconds, found)
        if found is None or found.source != source or found.status == EndpointStatus.DISABLED:
            return None
        return found

    def forget(self) -> None:
        """Drop what ``resolve`` remembers (after this process changed an endpoint)."""
        self._cache.clear()

    def settings(self, endpoint_id: str) -> dict[str, Any]:
        """An endpoint's settings (the per-endpoint choices connectors read)."""
        with self.database.unit_of_work() as session:
            row = session.get(Endpoint, endpoint_id)
        if row is None:
            raise NotFound(f"no endpoint {endpoint_id!r}")
        return json.loads(row.settings or "{}")

    def settings_and_credentials(self, endpoint_id: str) -> tuple[dict[str, Any], Any]:
        """An endpoint's settings and its decrypted API credentials (str, dict or None), for enrichment."""
        with self.database.unit_of_work() as session:
            row = session.get(Endpoint, endpoint_id)
        if row is None:
            raise NotFound(f"no endpoint {endpoint_id!r}")
        credentials = json.loads(self.vault.decrypt(row.api_credentials)) if row.api_credentials else None
        return json.loads(row.settings or "{}"), credentials

    def record_rejection(self, endpoint_id: str, reason: str) -> None:
        """Count one request refused as not authentic (its body is not kept)."""
        with self.database.unit_of_work() as session:
            session.execute(update(Endpoint).where(Endpoint.id == endpoint_id).values(
                rejected_count=Endpoint.rejected_count + 1, last_rejected_at=self.clock(),
                last_rejected_reason=reason[:255]))

    def accept_handshake(self, endpoint_id: str, secret: str) -> bool:
        """Store a handshake's secret if the endpoint still awaits one; False if it does not (refuse it)."""
        with self.database.unit_of_work() as session:
            changed = session.execute(
                update(Endpoint)
                .where(Endpoint.id == endpoint_id, Endpoint.status == EndpointStatus.AWAITING_HANDSHAKE.value)
                .values(secret=self.vault.encrypt(secret), status=EndpointStatus.ACTIVE.value,
                        handshake_at=self.clock())).rowcount
            if changed:
                row = session.get(Endpoint, endpoint_id)
                self.audit.append(row.company_id, "endpoint.handshake_accepted", actor=f"source:{row.source}",
                                  subject=f"endpoint:{endpoint_id}", session=session)
        self.forget()
        return bool(changed)

    def configure(self, company_id: str, endpoint_id: str, *, settings: Mapping[str, Any] | None = None,
                  secret: str | None = None, api_credentials: Any = None, actor: str) -> EndpointInfo:
        """Change an endpoint's settings (merged; a null value removes one), secret or API credentials."""
        with self.database.unit_of_work() as session:
            row = session.get(Endpoint, endpoint_id)
            if row is None or row.company_id != company_id:
                raise NotFound(f"no endpoint {endpoint_id!r} in company {company_id!r}")
            changed: dict[str, Any] = {}
            if settings:
                merged = {**json.loads(row.settings or "{}"), **settings}
                merged = _check_settings(row.source, {k: v for k, v in merged.items() if v is not None})
                row.settings = json.dumps(merged, sort_keys=True)
                changed["settings"] = dict(settings)
            if secret:
                row.secret = self.vault.encrypt(secret)
                changed["signing_replaced"] = True
            if api_credentials is not None:
                row.api_credentials = self.vault.encrypt(json.dumps(api_credentials))
                changed["api_access_replaced"] = True
            if not changed:
                raise InvalidInput("nothing to change: give --setting, --secret-stdin or --api-token-stdin")
            self.audit.append(company_id, "endpoint.configured", actor=actor, subject=f"endpoint:{endpoint_id}",
                              details=changed, session=session)
        self.forget()
        return _info(row)
