"""``FakeLedgerGateway``: an in-memory QuickBooks company for unit tests.

It keeps QuickBooks' rules that autobill depends on (numeric ids, sync tokens, request-id
replay, duplicate document numbers, balances reduced by payments, void) and passes the same
contract tests as the real adapter. ``fail_next`` injects a fault into the next call.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from addon.clock import utcnow
from addon.ledger.faults import DuplicateDocNumber, LedgerFault, ObjectNotFound, Rejected, StaleObject
from addon.ledger.port import MAX_BATCH, QUERYABLE, LedgerGateway, check_request_id
from addon.ledger.query import check_filter, matches
from addon.ledger.types import (
    ChangeSet,
    CompanyInfoRecord,
    CustomerRecord,
    CustomerSpec,
    InvoiceLine,
    InvoiceRecord,
    InvoiceSpec,
    InvoiceUpdate,
    ItemRecord,
    ItemSpec,
    PaymentRecord,
    PaymentSpec,
)

_ENTITY_OF = {CustomerRecord: "Customer", ItemRecord: "Item", InvoiceRecord: "Invoice", PaymentRecord: "Payment"}


def _lines(specs) -> tuple[InvoiceLine, ...]:
    return tuple(InvoiceLine(amount=s.amount, description=s.description, item_id=s.item_id, quantity=s.quantity,
                             unit_price=s.unit_price, service_date=s.service_date, line_id=str(n))
                 for n, s in enumerate(specs, 1))


class FakeLedgerGateway(LedgerGateway):
    """One QuickBooks company held in memory."""

    def __init__(self, company_id: str = "co_fake", *, name: str = "Northwind IT",
                 clock: Callable[[], datetime] = utcnow):
        self.company_id = company_id
        self.name = name
        self.clock = clock
        self.objects: dict[tuple[str, str], object] = {}
        self.changed_at: dict[tuple[str, str], datetime] = {}
        self.calls: list[str] = []
        self._ids = itertools.count(1)
        self._replies: dict[tuple[str, str], object] = {}
        self._faults: list[LedgerFault] = []
        self._tid: str | None = None

    # Test controls ---------------------------------------------------------------------------
    def fail_next(self, fault: LedgerFault) -> None:
        """Make the next call raise ``fault`` (in order, one per call)."""
        self._faults.append(fault)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        self._tid = f"fake-tid-{len(self.calls)}"
        if self._faults:
            raise self._faults.pop(0)

    @property
    def intuit_tid(self) -> str | None:
        return self._tid

    def _put(self, record):
        key = (_ENTITY_OF[type(record)], record.id)
        self.objects[key] = record
        self.changed_at[key] = self.clock()
        return record

    def _get(self, entity: str, object_id: str):
        try:
            return self.objects[(entity, str(object_id))]
        except KeyError:
            raise ObjectNotFound(f"Object Not Found: {entity} {object_id} does not exist", qbo_code="610") from None

    def _all(self, entity: str) -> list:
        return [v for (kind, _), v in sorted(self.objects.items(), key=lambda kv: int(kv[0][1])) if kind == entity]

    def _replay(self, operation: str, request_id: str | None, make):
        check_request_id(request_id)
        if request_id is not None and (operation, request_id) in self._replies:
            return self._replies[(operation, request_id)]
        result = make()
        if request_id is not None:
            self._replies[(operation, request_id)] = result
        return result

    def _next_id(self) -> str:
        return str(next(self._ids))

    # Operations ------------------------------------------------------------------------------
    def company_info(self) -> CompanyInfoRecord:
        self._call("company_info")
        return CompanyInfoRecord(name=self.name, legal_name=self.name, country="US")

    def find_customer(self, display_name: str) -> CustomerRecord | None:
        self._call("find_customer")
        return next((c for c in self._all("Customer") if c.display_name == display_name and c.active), None)

    def create_customer(self, spec: CustomerSpec, *, request_id: str | None = None) -> CustomerRecord:
        self._call("create_customer")

        def make():
            if any(c.display_name == spec.display_name for c in self._all("Customer")):
                raise Rejected(f"Duplicate Name Exists Error: The name supplied already exists. : {spec.display_name}",
                               qbo_code="6240")
            return self._put(CustomerRecord(id=self._next_id(), sync_token="0", display_name=spec.display_name,
                                            email=spec.email, company_name=spec.company_name, balance=Decimal("0")))
        return self._replay("customer", request_id, make)

    def read_customer(self, customer_id: str) -> CustomerRecord:
        self._call("read_customer")
        return self._get("Customer", customer_id)

    def find_item(self, name: str) -> ItemRecord | None:
        self._call("find_item")
        return next((i for i in self._all("Item") if i.name == name and i.active), None)

    def create_item(self, spec: ItemSpec, *, request_id: str | None = None) -> ItemRecord:
        self._call("create_item")

        def make():
            if any(i.name == spec.name for i in self._all("Item")):
                raise Rejected(f"Duplicate Name Exists Error: {spec.name}", qbo_code="6240")
            return self._put(ItemRecord(id=self._next_id(), sync_token="0", name=spec.name, kind=spec.kind,
                                        unit_price=spec.unit_price, description=spec.description, sku=spec.sku))
        return self._replay("item", request_id, make)

    def _check_invoice(self, spec: InvoiceSpec, exclude: str | None = None) -> None:
        if ("Customer", spec.customer_id) not in self.objects:
            raise Rejected(f"Invalid Reference Id: Customer {spec.customer_id} does not exist", qbo_code="2500")
        if not spec.lines:
            raise Rejected("Required param missing: Line", qbo_code="2020", element="Line")
        for line in spec.lines:
            if line.item_id and ("Item", line.item_id) not in self.objects:
                raise Rejected(f"Invalid Reference Id: Item {line.item_id} does not exist", qbo_code="2500")
        if spec.doc_number and any(i.doc_number == spec.doc_number and i.id != exclude for i in self._all("Invoice")):
            raise DuplicateDocNumber(f"Duplicate Document Number Error: DocNumber={spec.doc_number} is already used",
                                     qbo_code="6140")

    def _new_invoice(self, spec: InvoiceSpec) -> InvoiceRecord:
        self._check_invoice(spec)
        total = sum((line.amount for line in spec.lines), Decimal("0"))
        return self._put(InvoiceRecord(
            id=self._next_id(), sync_token="0", customer_id=spec.customer_id, total=total, balance=total,
            lines=_lines(spec.lines), doc_number=spec.doc_number, txn_date=spec.txn_date or self.clock().date(),
            due_date=spec.due_date, currency=spec.currency or "USD", email_status="NotSet",
            bill_email=spec.bill_email, private_note=spec.private_note, customer_memo=spec.customer_memo,
            updated_at=self.clock()))

    def create_invoice(self, spec: InvoiceSpec, *, request_id: str) -> InvoiceRecord:
        self._call("create_invoice")
        return self._replay("invoice", request_id, lambda: self._new_invoice(spec))

    def read_invoice(self, invoice_id: str) -> InvoiceRecord:
        self._call("read_invoice")
        return self._get("Invoice", invoice_id)

    def _bump(self, invoice: InvoiceRecord, **changes) -> InvoiceRecord:
        return self._put(dataclasses.replace(invoice, sync_token=str(int(invoice.sync_token) + 1),
                                             updated_at=self.clock(), **changes))

    def _fresh(self, invoice_id: str, sync_token: str) -> InvoiceRecord:
        invoice = self._get("Invoice", invoice_id)
        if str(sync_token) != invoice.sync_token:
            raise StaleObject("Stale Object Error: You and another user were working on this at the same time.",
                              qbo_code="5010")
        return invoice

    def update_invoice(self, invoice_id: str, sync_token: str, changes: InvoiceUpdate) -> InvoiceRecord:
        self._call("update_invoice")
        invoice = self._fresh(invoice_id, sync_token)
        fields = {f.name: getattr(changes, f.name) for f in dataclasses.fields(changes)
                  if getattr(changes, f.name) is not None}
        if "doc_number" in fields:
            if any(i.doc_number == fields["doc_number"] and i.id != invoice.id for i in self._all("Invoice")):
                raise DuplicateDocNumber(f"Duplicate Document Number Error: DocNumber={fields['doc_number']}",
                                         qbo_code="6140")
        if "lines" in fields:
            paid = invoice.total - invoice.balance
            total = sum((line.amount for line in fields["lines"]), Decimal("0"))
            fields.update(lines=_lines(fields["lines"]), total=total, balance=total - paid)
        return self._bump(invoice, **fields)

    def void_invoice(self, invoice_id: str, sync_token: str) -> InvoiceRecord:
        self._call("void_invoice")
        invoice = self._fresh(invoice_id, sync_token)
        lines = tuple(dataclasses.replace(line, amount=Decimal("0"), quantity=None) for line in invoice.lines)
        return self._bump(invoice, lines=lines, total=Decimal("0"), balance=Decimal("0"),
                          private_note=f"Voided{' - ' + invoice.private_note if invoice.private_note else ''}")

    def send_invoice(self, invoice_id: str, *, to: str | None = None) -> InvoiceRecord:
        self._call("send_invoice")
        invoice = self._get("Invoice", invoice_id)
        email = to or invoice.bill_email
        if not email:
            raise Rejected("Business Validation Error: the invoice has no billing email address", qbo_code="6000")
        return self._bump(invoice, bill_email=email, email_status="EmailSent", delivered_at=self.clock())

    def query(self, entity: str, where: Mapping[str, object] | None = None, *, start: int = 1,
              max_results: int = 100) -> list:
        self._call("query")
        if entity not in QUERYABLE:
            raise Rejected(f"Invalid query: {entity} cannot be queried here", qbo_code="4000")
        check_filter(entity, where or {})
        found = [obj for obj in self._all(entity) if matches(entity, obj, where or {})]
        return found[start - 1:start - 1 + max_results]

    def batch_create_invoices(self, specs: Sequence[InvoiceSpec], *, request_id: str | None = None
                              ) -> list[InvoiceRecord | LedgerFault]:
        if len(specs) > MAX_BATCH:
            raise ValueError(f"a batch takes at most {MAX_BATCH} invoices, got {len(specs)}")
        self._call("batch_create_invoices")

        def make():
            results: list[InvoiceRecord | LedgerFault] = []
            for spec in specs:
                try:
                    results.append(self._new_invoice(spec))
                except LedgerFault as fault:
                    results.append(fault)
            return results
        return self._replay("batch", request_id, make)

    def changes_since(self, entities: Sequence[str], since: datetime) -> ChangeSet:
        self._call("changes_since")
        changed = {e: tuple(obj for obj in self._all(e) if self.changed_at[(e, obj.id)] > since) for e in entities}
        return ChangeSet(invoices=changed.get("Invoice", ()), payments=changed.get("Payment", ()),
                         customers=changed.get("Customer", ()), items=changed.get("Item", ()))

    def record_payment(self, spec: PaymentSpec, *, request_id: str) -> PaymentRecord:
        self._call("record_payment")

        def make():
            self._get("Customer", spec.customer_id)
            applied = sum((a.amount for a in spec.applied_to), Decimal("0"))
            if applied > spec.amount:
                raise Rejected("Business Validation Error: applied amounts exceed the payment", qbo_code="6000")
            invoices = [self._get("Invoice", a.invoice_id) for a in spec.applied_to]
            for invoice, application in zip(invoices, spec.applied_to, strict=True):
                if application.amount > invoice.balance:
                    raise Rejected(f"Business Validation Error: payment exceeds the open balance of invoice "
                                   f"{invoice.id}", qbo_code="6000")
            payment = self._put(PaymentRecord(
                id=self._next_id(), sync_token="0", customer_id=spec.customer_id, total=spec.amount,
                unapplied=spec.amount - applied, applied_to=spec.applied_to,
                txn_date=spec.txn_date or self.clock().date(), reference=spec.reference,
                private_note=spec.private_note))
            for invoice, application in zip(invoices, spec.applied_to, strict=True):
                self._bump(invoice, balance=invoice.balance - application.amount,
                           payment_ids=(*invoice.payment_ids, payment.id))
            return payment
        return self._replay("payment", request_id, make)

    def read_payment(self, payment_id: str) -> PaymentRecord:
        self._call("read_payment")
        return self._get("Payment", payment_id)
