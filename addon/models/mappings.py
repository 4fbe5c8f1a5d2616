"""Mappings from what a source knows (a customer, a product, a project, a milestone) to QuickBooks or an
agreement, the claims that keep two workers from creating one customer twice, and company settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class MappingKind(StrEnum):
    """What a mapping maps, and to what."""

    CUSTOMER = "customer"  # source customer id -> QuickBooks customer id
    ITEM = "item"  # source product id, SKU or name -> QuickBooks item id
    PROJECT = "project"  # connector mapping key ("project:toggl:42") -> agreement id
    MILESTONE = "milestone"  # source object id -> agreement id, with the milestone id as detail


class Mapping(Base):
    """One mapping of one company: (kind, source, key) -> target (and detail)."""

    __tablename__ = "mappings"
    __table_args__ = (
        UniqueConstraint("company_id", "kind", "source", "key"),
        CheckConstraint("kind in ('customer', 'item', 'project', 'milestone')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(String(255))
    how: Mapped[str] = mapped_column(String(20))  # person, email, name, sku, created
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(255))


class CustomerClaim(Base):
    """A worker is finding or creating the QuickBooks customer of one source customer right now.

    Only the worker that inserted the claim talks to QuickBooks for that customer; a claim older
    than the claim timeout may be taken over (its worker died), and the taker reuses the request id.
    """

    __tablename__ = "customer_claims"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    source_customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    claim: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompanySetting(Base):
    """One named setting of a company (JSON value), such as how unknown customers are handled."""

    __tablename__ = "company_settings"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(255))
