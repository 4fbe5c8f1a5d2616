"""`autobill tick --at` as a person runs it: the registered tasks for one instant, one line per task, and
one line (never a traceback) for a bad instant, an unmigrated database or a task that fails."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy

from tests.conftest import free_port
from tests.unit.foundation.test_config import PRODUCTION

TASKS = ("qbo_keepalive", "resume_parked_work", "intake.sweep_deliveries", "intake.sweep_events",
         "usage.poll_harvest", "billing.periods", "billing.thresholds", "postings.sweep")


def _tick(at: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("QBO_", "AUTOBILL_", "DATABASE_URL"))}
    return subprocess.run([sys.executable, "-m", "addon", "tick", "--at", at], env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_tick_at_an_instant_runs_every_task_once_and_says_so(tmp_path, redis_url):
    done = _tick("2026-12-01T09:00:00+09:00", AUTOBILL_STATE_DIR=str(tmp_path), REDIS_URL=redis_url)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == list(TASKS)
    assert all(": ok" in line for line in lines[:-1])
    # The instant is read with its offset and reported in UTC.
    assert lines[-1] == f"tick 2026-12-01T00:00:00+00:00: {len(TASKS)} task(s), all ok"
    assert "Traceback" not in done.stderr


@pytest.fixture
def in_process(tmp_path, monkeypatch):
    """``autobill ...`` run in this process (no interpreter start-up), with its own state folder."""
    from addon import bootstrap
    from addon.cli import main

    for key in [k for k in os.environ if k.startswith(("QBO_", "AUTOBILL_", "DATABASE_URL"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AUTOBILL_STATE_DIR", str(tmp_path))
    bootstrap.set_current(None)

    def run(*argv: str) -> int:
        with pytest.raises(SystemExit) as stopped:
            main(list(argv))
        return stopped.value.code

    yield run
    bootstrap.set_current(None)


@pytest.mark.parametrize("at, message", [
    ("next tuesday", "--at 'next tuesday' is not an ISO 8601 time (e.g. 2026-12-01T00:00:00Z)"),
    # Refused rather than read as UTC: midnight in the company's zone and midnight UTC are different ticks.
    ("2026-12-01T00:00:00", "--at '2026-12-01T00:00:00' has no time zone; add Z or an offset such as +01:00"),
])
def test_an_instant_that_is_malformed_or_has_no_zone_is_one_line_and_opens_nothing(in_process, tmp_path, capsys,
                                                                                    at, message):
    assert in_process("tick", "--at", at) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"autobill: {message}\n"
    assert list(tmp_path.iterdir()) == []  # no database was created for a command that could not run


def test_an_unmigrated_database_in_production_is_one_line_naming_the_fix(in_process, tmp_path, capsys,
                                                                         monkeypatch):
    database = tmp_path / "autobill.sqlite3"
    for key, value in {**PRODUCTION, "DATABASE_URL": f"sqlite:///{database}",
                       "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}.items():
        monkeypatch.setenv(key, value)
    assert in_process("tick", "--at", "2026-12-01T00:00:00Z") == 2
    out, err = capsys.readouterr()
    assert out == ""  # not one task ran against the old schema
    assert err == "autobill: the database schema is not up to date: run `autobill db upgrade`\n"
    tables = sqlalchemy.inspect(sqlalchemy.create_engine(f"sqlite:///{database}")).get_table_names()
    assert tables == []  # production never migrates behind the operator's back


def test_a_task_that_fails_is_one_line_with_its_traceback_kept_in_the_log(tmp_path):
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # no Redis answers: the postings sweep cannot queue
    done = _tick("2026-12-01T00:00:00Z", AUTOBILL_STATE_DIR=str(tmp_path), REDIS_URL=nobody)
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if "FAILED" in line]
    assert failed and all(line.startswith(TASKS) for line in failed)
    assert "Traceback" not in done.stdout + done.stderr
    log = tmp_path / "logs" / "tick.log"
    assert f"some failed (tracebacks in {log})" in done.stdout.splitlines()[-1]
    assert "Traceback" in log.read_text()
