"""``autobill keys rotate``: re-encrypt every stored secret under the newest key, while running.

Each value is rewritten with a compare-and-set on its old ciphertext, so a value that a running
process replaced in the meantime (a refreshed token) is left alone: it was written under the
newest key already. Every company whose secrets were re-encrypted gets an audit record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Table, and_, select, tuple_, update

from addon.audit import AuditChain
from addon.db import Database
from addon.models import Base
from addon.vault import Vault

BATCH = 200


@dataclass
class RotationReport:
    """How many stored values were re-encrypted, and how many were already under the newest key."""

    rotated: int = 0
    already_current: int = 0
    per_company: Counter = field(default_factory=Counter)


def encrypted_columns() -> list[tuple[Table, list]]:
    """Every table with columns marked ``info={"encrypted": True}``, with those columns."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.info.get("encrypted")]
        if columns:
            found.append((table, columns))
    return found


def rotate_all(database: Database, vault: Vault, audit: AuditChain, *, actor: str = "autobill keys rotate") -> RotationReport:
    """Re-encrypt every marked column of every row under the newest key."""
    report = RotationReport()
    for table, columns in encrypted_columns():
        pk = list(table.primary_key.columns)
        with database.unit_of_work() as session:
            keys = [tuple(row) for row in session.execute(select(*pk).order_by(*pk))]
        for start in range(0, len(keys), BATCH):
            chunk = keys[start:start + BATCH]
            with database.unit_of_work() as session:
                rows = session.execute(select(table).where(tuple_(*pk).in_(chunk))).mappings().all()
            # Re-encrypt outside any transaction, then write each value only if it is still the one
            # read: SQLite's single writer is held for the writes alone.
            changes = []
            for row in rows:
                for column in columns:
                    old = row[column.name]
                    if old is None:
                        continue
                    if vault.is_current(old):
                        report.already_current += 1
                    else:
                        changes.append((row, column, old, vault.rotate(old)))
            with database.unit_of_work() as session:
                for row, column, old, new in changes:
                    match = and_(*(c == row[c.name] for c in pk), column == old)
                    if session.execute(update(table).where(match).values({column.name: new})).rowcount:
                        report.rotated += 1
                        if "company_id" in table.columns:
                            report.per_company[row["company_id"]] += 1
    for company_id, count in sorted(report.per_company.items()):
        audit.append(company_id, "keys.rotated", actor=actor, subject=f"company:{company_id}",
                     details={"values_reencrypted": count, "keys_configured": vault.key_count})
    return report
