"""Schema migrations with Alembic, driven from code (``autobill db upgrade|downgrade|current``).

The scripts live inside the package (``addon/migrations``) so an installed autobill carries them.
Revisions chain by issue: ``0001_connection``, then ``0002_intake``, ``0003_usage``, ...
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from addon.db import Database
from addon.errors import ConfigError


def alembic_config(database: Database) -> Config:
    """An Alembic configuration pointing at ``database`` and autobill's scripts."""
    config = Config()
    config.set_main_option("script_location", "addon:migrations")
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def _run(database: Database, fn, *args) -> None:
    config = alembic_config(database)
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        fn(config, *args)
        connection.commit()


def upgrade(database: Database, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest)."""
    _run(database, command.upgrade, revision)


def downgrade(database: Database, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    _run(database, command.downgrade, revision)


def heads(database: Database) -> list[str]:
    """The newest revision(s) the scripts define: exactly one when the history is linear."""
    return list(ScriptDirectory.from_config(alembic_config(database)).get_heads())


def current(database: Database) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(database: Database) -> bool:
    """True when the database is at the newest revision."""
    return current(database) in heads(database)


def require_current(database: Database) -> None:
    """Stop with one line when the schema is behind the code (production runs ``autobill db upgrade``)."""
    if not is_current(database):
        raise ConfigError("the database schema is not up to date: run `autobill db upgrade`")


def ensure_schema(database: Database, *, demo_mode: bool) -> None:
    """Demo mode brings the schema up to date by itself; production asks for ``autobill db upgrade``."""
    if demo_mode:
        upgrade(database)
    else:
        require_current(database)
