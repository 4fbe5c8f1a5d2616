"""Companies (the tenants), their QuickBooks connection, users and roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class CompanyStatus(StrEnum):
    """Where a company's connection to QuickBooks stands."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the refresh token died: work pauses until an admin reconnects
    DISCONNECTED = "disconnected"  # an admin (or Intuit's Disconnect URL) ended it: tokens wiped


class Role(StrEnum):
    """What a user may do for one company; each role includes the ones below it."""

    ADMIN = "admin"
    BOOKKEEPER = "bookkeeper"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return {"viewer": 1, "bookkeeper": 2, "admin": 3}[self.value]

    def allows(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= Role(needed).rank


class Company(Base):
    """One connected QuickBooks company: our ``company_id``, unique on (environment, realm)."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("environment", "realm_id"),
        CheckConstraint("status in ('connected', 'needs_reconnect', 'disconnected')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    environment: Mapped[str] = mapped_column(String(255))
    realm_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Connection(Base):
    """A company's OAuth tokens, encrypted by the vault, with a version for compare-and-set."""

    __tablename__ = "qbo_connections"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    refresh_token: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Every write of new tokens bumps the version; a writer that read an older one loses.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scopes: Mapped[str] = mapped_column(String(255), default="", server_default="")


class User(Base):
    """A person who signs in with Intuit."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    intuit_sub: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Membership(Base):
    """A user's role for one company."""

    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint("role in ('admin', 'bookkeeper', 'viewer')", name="role"),)

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
