"""Postings (one draft on its way into QuickBooks, unique per business key), the item cache, and the
scheduler's billing cursors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime

MONEY = Numeric(20, 6)


class PostingState(StrEnum):
    """Where a posting stands. ``FINAL`` states never change without a person; the rest move on."""

    PLANNED = "planned"  # drafted, nothing sent to QuickBooks yet
    CREATING = "creating"  # the create call may be in flight (or its outcome is unknown)
    CREATED = "created"  # the invoice exists and its totals match; final in create-only mode
    SENDING = "sending"  # the send call may be in flight (or its outcome is unknown)
    SENT = "sent"  # QuickBooks emailed it
    HELD = "held"  # waits for a person (before create when it has no invoice id, else after create)
    REJECTED = "rejected"  # QuickBooks refused it; its message is the reason
    NEEDS_ATTENTION = "needs_attention"  # QuickBooks' totals differ from the draft's
    DELIVERY_FAILED = "delivery_failed"  # QuickBooks could not email it (bad address)
    PAUSED = "paused"  # the company must reconnect; resumes where it was
    FAILED = "failed"  # transient failures exhausted the retries; a person retries it
    DECLINED = "declined"  # a person rejected it in review


STATE_VALUES = tuple(s.value for s in PostingState)


class Posting(Base):
    """One draft on its way into QuickBooks: exactly one per business key, ever."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("state in (" + ", ".join(f"'{s}'" for s in STATE_VALUES) + ")", name="state"),
        Index("ix_postings_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_postings_company_id_state", "company_id", "state"),
        Index("ix_postings_company_id_agreement_id", "company_id", "agreement_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(36), unique=True)  # str(BusinessKey), QuickBooks' requestid
    key_text: Mapped[str] = mapped_column(Text)  # company/agreement/rule/billed thing
    agreement_id: Mapped[str] = mapped_column(String(255))
    rule_id: Mapped[str] = mapped_column(String(255))
    rule_version: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    event_id: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(Text, default="", server_default="")
    draft: Mapped[str] = mapped_column(Text)  # rules.dump_draft: what is posted, retried and approved
    original_draft: Mapped[str | None] = mapped_column(Text)  # the draft before a person edited it
    total: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_date: Mapped[date] = mapped_column(Date)
    send_mode: Mapped[str] = mapped_column(String(30))
    hold_before_create: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    hold_reasons: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")  # JSON list
    has_credit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    backlog: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    state: Mapped[str] = mapped_column(String(20))
    state_reason: Mapped[str | None] = mapped_column(Text)
    resume_state: Mapped[str | None] = mapped_column(String(20))  # where a paused or failed posting resumes
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # failures of this step
    create_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    qbo_invoice_id: Mapped[str | None] = mapped_column(String(64))
    qbo_doc_number: Mapped[str | None] = mapped_column(String(64))
    qbo_total: Mapped[Decimal | None] = mapped_column(MONEY)
    qbo_tax: Mapped[Decimal | None] = mapped_column(MONEY)
    email_status: Mapped[str | None] = mapped_column(String(30))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivery_error: Mapped[str | None] = mapped_column(Text)
    intuit_tid: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    edited_by: Mapped[str | None] = mapped_column(String(255))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ItemRef(Base):
    """A QuickBooks item's id by name, cached so an invoice costs exactly two calls (create, send)."""

    __tablename__ = "qbo_item_refs"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingCursor(Base):
    """How far the scheduler has raised an agreement's period closes, and when the next one is due."""

    __tablename__ = "billing_cursors"
    __table_args__ = (Index("ix_billing_cursors_next_due_at", "next_due_at"),)

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    through: Mapped[datetime] = mapped_column(UTCDateTime())  # boundaries due at or before it are raised
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: no boundary left
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
