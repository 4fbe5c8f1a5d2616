"""On PostgreSQL: 200 deliveries, each sent twice at the same moment through a real threaded server,
all land exactly once and make exactly one event each."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from addon import bootstrap, inbox
from addon.eventjob import run_event
from addon.models.events import EventRecord
from addon.models.inbox import Delivery
from connectors import generic
from tests.integration.connection.conftest import add_company
from tests.integration.intake.conftest import build_container, queued
from webapp import create_app

pytestmark = pytest.mark.postgres
DELIVERIES = 200


def _body(n: int) -> bytes:
    return json.dumps({"id": f"zap-{n}", "events": [{
        "kind": "time_logged", "source_object_id": f"entry-{n}", "occurred_at": "2026-01-12T17:00:00Z",
        "attributes": {"hours": "1.5"}}]}).encode()


def test_two_hundred_concurrent_deliveries_sent_twice_each_land_exactly_once(
        tmp_path, postgres_database_url, redis_url):
    container = build_container(tmp_path, postgres_database_url, redis_url)
    company = add_company(container)
    created = container.endpoints.create(company.id, "generic", actor="test")
    server = make_server("127.0.0.1", 0, create_app(container), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}{urlsplit(created.url).path}"
    barrier = threading.Barrier(32)
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def send(n: int):
        if n < 32:
            barrier.wait()  # the first wave starts at the same instant
        raw = _body(n % DELIVERIES)
        answer = http.post(url, data=raw, timeout=30, headers={
            "Content-Type": "application/json", "Autobill-Signature": generic.signature_header(raw, created.generated_secret)})
        return answer.status_code, answer.json()

    try:
        with ThreadPoolExecutor(32) as pool:
            # Each delivery is sent twice, its two copies next to each other, so they race.
            answers = list(pool.map(send, [n // 2 for n in range(2 * DELIVERIES)]))
    finally:
        server.shutdown()
        thread.join(5)
        http.close()
    assert [status for status, _ in answers] == [200] * (2 * DELIVERIES)
    assert sum(1 for _, body in answers if body["duplicate"]) == DELIVERIES
    assert len({body["delivery_id"] for _, body in answers}) == DELIVERIES
    with container.unit_of_work() as session:
        stored = set(session.execute(select(Delivery.id)).scalars())
    assert len(stored) == DELIVERIES
    jobs = queued(container)
    assert sorted(args[0] for _, args in jobs) == sorted(stored)  # each enqueued exactly once
    for delivery_id in stored:  # what the jobs do, run here to keep the test quick
        inbox.run_delivery(container, delivery_id)
    with container.unit_of_work() as session:
        for event_id in session.execute(select(EventRecord.id)).scalars().all():
            run_event(container, event_id)
    with container.unit_of_work() as session:
        # One event per delivery; the usage ledger's handler takes time entries, so each is done.
        assert session.scalar(select(func.count()).select_from(EventRecord)) == DELIVERIES
        assert session.scalar(select(func.count()).select_from(EventRecord).where(EventRecord.status == "done")) \
            == DELIVERIES
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "processed")) \
            == DELIVERIES
    bootstrap.set_current(None)
    container.database.dispose()


def test_deliveries_arriving_together_are_committed_together_and_a_failed_group_is_a_503_for_each(
        tmp_path, postgres_database_url, redis_url, monkeypatch):
    from addon.inboxwriter import DeliveryWriter

    container = build_container(tmp_path, postgres_database_url, redis_url)
    company = add_company(container)
    created = container.endpoints.create(company.id, "generic", actor="test")
    client = create_app(container).test_client()
    path = urlsplit(created.url).path
    groups = []
    original = DeliveryWriter._write

    def recording(self, group):
        groups.append(len(group))
        return original(self, group)

    monkeypatch.setattr(DeliveryWriter, "_write", recording)
    barrier = threading.Barrier(8)

    def send(n):
        raw = _body(n % 4)  # four deliveries, each sent twice at once
        barrier.wait()
        return client.post(path, data=raw, headers={
            "Content-Type": "application/json", "Autobill-Signature": generic.signature_header(raw, created.generated_secret)})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert sorted(a.json["duplicate"] for a in answers) == [False] * 4 + [True] * 4
    assert sum(groups) == 8 and len(queued(container)) == 4  # every request went through the writer
    with container.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 4

    def broken(self, group):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(DeliveryWriter, "_write", broken)
    raw = _body(99)
    answer = client.post(path, data=raw, headers={
        "Content-Type": "application/json", "Autobill-Signature": generic.signature_header(raw, created.generated_secret)})
    assert answer.status_code == 503
    bootstrap.set_current(None)
    container.database.dispose()
