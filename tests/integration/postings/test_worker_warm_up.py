"""A worker builds what jobs share before its first job: the first job's query neither builds the database
(and imports its driver) nor sets up the dialect, and it finds a pooled connection, none checked out."""

from __future__ import annotations

import os
import subprocess
import sys

from addon.vault import generate_key

CHILD = """
import sys
from addon import bootstrap
from addon.workers import warm_up
from sqlalchemy import text

container = bootstrap.current()
warm_up(container)
engine = container.database.engine
assert engine.pool.checkedout() == 0, "the worker keeps a connection checked out"
assert engine.dialect.server_version_info is not None, "the dialect was not set up"
pooled = engine.pool.checkedin()
calls = []
real = engine.dialect.initialize
engine.dialect.initialize = lambda connection: (calls.append(1), real(connection))
before = id(container.__dict__.get("database"))
with container.unit_of_work() as session:
    session.execute(text("select 1"))
sys.exit(10 * bool(calls) + (id(container.__dict__.get("database")) != before) + 100 * (pooled != 1))
"""


def test_a_first_job_finds_the_database_built_its_dialect_set_up_and_a_pooled_connection(tmp_path, database_url,
                                                                                      redis_url):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "AUTOBILL_STATE_DIR": str(tmp_path),
           "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "warm-up-test"}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
    # 10: the job set the dialect up; 1: it built the database; 100: no pooled connection waiting.
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
