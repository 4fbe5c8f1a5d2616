"""Payments applied to invoices, through python-quickbooks: balances, links, voids, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine

from tests.integration.sandbox.test_sales import _invoice, _line


def _pay(qb, total, *applications, customer_id="1") -> Payment:
    payment = Payment()
    payment.CustomerRef = {"value": customer_id}
    payment.TotalAmt = total
    for invoice_id, amount, kind in applications:
        line = PaymentLine()
        line.Amount = amount
        line.LinkedTxn = [{"TxnId": invoice_id, "TxnType": kind}]
        payment.Line.append(line)
    return payment.save(qb=qb)


def test_a_partial_payment_lowers_the_balance_and_links_both_ways(company):
    invoice = _invoice(company.qb, _line(1000))
    payment = _pay(company.qb, 400, (invoice.Id, 400, "Invoice"))
    assert payment.UnappliedAmt == 0 and payment.Line[0].LinkedTxn[0].TxnId == invoice.Id
    again = Invoice.get(invoice.Id, qb=company.qb)
    assert again.Balance == 600.0 and again.SyncToken == "1"
    assert [(link.TxnId, link.TxnType) for link in again.LinkedTxn] == [(payment.Id, "Payment")]
    assert Customer.get(1, qb=company.qb).Balance == 600.0


def test_paying_the_rest_leaves_a_zero_balance_and_keeps_the_unapplied_part(company):
    invoice = _invoice(company.qb, _line(250))
    payment = _pay(company.qb, 300, (invoice.Id, 250, "Invoice"))
    assert payment.UnappliedAmt == 50.0
    assert Invoice.get(invoice.Id, qb=company.qb).Balance == 0
    assert Customer.get(1, qb=company.qb).Balance == -50.0


def test_applying_more_than_the_open_balance_is_refused(company):
    invoice = _invoice(company.qb, _line(100))
    with pytest.raises(QuickbooksException) as err:
        _pay(company.qb, 150, (invoice.Id, 150, "Invoice"))
    assert err.value.error_code == 6000
    assert Invoice.get(invoice.Id, qb=company.qb).Balance == 100.0


def test_applying_more_than_the_payment_is_refused(company):
    invoice = _invoice(company.qb, _line(100))
    with pytest.raises(QuickbooksException) as err:
        _pay(company.qb, 50, (invoice.Id, 100, "Invoice"))
    assert err.value.error_code == 6000


def test_a_payment_for_another_customers_invoice_is_refused(company):
    invoice = _invoice(company.qb, _line(100), customer_id="2")
    with pytest.raises(QuickbooksException) as err:
        _pay(company.qb, 100, (invoice.Id, 100, "Invoice"))
    assert err.value.error_code == 6000


def test_voiding_a_payment_gives_the_balance_back(company):
    invoice = _invoice(company.qb, _line(100))
    payment = _pay(company.qb, 100, (invoice.Id, 100, "Invoice"))
    answer = payment.void(qb=company.qb)["Payment"]
    assert answer["TotalAmt"] == 0 and answer["PrivateNote"] == "Voided"
    again = Invoice.get(invoice.Id, qb=company.qb)
    assert again.Balance == 100.0 and again.LinkedTxn == []


def test_deleting_a_payment_gives_the_balance_back_and_then_the_invoice_can_go(company):
    invoice = _invoice(company.qb, _line(100))
    payment = _pay(company.qb, 60, (invoice.Id, 60, "Invoice"))
    with pytest.raises(QuickbooksException) as err:
        Invoice.get(invoice.Id, qb=company.qb).delete(qb=company.qb)
    assert err.value.error_code == 6000
    payment.delete(qb=company.qb)
    fresh = Invoice.get(invoice.Id, qb=company.qb)
    assert fresh.Balance == 100.0
    fresh.delete(qb=company.qb)


def test_a_payment_spread_over_two_invoices(company):
    first, second = _invoice(company.qb, _line(100)), _invoice(company.qb, _line(200))
    _pay(company.qb, 250, (first.Id, 100, "Invoice"), (second.Id, 150, "Invoice"))
    assert Invoice.get(first.Id, qb=company.qb).Balance == 0
    assert Invoice.get(second.Id, qb=company.qb).Balance == 50.0


def test_a_credit_memo_pays_an_invoice_through_a_zero_payment(company):
    invoice = _invoice(company.qb, _line(100))
    memo = CreditMemo()
    memo.CustomerRef = {"value": "1"}
    memo.Line = [_line(30)]
    memo = memo.save(qb=company.qb)
    assert memo.TotalAmt == 30.0 and memo.RemainingCredit == 30.0
    _pay(company.qb, 0, (invoice.Id, 30, "Invoice"), (memo.Id, 30, "CreditMemo"))
    assert Invoice.get(invoice.Id, qb=company.qb).Balance == 70.0
    assert CreditMemo.get(memo.Id, qb=company.qb).RemainingCredit == 0


def test_a_payment_with_no_lines_is_all_unapplied_credit(company):
    payment = _pay(company.qb, Decimal("75.50"))
    assert payment.UnappliedAmt == 75.5 and Customer.get(1, qb=company.qb).Balance == -75.5
