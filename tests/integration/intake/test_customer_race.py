"""On PostgreSQL against the QuickBooks emulator: ten events about one new customer reach four worker
processes at the same moment, round after round, and QuickBooks ends up with exactly one customer."""

from __future__ import annotations

import multiprocessing

import pytest

from addon.eventjob import run_event
from addon.models.events import EventRecord
from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.integration.intake.customer_race_worker import serve
from tests.integration.intake.helpers import deal_won, store_events

WORKERS = 4
EVENTS = 10
ROUNDS = 6  # odd rounds: claims expire at once, so every worker talks to QuickBooks


@pytest.mark.postgres
def test_ten_events_about_one_new_customer_on_four_workers_make_one_quickbooks_customer(
        tmp_path, postgres_database_url, redis_url, emulator):
    container = emulator_container(tmp_path, postgres_database_url, redis_url, emulator)
    realm = emulator.control.create_realm("Northwind IT", seed="empty")
    emulator.control.limits(realm, per_minute=None, per_second=None, concurrent=None)
    emulator.control.latency(30)  # a create takes a while, as on the internet
    company = connect_realm(container, emulator, realm)
    endpoint = container.endpoints.create(company.id, "generic", actor="test").endpoint
    env = {"DATABASE_URL": postgres_database_url, "REDIS_URL": redis_url,
           "AUTOBILL_STATE_DIR": str(tmp_path / "state"), "SECRET_KEY": "race",
           "AUTOBILL_ENCRYPTION_KEYS": ",".join(container.settings.encryption_keys),
           "AUTOBILL_SANDBOX_PORT": emulator.url.rsplit(":", 1)[1], "OAUTHLIB_INSECURE_TRANSPORT": "1"}
    ctx = multiprocessing.get_context("spawn")
    barrier, tasks, results = ctx.Barrier(WORKERS + 1), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=serve, args=(env, barrier, tasks, results, ROUNDS)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    raced = 0
    try:
        for n in range(ROUNDS):
            name = f"Contoso Round {n}"
            ids = store_events(container, company.id, [
                deal_won(deal=f"deal-{n}-{k}", customer_id=f"cust-{n}", name=name, email=f"ap{n}@contoso.example")
                for k in range(EVENTS)], endpoint=endpoint)
            for w in range(WORKERS):
                tasks.put((ids[w::WORKERS], n % 2 == 1))
            queries = emulator.control.counters(realm)["by_route"].get("POST query", 0)
            barrier.wait(timeout=120)
            outcomes = [o for _ in range(WORKERS) for o in results.get(timeout=120)]
            assert all(status in ("ready", "ignored", "waiting_mapping") for _, status, _ in outcomes), outcomes
            for event_id in ids:  # the events that waited for another worker, woken
                run_event(container, event_id)
            with container.unit_of_work() as session:
                mapped = {session.get(EventRecord, i).qbo_customer_id for i in ids}
            created = [c for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == name]
            assert len(created) == 1, f"round {n}: {len(created)} QuickBooks customers"
            assert mapped == {created[0]["Id"]}, f"round {n}"
            if n % 2:
                raced += emulator.control.counters(realm)["by_route"].get("POST query", 0) - queries
        assert len(emulator.control.objects(realm, "Customer")) == ROUNDS
        # Without claims, several workers looked the customer up in QuickBooks at once (one alone asks twice).
        assert raced > 2 * (ROUNDS // 2)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
        _close(container)
