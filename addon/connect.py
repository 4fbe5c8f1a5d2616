"""Connecting companies: OAuth connect, Sign in with Intuit, reconnect and disconnect.

A connect is Intuit's authorization-code flow with accounting + OpenID scopes: the callback's
code becomes tokens, userinfo names the person, CompanyInfo names the company; then, in one
transaction, the company (unique on environment and realm), its encrypted tokens, the user, the
user's role and the audit record are written. The first user to connect a company becomes its
admin. A reconnect replaces the tokens and resumes the work parked while the company was cut off.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from addon import companyjobs
from addon.clock import utcnow
from addon.companies import Identity, create_company, find_by_realm, upsert_user
from addon.errors import InvalidInput
from addon.ledger.faults import AuthLost, LedgerFault
from addon.models.companies import Company, CompanyStatus, Connection, Membership, Role, User
from addon.oauth import CONNECT, SIGN_IN, TokenGrant
from addon.tokens import StoredTokens, TokenStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connected:
    """What a finished connect did."""

    company: Company
    user: User
    created: bool
    reconnected: bool
    resumed_jobs: int = 0


class _GrantTokens:
    """Stands in for the token keeper while a just-issued grant is not stored yet."""

    def __init__(self, grant: TokenGrant):
        self.grant = grant

    def current(self, company_id):
        return StoredTokens(company_id, 0, self.grant.access_token, self.grant.refresh_token, None, None, "connected")

    def refresh(self, company_id, *, seen_version):
        raise AuthLost("QuickBooks refused a token it has just issued; try connecting again")


class ConnectFlow:
    """Starts and finishes Intuit's OAuth flows for one deployment."""

    def __init__(self, container):
        self.container = container
        self.store = TokenStore(container.database, container.vault)

    def start(self, purpose: str = CONNECT) -> tuple[str, str]:
        """(Intuit's authorize URL, the state to bind to the browser session)."""
        if purpose not in (CONNECT, SIGN_IN):
            raise ValueError(f"unknown purpose {purpose!r}")
        state = secrets.token_urlsafe(24)
        return self.container.oauth.authorization_url(purpose, state), state

    def _company_name(self, realm_id: str, grant: TokenGrant) -> str | None:
        from addon.quickbooks.gateway import QuickBooksLedgerGateway

        settings = self.container.settings
        known = self.container.companies.find(settings.qbo_environment_label, realm_id)
        # The read counts against the company's own budget when it is known (Intuit meters per realm).
        budget_key = known.id if known else f"realm:{realm_id}"
        gateway = QuickBooksLedgerGateway(budget_key, realm_id, _GrantTokens(grant), self.container.budget,
                                          api_url=settings.qbo_api_url, minor_version=settings.qbo_minor_version,
                                          timeout=settings.qbo_request_timeout)
        try:
            return gateway.company_info().name or None
        except LedgerFault as exc:
            if not exc.retryable:
                raise
            log.warning("CompanyInfo unavailable while connecting realm %s: %s", realm_id, exc.code)
            return None

    def finish_connect(self, code: str, realm_id: str | None) -> Connected:
        """Turn the callback's code into a connected company and a signed-in admin."""
        if not code or not realm_id:
            raise InvalidInput("QuickBooks did not say which company was connected (no code or realmId)")
        oauth = self.container.oauth
        grant = oauth.exchange_code(code)
        identity = oauth.user_info(grant.access_token)
        name = self._company_name(realm_id, grant)
        environment = self.container.settings.qbo_environment_label
        try:
            company, user, created, reconnected = self._record(realm_id, environment, grant, identity, name)
        except IntegrityError:
            # Someone completed a connect for this new realm (or the same person in two tabs) at the same
            # moment, and their company row won the unique (environment, realm): ours becomes a renewal.
            log.info("a simultaneous connect created realm %s first; recording this one as a renewal", realm_id)
            company, user, created, reconnected = self._record(realm_id, environment, grant, identity, name)
        resumed = companyjobs.resume(self.container, company.id) if not created else 0
        return Connected(company, user, created, reconnected, resumed)

    def _record(self, realm_id: str, environment: str, grant: TokenGrant, identity: Identity, name: str | None):
        """Write the company (or find it), its tokens, the user, the role and the audit record, in one go."""
        now = utcnow()
        with self.container.unit_of_work() as session:
            company = find_by_realm(session, environment, realm_id)
            created = company is None
            reconnected = not created and company.status != CompanyStatus.CONNECTED.value
            if created:
                company = create_company(session, environment=environment, realm_id=realm_id,
                                         name=name or f"QuickBooks company {realm_id}", now=now)
            else:
                company.status, company.status_reason = CompanyStatus.CONNECTED.value, None
                company.connected_at, company.disconnected_at = now, None
                company.name = name or company.name
            version = session.execute(select(Connection.version).where(Connection.company_id == company.id)
                                      .with_for_update()).scalar_one()
            self.store.save(company.id, grant, expected_version=version, now=now, session=session,
                            scopes="accounting openid email profile")
            user = upsert_user(session, identity, now)
            role = self._ensure_member(session, company.id, user.id, now)
            action = "company.connected" if created else ("company.reconnected" if reconnected else "company.tokens_renewed")
            self.container.audit.append(company.id, action, actor=f"user:{user.id}", subject=f"company:{company.id}",
                                        details={"realm_id": realm_id, "environment": environment, "role": role,
                                                 "email": identity.email}, session=session)
        return company, user, created, reconnected

    @staticmethod
    def _ensure_member(session, company_id: str, user_id: str, now) -> str:
        membership = session.get(Membership, (company_id, user_id))
        if membership is None:
            # Only a QuickBooks company's admins can authorize an app for it, so whoever completes the
            # connect is an admin there; here too (the first one, and anyone reconnecting it).
            membership = Membership(company_id=company_id, user_id=user_id, role=Role.ADMIN.value, created_at=now)
            session.add(membership)
        return membership.role

    def sign_in(self, code: str) -> User:
        """Sign in with Intuit (OpenID only): the user, created on first sign-in."""
        if not code:
            raise InvalidInput("Intuit did not send an authorization code")
        oauth = self.container.oauth
        grant = oauth.exchange_code(code)
        identity: Identity = oauth.user_info(grant.access_token)
        with self.container.unit_of_work() as session:
            return upsert_user(session, identity, utcnow())

    def disconnect(self, company_id: str, *, actor: str, reason: str = "disconnected by an admin") -> Company:
        """Revoke the company's tokens at Intuit, wipe them here; the company, history and audit stay."""
        tokens = self.store.load(company_id)
        revoked, error = False, None
        if tokens.refresh_token:
            try:
                self.container.oauth.revoke(tokens.refresh_token)
                revoked = True
            except LedgerFault as exc:
                error = exc.code  # wipe anyway: a disconnect the admin asked for must happen
        with self.container.unit_of_work() as session:
            company = session.get(Company, company_id)
            company.status, company.status_reason = CompanyStatus.DISCONNECTED.value, reason
            company.disconnected_at = utcnow()
            self.store.wipe(session, company_id)
            self.container.audit.append(company_id, "company.disconnected", actor=actor, subject=f"company:{company_id}",
                                        details={"revoked_at_intuit": revoked, "revoke_error": error, "reason": reason},
                                        session=session)
            return company

    def check_disconnected_at_intuit(self, realm_id: str) -> Company | None:
        """Intuit's Disconnect URL was opened for ``realm_id``: if Intuit indeed refuses our grant, record it.

        The request itself proves nothing (anyone can open the URL), so the grant is tried: only a
        refused refresh token disconnects the company.
        """
        company = self.container.companies.find(self.container.settings.qbo_environment_label, realm_id)
        if company is None or company.status == CompanyStatus.DISCONNECTED.value:
            return company
        tokens = self.store.load(company.id)
        if not tokens.refresh_token:
            return company
        try:
            self.container.tokens.refresh(company.id, seen_version=tokens.version)
            return company  # the grant still works: nothing was disconnected
        except AuthLost:
            pass
        except LedgerFault:
            return company  # cannot tell now; the next use of the tokens will
        return self.disconnect(company.id, actor="intuit", reason="disconnected in QuickBooks")
