"""The usage ledger: every version of every time entry, expense and SLA breach, what consumed them,
the cursors of polled sources, and the threshold crossings already raised."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from addon.models.types import DecimalText

_ID = BigInteger().with_variant(Integer, "sqlite")


class UsageVersion(Base):
    """One version of one usage record (``rules.UsageRecord``); an edit or a deletion adds a version.

    Versions are never edited, except that a version waiting for a mapping gets its agreement
    when one is set. ``agreement_id`` None means "needs mapping".
    """

    __tablename__ = "usage_versions"
    __table_args__ = (
        UniqueConstraint("company_id", "source", "source_id", "version", name="uq_usage_versions_record_version"),
        CheckConstraint("kind in ('time', 'expense', 'sla_breach')", name="kind"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    date: Mapped[date] = mapped_column(Date)
    agreement_id: Mapped[str | None] = mapped_column(String(255))
    person: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    task: Mapped[str | None] = mapped_column(Text)
    project: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[Decimal | None] = mapped_column(DecimalText())
    quantity: Mapped[Decimal | None] = mapped_column(DecimalText())
    billable: Mapped[bool] = mapped_column(Boolean)
    amount: Mapped[Decimal | None] = mapped_column(DecimalText())
    rate: Mapped[Decimal | None] = mapped_column(DecimalText())
    currency: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(Boolean)
    taxable: Mapped[bool | None] = mapped_column(Boolean)
    # JSON list of the mapping keys the source offered ("project:toggl:42", ...), most specific first.
    mapping_keys: Mapped[str] = mapped_column(Text, default="[]")
    # SHA-256 of the billing content (every UsageRecord field but version and agreement): an identical
    # re-read (Harvest's overlap, a redelivery) is not a new version.
    fingerprint: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the source's time of change
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_id: Mapped[str | None] = mapped_column(String(64))  # the events row it came from, if any
    source_event_id: Mapped[str | None] = mapped_column(Text)


class UsageHead(Base):
    """The current version of one usage record; its row lock serializes versions of the record."""

    __tablename__ = "usage_heads"
    __table_args__ = (Index("ix_usage_heads_company_agreement_pending", "company_id", "agreement_id", "pending"),)

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    date: Mapped[date] = mapped_column(Date)
    agreement_id: Mapped[str | None] = mapped_column(String(255))
    deleted: Mapped[bool] = mapped_column(Boolean)
    fingerprint: Mapped[str] = mapped_column(String(64))
    mapping_keys: Mapped[str] = mapped_column(Text, default="[]")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last version the record's current agreement consumed (None: it never billed this record),
    # and whether drafting for that agreement must see the current version: kept with every change
    # so drafting reads only what is pending, however long the billed history.
    billed_version: Mapped[int | None] = mapped_column(Integer)
    pending: Mapped[bool] = mapped_column(Boolean)


class UsageCredit(Base):
    """A record an agreement billed that has since moved to another agreement (or lost its mapping):
    the agreement owes its client a credit for it, until a posting of the agreement consumes it."""

    __tablename__ = "usage_credits"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageConsumption(Base):
    """A usage record version an invoice billed: which posting (business key) consumed it, for which
    agreement, and what it billed for it (the engine's ``UsageConsumed``). "Billed" means consumed."""

    __tablename__ = "usage_consumption"
    __table_args__ = (
        # One agreement bills one version once: a second posting that tries is refused.
        UniqueConstraint("company_id", "agreement_id", "source", "source_id", "version",
                         name="uq_usage_consumption_agreement_version"),
        Index("ix_usage_consumption_company_posting", "company_id", "posting_key"),
        Index("ix_usage_consumption_record", "company_id", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    agreement_id: Mapped[str] = mapped_column(String(255))
    posting_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    component_id: Mapped[str] = mapped_column(String(255))
    hours: Mapped[Decimal | None] = mapped_column(DecimalText())
    quantity: Mapped[Decimal | None] = mapped_column(DecimalText())
    amount: Mapped[Decimal | None] = mapped_column(DecimalText())
    deleted: Mapped[bool] = mapped_column(Boolean)
    consumed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageAgreementLock(Base):
    """One row per agreement with usage: locking it serializes threshold checks and drafting reads
    of that agreement's usage, so two workers never both miss (or both fire) a crossing."""

    __tablename__ = "usage_agreement_locks"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ThresholdCrossing(Base):
    """A threshold crossing raised as an event: (agreement, rule, period, n-th crossing) fires once."""

    __tablename__ = "threshold_crossings"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    crossing: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_object_id: Mapped[str] = mapped_column(Text)
    hours: Mapped[Decimal | None] = mapped_column(DecimalText())
    amount: Mapped[Decimal | None] = mapped_column(DecimalText())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PollCursor(Base):
    """Where the poll of one source account stands: the cursor saved after the entries it covers
    were stored, and when it may poll again (a rate limit, a failure)."""

    __tablename__ = "poll_cursors"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(50), primary_key=True)
    account: Mapped[str] = mapped_column(String(255), primary_key=True)  # the endpoint polled
    cursor: Mapped[str | None] = mapped_column(Text)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # last poll that stored its entries
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
