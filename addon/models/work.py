"""Work paused for a company that needs reconnecting, kept until it can run again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.models.base import Base, UTCDateTime


class ParkedJob(Base):
    """A company job that could not run because the company lost its connection."""

    __tablename__ = "parked_jobs"
    __table_args__ = (UniqueConstraint("company_id", "job_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    # The same job parked twice is kept once: the key is a hash of the function and its arguments.
    job_key: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(50))
    func: Mapped[str] = mapped_column(String(255))
    args: Mapped[str] = mapped_column(Text)  # JSON list of plain ids and values
    # RQ's retry policy left when it was parked, as JSON {"max": n, "intervals": [seconds, ...]}; None: none.
    retry: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(255))
    parked_at: Mapped[datetime] = mapped_column(UTCDateTime())
