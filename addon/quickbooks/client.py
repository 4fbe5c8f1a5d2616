"""python-quickbooks' client, metered: every request takes a budget permit and has a timeout.

python-quickbooks hides HTTP status codes: a 429 (whose body is XML) becomes "Error reading json
response" with code 10000, and it has no request timeout. ``process_request`` is the one place
every call goes through, so this subclass overrides it to take the company's permit, send with
a timeout, remember Intuit's ``intuit_tid`` and the status, and turn 429, 403 and 5xx into faults
before python-quickbooks parses the body. The session is ours and each gateway sends its company's stored access token:
python-quickbooks is never given an ``AuthClient``, so it can never refresh on its own.
https://github.com/ej2/python-quickbooks/blob/master/quickbooks/client.py
"""

from __future__ import annotations

import json
import re

import requests
from quickbooks import QuickBooks

from addon.budget import CompanyBudget
from addon.ledger.faults import LedgerFault, OperationRefused, Rejected, Throttled, Transient

_XML_TEXT = {tag: re.compile(rf"<{tag}>([^<]{{1,300}})</{tag}>") for tag in ("Detail", "Message")}


class BearerSession(requests.Session):
    """A pooled HTTP session shared by a process's gateways; the token travels per request, not here."""


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach QuickBooks (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc.args[0]) if exc.args else ""
    return isinstance(exc, requests.ConnectionError) and ("NewConnectionError" in text or "Failed to establish" in text)


def refusal_detail(text: str) -> str | None:
    """What a 403 body says (its Fault's Detail, else Message; JSON in either case, or XML), short."""
    try:
        body = json.loads(text)
        fault = body.get("Fault") or body.get("fault") or {}
        error = (fault.get("Error") or fault.get("error") or [{}])[0]
        found = next((error.get(k) for k in ("Detail", "detail", "Message", "message") if error.get(k)), None)
    except (ValueError, AttributeError, IndexError, TypeError):
        matches = (pattern.search(text or "") for pattern in _XML_TEXT.values())
        found = next((m.group(1) for m in matches if m), None)
    return " ".join(str(found).split())[:200] if found else None


def unreadable_answer(status: int | None, tid: str | None) -> LedgerFault:
    """The fault for an answer with no QuickBooks error in it that python-quickbooks could not use.

    python-quickbooks raises a plain ``QuickbooksException(..., 10000)`` both for a body that is not
    JSON and for a non-200 without a ``Fault`` (client.py ``make_request``); its message carries the
    body, which is never passed on. A 200 cut off in transit may follow a committed write, so its
    outcome is unknown; so is a 404 or 408 page from a gateway in front of QuickBooks (QuickBooks'
    own "not found" is a 400 with Fault 610). Other statuses are requests retrying cannot mend.
    https://github.com/ej2/python-quickbooks/blob/master/quickbooks/client.py
    """
    if status is None or 200 <= status < 300:
        return Transient(f"QuickBooks' answer (HTTP {status or 200}) was cut off or unreadable; the request may "
                         "have been carried out", outcome_unknown=True, intuit_tid=tid)
    if status in (404, 408):
        return Transient(f"QuickBooks answered HTTP {status} without a QuickBooks error (a gateway's page; if it "
                         "persists, check QBO_API_BASE_URL)", outcome_unknown=True, intuit_tid=tid)
    return Rejected(f"QuickBooks answered HTTP {status} without a QuickBooks error; the same request will not "
                    "fare better", qbo_code=f"http_{status}", intuit_tid=tid)


class MeteredQuickBooks(QuickBooks):
    """A python-quickbooks client bound to one company, its budget and a request timeout."""

    def bind(self, company_id: str, budget: CompanyBudget, session: BearerSession, api_url: str,
             timeout: float) -> MeteredQuickBooks:
        """Attach what every request needs; returns self."""
        self.autobill_company_id = company_id
        self.budget = budget
        self.session = session
        self.api_url_v3 = self.sandbox_api_url_v3 = api_url
        self.timeout = timeout
        self.access_token = ""
        self.last_intuit_tid: str | None = None
        self.last_status: int | None = None
        return self

    def process_request(self, request_type, url, headers="", params="", data=""):
        company = self.autobill_company_id
        with self.budget.permit(company):
            headers = dict(headers or {})
            headers["Authorization"] = "Bearer " + self.access_token
            try:
                response = self.session.request(request_type, url, headers=headers, params=params, data=data,
                                                timeout=self.timeout)
            except requests.RequestException as exc:
                raise Transient(f"QuickBooks did not answer: {type(exc).__name__}",
                                outcome_unknown=not _never_sent(exc)) from None
        tid = response.headers.get("intuit_tid")
        self.last_intuit_tid = tid
        status = self.last_status = response.status_code
        if status == 429:
            # https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
            pause = self.budget.back_off(company)
            raise Throttled(f"QuickBooks is throttling this company (429); pausing {pause:.0f} s",
                            retry_after=pause, qbo_code="3001", intuit_tid=tid)
        if status == 403:
            # A refusal of this operation, not a lost grant (that is a 401): the company stays connected.
            # https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
            detail = refusal_detail(response.text[:4000])
            raise OperationRefused("QuickBooks refused this operation for this connection (403"
                            + (f": {detail}" if detail else "") + "); an admin of the QuickBooks company may need "
                            "to grant the access, or reconnect autobill", qbo_code="3100", intuit_tid=tid)
        if status >= 500:
            raise Transient(f"QuickBooks answered {status}", intuit_tid=tid)
        return response
