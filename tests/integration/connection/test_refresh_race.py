"""Eight long-lived processes hit an expired access token at the same moment, round after round.

PostgreSQL, a real Redis lock, the emulator with no grace for superseded refresh tokens: every
round exactly one refresh reaches the token endpoint, no call fails and no company ends up
disconnected. Even rounds expire the token in autobill's store (the proactive path), odd rounds
only at the emulator (the 401 path).
"""

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from addon.models.companies import Connection
from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.integration.connection.race_worker import serve

WORKERS = 8
ROUNDS = 200


@pytest.mark.postgres
@pytest.mark.emulator_options(refresh_grace_seconds=0)
def test_eight_processes_racing_an_expired_token_refresh_exactly_once_per_round(
        tmp_path, postgres_database_url, redis_url, emulator):
    unlimited = {"QBO_REQUESTS_PER_MINUTE": "1000000", "QBO_REQUESTS_PER_SECOND": "100000"}
    container = emulator_container(tmp_path, postgres_database_url, redis_url, emulator, **unlimited)
    realm = emulator.control.create_realm("Northwind IT")
    emulator.control.limits(realm, per_minute=None, per_second=None, concurrent=None)
    company = connect_realm(container, emulator, realm)
    env = {"DATABASE_URL": postgres_database_url, "REDIS_URL": redis_url,
           "AUTOBILL_STATE_DIR": str(tmp_path / "state"), "SECRET_KEY": "race",
           "AUTOBILL_ENCRYPTION_KEYS": ",".join(container.settings.encryption_keys),
           "AUTOBILL_SANDBOX_PORT": emulator.url.rsplit(":", 1)[1], "OAUTHLIB_INSECURE_TRANSPORT": "1", **unlimited}
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS + 1), ctx.Queue()
    procs = [ctx.Process(target=serve, args=(env, company.id, barrier, results, ROUNDS)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    try:
        before = emulator.control.counters(realm)["token_grants"]["refresh_token"]
        for n in range(ROUNDS):
            if n % 2 == 0:
                with container.unit_of_work() as session:
                    session.execute(update(Connection).where(Connection.company_id == company.id)
                                    .values(access_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            else:
                emulator.control.expire_tokens()
            barrier.wait(timeout=120)
            outcomes = [results.get(timeout=60) for _ in range(WORKERS)]
            assert all(o == (n, "ok") for o in outcomes), outcomes
        # Every round needs at least one refresh (the token it starts with is expired), so as many
        # refreshes as rounds means exactly one per round.
        counters = emulator.control.counters(realm)
        assert counters["token_grants"]["refresh_token"] - before == ROUNDS
        assert counters["invalid_grant"] == 0
        assert container.companies.get(company.id).status == "connected"
        assert container.audit.records(company.id) == []
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        _close(container)
