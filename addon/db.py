"""The database: one engine per process, sessions, and the unit of work.

SQLite (the embedded default) runs with WAL, a busy timeout and foreign keys on, and every
transaction starts with ``BEGIN IMMEDIATE``: SQLite has one writer, and taking the write lock up
front turns a read-then-write race into a wait instead of a "database is locked" failure halfway
through. PostgreSQL is the production database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_database_url(state_path: Path) -> str:
    """The SQLite file in the state folder that demo mode and a bare checkout use."""
    return f"sqlite:///{state_path / 'autobill.sqlite3'}"


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine and a session factory for one database URL."""

    def __init__(self, url: str):
        self.url = url
        if make_url(url).get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A forked child (gunicorn worker, RQ scheduler, a forking worker) must not reuse pooled sockets.
        os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work commits together at the end of the block, or not at all."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    session_scope = unit_of_work

    def dispose(self) -> None:
        """Close every pooled connection (tests and shutdown)."""
        self.engine.dispose()
