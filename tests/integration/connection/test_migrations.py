"""Migrations go up and down on both databases, and the models match them."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import addon.models
from addon import migrate
from addon.db import Database

TABLES = {"companies", "qbo_connections", "users", "memberships", "audit_records", "audit_heads", "parked_jobs",
          "endpoints", "deliveries", "events", "mappings", "customer_claims", "company_settings", "agreements",
          "rule_versions", "postings", "qbo_item_refs", "billing_cursors"}


def test_migrations_upgrade_match_the_models_and_downgrade_to_nothing(database_url):
    database = Database(database_url)
    try:
        assert migrate.current(database) is None
        migrate.upgrade(database)
        assert migrate.current(database) == migrate.heads(database)[0]
        assert migrate.is_current(database)
        with database.engine.connect() as connection:
            assert TABLES <= set(inspect(connection).get_table_names())
            diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                    addon.models.Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        migrate.downgrade(database, "base")
        assert migrate.current(database) is None
        with database.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database)
        assert migrate.is_current(database)
    finally:
        database.dispose()


def test_the_migration_history_has_exactly_one_head(sqlite_database_url):
    database = Database(sqlite_database_url)
    assert len(migrate.heads(database)) == 1


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(sqlite_database_url):
    database = Database(sqlite_database_url)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    database.dispose()


def test_the_run_commands_prepare_step_migrates_and_hints_at_connecting_in_demo_mode(tmp_path, redis_url):
    from addon import bootstrap, demo
    from addon.config import load_settings

    container = bootstrap.build(load_settings({"AUTOBILL_STATE_DIR": str(tmp_path), "REDIS_URL": redis_url}))
    hints = demo.prepare(container)
    assert migrate.is_current(container.database)
    assert any("autobill companies connect --emulator" in hint for hint in hints)
    assert (tmp_path / "autobill.sqlite3").exists()
    container.database.dispose()
