"""Every entity accepts what python-quickbooks sends for it, and concurrent writers stay consistent."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from quickbooks.objects.account import Account
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment
from quickbooks.objects.term import Term
from quickbooks.objects.trackingclass import Class

from tests.integration.sandbox.test_sales import _invoice, _line


def test_python_quickbooks_default_payloads_are_accepted_for_every_creatable_entity(company):
    term = Term()
    term.Name, term.DueDays = "Net 45", 45
    assert term.save(qb=company.qb).Type == "STANDARD"
    account = Account()
    account.Name, account.AccountType, account.AccountSubType = "Project Income", "Income", "ServiceFeeIncome"
    saved_account = account.save(qb=company.qb)
    assert saved_account.Classification == "Revenue"
    klass = Class()
    klass.Name = "Security"
    assert klass.save(qb=company.qb).FullyQualifiedName == "Security"
    item = Item()
    item.Name, item.Type, item.UnitPrice = "Pen test", "Service", 2500
    item.IncomeAccountRef = saved_account.to_ref()
    assert item.save(qb=company.qb).IncomeAccountRef.value == saved_account.Id
    memo = CreditMemo()
    memo.CustomerRef = {"value": "2"}
    memo.Line = [_line(20)]
    assert memo.save(qb=company.qb).Balance == 20.0
    payment = Payment()
    payment.CustomerRef = {"value": "2"}
    payment.TotalAmt = 5
    assert payment.save(qb=company.qb).UnappliedAmt == 5.0


def test_a_person_edits_an_invoice_and_the_totals_follow(company):
    invoice = _invoice(company.qb, _line(100))
    edited = company.emulator.control.edit_invoice(company.realm_id, invoice.Id, DueDate="2031-01-01", Line=[
        {"DetailType": "SalesItemLineDetail", "Amount": "150.00", "SalesItemLineDetail": {}}])
    assert edited["DueDate"] == "2031-01-01" and edited["TotalAmt"] == 150 and edited["SyncToken"] == "1"


@pytest.mark.emulator_options(limits={"per_minute": None, "per_second": None, "concurrent": None})
def test_concurrent_creates_with_one_requestid_make_one_invoice(company):
    body = {"CustomerRef": {"value": "1"},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "10", "SalesItemLineDetail": {}}]}
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def post() -> None:
        barrier.wait()
        ids.append(company.raw("POST", "invoice", params={"requestid": "same-key"}, json=body).json()["Invoice"]["Id"])

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert len(company.emulator.control.objects(company.realm_id, "Invoice")) == 1


@pytest.mark.emulator_options(limits={"per_minute": None, "per_second": None, "concurrent": None})
def test_concurrent_payments_never_overpay_an_invoice(company):
    invoice = _invoice(company.qb, _line(100))
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def pay() -> None:
        barrier.wait()
        statuses.append(company.raw("POST", "payment", json={
            "CustomerRef": {"value": "1"}, "TotalAmt": "40",
            "Line": [{"Amount": "40", "LinkedTxn": [{"TxnId": invoice.Id, "TxnType": "Invoice"}]}]}).status_code)

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 400, 400, 400, 400]
    stored = company.raw("GET", f"invoice/{invoice.Id}").json()["Invoice"]
    assert Decimal(str(stored["Balance"])) == Decimal("20")
