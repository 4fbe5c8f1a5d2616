"""python-quickbooks' client, metered: every request takes a budget permit and has a timeout.

python-quickbooks hides HTTP status codes: a 429 (whose body is XML) becomes "Error reading json
response" with code 10000, and it has no request timeout. ``process_request`` is the one place
every call goes through, so this subclass overrides it to take the company's permit, send with
a timeout, remember Intuit's ``intuit_tid`` and turn 429, 403 and 5xx into faults before
python-quickbooks parses the body. The session is ours and each gateway sends its company's stored access token:
python-quickbooks is never given an ``AuthClient``, so it can never refresh on its own.
https://github.com/ej2/python-quickbooks/blob/master/quickbooks/client.py
"""

from __future__ import annotations

import requests
from quickbooks import QuickBooks

from addon.budget import CompanyBudget
from addon.ledger.faults import AuthLost, Throttled, Transient


class BearerSession(requests.Session):
    """A pooled HTTP session shared by a process's gateways; the token travels per request, not here."""


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request surely did not reach QuickBooks (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc.args[0]) if exc.args else ""
    return isinstance(exc, requests.ConnectionError) and ("NewConnectionError" in text or "Failed to establish" in text)


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
        status = response.status_code
        if status == 429:
            # https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
            pause = self.budget.back_off(company)
            raise Throttled(f"QuickBooks is throttling this company (429); pausing {pause:.0f} s",
                            retry_after=pause, qbo_code="3001", intuit_tid=tid)
        if status == 403:
            raise AuthLost("QuickBooks refused access to this company (403): reconnect it", qbo_code="3100",
                           intuit_tid=tid)
        if status >= 500:
            raise Transient(f"QuickBooks answered {status}", intuit_tid=tid)
        return response
