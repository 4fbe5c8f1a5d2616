"""Small SQL helpers both databases share: insert-unless-present and row locks."""

from __future__ import annotations

import functools
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
    return session.execute(insert_once(session.get_bind().dialect.name, model, values, unique)).first() is not None


def insert_once(dialect: str, model: Any, values: Mapping[str, Any], unique: Sequence[str]):
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING unique[0]``: one row back only when inserted."""
    return _insert_statement(dialect, model, tuple(sorted(values)), tuple(unique)).values(**values)


@functools.cache
def _insert_statement(dialect: str, model: Any, columns: tuple[str, ...], unique: tuple[str, ...]):
    # Built once per shape, so SQLAlchemy's statement cache is hit instead of rebuilding it per request.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c[unique[0]])


def for_update(query: Select) -> Select:
    """``query`` locking the rows it reads until the transaction ends (SQLite's writer lock does this already)."""
    return query.with_for_update().execution_options(populate_existing=True)


def short_key(text: str) -> str:
    """``text`` itself when it fits an indexed column, else ``sha256:`` and its digest."""
    if len(text) <= MAX_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
