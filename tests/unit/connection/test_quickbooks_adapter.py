"""The QuickBooks adapter's own behaviour, with canned HTTP answers: statuses become faults, every
call carries minorversion and the stored access token, and a 401 gets one refresh and one retry."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
import requests

from addon.ledger import (
    AuthLost,
    DuplicateDocNumber,
    ObjectNotFound,
    OperationRefused,
    Rejected,
    StaleObject,
    Throttled,
    Transient,
)
from addon.ledger.faults import fault_for_code
from addon.quickbooks.gateway import QuickBooksLedgerGateway
from addon.tokens import StoredTokens

THROTTLED_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse><Fault type="SERVICE">'
                 '<Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>'
                 '</Error></Fault></IntuitResponse>')


def _response(status: int, body: str, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    response.headers["intuit_tid"] = f"tid-{status}"
    return response


class CannedSession:
    """Answers requests from a list, and remembers what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def request(self, method, url, headers=None, params=None, data=None, timeout=None):
        self.sent.append({"method": method, "url": url, "headers": dict(headers), "params": dict(params or {}),
                          "timeout": timeout})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeBudget:
    def __init__(self):
        self.permits, self.backoffs = 0, []

    @contextmanager
    def permit(self, company_id):
        self.permits += 1
        yield

    def back_off(self, company_id, seconds=None):
        self.backoffs.append(company_id)
        return 60.0


class FakeTokens:
    def __init__(self):
        self.version, self.refreshes = 1, 0

    def current(self, company_id):
        return StoredTokens(company_id, self.version, f"AT-{self.version}", "RT", None, None, "connected")

    def refresh(self, company_id, *, seen_version):
        self.refreshes += 1
        self.version = seen_version + 1
        return self.current(company_id)

    def grant_refused(self, company_id, *, seen_version, reason, intuit_tid=None, **kwargs):
        self.refused = (seen_version, reason, intuit_tid)
        return AuthLost(f"company {company_id} needs to be reconnected: {reason}", qbo_code="401_after_refresh")


def _gateway(*answers):
    session, budget, tokens = CannedSession(*answers), FakeBudget(), FakeTokens()
    gateway = QuickBooksLedgerGateway("co_northwind", "9130", tokens, budget, api_url="https://qbo.example/v3",
                                      minor_version=75, timeout=12.5, session=session)
    return gateway, session, budget, tokens


COMPANY = json.dumps({"CompanyInfo": {"CompanyName": "Northwind IT", "Country": "US"}, "time": "x"})


def test_every_call_sends_minorversion_the_stored_token_and_a_timeout_through_the_budget():
    gateway, session, budget, _ = _gateway(_response(200, COMPANY))
    assert gateway.company_info().name == "Northwind IT"
    [sent] = session.sent
    assert sent["params"]["minorversion"] == 75 and sent["timeout"] == 12.5
    assert sent["headers"]["Authorization"] == "Bearer AT-1"
    assert sent["url"] == "https://qbo.example/v3/company/9130/companyinfo/9130"
    assert budget.permits == 1 and gateway.intuit_tid == "tid-200"


def test_a_401_refreshes_once_and_retries_with_the_new_token():
    gateway, session, _, tokens = _gateway(_response(401, '{"fault":{}}'), _response(200, COMPANY))
    assert gateway.company_info().name == "Northwind IT"
    assert tokens.refreshes == 1 and session.sent[1]["headers"]["Authorization"] == "Bearer AT-2"


def test_a_401_for_the_token_just_refreshed_reports_the_grant_refused_with_a_reason():
    gateway, session, _, tokens = _gateway(_response(401, "{}"), _response(401, "{}"))
    with pytest.raises(AuthLost, match="needs to be reconnected"):
        gateway.company_info()
    assert tokens.refreshes == 1 and len(session.sent) == 2
    version, reason, tid = tokens.refused
    assert version == 2 and "freshly refreshed access token" in reason and tid == "tid-401"


def test_a_429_with_its_xml_body_is_throttled_and_pauses_the_company():
    gateway, _, budget, _ = _gateway(_response(429, THROTTLED_XML, "application/xml"))
    with pytest.raises(Throttled) as caught:
        gateway.company_info()
    assert caught.value.retry_after == 60.0 and caught.value.retryable and budget.backoffs == ["co_northwind"]
    assert caught.value.intuit_tid == "tid-429"


@pytest.mark.parametrize("answer, unknown", [
    (_response(503, "<html>Service Unavailable</html>", "text/html"), True),
    (requests.ReadTimeout("read timed out"), True),
    (requests.ConnectTimeout("connect timed out"), False),
])
def test_5xx_and_network_trouble_are_transient(answer, unknown):
    gateway, *_ = _gateway(answer)
    with pytest.raises(Transient) as caught:
        gateway.company_info()
    assert caught.value.retryable and caught.value.outcome_unknown is unknown


FORBIDDEN_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse><Fault type="SERVICE">'
                 '<Error code="3100"><Message>message=AuthorizationFailed; errorCode=003100; statusCode=403</Message>'
                 '<Detail>The access token does not have sufficient scope</Detail></Error></Fault></IntuitResponse>')


@pytest.mark.parametrize("answer, shown", [
    (_response(403, FORBIDDEN_XML, "application/xml"), "The access token does not have sufficient scope"),
    (_response(403, '{"fault":{"error":[{"message":"message=AuthorizationFailed; errorCode=003100; '
                    'statusCode=403","detail":null,"code":"3100"}],"type":"SERVICE"}}'), "errorCode=003100"),
    (_response(403, "<html>Forbidden</html>", "text/html"), "(403)"),
])
def test_a_403_is_a_refusal_of_this_operation_not_a_lost_connection(answer, shown):
    gateway, session, _, tokens = _gateway(answer)
    with pytest.raises(OperationRefused) as caught:
        gateway.company_info()
    assert isinstance(caught.value, Rejected) and not isinstance(caught.value, AuthLost)
    assert not caught.value.retryable and shown in caught.value.message and caught.value.qbo_code == "3100"
    assert tokens.refreshes == 0 and len(session.sent) == 1 and not hasattr(tokens, "refused")


INVOICE = json.dumps({"Invoice": {"Id": "130", "SyncToken": "0", "CustomerRef": {"value": "1"}, "TotalAmt": "5437.50",
                                  "Line": []}, "time": "x"})


def _create(gateway):
    from decimal import Decimal

    from addon.ledger import InvoiceLineSpec, InvoiceSpec

    spec = InvoiceSpec("1", (InvoiceLineSpec(amount=Decimal("5437.50"), description="37.5 hours at 145.00"),))
    return gateway.create_invoice(spec, request_id="ab1" + "0" * 33)


@pytest.mark.parametrize("answer", [
    _response(200, INVOICE[: len(INVOICE) // 2]),  # the connection dropped mid-body
    _response(200, "<html>Service temporarily unavailable</html>", "text/html"),
    _response(404, "<html><body><h1>404 Not Found</h1></body></html>", "text/html"),
    _response(408, "<html><body><h1>408 Request Time-out</h1></body></html>", "text/html"),
    _response(404, '{"message": "no route"}'),  # JSON, but no QuickBooks Fault in it
])
def test_an_answer_without_a_quickbooks_error_that_cannot_be_read_is_transient_and_its_outcome_unknown(answer):
    gateway, *_ = _gateway(answer)
    with pytest.raises(Transient) as caught:
        _create(gateway)
    assert caught.value.retryable and caught.value.outcome_unknown
    assert str(answer.status_code) in caught.value.message and "Northwind" not in caught.value.message
    assert "5437" not in caught.value.message and "<html>" not in caught.value.message  # the body stays out


def test_other_statuses_without_a_quickbooks_error_are_rejected_and_a_readable_200_still_works():
    gateway, *_ = _gateway(_response(413, "<html>Request Entity Too Large</html>", "text/html"))
    with pytest.raises(Rejected) as caught:
        _create(gateway)
    assert not caught.value.retryable and "HTTP 413" in caught.value.message and caught.value.qbo_code == "http_413"
    gateway, *_ = _gateway(_response(200, INVOICE))
    assert _create(gateway).id == "130"


def test_intuits_own_application_error_fault_is_transient_and_3100_in_a_fault_is_a_refusal():
    body = json.dumps({"Fault": {"Error": [{"Message": "An application error has occurred", "Detail": "d",
                                            "code": "10000"}], "type": "SystemFault"}})
    gateway, *_ = _gateway(_response(400, body))
    with pytest.raises(Transient):
        gateway.read_invoice("130")
    body = json.dumps({"Fault": {"Error": [{"Message": "AuthorizationFailed", "Detail": "no access",
                                            "code": "3100"}], "type": "AuthorizationFault"}})
    gateway, *_ = _gateway(_response(400, body))
    with pytest.raises(OperationRefused):
        gateway.read_invoice("130")


@pytest.mark.parametrize("code, fault", [("610", ObjectNotFound), ("5010", StaleObject), ("6140", DuplicateDocNumber),
                                         ("2020", Rejected), ("6000", Rejected), ("6240", Rejected)])
def test_a_400_fault_becomes_its_place_in_the_vocabulary(code, fault):
    body = json.dumps({"Fault": {"Error": [{"Message": "m", "Detail": "d", "code": code}], "type": "ValidationFault"}})
    gateway, *_ = _gateway(_response(400, body))
    with pytest.raises(fault) as caught:
        gateway.read_invoice("130")
    assert caught.value.qbo_code == code and caught.value.intuit_tid == "tid-400"


def test_only_stale_objects_throttling_and_transient_faults_are_retryable():
    retryable = {code: fault_for_code(code, "m").retryable for code in ("610", "5010", "6140", "2020", "6000", "100")}
    assert retryable == {"610": False, "5010": True, "6140": False, "2020": False, "6000": False, "100": False}
    assert isinstance(fault_for_code("100", "m"), AuthLost)
