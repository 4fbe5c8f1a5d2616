"""Agreements and their versioned rules, stored in the JSON form ``rules`` defines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class AgreementRecord(Base):
    """One agreement of one company: its JSON form without rules (rules live in ``rule_versions``)."""

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_company_customer", "company_id", "customer_id"),)

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))  # the QuickBooks customer's Id
    name: Mapped[str] = mapped_column(String(255))
    document: Mapped[str] = mapped_column(Text)  # the agreement's JSON form, "rules" left out
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    origin: Mapped[str] = mapped_column(String(20))  # "import" or "rule" (started by a company rule)
    started_by_rule: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(50))
    source_object_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(255))


class RuleVersionRecord(Base):
    """One version of one rule, never edited: a change is a new version; ``current`` marks the set in use."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("company_id", "scope", "rule_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(255))  # the agreement's id, or "" for a company rule
    rule_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # the rule's place in its agreement, as imported
    document: Mapped[str] = mapped_column(Text)  # the rule's JSON form, "version" left out
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    current: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
