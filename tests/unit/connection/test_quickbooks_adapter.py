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


def test_a_second_401_in_a_row_is_auth_lost():
    gateway, _, _, tokens = _gateway(_response(401, "{}"), _response(401, "{}"))
    with pytest.raises(AuthLost):
        gateway.company_info()
    assert tokens.refreshes == 1


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


def test_a_403_is_auth_lost():
    gateway, *_ = _gateway(_response(403, '{"Fault":{"Error":[{"Message":"AuthorizationFailed","code":"3100"}]}}'))
    with pytest.raises(AuthLost):
        gateway.company_info()


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
