"""Companies, users and roles: the tenants and who may do what for each.

Every read here is scoped to one company, and ``require_role`` is what web routes and commands
call before touching a company on a user's behalf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.audit import AuditChain
from addon.clock import utcnow
from addon.db import Database
from addon.errors import Forbidden, InvalidInput, NotFound
from addon.models.audit import GENESIS_HASH, AuditHead
from addon.models.base import new_id
from addon.models.companies import Company, CompanyStatus, Connection, Membership, Role, User


@dataclass(frozen=True)
class Identity:
    """Who signed in with Intuit, as the OpenID userinfo endpoint says."""

    sub: str
    email: str | None = None
    name: str | None = None


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone (``America/New_York``), else ``InvalidInput``."""
    if not isinstance(name, str) or name not in _zone_names():
        raise InvalidInput(f"{name!r} is not an IANA time zone name (e.g. America/New_York or UTC)")
    return name


class Companies:
    """Reads and changes companies, users and memberships."""

    def __init__(self, database: Database, audit: AuditChain, clock: Callable[[], datetime] = utcnow):
        self.database = database
        self.audit = audit
        self.clock = clock

    # Companies -----------------------------------------------------------------------------
    def get(self, company_id: str) -> Company:
        """The company, or ``NotFound``."""
        with self.database.unit_of_work() as session:
            company = session.get(Company, company_id)
            if company is None:
                raise NotFound(f"no company {company_id!r}")
            return company

    def find(self, environment: str, realm_id: str) -> Company | None:
        """The company for a QuickBooks realm in an environment, if connected before."""
        with self.database.unit_of_work() as session:
            return find_by_realm(session, environment, realm_id)

    def list(self, *, user_id: str | None = None) -> list[Company]:
        """Every company (or only those ``user_id`` has a role for), by name."""
        query = select(Company).order_by(Company.name, Company.id)
        if user_id is not None:
            query = query.join(Membership, Membership.company_id == Company.id).where(Membership.user_id == user_id)
        with self.database.unit_of_work() as session:
            return list(session.execute(query).scalars())

    def set_timezone(self, company_id: str, timezone: str, *, actor: str) -> Company:
        """Set the time zone the company's periods are computed in."""
        timezone = check_timezone(timezone)
        with self.database.unit_of_work() as session:
            company = session.get(Company, company_id)
            if company is None:
                raise NotFound(f"no company {company_id!r}")
            before, company.timezone = company.timezone, timezone
            self.audit.append(company_id, "company.timezone_set", actor=actor, subject=f"company:{company_id}",
                              details={"from": before, "to": timezone}, session=session)
            return company

    # Users and roles -------------------------------------------------------------------------
    def user(self, user_id: str) -> User:
        """The user, or ``NotFound``."""
        with self.database.unit_of_work() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id!r}")
            return user

    def role_of(self, user_id: str | None, company_id: str) -> Role | None:
        """The user's role for the company, or None."""
        if not user_id:
            return None
        with self.database.unit_of_work() as session:
            membership = session.get(Membership, (company_id, user_id))
            return Role(membership.role) if membership else None

    def require_role(self, user_id: str | None, company_id: str, needed: Role) -> Role:
        """The user's role if it allows ``needed`` for this company; otherwise ``Forbidden``."""
        role = self.role_of(user_id, company_id)
        if role is None or not role.allows(needed):
            raise Forbidden(f"you need the {Role(needed).value} role for this company")
        return role

    def members(self, company_id: str) -> list[tuple[User, Role]]:
        """The company's users with their roles."""
        query = (select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                 .where(Membership.company_id == company_id).order_by(User.email, User.id))
        with self.database.unit_of_work() as session:
            return [(user, Role(role)) for user, role in session.execute(query)]

    def grant(self, company_id: str, email: str, role: Role, *, actor: str) -> User:
        """Give the user with ``email`` a role for the company (the user must have signed in once)."""
        role = Role(role)
        with self.database.unit_of_work() as session:
            if session.get(Company, company_id) is None:
                raise NotFound(f"no company {company_id!r}")
            user = session.execute(select(User).where(User.email == email).order_by(User.created_at)).scalars().first()
            if user is None:
                raise NotFound(f"nobody with the email {email!r} has signed in to autobill yet")
            membership = session.get(Membership, (company_id, user.id))
            if membership is None:
                session.add(Membership(company_id=company_id, user_id=user.id, role=role.value, created_at=self.clock()))
            else:
                membership.role = role.value
            self.audit.append(company_id, "member.role_set", actor=actor, subject=f"user:{user.id}",
                              details={"role": role.value}, session=session)
            return user


def find_by_realm(session: Session, environment: str, realm_id: str) -> Company | None:
    """The company for (environment, realm) inside ``session``."""
    return session.execute(select(Company).where(Company.environment == environment,
                                                 Company.realm_id == realm_id)).scalar_one_or_none()


def upsert_user(session: Session, identity: Identity, now: datetime) -> User:
    """The user for an Intuit identity (``sub``), created on first sign-in, email and name kept fresh."""
    user = session.execute(select(User).where(User.intuit_sub == identity.sub)).scalar_one_or_none()
    if user is None:
        user = User(id=new_id("us"), intuit_sub=identity.sub, created_at=now)
        session.add(user)
    user.email = identity.email or user.email
    user.name = identity.name or user.name
    user.last_sign_in_at = now
    session.flush()
    return user


def create_company(session: Session, *, environment: str, realm_id: str, name: str, now: datetime) -> Company:
    """A new connected company with its empty connection row and the head of its audit chain."""
    company = Company(id=new_id("co"), environment=environment, realm_id=realm_id, name=name, timezone="UTC",
                      status=CompanyStatus.CONNECTED.value, created_at=now, connected_at=now)
    session.add(company)
    session.flush()
    session.add(Connection(company_id=company.id, version=0, scopes=""))
    session.add(AuditHead(company_id=company.id, seq=0, hash=GENESIS_HASH))
    session.flush()
    return company
