"""Mappings and customer mapping on both databases, with an in-memory QuickBooks company."""

from __future__ import annotations

import threading

import pytest

from addon import customers, mappings
from addon.errors import InvalidInput
from addon.eventjob import run_event
from addon.ledger import CustomerSpec, Throttled
from addon.models.events import EventRecord
from rules.events import SourceCustomer
from tests.integration.intake.conftest import NOW, customers_in, queued, run_jobs
from tests.integration.intake.helpers import deal_won, store_events


def _row(container, event_id) -> EventRecord:
    with container.unit_of_work() as session:
        return session.get(EventRecord, event_id)


def test_a_mapping_is_set_listed_replaced_and_audited(container, company):
    container.mappings.set(company.id, "customer", "hubspot", "7001", "58", actor="user:us_ann")
    container.mappings.set(company.id, "item", "hubspot", "SKU-9", "3", actor="cli")
    changed = container.mappings.set(company.id, "customer", "hubspot", "7001", "61", actor="user:us_ann")
    assert (changed.target, changed.how) == ("61", "person")
    assert [(m.kind, m.key, m.target) for m in container.mappings.list(company.id)] == [
        ("customer", "7001", "61"), ("item", "SKU-9", "3")]
    assert [m.key for m in container.mappings.list(company.id, "item")] == ["SKU-9"]
    records = container.audit.records(company.id)
    assert [r.action for r in records] == ["mapping.set"] * 3
    assert '"before":{"detail":null,"target":"58"}' in records[-1].details


def test_bad_mappings_are_refused_with_a_clear_reason(container, company):
    m = container.mappings
    with pytest.raises(InvalidInput, match="unknown mapping kind 'vendor'"):
        m.set(company.id, "vendor", "hubspot", "1", "2", actor="cli")
    with pytest.raises(InvalidInput, match="no source called 'hubspotx'"):
        m.set(company.id, "customer", "hubspotx", "1", "2", actor="cli")
    with pytest.raises(InvalidInput, match="no agreement 'agr-nope'"):
        m.set(company.id, "project", "toggl", "project:toggl:42", "agr-nope", actor="cli")
    with pytest.raises(InvalidInput, match="needs a key"):
        m.set(company.id, "customer", "hubspot", "  ", "2", actor="cli")
    assert m.list(company.id) == []


def test_listeners_run_inside_the_transaction_that_sets_the_mapping(container, company):
    seen = []

    def listener(c, session, mapping):
        seen.append((mapping.kind, mapping.key, session.in_transaction()))
        raise RuntimeError("the listener's own work failed")

    mappings.on_set("item", listener)
    try:
        with pytest.raises(RuntimeError):
            container.mappings.set(company.id, "item", "stripe", "prod_1", "3", actor="cli")
    finally:
        mappings.remove_listener("item", listener)
    assert seen == [("item", "prod_1", True)]
    assert container.mappings.list(company.id) == []  # rolled back with the listener


def _creates(quickbooks) -> int:
    return quickbooks.emulator.control.counters(quickbooks.realm)["by_route"].get("POST customer", 0)


def test_a_known_customer_maps_by_email_then_by_name_and_the_match_is_stored(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    ledger = container.ledger(company.id)
    by_mail = ledger.create_customer(CustomerSpec("Northwind Traders", email="billing@northwind.example"))
    by_name = ledger.create_customer(CustomerSpec("Contoso Ltd"))
    first, second = store_events(container, company.id, [
        deal_won(customer_id="cust-7"), deal_won(deal="deal-43", customer_id="cust-8", name="Contoso Ltd",
                                                 email=None)])
    run_jobs(container)
    # Mapped, then handed to drafting (no agreement for these customers: ignored with the reason).
    assert (_row(container, first).qbo_customer_id, _row(container, first).status) == (by_mail.id, "ignored")
    assert _row(container, second).qbo_customer_id == by_name.id
    stored = {(m.key, m.target, m.how) for m in container.mappings.list(company.id, "customer")}
    assert stored == {("cust-7", by_mail.id, "email"), ("cust-8", by_name.id, "name")}
    assert _creates(quickbooks) == 2 and len(customers_in(quickbooks)) == 2


def test_an_unknown_customer_is_created_from_the_sources_data_once(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    ids = store_events(container, company.id, [deal_won(deal=f"deal-{n}") for n in range(3)])
    run_jobs(container)
    [created] = customers_in(quickbooks, "Northwind IT")
    assert created["PrimaryEmailAddr"]["Address"] == "billing@northwind.example"
    assert {_row(container, i).qbo_customer_id for i in ids} == {created["Id"]}
    assert _creates(quickbooks) == 1


def test_by_company_setting_an_unknown_customer_waits_for_a_person_and_setting_the_mapping_wakes_it(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    customers.set_policy(container, company.id, "match_or_hold", actor="user:us_ann")
    [event_id] = store_events(container, company.id, [deal_won()])
    run_jobs(container)
    row = _row(container, event_id)
    assert row.status == "waiting_mapping" and row.next_attempt_at is None
    assert row.reason.startswith("no QuickBooks customer has this email or name: map generic customer cust-7 "
                                 "(Northwind IT, billing@northwind.example) with autobill mappings set")
    assert customers_in(quickbooks) == []
    container.mappings.set(company.id, "customer", "generic", "cust-7", "58", actor="user:us_ann")
    assert queued(container) == [("addon.eventflow.process_event", (event_id,))]
    run_jobs(container)
    assert (_row(container, event_id).status, _row(container, event_id).qbo_customer_id) == ("ignored", "58")
    assert "company.customer_policy_set" in [r.action for r in container.audit.records(company.id)]


def test_the_hold_policy_sends_every_new_customer_to_a_person_and_a_bad_policy_is_refused(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    customers.set_policy(container, company.id, "hold", actor="cli")
    container.ledger(company.id).create_customer(CustomerSpec("Northwind IT", email="billing@northwind.example"))
    [event_id] = store_events(container, company.id, [deal_won()])
    row = run_event(container, event_id, now=NOW)
    assert row.status == "waiting_mapping" and row.reason.startswith("new customers wait for a person")
    with pytest.raises(InvalidInput, match="unknown customer policy 'sometimes'"):
        customers.set_policy(container, company.id, "sometimes", actor="cli")


def test_a_source_name_longer_than_quickbooks_allows_is_shortened_and_a_refusal_waits_for_a_person(quickbooks):
    container, company = quickbooks.container, quickbooks.company
    long_name = "Northwind " + "x" * 200
    [event_id] = store_events(container, company.id, [deal_won(name=long_name)])
    row = run_event(container, event_id, now=NOW)
    assert row.qbo_customer_id is not None, row.reason  # mapped; drafting then finds no agreement
    assert customers_in(quickbooks)[0]["DisplayName"] == long_name[:100]
    quickbooks.emulator.control.fault(quickbooks.realm, "POST customer", status=400, code="6000",
                                      detail="A business validation error has occurred")
    [refused] = store_events(container, company.id, [deal_won(customer_id="cust-8", name="Contoso Ltd", email=None)])
    row = run_event(container, refused, now=NOW)
    assert row.status == "waiting_mapping" and row.next_attempt_at is None
    assert row.reason.startswith("QuickBooks refused: ") and "map generic customer cust-8 (Contoso Ltd" in row.reason


def test_quickbooks_throttling_keeps_the_event_waiting_and_retries_it_later(container, company, ledger):
    ledger.fail_next(Throttled("slow down", retry_after=120))
    [event_id] = store_events(container, company.id, [deal_won()])
    row = run_event(container, event_id, now=NOW)
    assert (row.status, row.attempts, row.reason) == ("waiting_mapping", 1, "customer mapping waits: slow down")
    assert (row.next_attempt_at - NOW).total_seconds() == max(120, container.settings.retry_base)
    row = run_event(container, event_id, now=NOW)
    assert row.status == "ignored" and row.qbo_customer_id is not None  # mapped, then drafting found no agreement


def test_four_threads_resolving_one_new_customer_create_it_once(sqlite_container):
    from addon.ledger.fake import FakeLedgerGateway
    from tests.integration.connection.conftest import add_company

    container = sqlite_container
    company = add_company(container)
    fake = FakeLedgerGateway(company.id)
    lock = threading.Lock()
    original = fake.create_customer

    def slow_create(spec, *, request_id=None):
        with lock:
            return original(spec, request_id=request_id)

    fake.create_customer = slow_create
    container.ledger = lambda company_id: fake
    customer = SourceCustomer(id="cust-7", name="Northwind IT", email="billing@northwind.example")
    barrier = threading.Barrier(4)
    results = []

    def resolve():
        barrier.wait()
        results.append(customers.resolve(container, company.id, "generic", customer, now=NOW))

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.calls.count("create_customer") == 1
    mapped = {r.customer_id for r in results if r.customer_id}
    waiting = [r for r in results if r.customer_id is None]
    assert len(mapped) == 1 and all(r.retry_in and "another worker" in r.reason for r in waiting)


def test_a_line_maps_to_an_item_by_stored_mapping_then_sku_then_name_then_the_rules_default(quickbooks):
    from decimal import Decimal

    from addon import items
    from addon.ledger import ItemSpec
    from rules.events import EventLine

    container, company = quickbooks.container, quickbooks.company
    ledger = container.ledger(company.id)
    seats = ledger.create_item(ItemSpec("Managed services seat", unit_price=Decimal("145.00"), sku="MSP-SEAT"))
    onboarding = ledger.create_item(ItemSpec("Onboarding", sku="ONB-1"))
    services = ledger.create_item(ItemSpec("Services"))
    container.mappings.set(company.id, "item", "hubspot", "88001", onboarding.id, actor="cli")

    def choose(line, default=None):
        found = items.resolve(container, company.id, "hubspot", line, default_item=default)
        return found.item_id, found.how

    assert choose(EventLine("Seat", product_id="88001", product_name="Managed services seat")) == (
        onboarding.id, "mapping")
    assert choose(EventLine("Seat", product_name="Managed services seat")) == (seats.id, "name")
    assert choose(EventLine("Seat", sku="MSP-SEAT", product_name="Seat (renamed)")) == (seats.id, "sku")
    assert choose(EventLine("Kickoff", sku="ONB-1", product_name="Managed services seat")) == (onboarding.id, "sku")
    assert choose(EventLine("Something new", product_name="Widget"), default="Services") == (services.id, "default")
    assert choose(EventLine("Something new")) == (None, "none")
