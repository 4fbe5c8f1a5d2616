"""Custom fields of Jira, ClickUp and Asana become expenses and SLA breaches in the usage ledger, through
the front door: signed vendor-shaped deliveries (tests/fixtures/<vendor>/, sources named there), the
endpoint's ``expense_fields`` / ``sla_breach_fields`` settings, the delivery job, Asana's enrichment
against a local API, the usage ledger's handler, project mappings, and for Jira the period close that
bills them.

Jira by hand (klienti.atlassian.net issue TALK-132, project MyTalking mapped to the agreement;
support 1,000.00 a month in arrears, hardware at cost + 15 %, 10 % of the fee credited per breach):
  Aug 12 "Hardware cost" 1,250.00 for 2 units, corrected to 1,300.00 the same day; "SLA" set to Breached
  invoice Sep 1: 1,000.00 + 1,300.00 x 1.15 = 1,495.00 (2 x 747.50) - 10 % x 1,000.00 = 100.00 -> 2,395.00
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

from tests.scenarios.books import at, lines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
AGREEMENT = "agr-northwind-support"


def fixture(vendor: str, name: str) -> dict:
    return json.loads((FIXTURES / vendor / name).read_text())


def support(company_id: str, start: str) -> dict:
    return {"id": AGREEMENT, "company_id": company_id, "customer_id": "58", "customer_name": "Northwind IT",
            "currency": "USD", "timezone": "UTC", "start": start, "cycle": "monthly",
            "components": [
                {"type": "fixed_fee", "id": "support", "item": "Support", "amount": "1000.00", "timing": "arrears"},
                {"type": "pass_through", "id": "hardware", "item": "Hardware", "markup_percent": "15",
                 "usage": {"tasks": ["hardware"]}},
                {"type": "sla_credit", "id": "uptime", "item": "SLA credit", "percent_of_fee": "10"}],
            "rules": [{"id": "monthly", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}]}


JIRA_FIELDS = {
    "expense_fields": [{"field": "customfield_10050", "name": "Hardware cost", "currency": "USD",
                        "quantity_field": "customfield_10051", "description_field": "customfield_10052",
                        "task": "hardware"}],
    "sla_breach_fields": [{"field": "customfield_10060", "name": "SLA", "values": ["Breached"]}],
}
ISSUE = "klienti.atlassian.net/issue/10509"


def test_jira_cost_and_sla_fields_are_recorded_corrected_and_billed_at_the_period_close(books):
    books.agreement(support(books.company_id, "2021-08-01"))
    books.endpoint("jira", secret="klienti-jira-secret", settings=JIRA_FIELDS)
    books.map_project("jira", "project:jira:10031", AGREEMENT)
    books.tick(at(2021, 8, 2))

    cost = fixture("jira", "issue_updated_hardware_cost.json")
    [row] = books.deliver("jira", cost, at(2021, 8, 12, 11, 6))
    assert (row.kind, row.status) == ("expense_logged", "done")
    assert row.reason == f"usage jira:{ISSUE}/customfield_10050 version 1 new: agreement {AGREEMENT}"
    corrected = copy.deepcopy(cost)
    corrected["issue"]["fields"].update({"customfield_10050": 1300.0, "updated": "2021-08-12T14:30:00.000+0300"})
    corrected["changelog"]["items"][0].update({"fromString": "1250", "toString": "1300"})
    [row] = books.deliver("jira", corrected, at(2021, 8, 12, 11, 31))
    assert row.reason.endswith("version 2 changed: agreement agr-northwind-support")
    [row] = books.deliver("jira", fixture("jira", "issue_updated_sla_breached.json"), at(2021, 8, 12, 12, 41))
    assert (row.kind, row.status) == ("sla_breached", "done")
    assert books.deliver("jira", fixture("jira", "issue_updated_description_of_done_issue.json"),
                         at(2021, 8, 12, 13)) == []
    assert books.last_delivery.status == "ignored"
    assert "none of the configured custom fields (Hardware cost, SLA) changed" in books.last_delivery.reason

    recorded = books.usage()
    assert {k: (v.kind, v.version, v.status) for k, v in recorded.items()} == {
        f"{ISSUE}/customfield_10050": ("expense", 2, "unbilled"),
        f"{ISSUE}/customfield_10060": ("sla_breach", 1, "unbilled")}
    assert recorded[f"{ISSUE}/customfield_10050"].amount == Decimal("1300.0")

    [close] = books.tick(at(2021, 9, 1, 1))
    assert close.status == "done", close.reason
    [invoice] = books.drafts()
    assert lines(invoice) == [
        ("fee", "Support, 2021-08-01 to 2021-08-31", Decimal("1000.00")),
        ("pass_through", "Cisco Meraki MX68 firewall (2021-08-12)", Decimal("1495.00")),
        ("sla_credit", "SLA credit: 1 breach (2021-08-01 to 2021-08-31)", Decimal("-100.00")),
    ]
    assert (invoice.lines[1].quantity, invoice.lines[1].rate) == (Decimal("2.0"), Decimal("747.50"))
    assert invoice.total == Decimal("2395.00")
    assert {v.status for v in books.usage().values()} == {"billed"}


CLICKUP_HARDWARE = "b3c1d2e4-7a6f-4e0b-9c1d-2f3e4a5b6c7d"


def test_a_clickup_cost_field_is_an_expense_and_emptying_it_before_billing_deletes_it(books):
    books.agreement(support(books.company_id, "2022-01-01"))
    books.endpoint("clickup", secret="8GBQEY9BXZ0TK3C5Z2KRWVPN0FE3J6Y4", settings={
        "expense_fields": [{"field": CLICKUP_HARDWARE, "name": "Hardware cost", "task": "hardware"}]})
    books.map_project("clickup", "list:clickup:162641062", AGREEMENT)

    body = fixture("clickup", "task_updated_custom_field_hardware_cost.json")
    [row] = books.deliver("clickup", body, at(2022, 1, 21, 3, 21))
    assert row.status == "done" and row.reason.endswith(f"version 1 new: agreement {AGREEMENT}")
    emptied = copy.deepcopy(body)
    emptied["history_items"][0].update({"id": "2800771175285297002", "date": "1642738815000", "before": "1250",
                                        "after": None})
    [row] = books.deliver("clickup", emptied, at(2022, 1, 21, 4, 21))
    assert row.status == "done" and "version 2 deleted" in row.reason
    [line] = books.usage().values()
    assert (line.source_id, line.status) == (f"task/1vj37mc/{CLICKUP_HARDWARE}", "deleted")


ASANA_TOKEN = "2/1202178852626547/1206845912340999:northwind-pat"
ASANA_HARDWARE = "1206845912349101"
ASANA_TASK = "1206845912347222"


def test_an_asana_custom_field_change_is_read_from_the_task_and_a_deleted_task_deletes_it(books, vendor):
    books.agreement(support(books.company_id, "2024-03-01"))
    books.endpoint("asana", token=ASANA_TOKEN, settings={
        "api_base_url": f"{vendor.base_url}/api/1.0",
        "expense_fields": [{"field": ASANA_HARDWARE, "name": "Hardware cost", "task": "hardware"}]})
    books.handshake("asana", "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81")
    books.map_project("asana", "project:asana:1206845912340001", AGREEMENT)
    vendor.answer(f"/api/1.0/tasks/{ASANA_TASK}", body=fixture("asana", "api_task_with_custom_fields.json"))

    [row] = books.deliver("asana", fixture("asana", "task_custom_field_changed.json"), at(2024, 3, 20, 9, 16))
    assert (row.kind, row.status) == ("expense_logged", "done"), row.reason
    assert row.reason == f"usage asana:{ASANA_TASK}/{ASANA_HARDWARE} version 1 new: agreement {AGREEMENT}"
    [seen] = [s for s in vendor.seen if s.path == f"/api/1.0/tasks/{ASANA_TASK}"]
    assert seen.headers["Authorization"] == f"Bearer {ASANA_TOKEN}"
    assert "custom_fields.number_value" in seen.args["opt_fields"]
    [line] = books.usage().values()
    assert (line.amount, line.description, line.status) == (
        Decimal("2480.0"), "Replace the Northwind IT core switch (Hardware cost)", "unbilled")

    [row] = books.deliver("asana", fixture("asana", "task_deleted.json"), at(2024, 4, 2, 16, 41))
    assert row.status == "done" and "version 2 deleted" in row.reason
    assert [line.status for line in books.usage().values()] == ["deleted"]
