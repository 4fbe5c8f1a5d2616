"""The audit chain: append-only records per company, each carrying the previous one's hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditRecord(Base):
    """One explained side effect: who did what to which subject, and the chain link."""

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("company_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest link of a company's chain: the row appenders lock, one at a time."""

    __tablename__ = "audit_heads"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
