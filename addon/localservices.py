"""Local processes for ``autobill run``: a Redis when none answers, and child supervision.

Used only by the demo command on one machine; production runs web, worker and scheduler as
separate processes (Procfile) against managed PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from addon.errors import ConfigError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis at ``url`` answers PING."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def _install_redis_with_apt() -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print("Installing redis-server with apt ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-qq", "redis-server"],
                ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "redis-server"]):
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode == 0 and cmd[1] == "install":
            return shutil.which("redis-server") is not None
    return shutil.which("redis-server") is not None


def ensure_redis(url: str, state_dir: Path, log_dir: Path) -> subprocess.Popen | None:
    """Make sure a Redis answers at ``url``; start a local one if needed (returns its process)."""
    if redis_answers(url):
        return None
    parsed = urlparse(url)
    if parsed.hostname not in LOCAL_HOSTS and parsed.hostname is not None:
        raise ConfigError(f"no Redis answers at REDIS_URL ({parsed.hostname}:{parsed.port or 6379})")
    if not shutil.which("redis-server") and not _install_redis_with_apt():
        raise ConfigError("autobill needs Redis: install it (sudo apt install redis-server) or set REDIS_URL")
    data = state_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    port = parsed.port or 6379
    with (log_dir / "redis.log").open("ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
             "--appendonly", "yes", "--save", ""],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if redis_answers(url):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise ConfigError(f"a local redis-server did not start on port {port}; see {log_dir / 'redis.log'}")


def wait_for_http(url: str, timeout: float = 15.0) -> bool:
    """True once ``url`` answers any HTTP status within ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return True
        except requests.RequestException:
            time.sleep(0.1)
    return False


class Children:
    """Child processes started together and stopped together."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs[name] = proc
        return proc

    def adopt(self, name: str, proc: subprocess.Popen | None) -> None:
        if proc is not None:
            self.procs[name] = proc

    def first_dead(self) -> str | None:
        return next((n for n, p in self.procs.items() if p.poll() is not None), None)

    def stop(self, timeout: float = 10.0) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
