"""Events on their way from a delivery (or tick, or the usage ledger) to the handler that bills them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class EventStatus(StrEnum):
    """Where an event stands; ``reason`` says why it waits, was ignored or failed."""

    WAITING_ENRICHMENT = "waiting_enrichment"  # the source's API must complete it first
    WAITING_MAPPING = "waiting_mapping"  # its customer (or project) must map to QuickBooks first
    READY = "ready"  # for its kind's handler (reason "no handler for <kind>" while none is registered)
    DONE = "done"  # the handler finished with it
    IGNORED = "ignored"  # nothing to bill after all (reason kept)
    FAILED = "failed"  # gave up after retries or on an error retrying cannot fix (``autobill replay`` runs it again)


OPEN_STATUSES = (EventStatus.WAITING_ENRICHMENT, EventStatus.WAITING_MAPPING, EventStatus.READY)


class EventOrigin(StrEnum):
    """Where an event came from."""

    DELIVERY = "delivery"  # a connector read it from a delivery
    RAISED = "raised"  # tick or the usage ledger raised it for one agreement


class EventRecord(Base):
    """One canonical event (``rules.Event``, kept as its JSON form in ``payload``) and its progress."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("company_id", "dedupe_key"),
        CheckConstraint("status in ('waiting_enrichment', 'waiting_mapping', 'ready', 'done', 'ignored', "
                        "'failed')", name="status"),
        CheckConstraint("origin in ('delivery', 'raised')", name="origin"),
        Index("ix_events_company_customer", "company_id", "source", "source_customer_id"),
        Index("ix_events_company_created", "company_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    # ``delivery:<delivery id>:<n>`` for the n-th event of a delivery; for raised events
    # ``raised:<source>:<kind>:<source object>`` (a digest when long), so a repeat is refused.
    dedupe_key: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(20))
    delivery_id: Mapped[str | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(40))
    source_object_id: Mapped[str] = mapped_column(Text)
    source_customer_id: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)  # rules.event_to_dict as JSON
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the sweeper should enqueue it again if it is still open (None: it waits for a person or is closed).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    qbo_customer_id: Mapped[str | None] = mapped_column(String(64))
    agreement_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
