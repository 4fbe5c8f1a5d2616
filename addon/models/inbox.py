"""The front door's tables: endpoints (one ingest URL per company and source) and the inbox of deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class EndpointStatus(StrEnum):
    """Whether an endpoint takes deliveries."""

    ACTIVE = "active"
    AWAITING_HANDSHAKE = "awaiting_handshake"  # Asana: the first request must be its handshake
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    """Where a stored delivery stands."""

    RECEIVED = "received"  # stored and acknowledged, not processed yet
    PROCESSED = "processed"  # its events are stored
    IGNORED = "ignored"  # authentic, but nothing in it concerns billing (reason kept)
    UNPARSEABLE = "unparseable"  # authentic, but the connector cannot read it (reason kept)
    FAILED = "failed"  # processing broke in a way retrying does not fix (reason kept)


class Endpoint(Base):
    """One ingest URL ``/hooks/<source>/<token>`` for one company and one source.

    The URL token is looked up by its SHA-256 (``token_digest``) and kept readable only through the
    vault (``token``), like the signing secret and the API credentials enrichment uses.
    """

    __tablename__ = "endpoints"
    __table_args__ = (
        CheckConstraint("status in ('active', 'awaiting_handshake', 'disabled')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(50))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    token: Mapped[str] = mapped_column(Text, info={"encrypted": True})
    secret: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    api_credentials: Mapped[str | None] = mapped_column(Text, info={"encrypted": True})
    settings: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")  # JSON object
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    handshake_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Requests refused as not authentic (401): counted, their bodies never kept.
    rejected_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_rejected_reason: Mapped[str | None] = mapped_column(String(255))


class Delivery(Base):
    """One authentic HTTP request received at an endpoint, stored raw: the inbox is the truth, Redis is not."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "dedupe_key"),
        CheckConstraint("status in ('received', 'processed', 'ignored', 'unparseable', 'failed')", name="status"),
        Index("ix_deliveries_company_received", "company_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    dedupe_key: Mapped[str] = mapped_column(String(255))  # the sender's delivery id
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_type: Mapped[str | None] = mapped_column(String(255))
    headers: Mapped[str] = mapped_column(Text)  # JSON object, credentials left out
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    events_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the sweeper should enqueue it again if it is still not processed (None: nothing to do).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
