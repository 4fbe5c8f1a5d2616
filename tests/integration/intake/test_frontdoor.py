"""The front door on both databases with a real Redis: signed deliveries in, stored once, processed."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from addon import inbox, tick
from addon.clock import utcnow
from addon.models.events import EventRecord
from addon.models.inbox import Delivery, Endpoint
from connectors import generic
from tests.integration.intake.conftest import customers_in, queued, run_jobs
from webapp import create_app

DEAL_WON = {"id": "delivery-1", "events": [{
    "kind": "deal_won", "source_object_id": "deal-42", "occurred_at": "2026-01-12T14:00:00Z", "amount": "18500.00",
    "currency": "USD", "customer": {"id": "cust-7", "name": "Northwind IT", "email": "billing@northwind.example"}}]}


@pytest.fixture
def client(container):
    return create_app(container).test_client()


@pytest.fixture
def endpoint(container, company):
    """A generic endpoint of Northwind IT: its path and the secret autobill generated."""
    created = container.endpoints.create(company.id, "generic", actor="test")
    return urlsplit(created.url).path, created.generated_secret, created.endpoint


def post_signed(client, path, body, secret, **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, data=raw, headers={"Content-Type": "application/json",
                                                "Autobill-Signature": generic.signature_header(raw, secret),
                                                **headers})


def count(container, model) -> int:
    with container.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model))


def only_delivery(container) -> Delivery:
    with container.unit_of_work() as session:
        return session.execute(select(Delivery)).scalar_one()


def test_a_signed_delivery_is_stored_enqueued_answered_and_its_events_stored(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    created = container.endpoints.create(company.id, "generic", actor="test")
    client = create_app(container).test_client()
    answer = post_signed(client, urlsplit(created.url).path, DEAL_WON, created.generated_secret)
    assert answer.status_code == 200
    stored = only_delivery(container)
    assert answer.json == {"received": True, "delivery_id": stored.id, "duplicate": False}
    assert (stored.status, stored.dedupe_key, stored.endpoint_id) == ("received", "delivery-1", created.endpoint.id)
    assert queued(container) == [("addon.inbox.process_delivery", (stored.id,))]
    run_jobs(container)
    assert only_delivery(container).status == "processed"
    with container.unit_of_work() as session:
        event = session.execute(select(EventRecord)).scalar_one()
    # Mapped, then handed to drafting, which finds no agreement for the new customer.
    assert (event.kind, event.source_object_id, event.status) == ("deal_won", "deal-42", "ignored")
    assert event.reason.startswith("no rule matched")
    [northwind] = customers_in(quickbooks, "Northwind IT")  # created in QuickBooks from the delivery's data
    assert event.qbo_customer_id == northwind["Id"]


def test_the_same_delivery_sent_three_times_makes_one_stored_delivery_and_one_set_of_events(
        container, client, endpoint, ledger):
    path, secret, _ = endpoint
    answers = [post_signed(client, path, DEAL_WON, secret) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json["duplicate"] for a in answers] == [False, True, True]
    assert len({a.json["delivery_id"] for a in answers}) == 1
    run_jobs(container)
    post_signed(client, path, DEAL_WON, secret)  # and once more after it was processed
    run_jobs(container)
    assert (count(container, Delivery), count(container, EventRecord)) == (1, 1)


def test_redis_flushed_between_accept_and_process_loses_nothing_the_sweeper_recovers_it(
        container, client, endpoint, ledger):
    path, secret, _ = endpoint
    assert post_signed(client, path, DEAL_WON, secret).status_code == 200
    container.redis.flushall()
    assert run_jobs(container) == 0
    later = utcnow() + timedelta(seconds=container.settings.sweep_grace + 1)
    assert inbox.sweep(container, later) == 1
    run_jobs(container)
    assert only_delivery(container).status == "processed"
    assert count(container, EventRecord) == 1


def test_the_tick_registered_sweeper_recovers_a_delivery_redis_lost_once_its_grace_has_passed(
        container, client, endpoint, ledger):
    assert "intake.sweep_deliveries" in [task.name for task in tick.registered()]
    path, secret, _ = endpoint
    assert post_signed(client, path, DEAL_WON, secret).status_code == 200
    container.redis.flushall()  # the job is lost before any worker took it
    received = only_delivery(container).received_at
    grace = timedelta(seconds=container.settings.sweep_grace)

    def swept(report) -> int:
        [outcome] = [o for o in report.outcomes if o.name == "intake.sweep_deliveries"]
        assert outcome.ok, outcome.error
        return outcome.result

    assert swept(tick.tick(received + grace - timedelta(seconds=1), container)) == 0  # its own job may still run
    assert run_jobs(container) == 0
    assert swept(tick.tick(received + grace + timedelta(seconds=1), container)) == 1
    run_jobs(container)
    assert only_delivery(container).status == "processed"
    assert count(container, EventRecord) == 1


def test_the_sweeper_leaves_a_delivery_whose_job_still_waits_in_a_long_queue(container, client, endpoint, ledger):
    path, secret, _ = endpoint
    assert post_signed(client, path, DEAL_WON, secret).status_code == 200
    later = utcnow() + timedelta(seconds=container.settings.sweep_grace) * 10
    assert inbox.sweep(container, later) == 0  # its job is still queued: no second job behind it
    assert inbox.sweep(container, later + timedelta(seconds=container.settings.sweep_grace)) == 0
    assert len(queued(container)) == 1
    container.redis.flushall()
    assert inbox.sweep(container, later + 2 * timedelta(seconds=container.settings.sweep_grace)) == 1
    assert len(queued(container)) == 1
    run_jobs(container)
    assert only_delivery(container).status == "processed"
    assert count(container, EventRecord) == 1


def test_an_authentic_body_that_cannot_be_read_is_kept_with_its_reason_and_answered_2xx(
        container, client, endpoint):
    path, secret, _ = endpoint
    bad_event = {"id": "delivery-2", "events": [{**DEAL_WON["events"][0], "ammount": "1.00"}]}
    assert post_signed(client, path, bad_event, secret).status_code == 200
    assert post_signed(client, path, b"\xff\xfe not utf-8", secret).status_code == 200
    assert post_signed(client, path, b"[" * 5000 + b"]" * 5000, secret).status_code == 200
    assert post_signed(client, path, b"", secret).status_code == 200
    run_jobs(container)
    reasons = sorted(d.reason for d in inbox.deliveries(container, endpoint[2].company_id, status="unparseable"))
    assert reasons == ["JSON is nested deeper than 64 levels", "body is empty",
                       "body is not valid UTF-8 (byte 0)",
                       "events[0] has unknown field(s): ammount"]
    assert count(container, EventRecord) == 0


def test_requests_that_are_not_authentic_are_refused_counted_and_not_kept(container, client, endpoint):
    path, secret, info = endpoint
    raw = json.dumps(DEAL_WON).encode()
    good = generic.signature_header(raw, secret)
    stale = generic.signature_header(raw, secret, now=utcnow() - timedelta(minutes=10))
    cases = [
        (raw + b" ", {"Autobill-Signature": good}, "no v1 signature in Autobill-Signature matches the body"),
        (raw, {"Autobill-Signature": generic.signature_header(raw, "abs_wrong")},
         "no v1 signature in Autobill-Signature matches the body"),
        (raw, {"Autobill-Signature": stale}, None),
        (raw, {}, "missing Autobill-Signature header"),
        (b"", {}, "missing Autobill-Signature header"),
    ]
    for body, headers, message in cases:
        answer = client.post(path, data=body, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 401 and answer.json["error"]["code"] == "not_authentic"
        if message:
            assert answer.json["error"]["message"] == message
    assert count(container, Delivery) == 0
    with container.unit_of_work() as session:
        row = session.get(Endpoint, info.id)
    assert row.rejected_count == len(cases) and row.last_rejected_reason == "missing Autobill-Signature header"


def test_size_type_and_unknown_endpoints_get_clear_answers_and_nothing_is_stored(container, client, endpoint):
    path, secret, _ = endpoint
    huge = b'{"id": "x", "events": []}' + b" " * (2 * 1024 * 1024)
    answer = post_signed(client, path, huge, secret)
    assert (answer.status_code, answer.json["error"]["code"]) == (413, "too_large")
    answer = client.post(path, data=json.dumps(DEAL_WON), headers={"Content-Type": "text/plain"})
    assert (answer.status_code, answer.json["error"]["message"]) == (415, "send the body as application/json")
    assert client.post(path.replace("/generic/", "/stripe/"), data=b"{}",
                       headers={"Content-Type": "application/json"}).status_code == 404
    assert client.post("/hooks/generic/not-a-token", data=b"{}",
                       headers={"Content-Type": "application/json"}).status_code == 404
    assert client.post("/hooks/no_such_source/x", data=b"{}").status_code == 404
    assert client.get(path).status_code == 405
    assert count(container, Delivery) == 0


def test_any_exception_from_verify_is_a_401_and_a_store_that_fails_is_a_503(
        container, client, endpoint, monkeypatch):
    path, secret, _ = endpoint

    def broken(*args, **kwargs):
        raise KeyError("a connector bug")

    monkeypatch.setattr(generic, "verify", broken)
    answer = post_signed(client, path, DEAL_WON, secret)
    assert answer.status_code == 401 and answer.json["error"]["message"] == "the request could not be verified"
    monkeypatch.undo()

    def database_down(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(inbox, "store", database_down)
    answer = post_signed(client, path, DEAL_WON, secret)
    assert answer.status_code == 503 and "retry" in answer.json["error"]["message"]
    assert count(container, Delivery) == 0


def test_a_web_process_remembers_an_endpoint_briefly_and_sees_another_processs_change_after_that(
        container, company):
    import time

    from addon.endpoints import Endpoints

    created = container.endpoints.create(company.id, "stripe", secret="whsec_old", actor="test")
    token = urlsplit(created.url).path.rsplit("/", 1)[1]
    web = Endpoints(container.database, container.vault, container.audit, "https://autobill.example",
                    cache_seconds=0.2)
    assert web.resolve("stripe", token).secret == "whsec_old"
    container.endpoints.configure(company.id, created.endpoint.id, secret="whsec_new", actor="test")
    assert web.resolve("stripe", token).secret == "whsec_old"  # another process changed it a moment ago
    time.sleep(0.25)
    assert web.resolve("stripe", token).secret == "whsec_new"
    assert web.resolve("generic", token) is None and web.resolve("stripe", "not-a-token") is None


def _audit(container, company_id, *actions):
    return [r for r in container.audit.records(company_id) if r.action in actions]


def test_each_delivery_is_audited_once_when_processed_with_its_outcome_and_never_its_body_or_secret(
        container, client, endpoint, ledger):
    path, secret, info = endpoint
    for _ in range(3):
        assert post_signed(client, path, DEAL_WON, secret).status_code == 200
    assert post_signed(client, path, {"id": "ping-1", "events": []}, secret).status_code == 200
    assert post_signed(client, path, b"\xff\xfe not utf-8", secret).status_code == 200
    assert _audit(container, info.company_id, "delivery.received") == []  # nothing on the request path
    run_jobs(container)
    post_signed(client, path, DEAL_WON, secret)  # a redelivery after processing
    run_jobs(container)
    for delivery in inbox.deliveries(container, info.company_id):
        inbox.run_delivery(container, delivery.id)  # a second run of each job changes nothing
    records = _audit(container, info.company_id, "delivery.received")
    outcomes = sorted((json.loads(r.details)["dedupe_key"], json.loads(r.details)["outcome"]) for r in records)
    assert outcomes == [("delivery-1", "processed"), ("ping-1", "ignored"), (outcomes[2][0], "unparseable")]
    assert outcomes[2][0].startswith("sha256:")
    processed = next(json.loads(r.details) for r in records if json.loads(r.details)["dedupe_key"] == "delivery-1")
    stored = next(d for d in inbox.deliveries(container, info.company_id) if d.dedupe_key == "delivery-1")
    assert records[0].subject.startswith("delivery:dl_") and processed["events"] == 1
    assert processed["received_at"] == str(stored.received_at) and len(processed["new_event_ids"]) == 1
    ignored = next(json.loads(r.details) for r in records if json.loads(r.details)["dedupe_key"] == "ping-1")
    assert ignored["reason"] == "the delivery carries no events (a ping)"
    text = " ".join(r.details for r in container.audit.records(info.company_id))
    assert secret not in text and "18500" not in text and "autobill-signature" not in text.lower()
    [mapped] = _audit(container, info.company_id, "event.mapped")
    assert json.loads(mapped.details)["source_customer_id"] == "cust-7"
    assert json.loads(mapped.details)["customer_id"] == ledger.find_customer("Northwind IT").id
    assert container.audit.verify(info.company_id).ok


def test_a_replayed_delivery_is_audited_as_replayed_and_reread_never_received_twice(
        container, client, endpoint, ledger):
    path, secret, info = endpoint
    post_signed(client, path, DEAL_WON, secret)
    run_jobs(container)
    delivery_id = only_delivery(container).id
    inbox.replay(container, info.company_id, delivery_id, actor="user:us_ann")
    run_jobs(container)
    actions = [r.action for r in container.audit.records(info.company_id)
               if r.action.startswith(("delivery.", "event.mapped"))]
    assert actions == ["delivery.received", "event.mapped", "delivery.replayed", "delivery.reread"]
    reread = _audit(container, info.company_id, "delivery.reread")[0]
    assert json.loads(reread.details)["outcome"] == "processed" and json.loads(reread.details)["new_event_ids"] == []
