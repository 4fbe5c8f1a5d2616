"""A worker builds what jobs share before it forks: a work horse's first query neither builds the database
(and imports its driver) nor sets up the dialect again, and the worker keeps no connection open."""

from __future__ import annotations

import os
import subprocess
import sys

from addon.vault import generate_key

CHILD = """
import os, sys
from addon import bootstrap
from addon.workers import warm_up
from sqlalchemy import text

container = bootstrap.current()
warm_up(container)
engine = container.database.engine
assert engine.pool.checkedout() == 0, "the worker keeps a connection checked out"
assert engine.dialect.server_version_info is not None, "the dialect was not set up"
pid = os.fork()
if pid == 0:
    calls = []
    real = engine.dialect.initialize
    engine.dialect.initialize = lambda connection: (calls.append(1), real(connection))
    before = id(container.__dict__.get("database"))
    with container.unit_of_work() as session:
        session.execute(text("select 1"))
    os._exit(10 * bool(calls) + (id(container.__dict__.get("database")) != before))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_work_horse_finds_the_database_built_and_its_dialect_set_up_by_the_worker(tmp_path, database_url,
                                                                                      redis_url):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "AUTOBILL_STATE_DIR": str(tmp_path),
           "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "warm-up-test"}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
    # 10: the horse set the dialect up again; 1: it built its own database; 11: both.
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
