"""Insert-or-ignore and upsert in one statement on SQLite and PostgreSQL (``ON CONFLICT``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, model: Any):
    return postgresql.insert(model) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(model)


def insert_unless_present(session: Session, model: Any, values: Mapping[str, Any], unique: Sequence[str]) -> bool:
    """Insert one row unless one with the same ``unique`` columns exists; True when this call inserted it.

    Two processes inserting the same key at once never fail: exactly one of them inserts.
    """
    statement = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    # RETURNING says whether this statement inserted: with a generated key, PostgreSQL's driver reports
    # no row count for an insert.
    statement = statement.returning(*model.__table__.primary_key.columns)
    return session.connection().execute(statement).first() is not None


def upsert(session: Session, model: Any, values: Mapping[str, Any], unique: Sequence[str],
           update: Sequence[str]) -> None:
    """Insert one row, or update ``update`` columns of the row with the same ``unique`` columns."""
    statement = _insert(session, model).values(**values)
    statement = statement.on_conflict_do_update(index_elements=list(unique),
                                                set_={name: statement.excluded[name] for name in update})
    session.connection().execute(statement)
