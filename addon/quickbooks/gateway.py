"""``QuickBooksLedgerGateway``: the ledger port on python-quickbooks, for one company.

Every call gets the stored access token from the ``TokenKeeper`` (refreshing single-flight when
it is about to expire), goes through the company's budget, and maps QuickBooks' answers to typed
records and its errors to the fault vocabulary. A 401 triggers one refresh and one retry; a 401 for
the token just refreshed marks the company "needs reconnect" with the reason, so its work waits
for an admin instead of being retried against a dead grant.
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from quickbooks.exceptions import AuthorizationException, QuickbooksException, SevereException

from addon.budget import CompanyBudget
from addon.ledger.faults import AuthLost, LedgerFault, Rejected, Transient, fault_for_code
from addon.ledger.port import MAX_BATCH, QUERYABLE, LedgerGateway, check_request_id
from addon.ledger.query import select_statement
from addon.ledger.types import (
    ChangeSet,
    CompanyInfoRecord,
    CustomerRecord,
    CustomerSpec,
    Deleted,
    InvoiceRecord,
    InvoiceSpec,
    InvoiceUpdate,
    ItemRecord,
    ItemSpec,
    PaymentRecord,
    PaymentSpec,
)
from addon.quickbooks import mapping
from addon.quickbooks.client import BearerSession, MeteredQuickBooks, unreadable_answer
from addon.tokens import TokenKeeper

MAX_BATCH_REQUEST_ID = 36  # QuickBooks' limit for a batch call's requestid
# python-quickbooks' own code (a plain QuickbooksException, not a Fault's SevereException) for a body
# that is not JSON or a non-200 without a Fault.
PYTHON_QUICKBOOKS_UNREADABLE = 10000


def _dumps(body: dict) -> str:
    # Decimals go out as exact strings, as python-quickbooks itself sends them.
    return json.dumps(body, default=str)


class QuickBooksLedgerGateway(LedgerGateway):
    """One company's QuickBooks books through the Accounting API."""

    def __init__(self, company_id: str, realm_id: str, tokens: TokenKeeper, budget: CompanyBudget, *,
                 api_url: str, minor_version: int = 75, timeout: float = 60.0, session: BearerSession | None = None):
        self.company_id = company_id
        self.realm_id = realm_id
        self.tokens = tokens
        self._qb = MeteredQuickBooks(company_id=realm_id, minorversion=minor_version, use_decimal=True).bind(
            company_id, budget, session or BearerSession(), api_url, timeout)
        self._income_account: str | None = None

    def __repr__(self) -> str:
        return f"QuickBooksLedgerGateway(company_id={self.company_id!r}, realm_id={self.realm_id!r})"

    @property
    def intuit_tid(self) -> str | None:
        return self._qb.last_intuit_tid

    def _call(self, fn: Callable[[MeteredQuickBooks], dict]) -> dict:
        tokens = self.tokens.current(self.company_id)
        refreshed = False
        while True:
            self._qb.access_token = tokens.access_token
            try:
                return fn(self._qb)
            except QuickbooksException as exc:
                fault = self._fault(exc)
            if not isinstance(fault, AuthLost):
                raise fault
            if refreshed:
                # The access token stored a moment ago is refused too: the grant itself no longer works.
                raise self.tokens.grant_refused(
                    self.company_id, seen_version=tokens.version, intuit_tid=self.intuit_tid,
                    reason=f"QuickBooks refused a freshly refreshed access token ({fault.qbo_code or 401}): "
                           "the authorization no longer works")
            # The token may have expired early or been revoked: refresh once (single-flight), retry once.
            tokens = self.tokens.refresh(self.company_id, seen_version=tokens.version)
            refreshed = True

    def _fault(self, exc: QuickbooksException) -> LedgerFault:
        """The fault for what python-quickbooks raised (its message may quote the body: never passed on)."""
        tid = self.intuit_tid
        if isinstance(exc, AuthorizationException):  # HTTP 401, or a Fault code under 500
            return AuthLost("QuickBooks does not accept this company's authorization", qbo_code=str(exc.error_code),
                            intuit_tid=tid)
        if type(exc) is QuickbooksException and exc.error_code == PYTHON_QUICKBOOKS_UNREADABLE:
            return unreadable_answer(self._qb.last_status, tid)
        if isinstance(exc, SevereException) and exc.error_code == 10000:  # Intuit's "application error" Fault
            return Transient("QuickBooks had an application error (10000)", intuit_tid=tid)
        return fault_for_code(exc.error_code, exc.message, exc.detail, intuit_tid=tid)

    def _url(self, path: str) -> str:
        return f"{self._qb.api_url}/company/{self.realm_id}/{path}"

    def _read(self, entity: str, object_id: str) -> dict:
        return self._call(lambda qb: qb.get_single_object(entity, object_id))[entity]

    def _create(self, entity: str, body: dict, request_id: str | None) -> dict:
        check_request_id(request_id)
        return self._call(lambda qb: qb.create_object(entity, _dumps(body), request_id=request_id))[entity]

    def _select(self, entity: str, where: Mapping[str, object], start: int = 1, max_results: int = 100) -> list[dict]:
        statement = select_statement(entity, where, start=start, max_results=max_results)
        answer = self._call(lambda qb: qb.query(statement))
        return list((answer.get("QueryResponse") or {}).get(entity) or [])

    # Operations ------------------------------------------------------------------------------
    def company_info(self) -> CompanyInfoRecord:
        return mapping.company_info(self._read("CompanyInfo", self.realm_id))

    def find_customer(self, display_name: str) -> CustomerRecord | None:
        found = self._select("Customer", {"DisplayName": display_name, "Active": True}, max_results=1)
        return mapping.customer(found[0]) if found else None

    def create_customer(self, spec: CustomerSpec, *, request_id: str | None = None) -> CustomerRecord:
        return mapping.customer(self._create("Customer", mapping.customer_body(spec), request_id))

    def read_customer(self, customer_id: str) -> CustomerRecord:
        return mapping.customer(self._read("Customer", customer_id))

    def find_item(self, name: str) -> ItemRecord | None:
        found = self._select("Item", {"Name": name, "Active": True}, max_results=1)
        return mapping.item(found[0]) if found else None

    def _default_income_account(self) -> str:
        if self._income_account is None:
            accounts = self._select("Account", {"AccountType": "Income", "Active": True}, max_results=50)
            if not accounts:
                raise Rejected("the company has no active income account for new items", qbo_code="2020")
            named = [a for a in accounts if a.get("Name") == "Services"]
            self._income_account = str((named or accounts)[0]["Id"])
        return self._income_account

    def create_item(self, spec: ItemSpec, *, request_id: str | None = None) -> ItemRecord:
        account = spec.income_account_id or self._default_income_account()
        return mapping.item(self._create("Item", mapping.item_body(spec, account), request_id))

    def create_invoice(self, spec: InvoiceSpec, *, request_id: str) -> InvoiceRecord:
        return mapping.invoice(self._create("Invoice", mapping.invoice_body(spec), request_id))

    def read_invoice(self, invoice_id: str) -> InvoiceRecord:
        return mapping.invoice(self._read("Invoice", invoice_id))

    def update_invoice(self, invoice_id: str, sync_token: str, changes: InvoiceUpdate) -> InvoiceRecord:
        body = _dumps(mapping.invoice_update_body(invoice_id, sync_token, changes))
        return mapping.invoice(self._call(lambda qb: qb.update_object("Invoice", body))["Invoice"])

    def void_invoice(self, invoice_id: str, sync_token: str) -> InvoiceRecord:
        body = _dumps({"Id": invoice_id, "SyncToken": sync_token})
        answer = self._call(lambda qb: qb.update_object("Invoice", body, params={"operation": "void"}))
        return mapping.invoice(answer["Invoice"])

    def send_invoice(self, invoice_id: str, *, to: str | None = None) -> InvoiceRecord:
        path = f"invoice/{invoice_id}/send" + (f"?sendTo={quote(to)}" if to else "")
        answer = self._call(lambda qb: qb.misc_operation(path, None, "application/octet-stream"))
        return mapping.invoice(answer["Invoice"])

    def query(self, entity: str, where: Mapping[str, object] | None = None, *, start: int = 1,
              max_results: int = 100) -> list:
        if entity not in QUERYABLE:
            raise Rejected(f"Invalid query: {entity} cannot be queried here", qbo_code="4000")
        return [mapping.RECORD_OF[entity](d) for d in self._select(entity, where or {}, start, max_results)]

    def batch_create_invoices(self, specs: Sequence[InvoiceSpec], *, request_id: str | None = None
                              ) -> list[InvoiceRecord | LedgerFault]:
        if len(specs) > MAX_BATCH:
            raise ValueError(f"a batch takes at most {MAX_BATCH} invoices, got {len(specs)}")
        if request_id is not None and not 0 < len(request_id) <= MAX_BATCH_REQUEST_ID:
            raise ValueError(f"a batch request_id must be 1 to {MAX_BATCH_REQUEST_ID} characters")
        body = _dumps({"BatchItemRequest": [{"bId": str(n), "operation": "create",
                                             "Invoice": mapping.invoice_body(spec)} for n, spec in enumerate(specs)]})
        answer = self._call(lambda qb: qb.make_request("POST", self._url("batch"), body, request_id=request_id))
        by_id = {str(item.get("bId")): item for item in answer.get("BatchItemResponse") or []}
        results: list[InvoiceRecord | LedgerFault] = []
        for n in range(len(specs)):
            item = by_id.get(str(n))
            if item is None:
                results.append(Transient("QuickBooks did not answer this batch item", intuit_tid=self.intuit_tid))
            elif "Fault" in item:
                results.append(mapping.fault(item["Fault"], self.intuit_tid))
            else:
                results.append(mapping.invoice(item["Invoice"]))
        return results

    def changes_since(self, entities: Sequence[str], since: datetime) -> ChangeSet:
        stamp = since.astimezone(UTC).isoformat(timespec="seconds")
        answer = self._call(lambda qb: qb.change_data_capture(",".join(entities), stamp))
        found: dict[str, list] = {"Invoice": [], "Payment": [], "Customer": [], "Item": []}
        deleted: list[Deleted] = []
        for block in answer.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for entity, objects in response.items():
                    if entity not in found or not isinstance(objects, list):
                        continue
                    for obj in objects:
                        if obj.get("status") == "Deleted":
                            deleted.append(Deleted(entity, str(obj["Id"])))
                        else:
                            found[entity].append(mapping.RECORD_OF[entity](obj))
        return ChangeSet(invoices=tuple(found["Invoice"]), payments=tuple(found["Payment"]),
                         customers=tuple(found["Customer"]), items=tuple(found["Item"]), deleted=tuple(deleted))

    def record_payment(self, spec: PaymentSpec, *, request_id: str) -> PaymentRecord:
        return mapping.payment(self._create("Payment", mapping.payment_body(spec), request_id))

    def read_payment(self, payment_id: str) -> PaymentRecord:
        return mapping.payment(self._read("Payment", payment_id))
