"""Webhooks out: formats, signatures, batching and QuickBooks' retry schedule."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.sandbox.conftest import quickbooks

VERIFIER = "autobill-demo-verifier"
FAST = pytest.mark.emulator_options(webhook_batch_seconds=0.05, webhook_retry_factor=0.001)


def _subscribe(company, receiver, fmt="classic"):
    company.emulator.control.register_app(company.emulator.client_id, company.emulator.client_secret,
                                          webhook_url=receiver.url, verifier_token=VERIFIER, webhook_format=fmt)


@FAST
def test_a_change_is_notified_in_the_classic_format_with_a_valid_signature(company, receiver):
    _subscribe(company, receiver)
    created = company.raw("POST", "customer", json={"DisplayName": "Hooked Co"}).json()["Customer"]
    delivery = receiver.wait_for(1)[0]
    body = json.loads(delivery["body"])
    note = body["eventNotifications"][0]
    assert note["realmId"] == company.realm_id
    entity = note["dataChangeEvent"]["entities"][0]
    assert (entity["name"], entity["id"], entity["operation"]) == ("Customer", created["Id"], "Create")
    assert entity["lastUpdated"].endswith("Z")
    signature = delivery["headers"]["intuit-signature"]
    assert company.qb.validate_webhook_signature(delivery["body"].decode(), signature, VERIFIER)
    assert not company.qb.validate_webhook_signature(delivery["body"].decode(), signature, "another-token")


@FAST
def test_changes_close_together_arrive_in_one_notification(company, receiver):
    company.emulator.control.register_app(company.emulator.client_id, company.emulator.client_secret,
                                          webhook_url=receiver.url, verifier_token=VERIFIER)
    company.emulator.world.options["webhook_batch_seconds"] = 0.5
    for name in ("One", "Two", "Three"):
        company.raw("POST", "customer", json={"DisplayName": f"Batch {name}"})
    body = json.loads(receiver.wait_for(1)[0]["body"])
    assert len(body["eventNotifications"][0]["dataChangeEvent"]["entities"]) == 3


@FAST
def test_the_cloudevents_format_is_an_array_of_typed_events(company, receiver):
    _subscribe(company, receiver, "cloudevents")
    invoice = company.raw("POST", "invoice", json={"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 10, "SalesItemLineDetail": {}}]}).json()["Invoice"]
    delivery = receiver.wait_for(1)[0]
    events = json.loads(delivery["body"])
    assert isinstance(events, list)
    event = events[0]
    assert event["specversion"] == "1.0" and event["type"] == "qbo.invoice.created.v1"
    assert event["intuitentityid"] == invoice["Id"] and event["intuitaccountid"] == company.realm_id
    assert company.qb.validate_webhook_signature(delivery["body"].decode(), delivery["headers"]["intuit-signature"],
                                                 VERIFIER)


@FAST
def test_a_failed_delivery_is_retried_with_the_same_body_and_later_events_wait(company, receiver):
    _subscribe(company, receiver)
    receiver.fail_next = 2
    company.raw("POST", "customer", json={"DisplayName": "Retry Co"})
    first_three = receiver.wait_for(3)
    assert [d["failed"] for d in first_three] == [True, True, False]
    assert len({d["body"] for d in first_three}) == 1
    assert len({d["headers"]["intuit-signature"] for d in first_three}) == 1
    company.raw("POST", "customer", json={"DisplayName": "After Ack"})
    fourth = json.loads(receiver.wait_for(4)[3]["body"])
    assert fourth["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["operation"] == "Create"
    deadline = time.monotonic() + 5
    while True:  # the emulator records an attempt after the receiver has answered
        log = company.emulator.control.webhook_deliveries()
        if all(d["delivered"] for d in log) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [len(d["attempts"]) for d in log] == [3, 1] and all(d["delivered"] for d in log)


@pytest.mark.emulator_options(webhook_batch_seconds=0.05)
def test_retries_follow_the_schedule_on_the_emulators_clock(company, receiver):
    _subscribe(company, receiver)
    receiver.fail_next = 1
    company.raw("POST", "customer", json={"DisplayName": "Clock Co"})
    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1  # the first retry is 10 s away
    pending = company.emulator.control.webhook_deliveries()[0]
    assert pending["next_attempt_at"] and not pending["delivered"]
    company.emulator.control.set_clock(advance_seconds=10)
    assert receiver.wait_for(2)[1]["failed"] is False


@FAST
def test_a_person_recording_a_payment_notifies_the_payment_and_the_invoice(company, receiver):
    invoice = company.raw("POST", "invoice", json={"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 10, "SalesItemLineDetail": {}}]}).json()["Invoice"]
    _subscribe(company, receiver)
    payment = company.emulator.control.record_payment(company.realm_id, invoice["Id"])
    body = json.loads(receiver.wait_for(1)[0]["body"])
    seen = {(e["name"], e["id"], e["operation"]) for e in body["eventNotifications"][0]["dataChangeEvent"]["entities"]}
    assert ("Payment", payment["Id"], "Create") in seen and ("Invoice", invoice["Id"], "Update") in seen


@FAST
def test_void_delete_and_send_by_a_person_are_notified(company, receiver):
    control = company.emulator.control
    first = control.create_invoice(company.realm_id, customer="Northwind IT",
                                   lines=[{"item": "Consulting hours", "qty": "2", "unit_price": "145.00"}])
    assert first["TotalAmt"] == 290
    second = control.create_invoice(company.realm_id, customer="Contoso Ltd", lines=[{"amount": "50"}])
    _subscribe(company, receiver)
    control.void_invoice(company.realm_id, first["Id"])
    control.delete_invoice(company.realm_id, second["Id"])
    control.request("POST", f"/realms/{company.realm_id}/actions/invoices/{first['Id']}/send", {})
    wanted = {(first["Id"], "Void"), (second["Id"], "Delete"), (first["Id"], "Emailed")}
    assert wanted <= receiver.operations(wanted)


@FAST
def test_an_app_no_longer_connected_gets_no_webhooks(company, receiver):
    _subscribe(company, receiver)
    company.qb.auth_client.revoke(token=company.tokens["refresh_token"])
    company.emulator.control.create_invoice(company.realm_id, customer="1", lines=[{"amount": "5"}])
    time.sleep(0.3)
    assert receiver.received == []


@FAST
def test_only_apps_connected_to_a_realm_get_its_webhooks(emulator, receiver):
    emulator.control.register_app("other-app", "other-secret", webhook_url=receiver.url, verifier_token="v")
    mine, theirs = emulator.control.create_realm("Mine"), emulator.control.create_realm("Theirs")
    emulator.control.tokens(mine, client_id="other-app")
    qb = quickbooks(emulator, theirs, emulator.control.tokens(theirs))
    assert qb.company_id == theirs
    emulator.control.create_invoice(theirs, customer="1", lines=[{"amount": "5"}])
    emulator.control.create_invoice(mine, customer="1", lines=[{"amount": "5"}])
    body = json.loads(receiver.wait_for(1)[0]["body"])
    time.sleep(0.2)
    assert len(receiver.received) == 1 and body["eventNotifications"][0]["realmId"] == mine


def _recorded(emulator, attempts: int) -> dict:
    """The first notification once the emulator has recorded ``attempts`` attempts (and planned the next)."""
    deadline = time.monotonic() + 5
    while True:
        log = emulator.control.webhook_deliveries()
        if log and len(log[0]["attempts"]) >= attempts and (log[0]["next_attempt_at"] or log[0]["delivered"]):
            return log[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the emulator did not record {attempts} attempt(s): {log}")
        time.sleep(0.02)


@pytest.mark.parametrize("factor", [1.0, 2.0])
def test_retries_wait_10_20_30_seconds_then_5_minutes_times_the_factor_and_never_come_early(emulator, receiver,
                                                                                          factor):
    from datetime import datetime

    emulator.world.options.update(webhook_batch_seconds=0.05, webhook_retry_factor=factor)
    realm_id = emulator.control.create_realm("Retry Schedule Co")
    emulator.control.tokens(realm_id)  # the demo app is connected, so it gets the realm's webhooks
    emulator.control.register_app(emulator.client_id, emulator.client_secret, webhook_url=receiver.url,
                                  verifier_token=VERIFIER)
    receiver.fail_next = 4
    emulator.control.create_invoice(realm_id, customer="Northwind IT", lines=[{"amount": "10"}])
    receiver.wait_for(1)
    for attempt, wait in enumerate((10, 20, 30, 300), start=1):
        record = _recorded(emulator, attempt)
        planned = datetime.fromisoformat(record["next_attempt_at"]) - datetime.fromisoformat(
            record["attempts"][-1]["at"])
        assert planned.total_seconds() == pytest.approx(wait * factor)
        emulator.control.set_clock(advance_seconds=wait * factor - 5)  # five seconds short of the retry
        time.sleep(0.3)
        assert len(receiver.received) == attempt, f"retry {attempt} came before {wait * factor} s"
        emulator.control.set_clock(advance_seconds=5)
        receiver.wait_for(attempt + 1)
    assert [d["failed"] for d in receiver.received] == [True] * 4 + [False]
    assert _recorded(emulator, 5)["delivered"]


@FAST
def test_a_person_editing_an_invoice_notifies_an_update(company, receiver):
    invoice = company.emulator.control.create_invoice(company.realm_id, customer="Northwind IT",
                                                      lines=[{"amount": "10"}])
    _subscribe(company, receiver)
    edited = company.emulator.control.edit_invoice(company.realm_id, invoice["Id"], DueDate="2030-01-31")
    assert edited["SyncToken"] == "1"
    assert (invoice["Id"], "Update") in receiver.operations({(invoice["Id"], "Update")})
