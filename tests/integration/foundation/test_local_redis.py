"""`make run` needs a Redis: it uses one that answers, starts a local redis-server when none does,
installs redis-server when it can (root and apt), and otherwise stops with one line saying what to
install. Every test here uses a free port, so nobody's Redis on 6379 is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from addon import localservices
from addon.errors import ConfigError
from tests.conftest import free_port

MISSING = "autobill needs Redis: install it (sudo apt install redis-server) or set REDIS_URL"


@pytest.fixture
def started():
    """Processes a test started, stopped afterwards whatever happens."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def bare_path(tmp_path, monkeypatch) -> Path:
    """A PATH of one empty folder: no redis-server and no apt-get on it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_a_redis_that_answers_is_used_and_nothing_is_started(redis_url, tmp_path):
    assert localservices.ensure_redis(redis_url, tmp_path, tmp_path) is None


def test_no_redis_answering_starts_a_local_redis_server_on_the_configured_port(tmp_path, started):
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not localservices.redis_answers(url)
    proc = localservices.ensure_redis(url, tmp_path / "state", tmp_path)
    started.append(proc)
    assert proc is not None and proc.poll() is None
    client = Redis.from_url(url)
    client.set("northwind", "37.5")
    assert client.get("northwind") == b"37.5"
    client.close()
    assert (tmp_path / "state" / "redis").is_dir()  # its data lives in the state folder


def test_without_redis_server_and_not_root_it_says_what_to_install(tmp_path, bare_path, monkeypatch):
    monkeypatch.setattr(localservices.os, "geteuid", lambda: 1000)
    with pytest.raises(ConfigError) as err:
        localservices.ensure_redis(f"redis://127.0.0.1:{free_port()}/0", tmp_path, tmp_path)
    assert err.value.message == MISSING


def test_as_root_without_apt_it_says_what_to_install(tmp_path, bare_path, monkeypatch):
    monkeypatch.setattr(localservices.os, "geteuid", lambda: 0)
    with pytest.raises(ConfigError) as err:
        localservices.ensure_redis(f"redis://127.0.0.1:{free_port()}/0", tmp_path, tmp_path)
    assert err.value.message == MISSING


def test_as_root_with_apt_it_installs_redis_server_and_starts_it(tmp_path, bare_path, monkeypatch, started):
    # A stand-in apt-get that "installs" redis-server by putting the real binary on PATH and records its
    # arguments: the real one would download packages.
    system = "/usr/local/bin:/usr/bin:/bin:/usr/sbin"
    real, ln = shutil.which("redis-server", path=system), shutil.which("ln", path=system)
    assert real and ln, "the test needs a redis-server somewhere to stand in for the installed one"
    calls = bare_path / "apt-calls"
    apt = bare_path / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n{ln} -sf {real} {bare_path / "redis-server"}\n')
    apt.chmod(0o755)
    monkeypatch.setattr(localservices.os, "geteuid", lambda: 0)
    url = f"redis://127.0.0.1:{free_port()}/0"
    proc = localservices.ensure_redis(url, tmp_path / "state", tmp_path)
    started.append(proc)
    assert calls.read_text().splitlines()[0] == "install -y -qq redis-server"
    assert localservices.redis_answers(url)


def test_a_remote_redis_that_does_not_answer_is_named_not_replaced(tmp_path):
    with pytest.raises(ConfigError) as err:  # 192.0.2.0/24 is reserved for documentation: nothing answers
        localservices.ensure_redis("redis://192.0.2.10:6380/0", tmp_path, tmp_path)
    assert err.value.message == "no Redis answers at REDIS_URL (192.0.2.10:6380)"


def test_autobill_run_without_redis_stops_with_one_line_and_no_traceback(tmp_path, bare_path):
    env = {**os.environ, "AUTOBILL_STATE_DIR": str(tmp_path / "state"),
           "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "AUTOBILL_WEB_PORT": str(free_port()),
           "AUTOBILL_SANDBOX_PORT": str(free_port())}
    env.pop("QBO_CLIENT_ID", None)
    done = subprocess.run([sys.executable, "-m", "addon", "run"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"autobill: {MISSING}\n"
    assert "Traceback" not in done.stdout + done.stderr
