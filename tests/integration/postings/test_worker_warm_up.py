"""A worker warms up before it forks its first work horse, so jobs do not rebuild what it could build once."""

from __future__ import annotations

from addon import bootstrap
from addon.workers import warm_up
from tests.integration.connection.conftest import make_settings


def test_warm_up_builds_the_database_engine_but_opens_no_connection_a_horse_could_inherit(
        tmp_path, database_url, redis_url):
    container = bootstrap.build(make_settings(tmp_path, database_url, redis_url))
    assert "database" not in vars(container)
    warm_up(container)
    # Built in the worker: a horse no longer imports the database driver and makes an engine per job...
    assert "database" in vars(container)
    # ...and gets an empty pool: the worker itself never connected.
    pool = container.database.engine.pool
    assert pool.checkedout() == 0 and pool.checkedin() == 0
    container.database.dispose()
