"""Customers, items and invoices through python-quickbooks, unmodified, against the emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.base import EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import DiscountLine, DiscountLineDetail, SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item


def _line(amount, item_id="1", qty=None, price=None, tax=None) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = item_id
    if qty is not None:
        line.SalesItemLineDetail.Qty = qty
        line.SalesItemLineDetail.UnitPrice = price
    if tax is not None:
        line.SalesItemLineDetail.TaxCodeRef = Ref()
        line.SalesItemLineDetail.TaxCodeRef.value = tax
    return line


def _invoice(qb, *lines, customer_id="1", **fields) -> Invoice:
    invoice = Invoice()
    invoice.Line = list(lines)
    invoice.CustomerRef = Ref()
    invoice.CustomerRef.value = customer_id
    for key, value in fields.items():
        setattr(invoice, key, value)
    return invoice.save(qb=qb)


def test_python_quickbooks_creates_a_customer_and_reads_it_back(company):
    customer = Customer()
    customer.DisplayName = "Tailspin Toys"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "ap@tailspin.example"
    saved = customer.save(qb=company.qb)
    assert saved.Id.isdigit() and saved.SyncToken == "0"
    again = Customer.get(saved.Id, qb=company.qb)
    assert again.DisplayName == "Tailspin Toys" and again.PrimaryEmailAddr.Address == "ap@tailspin.example"
    assert again.FullyQualifiedName == "Tailspin Toys" and again.Active is True


def test_a_second_customer_with_the_same_display_name_is_refused_with_6240(company):
    customer = Customer()
    customer.DisplayName = "northwind it"
    with pytest.raises(QuickbooksException) as err:
        customer.save(qb=company.qb)
    assert err.value.error_code == 6240


def test_an_item_needs_an_income_account(company):
    item = Item()
    item.Name = "Backup monitoring"
    item.Type = "Service"
    with pytest.raises(ValidationException) as err:
        item.save(qb=company.qb)
    assert err.value.error_code == 2020
    item.IncomeAccountRef = Ref()
    item.IncomeAccountRef.value = "4"
    item.UnitPrice = 25
    saved = item.save(qb=company.qb)
    assert Item.get(saved.Id, qb=company.qb).IncomeAccountRef.name == "Services"


def test_the_exact_invoice_python_quickbooks_sends_is_accepted_with_amount_100(company):
    # python-quickbooks' own sandbox test: empty-string dates and totals, Qty/UnitPrice 0, SyncToken 0.
    saved = _invoice(company.qb, _line(100))
    assert saved.Line[0].Amount == 100.0 and saved.TotalAmt == 100.0 and saved.Balance == 100.0
    assert saved.DocNumber == "1001" and saved.SyncToken == "0"
    assert saved.Line[-1].DetailType == "SubTotalLineDetail"


def test_invoice_totals_and_tax_come_from_the_server(company):
    saved = _invoice(company.qb, _line(Decimal("37.5") * Decimal("145.00"), "2", Decimal("37.5"), Decimal("145.00")),
                     _line(Decimal("899.00"), "3", tax="TAX"))
    detail = saved.TxnTaxDetail
    assert Decimal(str(detail.TotalTax)) == Decimal("74.17")  # 8.25 % of 899.00, rounded half up
    assert Decimal(str(saved.TotalAmt)) == Decimal("5437.50") + Decimal("899.00") + Decimal("74.17")
    assert saved.Balance == saved.TotalAmt


def test_amount_that_does_not_match_qty_times_unit_price_is_refused(company):
    with pytest.raises(QuickbooksException) as err:
        _invoice(company.qb, _line(100, "2", 2, 145))
    assert err.value.error_code == 6070


def test_a_percent_discount_applies_to_the_subtotal_before_tax_by_default(company):
    discount = DiscountLine()
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = True
    discount.DiscountLineDetail.DiscountPercent = 10
    saved = _invoice(company.qb, _line(1000, "3", tax="TAX"), discount)
    amounts = {line.DetailType: Decimal(str(line.Amount)) for line in saved.Line}
    assert amounts["DiscountLineDetail"] == Decimal("100.00")
    assert Decimal(str(saved.TxnTaxDetail.TotalTax)) == Decimal("82.50")  # on 1000, tax before discount
    assert Decimal(str(saved.TotalAmt)) == Decimal("982.50")


def test_an_invoice_for_a_customer_that_does_not_exist_gets_2500(company):
    with pytest.raises(ValidationException) as err:
        _invoice(company.qb, _line(100), customer_id="999")
    assert err.value.error_code == 2500


def test_an_invoice_without_a_customer_gets_2020(company):
    invoice = Invoice()
    invoice.Line = [_line(100)]
    with pytest.raises(ValidationException) as err:
        invoice.save(qb=company.qb)
    assert err.value.error_code == 2020


def test_terms_and_email_come_from_the_customer(company):
    saved = _invoice(company.qb, _line(100), customer_id="2", TxnDate="2026-03-01")
    assert saved.SalesTermRef.name == "Net 15" and saved.DueDate == "2026-03-16"
    assert saved.BillEmail.Address == "accounts@contoso.example"


def test_query_filters_on_filterable_fields_and_counts(company):
    for amount in (100, 200, 300):
        _invoice(company.qb, _line(amount), TxnDate="2026-02-01")
    _invoice(company.qb, _line(50), customer_id="2", TxnDate="2026-02-01")
    northwind = Invoice.filter(CustomerRef="1", TxnDate="2026-02-01", qb=company.qb)
    assert sorted(i.TotalAmt for i in northwind) == [100.0, 200.0, 300.0]
    big = Invoice.where("TotalAmt > '150' AND CustomerRef = '1'", order_by="TotalAmt DESC", qb=company.qb)
    assert [i.TotalAmt for i in big] == [300.0, 200.0]
    assert Invoice.count("CustomerRef = '1'", qb=company.qb) == 3
    names = [c.DisplayName for c in Customer.choose(["Northwind IT", "Contoso Ltd"], field="DisplayName", qb=company.qb)]
    assert sorted(names) == ["Contoso Ltd", "Northwind IT"]
    assert [c.DisplayName for c in Customer.where("DisplayName LIKE 'north%'", qb=company.qb)] == ["Northwind IT"]


def test_query_pages_with_startposition_and_maxresults(company):
    for amount in range(1, 8):
        _invoice(company.qb, _line(amount))
    page = Invoice.all(start_position=3, max_results=2, order_by="Id", qb=company.qb)
    assert [i.TotalAmt for i in page] == [3.0, 4.0]


def test_a_query_on_a_field_that_is_not_filterable_gets_4001(company):
    with pytest.raises(ValidationException) as err:
        Invoice.where("PrivateNote = 'marker'", qb=company.qb)
    assert err.value.error_code == 4001 and "not queryable" in err.value.detail


def test_sending_an_invoice_records_delivery_and_a_mail_in_the_outbox(company):
    saved = _invoice(company.qb, _line(250))
    sent = saved.send(qb=company.qb, send_to="finance@northwind.example")
    assert sent["Invoice"]["EmailStatus"] == "EmailSent"
    assert sent["Invoice"]["DeliveryInfo"]["DeliveryType"] == "Email"
    assert sent["Invoice"]["BillEmail"]["Address"] == "finance@northwind.example"
    mail = company.emulator.control.outbox(company.realm_id)[-1]
    assert mail["to"] == "finance@northwind.example" and mail["status"] == "delivered" and mail["txnId"] == saved.Id


def test_sending_to_an_undeliverable_address_is_a_delivery_error(company):
    saved = _invoice(company.qb, _line(250))
    sent = saved.send(qb=company.qb, send_to="nobody@nowhere.invalid")
    assert sent["Invoice"]["DeliveryInfo"]["DeliveryErrorType"] == "Undeliverable"
    assert company.emulator.control.outbox(company.realm_id)[-1]["status"] == "failed"


def test_the_invoice_pdf_is_a_pdf(company):
    saved = _invoice(company.qb, _line(250))
    data = saved.download_pdf(qb=company.qb)
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF") and b"1001" in data
