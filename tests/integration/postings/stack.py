"""The whole of autobill for end-to-end tests: the web app over HTTP (in a thread of the test process),
real RQ worker processes, a real Redis, the QuickBooks emulator, one database they all share.

The test process holds a container on the same settings, to set things up and to look at the result.
Workers are long-lived child processes (``python -m addon worker``); ``kill`` sends SIGKILL to one
(and its work horse) to play a machine dying mid-job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from addon import bootstrap, migrate
from addon.config import load_settings
from addon.vault import generate_key
from tests import leakcheck
from tests.conftest import free_port


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it is truthy (its value) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def children(pid: int) -> list[int]:
    """The ids of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.getpgid(pid)
        return True
    except ProcessLookupError:
        return False


class Stack:
    """Web app, workers, Redis, emulator and database of one test."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, emulator, **settings: str):
        self.tmp_path = tmp_path
        self.web_port = free_port()
        self.env = {
            "AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "stack-secret",
            "AUTOBILL_SANDBOX_PORT": emulator.url.rsplit(":", 1)[1], "AUTOBILL_WEB_PORT": str(self.web_port),
            "AUTOBILL_PUBLIC_URL": f"http://127.0.0.1:{self.web_port}", "OAUTHLIB_INSECURE_TRANSPORT": "1",
            **{k: str(v) for k, v in settings.items()}}
        self.container = bootstrap.build(load_settings(self.env))
        migrate.upgrade(self.container.database)
        bootstrap.set_current(self.container)
        from webapp import create_app

        self._server = make_server("127.0.0.1", self.web_port, create_app(self.container), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.workers: dict[str, subprocess.Popen] = {}
        self._logs: list = []
        self._argv: dict[str, list[str]] = {}
        self._n = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self, queues: str = "tick,events,postings,default") -> str:
        """One more worker process; its name."""
        self._n += 1
        name = f"w{self._n}-{os.getpid()}"
        return self._spawn(name, [sys.executable, "-m", "addon", "worker", "--queues", queues, "--name", name])

    def restart_dead(self) -> list[str]:
        """Start again any child that stopped by itself (not killed by the test); their names."""
        dead = [name for name, proc in self.workers.items() if proc.poll() is not None]
        for name in dead:
            self.workers.pop(name)
            self._spawn(name, self._argv[name], mode="a")
        return dead

    def _spawn(self, name: str, argv: list[str], mode: str = "w") -> str:
        self._argv[name] = argv
        leakcheck.watch(self.tmp_path / f"{name}.log")  # searched for emulator tokens once the test is over
        log = (self.tmp_path / f"{name}.log").open(mode)
        self._logs.append(log)
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self.workers[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True)
        return name

    def start_scheduler(self) -> str:
        """The scheduler process (RQ cron enqueueing tick)."""
        return self._spawn("scheduler", [sys.executable, "-m", "addon", "scheduler"])

    def kill(self, name: str) -> None:
        """SIGKILL a worker and its work horse (RQ puts the horse in a process group of its own), as a
        dying machine would."""
        proc = self.workers.pop(name)
        groups = {proc.pid} | {os.getpgid(pid) for pid in children(proc.pid) if _alive(pid)}
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def stop(self) -> None:
        """Stop every worker and the web app."""
        for proc in list(self.workers.values()):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in list(self.workers.values()):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.workers.clear()
        for log in self._logs:
            log.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        bootstrap.set_current(None)
        self.container.database.dispose()
