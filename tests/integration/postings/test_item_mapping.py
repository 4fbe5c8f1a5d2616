"""Item mapping end to end, against the QuickBooks emulator over HTTP on both databases: a won deal's
lines are billed as the item their product is mapped to, else the QuickBooks item with their SKU or
name, else the rule's default item; the draft names the item, so the invoice is what was drafted;
and once the company's items are known a deal costs exactly two QuickBooks calls (create, send)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from addon import bootstrap
from addon.ledger import ItemSpec
from addon.models.postings import Posting
from addon.postings.pipeline import run_posting
from rules import Event, EventKind, EventLine, SourceCustomer, load_draft
from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.integration.postings.conftest import from_delivery, import_agreement, postings, run

D = Decimal
WON = datetime(2026, 1, 20, 15, tzinfo=UTC)
LINES = (
    EventLine("Onboarding package", D("1"), unit_price=D("900.00"), product_id="88001", product_name="Onboarding"),
    EventLine("Network assessment", D("1"), unit_price=D("1200.00"), sku="NET-ASSESS", product_name="Assessment (old)"),
    EventLine("Consulting", D("4"), unit_price=D("145.00"), product_name="Consulting hours"),
    EventLine("Something new", D("1"), unit_price=D("50.00"), sku="NOPE-1", product_name="Widget"),
)


@pytest.fixture
def qbo(tmp_path, database_url, redis_url, emulator):
    """The demo realm (items Managed services, Consulting hours, Hardware) plus a Network assessment
    with a SKU, a company connected to it, and Northwind's customer id there."""
    container = emulator_container(tmp_path, database_url, redis_url, emulator,
                                   AUTOBILL_POSTING_RETRY_BASE="0.01", AUTOBILL_POSTING_RETRY_MAX="0.02")
    bootstrap.set_current(container)
    realm = emulator.control.create_realm("Demo IT Services", seed="demo")
    company = connect_realm(container, emulator, realm)
    ledger = container.ledger(company.id)
    assessment = ledger.create_item(ItemSpec("Network assessment", sku="NET-ASSESS"))
    items = {i["Name"]: i["Id"] for i in emulator.control.objects(realm, "Item")}
    customer = next(c["Id"] for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
    import_agreement(container, company.id, {
        "id": "agr-northwind-projects", "company_id": company.id, "customer_id": customer,
        "customer_name": "Northwind IT", "start": "2026-01-01", "timezone": "UTC",
        "components": [{"type": "event_lines", "id": "deal", "item": "Managed services"}],
        "rules": [{"id": "won", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"}}]})
    yield SimpleNamespace(container=container, company_id=company.id, realm=realm, customer=customer,
                          items=items, assessment=assessment.id)
    bootstrap.set_current(None)
    _close(container)


def _deal(q, deal: str, lines=LINES) -> str:
    won = Event(EventKind.DEAL_WON, "hubspot", deal, WON, amount=sum(line.quantity * line.unit_price for line in lines),
                currency="USD", source_customer=SourceCustomer("hs-company-77", "Northwind IT"), lines=lines)
    row = run(q.container, from_delivery(q.container, q.company_id, won, customer_id=q.customer))
    assert row.status == "done", row.reason
    return row.id


def _posting_of(q, event_id) -> Posting:
    [posting] = [p for p in postings(q.container, q.company_id) if p.event_id == event_id]
    return posting


def _invoice_items(emulator, q, posting_id) -> list[str]:
    with q.container.unit_of_work() as session:
        invoice_id = session.get(Posting, posting_id).qbo_invoice_id
    [invoice] = [i for i in emulator.control.objects(q.realm, "Invoice") if i["Id"] == invoice_id]
    return [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in invoice["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"]


def _calls(emulator, realm) -> dict:
    return dict(emulator.control.counters(realm)["by_route"])


def test_lines_bill_the_mapped_item_then_the_sku_or_name_match_then_the_default(qbo, emulator):
    q = qbo
    q.container.mappings.set(q.company_id, "item", "hubspot", "88001", q.items["Hardware"], actor="user:us_ann")
    posting = _posting_of(q, _deal(q, "deal-1"))
    drafted = [line.item for line in load_draft(posting.draft).lines]
    assert drafted == ["Hardware", "Network assessment", "Consulting hours", "Managed services"]
    assert run_posting(q.container, posting.id) == "sent"
    assert _invoice_items(emulator, q, posting.id) == [
        q.items["Hardware"], q.assessment, q.items["Consulting hours"], q.items["Managed services"]]
    assert "by the item mapping of hubspot product 88001" in posting.draft
    assert "matched by SKU NET-ASSESS" in posting.draft
    # QuickBooks' matches are kept as mappings a person can see and replace.
    found = {(m.key, m.target, m.how) for m in q.container.mappings.list(q.company_id, "item")}
    assert found == {("88001", q.items["Hardware"], "person"), ("NET-ASSESS", q.assessment, "sku"),
                     ("Consulting hours", q.items["Consulting hours"], "name")}


def test_once_the_items_are_known_a_deal_costs_exactly_create_and_send(qbo, emulator):
    q = qbo
    q.container.mappings.set(q.company_id, "item", "hubspot", "88001", q.items["Hardware"], actor="user:us_ann")
    first = _posting_of(q, _deal(q, "deal-1"))
    assert run_posting(q.container, first.id) == "sent"
    before = _calls(emulator, q.realm)
    second = _posting_of(q, _deal(q, "deal-2"))
    assert run_posting(q.container, second.id) == "sent"
    after = _calls(emulator, q.realm)
    spent = {route: n - before.get(route, 0) for route, n in after.items() if n != before.get(route, 0)}
    assert spent == {"POST invoice": 1, "POST invoice/send": 1}, spent
    assert _invoice_items(emulator, q, second.id) == _invoice_items(emulator, q, first.id)


def test_setting_an_item_mapping_changes_the_next_invoice_but_never_a_drafted_one(qbo, emulator):
    q = qbo
    drafted = _posting_of(q, _deal(q, "deal-1"))  # drafted with the default item for "Widget"
    q.container.mappings.set(q.company_id, "item", "hubspot", "NOPE-1", q.items["Hardware"], actor="user:us_ann")
    assert run_posting(q.container, drafted.id) == "sent"
    assert _invoice_items(emulator, q, drafted.id)[3] == q.items["Managed services"]  # the stored draft's item
    later = _posting_of(q, _deal(q, "deal-2"))
    assert run_posting(q.container, later.id) == "sent"
    assert _invoice_items(emulator, q, later.id)[3] == q.items["Hardware"]


def test_a_mapping_to_an_item_quickbooks_lacks_waits_and_fixing_the_mapping_wakes_the_event(qbo, emulator):
    from tests.integration.intake.conftest import queued

    q = qbo
    q.container.mappings.set(q.company_id, "item", "hubspot", "88001", "999999", actor="user:us_ann")
    won = Event(EventKind.DEAL_WON, "hubspot", "deal-1", WON, amount=D("900.00"), currency="USD",
                source_customer=SourceCustomer("hs-company-77", "Northwind IT"), lines=LINES[:1])
    row = run(q.container, from_delivery(q.container, q.company_id, won, customer_id=q.customer))
    assert row.status == "waiting_mapping" and "names QuickBooks item 999999" in row.reason
    assert postings(q.container, q.company_id) == []
    q.container.redis.flushall()
    q.container.mappings.set(q.company_id, "item", "hubspot", "88001", q.items["Hardware"], actor="user:us_ann")
    assert queued(q.container) == [("addon.eventflow.process_event", (row.id,))]
    assert run(q.container, row.id).status == "done"
    assert [line.item for line in load_draft(postings(q.container, q.company_id)[0].draft).lines] == ["Hardware"]


def test_a_won_deal_that_starts_an_agreement_gives_its_recurring_fee_the_mapped_item(qbo, emulator):
    q = qbo
    import_agreement(q.container, q.company_id, {"format": "autobill.agreements/1", "company_id": q.company_id,
                                                 "agreements": [], "rules": [
        {"id": "won-deals", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"},
         "starts": {"timezone": "UTC"}}]})
    q.container.mappings.set(q.company_id, "item", "hubspot", "77001", q.items["Hardware"], actor="cli")
    lines = (EventLine("Managed IT, monthly", D("1"), unit_price=D("1500.00"), recurring="monthly",
                       product_id="77001"),)
    won = Event(EventKind.DEAL_WON, "hubspot", "deal-9", WON, amount=D("1500.00"), currency="USD",
                source_customer=SourceCustomer("hs-company-88", "Contoso Ltd"), lines=lines)
    contoso = next(c["Id"] for c in emulator.control.objects(q.realm, "Customer") if c["DisplayName"] == "Contoso Ltd")
    assert run(q.container, from_delivery(q.container, q.company_id, won, customer_id=contoso)).status == "done"
    [started] = q.container.agreements.of_customer(q.company_id, contoso)
    assert [c.item for c in started.components] == ["Hardware"]


def test_a_match_autobill_stored_by_name_yields_to_a_sku_quickbooks_knows(qbo, emulator):
    q = qbo
    firewall = q.container.ledger(q.company_id).create_item(ItemSpec("Firewall appliance", sku="FW-200"))
    by_name = (EventLine("Assessment", D("1"), unit_price=D("1200.00"), product_name="Network assessment"),)
    first = _posting_of(q, _deal(q, "deal-1", by_name))
    assert [line.item for line in load_draft(first.draft).lines] == ["Network assessment"]
    with_sku = (EventLine("Firewall", D("1"), unit_price=D("900.00"), sku="FW-200", product_name="Network assessment"),)
    later = _posting_of(q, _deal(q, "deal-2", with_sku))
    assert [line.item for line in load_draft(later.draft).lines] == ["Firewall appliance"]
    assert run_posting(q.container, later.id) == "sent"
    assert _invoice_items(emulator, q, later.id) == [firewall.id]
