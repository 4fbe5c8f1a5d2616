"""Batch and change data capture through python-quickbooks; company settings objects."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.preferences import Preferences

from tests.integration.sandbox.test_sales import _invoice, _line


def _customers(*names) -> list[Customer]:
    out = []
    for name in names:
        customer = Customer()
        customer.DisplayName = name
        out.append(customer)
    return out


def test_batch_create_reports_successes_and_per_item_faults(company):
    results = batch_create(_customers("Batch One", "Batch Two", "Northwind IT"), qb=company.qb)
    assert sorted(c.DisplayName for c in results.successes) == ["Batch One", "Batch Two"]
    assert len(results.faults) == 1
    fault = results.faults[0]
    assert fault.Error[0].code == "6240" and fault.original_object.DisplayName == "Northwind IT"


def test_batch_update_and_delete(company):
    invoices = [_invoice(company.qb, _line(amount)) for amount in (10, 20)]
    for invoice in invoices:
        invoice.PrivateNote = "batched"
    updated = batch_update(invoices, qb=company.qb)
    assert [i.PrivateNote for i in updated.successes] == ["batched", "batched"]
    deleted = batch_delete(updated.successes, qb=company.qb)
    assert len(deleted.successes) == 2 and not deleted.faults
    assert Invoice.count(qb=company.qb) == 0


def test_a_batch_echoes_bids_and_answers_queries(company):
    answer = company.raw("POST", "batch", json={"BatchItemRequest": [
        {"bId": "bid1", "Query": "select * from Term where Name = 'Net 15'"},
        {"bId": "bid2", "operation": "create", "Customer": {"DisplayName": "From Batch"}},
        {"bId": "bid3", "operation": "delete", "Invoice": {"Id": "999", "SyncToken": "0"}}]})
    items = answer.json()["BatchItemResponse"]
    assert [i["bId"] for i in items] == ["bid1", "bid2", "bid3"]
    assert items[0]["QueryResponse"]["Term"][0]["DueDays"] == 15
    assert items[1]["Customer"]["DisplayName"] == "From Batch"
    assert items[2]["Fault"]["Error"][0]["code"] == "610"


def test_more_than_30_batch_items_are_refused(company):
    items = [{"bId": str(i), "Query": "select * from Term"} for i in range(31)]
    answer = company.raw("POST", "batch", json={"BatchItemRequest": items})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["Message"] == "MalformedRequest"


@pytest.mark.emulator_options(access_token_ttl=10 * 86400)
def test_change_data_capture_returns_changes_and_deletions_since_an_instant(company):
    from sandbox.clock import PACIFIC

    clock = company.emulator.world.clock
    company.emulator.control.set_clock(advance_seconds=86400)
    kept = _invoice(company.qb, _line(10))
    since = (clock.now() + timedelta(hours=12)).astimezone(PACIFIC).replace(tzinfo=None)  # naive, company time
    company.emulator.control.set_clock(advance_seconds=86400)
    gone = _invoice(company.qb, _line(20))
    changed = _customers("CDC Customer")[0].save(qb=company.qb)
    gone.delete(qb=company.qb)
    result = change_data_capture([Invoice, Customer], since, qb=company.qb)
    assert [i.Id for i in result.Invoice] == [gone.Id]
    assert result.Invoice[0].status == "Deleted"
    assert [c.Id for c in result.Customer] == [changed.Id]
    assert kept.Id not in [i.Id for i in result.Invoice]


def test_change_data_capture_looks_back_at_most_30_days(company):
    since = (company.emulator.world.clock.now() - timedelta(days=31)).isoformat()
    answer = company.raw("GET", "cdc", params={"entities": "Invoice", "changedSince": since})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "6000"


def test_change_data_capture_answers_at_most_1000_objects_in_all_oldest_first(company):
    company.emulator.control.limits(company.realm_id, per_minute=None, per_second=None, batch_per_minute=None)
    company.emulator.control.set_clock(advance_seconds=60)  # the seeded company is older than `since`
    from sandbox.clock import PACIFIC

    since = company.emulator.world.clock.now().astimezone(PACIFIC).replace(tzinfo=None)  # as python-quickbooks sends
    invoice = _invoice(company.qb, _line(10))
    results = batch_create(_customers(*(f"CDC Customer {n:04d}" for n in range(1020))), qb=company.qb)
    assert len(results.successes) == 1020 and not results.faults
    result = change_data_capture([Invoice, Customer], since, qb=company.qb)
    assert [i.Id for i in result.Invoice] == [invoice.Id]
    names = [c.DisplayName for c in result.Customer]
    assert len(names) == 999  # 1 invoice + 999 customers: the cap spans every entity asked for
    assert names == [f"CDC Customer {n:04d}" for n in range(999)]


def test_preferences_and_company_info_read_and_update(company):
    prefs = Preferences.get(qb=company.qb)
    assert prefs.SalesFormsPrefs.CustomTxnNumbers is False
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD"
    answer = company.raw("POST", "preferences", json={"SyncToken": prefs.SyncToken, "sparse": True,
                                                      "SalesFormsPrefs": {"CustomTxnNumbers": True}})
    assert answer.json()["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    info = CompanyInfo.get(company.realm_id, qb=company.qb)
    assert info.CompanyName == "Demo IT Services"
    answer = company.raw("POST", "companyinfo", json={"Id": "1", "SyncToken": info.SyncToken, "sparse": True,
                                                      "LegalName": "Demo IT Services LLC"})
    assert answer.json()["CompanyInfo"]["LegalName"] == "Demo IT Services LLC"


def test_another_currency_needs_multicurrency(company):
    body = {"DisplayName": "Euro Client", "CurrencyRef": {"value": "EUR"}}
    assert company.raw("POST", "customer", json=body).json()["Fault"]["Error"][0]["code"] == "6000"
    company.emulator.control.preferences(company.realm_id, multi_currency=True)
    customer = company.raw("POST", "customer", json=body).json()["Customer"]
    invoice = company.raw("POST", "invoice", json={
        "CustomerRef": {"value": customer["Id"]}, "CurrencyRef": {"value": "EUR"}, "ExchangeRate": "1.10",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "100", "SalesItemLineDetail": {}}]}).json()
    assert invoice["Invoice"]["HomeTotalAmt"] == 110


def test_the_home_currency_set_through_the_control_api_is_the_default_currency(company):
    answer = company.emulator.control.preferences(company.realm_id, home_currency="CAD")
    assert answer["Preferences"]["CurrencyPrefs"]["HomeCurrency"] == {"value": "CAD"}
    customer = company.raw("POST", "customer", json={"DisplayName": "Maple IT"}).json()["Customer"]
    assert customer["CurrencyRef"] == {"value": "CAD", "name": "Canadian Dollar"}
    refused = requests.post(f"{company.emulator.url}/_sandbox/realms/{company.realm_id}/preferences",
                            json={"home_currency": "dollars"}, timeout=10)
    assert refused.status_code == 400
