"""Fixtures every kind of test shares: a private Redis, PostgreSQL schemas, settings.

The suite starts its own redis-server on a free port (one per xdist worker), so a test that
flushes Redis never touches anyone's running demo. PostgreSQL tests use the server named by
AUTOBILL_TEST_POSTGRES_URL, each session in a schema of its own; with CI=true a server that does
not answer fails those tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.settings import postgres_url

pytest_plugins = ["tests.leakcheck"]

hypothesis_settings.register_profile(
    "ci", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=100)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> str:
    """URL of a redis-server this test session started on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    from redis import Redis

    deadline = time.monotonic() + 10
    while True:
        try:
            if Redis.from_url(url).ping():
                break
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("the test redis-server did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied before the test."""
    from redis import Redis

    conn = Redis.from_url(redis_server)
    conn.flushall()
    conn.close()
    return redis_server


def _postgres_or_fail() -> str:
    import sqlalchemy

    url = postgres_url()
    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        message = f"PostgreSQL does not answer at {url}: {type(exc).__name__}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


def postgres_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with libpq told to use ``schema`` first."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_database_url() -> str:
    """A PostgreSQL URL whose search path is a fresh schema, dropped after the test."""
    import sqlalchemy

    base = _postgres_or_fail()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    yield postgres_schema_url(base, schema)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'autobill.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Each database autobill supports: tests using this run once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_database_url")


# -- QuickBooks Online emulator -----------------------------------------------------------------------
def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "emulator_options(**options): options for the `emulator` fixture (see docs/sandbox.md)")


@pytest.fixture
def emulator(request, monkeypatch):
    """A QuickBooks Online emulator on a free port, stopped after the test.

    It has the demo app (``emulator.client_id`` / ``emulator.client_secret``) and no company: create
    one with ``emulator.control.create_realm(...)``. Options come from
    ``@pytest.mark.emulator_options(...)``. Plain http is allowed for oauthlib while it runs.
    """
    from sandbox import start_emulator

    marker = request.node.get_closest_marker("emulator_options")
    options = dict(marker.kwargs) if marker else {}
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    emu = start_emulator(0, **options)
    try:
        yield emu
    finally:
        from tests import leakcheck

        try:
            leakcheck.remember(emu.control.issued_tokens())
        finally:
            emu.stop()
