"""The contract every ``LedgerGateway`` passes: the fake here, the QuickBooks adapter against the emulator.

A test module subclasses ``LedgerContract`` and provides a ``ledger`` fixture: a gateway for a
fresh company.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from addon.ledger import (
    CustomerSpec,
    DuplicateDocNumber,
    InvoiceLineSpec,
    InvoiceRecord,
    InvoiceSpec,
    InvoiceUpdate,
    ItemSpec,
    LedgerFault,
    ObjectNotFound,
    PaymentApplication,
    PaymentSpec,
    Rejected,
    StaleObject,
)


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


class LedgerContract:
    """Behaviour autobill relies on, whichever gateway it talks to."""

    @pytest.fixture
    def customer(self, ledger):
        return ledger.create_customer(CustomerSpec(unique("Northwind IT"), email="ap@northwind.example"))

    @pytest.fixture
    def item(self, ledger):
        return ledger.create_item(ItemSpec(unique("Managed services"), unit_price=Decimal("145.00")))

    def _invoice_spec(self, customer, item, **extra) -> InvoiceSpec:
        lines = (InvoiceLineSpec(amount=Decimal("5437.50"), description="37.5 hours at 145.00", item_id=item.id,
                                 quantity=Decimal("37.5"), unit_price=Decimal("145.00")),
                 InvoiceLineSpec(amount=Decimal("0.10"), description="rounding check", item_id=item.id))
        return InvoiceSpec(customer_id=customer.id, lines=lines, txn_date=date(2026, 1, 31),
                           due_date=date(2026, 3, 2), **extra)

    def test_company_info_names_the_company(self, ledger):
        assert ledger.company_info().name

    def test_customers_and_items_are_created_and_found_by_exact_name(self, ledger, customer, item):
        assert customer.id.isdigit() and customer.sync_token == "0"
        assert ledger.find_customer(customer.display_name) == ledger.read_customer(customer.id)
        assert ledger.find_customer(customer.display_name + " Ltd") is None
        assert ledger.find_item(item.name).id == item.id
        assert item.unit_price == Decimal("145.00")
        assert ledger.intuit_tid

    def test_a_second_customer_with_the_same_name_is_rejected(self, ledger, customer):
        with pytest.raises(Rejected) as caught:
            ledger.create_customer(CustomerSpec(customer.display_name))
        assert not caught.value.retryable

    def test_creating_an_invoice_returns_quickbooks_totals_as_exact_decimals(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item, private_note="autobill:k1"),
                                        request_id=uuid.uuid4().hex)
        assert isinstance(invoice, InvoiceRecord)
        assert invoice.total == Decimal("5437.60") and invoice.balance == Decimal("5437.60")
        assert isinstance(invoice.total, Decimal)
        assert [line.amount for line in invoice.lines] == [Decimal("5437.50"), Decimal("0.10")]
        assert invoice.lines[0].quantity == Decimal("37.5") and invoice.lines[0].item_id == item.id
        assert invoice.customer_id == customer.id and invoice.txn_date == date(2026, 1, 31)
        assert invoice.private_note == "autobill:k1"
        assert ledger.read_invoice(invoice.id).total == Decimal("5437.60")

    def test_the_same_request_id_returns_the_first_invoice_instead_of_making_another(self, ledger, customer, item):
        request_id = uuid.uuid4().hex
        first = ledger.create_invoice(self._invoice_spec(customer, item), request_id=request_id)
        again = ledger.create_invoice(self._invoice_spec(customer, item), request_id=request_id)
        assert again.id == first.id
        assert [i.id for i in ledger.query("Invoice", {"CustomerRef": customer.id})] == [first.id]

    def test_a_used_document_number_is_a_duplicate_doc_number_fault(self, ledger, customer, item):
        number = uuid.uuid4().hex[:8]
        ledger.create_invoice(self._invoice_spec(customer, item, doc_number=number), request_id=uuid.uuid4().hex)
        with pytest.raises(DuplicateDocNumber) as caught:
            ledger.create_invoice(self._invoice_spec(customer, item, doc_number=number), request_id=uuid.uuid4().hex)
        assert caught.value.qbo_code == "6140" and not caught.value.retryable

    def test_an_invoice_for_an_unknown_customer_is_rejected(self, ledger, item):
        spec = InvoiceSpec(customer_id="999999", lines=(InvoiceLineSpec(Decimal("1.00"), item_id=item.id),))
        with pytest.raises(Rejected):
            ledger.create_invoice(spec, request_id=uuid.uuid4().hex)

    def test_reading_a_missing_invoice_is_not_found(self, ledger):
        with pytest.raises(ObjectNotFound) as caught:
            ledger.read_invoice("987654")
        assert caught.value.code == "not_found"

    def test_a_sparse_update_changes_only_the_given_fields(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item, private_note="autobill:k2",
                                                           bill_email="ap@northwind.example"),
                                        request_id=uuid.uuid4().hex)
        updated = ledger.update_invoice(invoice.id, invoice.sync_token, InvoiceUpdate(due_date=date(2026, 4, 1)))
        assert updated.due_date == date(2026, 4, 1)
        assert updated.private_note == "autobill:k2" and updated.bill_email == "ap@northwind.example"
        assert updated.total == invoice.total and int(updated.sync_token) > int(invoice.sync_token)

    def test_an_update_with_an_old_sync_token_is_a_retryable_stale_object(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        ledger.update_invoice(invoice.id, invoice.sync_token, InvoiceUpdate(customer_memo="Thank you"))
        with pytest.raises(StaleObject) as caught:
            ledger.update_invoice(invoice.id, invoice.sync_token, InvoiceUpdate(customer_memo="Again"))
        assert caught.value.retryable and caught.value.qbo_code == "5010"

    def test_voiding_zeroes_the_invoice_and_keeps_it(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        voided = ledger.void_invoice(invoice.id, invoice.sync_token)
        assert voided.id == invoice.id and voided.total == 0 and voided.balance == 0
        assert voided.voided and ledger.read_invoice(invoice.id).voided

    def test_sending_emails_the_invoice_to_the_address_given(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        sent = ledger.send_invoice(invoice.id, to="billing@northwind.example")
        assert sent.email_status == "EmailSent" and sent.bill_email == "billing@northwind.example"

    def test_a_payment_reduces_the_balance_and_keeps_the_rest_unapplied(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        payment = ledger.record_payment(PaymentSpec(customer.id, Decimal("6000.00"),
                                                    (PaymentApplication(invoice.id, Decimal("2000.00")),)),
                                        request_id=uuid.uuid4().hex)
        assert payment.total == Decimal("6000.00") and payment.unapplied == Decimal("4000.00")
        assert payment.applied_to == (PaymentApplication(invoice.id, Decimal("2000.00")),)
        assert ledger.read_payment(payment.id).unapplied == Decimal("4000.00")
        after = ledger.read_invoice(invoice.id)
        assert after.balance == Decimal("3437.60") and payment.id in after.payment_ids

    def test_a_payment_over_the_open_balance_is_rejected(self, ledger, customer, item):
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        with pytest.raises(Rejected):
            ledger.record_payment(PaymentSpec(customer.id, Decimal("9000.00"),
                                              (PaymentApplication(invoice.id, Decimal("9000.00")),)),
                                  request_id=uuid.uuid4().hex)

    def test_query_filters_invoices_by_customer_and_date(self, ledger, customer, item):
        january = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        spec = self._invoice_spec(customer, item)
        ledger.create_invoice(InvoiceSpec(**{**spec.__dict__, "txn_date": date(2026, 2, 28)}),
                              request_id=uuid.uuid4().hex)
        found = ledger.query("Invoice", {"CustomerRef": customer.id, "TxnDate": date(2026, 1, 31)})
        assert [i.id for i in found] == [january.id]
        later = ledger.query("Invoice", {"CustomerRef": customer.id, "TxnDate": (">", date(2026, 2, 1))})
        assert len(later) == 1 and later[0].txn_date == date(2026, 2, 28)

    def test_query_refuses_fields_quickbooks_cannot_filter_on(self, ledger):
        with pytest.raises(Rejected):
            ledger.query("Invoice", {"PrivateNote": "autobill:k1"})

    def test_a_batch_returns_records_and_faults_in_the_order_given(self, ledger, customer, item):
        good = self._invoice_spec(customer, item)
        bad = InvoiceSpec(customer_id="999999", lines=good.lines)
        results = ledger.batch_create_invoices([good, bad, good], request_id=uuid.uuid4().hex[:30])
        assert isinstance(results[0], InvoiceRecord) and isinstance(results[2], InvoiceRecord)
        assert isinstance(results[1], LedgerFault) and results[0].id != results[2].id
        assert results[0].total == Decimal("5437.60")

    def test_changes_since_reports_what_changed_after_the_instant(self, ledger, customer, item):
        before = datetime.now(UTC) - timedelta(minutes=5)
        invoice = ledger.create_invoice(self._invoice_spec(customer, item), request_id=uuid.uuid4().hex)
        changes = ledger.changes_since(["Invoice", "Customer"], before)
        assert invoice.id in [i.id for i in changes.invoices]
        assert customer.id in [c.id for c in changes.customers]
        assert ledger.changes_since(["Invoice"], datetime.now(UTC) + timedelta(hours=1)).invoices == ()
