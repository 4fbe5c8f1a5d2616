"""The scheduler skeleton against a real Redis: RQ's cron enqueues tick jobs that a worker runs."""

import time
from datetime import UTC, datetime

import pytest
from rq import SimpleWorker

from addon import bootstrap
from addon import tick as tick_module
from addon.config import load_settings
from addon.scheduler import run_tick_job


@pytest.fixture
def container(redis_url, tmp_path, monkeypatch):
    settings = load_settings({"REDIS_URL": redis_url, "AUTOBILL_STATE_DIR": str(tmp_path),
                              "AUTOBILL_TICK_SECONDS": "1"})
    made = bootstrap.build(settings)
    bootstrap.set_current(made)
    monkeypatch.setattr(tick_module, "_TASKS", {})
    yield made
    bootstrap.set_current(None)


def _record(ctx):
    ctx.container.redis.rpush("ticks", ctx.now.isoformat())


def test_a_tick_job_run_by_a_worker_calls_the_registered_tasks(container):
    tick_module.register("record", _record)
    container.queue("tick").enqueue(run_tick_job, "2026-12-31T23:59:00+00:00")
    SimpleWorker([container.queue("tick")], connection=container.redis).work(burst=True)
    assert container.redis.lrange("ticks", 0, -1) == [b"2026-12-31T23:59:00+00:00"]


def test_the_scheduler_command_enqueues_a_tick_each_interval(container, redis_url, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "REDIS_URL": redis_url, "AUTOBILL_STATE_DIR": str(tmp_path),
           "AUTOBILL_TICK_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "addon", "scheduler"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while len(container.queue("tick")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(container.queue("tick")) >= 2
        assert container.queue("tick").jobs[0].func_name == "addon.scheduler.run_tick_job"
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_the_job_floors_the_current_instant_to_the_minute(container):
    tick_module.register("record", _record)
    summary = run_tick_job()
    recorded = datetime.fromisoformat(container.redis.lrange("ticks", 0, -1)[0].decode())
    assert recorded.second == 0 and recorded.microsecond == 0 and recorded.tzinfo == UTC
    assert summary["ok"] and summary["tasks"] == {"record": "ok"}
