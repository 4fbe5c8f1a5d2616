"""Small SQL helpers both databases share: insert-unless-present and row locks."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Keys longer than this are stored as a digest, so a sender's long id still fits an indexed column.
MAX_KEY = 200


def insert_unless_present(session: Session, model: Any, values: Mapping[str, Any],
                          unique: Sequence[str]) -> bool:
    """Insert one row unless a row with the same ``unique`` columns exists; True when inserted.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``) on SQLite and PostgreSQL, so two
    processes inserting the same key at once never fail: exactly one of them inserts.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    statement = (insert(table).values(**values).on_conflict_do_nothing(index_elements=list(unique))
                 .returning(table.c[unique[0]]))
    return session.execute(statement).first() is not None


def for_update(query: Select) -> Select:
    """``query`` locking the rows it reads until the transaction ends (SQLite's writer lock does this already)."""
    return query.with_for_update().execution_options(populate_existing=True)


def short_key(text: str) -> str:
    """``text`` itself when it fits an indexed column, else ``sha256:`` and its digest."""
    if len(text) <= MAX_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
