"""Tokens: the encrypted store with compare-and-set, and single-flight refresh across processes.

Intuit rotates refresh tokens; a process that refreshes with a token another process already
rotated gets ``invalid_grant`` and, believed blindly, would disconnect a healthy company. So:
- one refresh per company at a time, everywhere: a Redis lock around the refresh;
- after taking the lock, re-read the store: if the version moved, someone else refreshed, and
  the loser uses their tokens instead of refreshing again;
- the new pair is committed (compare-and-set on ``version``) before the new access token is used;
- ``invalid_grant`` is believed only after re-reading the store; then the company is marked
  "needs reconnect" and its work pauses until an admin reconnects.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0#refresh-the-token
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from addon.audit import AuditChain
from addon.clock import utcnow
from addon.db import Database
from addon.ledger.faults import AuthLost, InvalidGrant, Transient
from addon.models.companies import Company, CompanyStatus, Connection
from addon.oauth import OAuthClient, TokenGrant
from addon.vault import Vault

LOCK_POLL_SECONDS = 0.005


@dataclass(frozen=True)
class StoredTokens:
    """A company's tokens as stored, decrypted, with the version they were read at."""

    company_id: str
    version: int
    access_token: str | None
    refresh_token: str | None
    access_expires_at: datetime | None
    refreshed_at: datetime | None
    status: str

    def __repr__(self) -> str:  # never show tokens
        return f"StoredTokens(company_id={self.company_id!r}, version={self.version}, status={self.status!r})"


class TokenStore:
    """Reads and writes companies' tokens, encrypted by the vault."""

    def __init__(self, database: Database, vault: Vault):
        self.database = database
        self.vault = vault

    def load(self, company_id: str) -> StoredTokens:
        """The company's current tokens (``AuthLost`` when it has none to use)."""
        with self.database.unit_of_work() as session:
            # One statement for both: this runs before every QuickBooks call.
            found = session.execute(select(Connection, Company.status).join(Company, Company.id == Connection.company_id)
                                    .where(Connection.company_id == company_id)).one_or_none()
            if found is None:
                raise AuthLost(f"company {company_id} is not connected to QuickBooks")
            row, status = found
            return StoredTokens(
                company_id, row.version,
                self.vault.decrypt(row.access_token) if row.access_token else None,
                self.vault.decrypt(row.refresh_token) if row.refresh_token else None,
                row.access_expires_at, row.refreshed_at, status)

    def save(self, company_id: str, grant: TokenGrant, *, expected_version: int, now: datetime,
             session=None, scopes: str | None = None) -> bool:
        """Store ``grant`` if the tokens are still at ``expected_version``; True when written."""
        values = {
            "access_token": self.vault.encrypt(grant.access_token),
            "refresh_token": self.vault.encrypt(grant.refresh_token),
            "access_expires_at": grant.access_expires_at(now),
            "refresh_expires_at": grant.refresh_expires_at(now),
            "refreshed_at": now,
            "version": expected_version + 1,
        }
        if scopes is not None:
            values["scopes"] = scopes
        statement = (update(Connection).where(Connection.company_id == company_id,
                                              Connection.version == expected_version).values(**values))
        if session is not None:
            return session.execute(statement).rowcount == 1
        with self.database.unit_of_work() as own:
            return own.execute(statement).rowcount == 1

    def wipe(self, session, company_id: str) -> None:
        """Forget the company's tokens (inside the caller's transaction); history stays."""
        session.execute(update(Connection).where(Connection.company_id == company_id).values(
            access_token=None, refresh_token=None, access_expires_at=None, refresh_expires_at=None,
            version=Connection.version + 1))


class TokenKeeper:
    """Hands out a usable access token per company, refreshing single-flight when needed."""

    def __init__(self, store: TokenStore, oauth: OAuthClient, redis, audit: AuditChain, *,
                 refresh_margin: float = 300, lock_timeout: float = 90, lock_wait: float = 60,
                 clock: Callable[[], datetime] = utcnow):
        self.store, self.oauth, self.redis, self.audit = store, oauth, redis, audit
        self.refresh_margin = timedelta(seconds=refresh_margin)
        self.lock_timeout, self.lock_wait = lock_timeout, lock_wait
        self.clock = clock

    def _usable(self, tokens: StoredTokens) -> StoredTokens:
        if tokens.status != CompanyStatus.CONNECTED.value or not tokens.refresh_token:
            raise AuthLost(f"company {tokens.company_id} needs to be reconnected to QuickBooks")
        return tokens

    def current(self, company_id: str) -> StoredTokens:
        """Tokens whose access token is valid for a while yet (refreshing first if it is not)."""
        tokens = self._usable(self.store.load(company_id))
        expires = tokens.access_expires_at
        if tokens.access_token and expires and expires - self.refresh_margin > self.clock():
            return tokens
        return self.refresh(company_id, seen_version=tokens.version)

    def refresh(self, company_id: str, *, seen_version: int) -> StoredTokens:
        """Refresh unless someone already did since ``seen_version``; returns the tokens to use."""
        lock = self.redis.lock(f"autobill:refresh:{company_id}", timeout=self.lock_timeout,
                               sleep=LOCK_POLL_SECONDS, blocking_timeout=self.lock_wait)
        if not lock.acquire():
            raise Transient("another process is refreshing this company's tokens; try again shortly",
                            outcome_unknown=False)
        try:
            tokens = self._usable(self.store.load(company_id))
            if tokens.version != seen_version:
                return tokens  # a sibling refreshed while we waited: use theirs
            try:
                grant = self.oauth.refresh(tokens.refresh_token)
            except InvalidGrant as exc:
                return self._believe_invalid_grant(company_id, tokens, exc)
            now = self.clock()
            if not self.store.save(company_id, grant, expected_version=tokens.version, now=now):
                # Only possible if the lock expired under us: the store has newer tokens than ours.
                return self._usable(self.store.load(company_id))
            return StoredTokens(company_id, tokens.version + 1, grant.access_token, grant.refresh_token,
                                grant.access_expires_at(now), now, tokens.status)
        finally:
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - an expired lock is already released
                pass

    def _believe_invalid_grant(self, company_id: str, tokens: StoredTokens, exc: InvalidGrant) -> StoredTokens:
        again = self.store.load(company_id)
        if again.version != tokens.version:
            return self._usable(again)  # rotated by someone else after all: not dead
        reason = "QuickBooks no longer accepts autobill's authorization (the refresh token was refused)"
        raise self.grant_refused(company_id, seen_version=tokens.version, reason=reason, error="invalid_grant",
                                 intuit_tid=exc.intuit_tid, action="connection.refresh_failed")

    def grant_refused(self, company_id: str, *, seen_version: int, reason: str, error: str = "401_after_refresh",
                      intuit_tid: str | None = None, action: str = "connection.lost") -> AuthLost | Transient:
        """Mark the company "needs reconnect" (audited once) unless its tokens moved past ``seen_version``.

        Returns the fault to raise: ``AuthLost``, or, when a reconnect or a sibling's refresh wrote newer
        tokens meanwhile (the refused ones are no longer in use), a ``Transient`` so the work is simply
        tried again: parking it would leave it waiting for a company that is still connected.
        """
        with self.store.database.unit_of_work() as session:
            still = select(Connection.company_id).where(Connection.company_id == company_id,
                                                        Connection.version == seen_version)
            changed = session.execute(
                update(Company).where(Company.id.in_(still), Company.status == CompanyStatus.CONNECTED.value)
                .values(status=CompanyStatus.NEEDS_RECONNECT.value, status_reason=reason[:255])).rowcount
            if changed:
                self.audit.append(company_id, action, actor="autobill", subject=f"company:{company_id}",
                                  session=session, details={"error": error, "reason": reason,
                                                            "intuit_tid": intuit_tid, "outcome": "needs_reconnect"})
            elif getattr(session.get(Company, company_id), "status", None) == CompanyStatus.CONNECTED.value:
                return Transient("the company's tokens changed while QuickBooks refused the old ones; try again",
                                 outcome_unknown=False, intuit_tid=intuit_tid)
        return AuthLost(f"company {company_id} needs to be reconnected: {reason}", qbo_code=error,
                        intuit_tid=intuit_tid)
