"""The audit chain: every side effect explained, per company, in a tamper-evident hash chain.

Each record carries the hash of the one before it, so editing or deleting any record (or the
newest one) breaks the chain that ``verify`` walks. Appends for one company happen one at a
time: the appender locks the company's chain head row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's single writer, taken at ``BEGIN IMMEDIATE``, does the same there).
Details never carry secrets: values under names that look like tokens or secrets are redacted.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.clock import as_utc, utcnow
from addon.db import Database
from addon.models.audit import GENESIS_HASH, AuditHead, AuditRecord

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"token|secret|password|passwd|authorization|api_?key|credential|cookie", re.I)
CSV_COLUMNS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash")
AUDITED_KEY = "autobill_audited"
HEADS_KEY = "autobill_audit_heads"  # (transaction, {company id: its locked chain head})


def redact(value: Any) -> Any:
    """``value`` with anything stored under a secret-looking name replaced by ``[redacted]``."""
    if isinstance(value, Mapping):
        return {str(k): (REDACTED if _SECRET_NAME.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def audited_in(session: Session, action: str, subject: str) -> bool:
    """True when ``session``'s transaction already appended ``action`` about ``subject``."""
    return (action, subject) in session.info.get(AUDITED_KEY, ())


def canonical_json(value: Any) -> str:
    """The one JSON text a value hashes as: sorted keys, no spaces, Decimals and times as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(company_id: str, seq: int, at: datetime, actor: str, action: str, subject: str,
                details: str, prev_hash: str) -> str:
    """The SHA-256 that links a record to its predecessor."""
    payload = canonical_json([company_id, seq, as_utc(at).isoformat(), actor, action, subject, details, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found: how many records, and where the chain first breaks."""

    company_id: str
    records: int
    ok: bool
    broken_at: int | None = None
    problem: str | None = None


class AuditChain:
    """Appends to, verifies and exports companies' audit chains."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow):
        self.database = database
        self.clock = clock

    def append(self, company_id: str, action: str, *, actor: str, subject: str,
               details: Mapping[str, Any] | None = None, session: Session | None = None) -> AuditRecord:
        """Append one record to ``company_id``'s chain (inside ``session``'s transaction when given)."""
        if session is not None:
            return self._append(session, company_id, action, actor, subject, details)
        with self.database.unit_of_work() as own:
            return self._append(own, company_id, action, actor, subject, details)

    def _append(self, session: Session, company_id, action, actor, subject, details) -> AuditRecord:
        head = self._locked_head(session, company_id)
        at = as_utc(self.clock())
        text = canonical_json(redact(dict(details or {})))
        seq = head.seq + 1
        digest = record_hash(company_id, seq, at, actor, action, subject, text, head.hash)
        record = AuditRecord(company_id=company_id, seq=seq, at=at, actor=actor, action=action,
                             subject=subject, details=text, prev_hash=head.hash, hash=digest)
        session.add(record)
        head.seq, head.hash = seq, digest
        session.flush()
        # Lets a caller that shares the transaction see what another step already explained.
        session.info.setdefault(AUDITED_KEY, set()).add((action, subject))
        return record

    @staticmethod
    def _locked_head(session: Session, company_id: str) -> AuditHead:
        """The company's chain head, locked for the rest of ``session``'s transaction.

        The second append of one transaction (a posting records its invoice and the totals check
        together) reuses the head the first one locked and advanced: the lock holds until the
        transaction ends, so nobody else has moved it.
        """
        held = session.info.get(HEADS_KEY)
        if held is not None and held[0] is session.get_transaction() and company_id in held[1]:
            return held[1][company_id]
        head = session.execute(
            select(AuditHead).where(AuditHead.company_id == company_id)
            .with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if head is None:
            head = AuditHead(company_id=company_id, seq=0, hash=GENESIS_HASH)
            session.add(head)
            session.flush()
        transaction = session.get_transaction()  # begun by the query above, if it was not yet
        if held is None or held[0] is not transaction:
            held = session.info[HEADS_KEY] = (transaction, {})
        held[1][company_id] = head
        return head

    def records(self, company_id: str, *, newest_first: bool = False, limit: int | None = None) -> list[AuditRecord]:
        """The company's records in chain order (or newest first)."""
        order = AuditRecord.seq.desc() if newest_first else AuditRecord.seq
        query = select(AuditRecord).where(AuditRecord.company_id == company_id).order_by(order)
        if limit is not None:
            query = query.limit(limit)
        with self.database.unit_of_work() as session:
            return list(session.execute(query).scalars())

    def verify(self, company_id: str) -> ChainReport:
        """Walk the chain from the start; report the first record whose link or content is wrong."""
        with self.database.unit_of_work() as session:
            head = session.get(AuditHead, company_id)
            rows = session.execute(select(AuditRecord).where(AuditRecord.company_id == company_id)
                                   .order_by(AuditRecord.seq)).scalars()
            prev, expected_seq, count = GENESIS_HASH, 1, 0
            for row in rows:
                count += 1
                if row.seq != expected_seq:
                    return ChainReport(company_id, count, False, expected_seq, f"record {expected_seq} is missing")
                if row.prev_hash != prev:
                    return ChainReport(company_id, count, False, row.seq, f"record {row.seq} does not follow "
                                       f"record {row.seq - 1}")
                if record_hash(company_id, row.seq, row.at, row.actor, row.action, row.subject,
                               row.details, row.prev_hash) != row.hash:
                    return ChainReport(company_id, count, False, row.seq, f"record {row.seq} was changed")
                prev, expected_seq = row.hash, expected_seq + 1
            head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
            if (head_seq, head_hash) != (count, prev):
                return ChainReport(company_id, count, False, count + 1,
                                   f"the chain head expects {head_seq} records; {count} remain")
            return ChainReport(company_id, count, True)

    def export_csv(self, company_id: str, out: TextIO) -> int:
        """Write the company's chain as CSV (one row per record, chain order); returns the row count."""
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        count = 0
        for row in self.records(company_id):
            writer.writerow([row.seq, row.at.isoformat(), row.actor, row.action, row.subject, row.details,
                             row.prev_hash, row.hash])
            count += 1
        return count
