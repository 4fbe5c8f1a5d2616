"""Per-company limits and injected faults, observed on the wire and through the control API."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from defusedxml import ElementTree
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import QuickbooksException, SevereException
from quickbooks.objects.customer import Customer

from tests.integration.sandbox.conftest import auth_client

NEW_INVOICE = {"CustomerRef": {"value": "1"},
               "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "10", "SalesItemLineDetail": {}}]}
NS = "{http://schema.intuit.com/finance/v3}"


def _only(company, **limits):
    base = {"per_minute": None, "per_second": None, "concurrent": None, "batch_per_minute": None}
    company.emulator.control.limits(company.realm_id, **{**base, **limits})


def test_over_the_per_second_limit_is_a_429_with_the_xml_throttle_body(company):
    _only(company, per_second=3)
    statuses = [company.raw("GET", "customer/1").status_code for _ in range(3)]
    throttled = company.raw("GET", "customer/1", headers={"Accept": "application/json"})
    assert statuses == [200, 200, 200] and throttled.status_code == 429
    assert throttled.headers["Content-Type"].startswith("application/xml")
    error = ElementTree.fromstring(throttled.content).find(f"{NS}Fault/{NS}Error")
    assert error.get("code") == "3001" and "ThrottleExceeded" in error.find(f"{NS}Message").text
    company.emulator.control.set_clock(advance_seconds=1.5)
    assert company.raw("GET", "customer/1").status_code == 200


def test_the_per_minute_window_follows_the_emulators_clock(company):
    _only(company, per_minute=5)
    assert all(company.raw("GET", "customer/1").status_code == 200 for _ in range(5))
    assert company.raw("GET", "customer/1").status_code == 429
    company.emulator.control.set_clock(advance_seconds=61)
    assert company.raw("GET", "customer/1").status_code == 200
    assert company.emulator.control.counters(company.realm_id)["throttled"] == 1


def test_python_quickbooks_sees_a_throttle_as_an_unreadable_json_error(company):
    _only(company, per_second=1)
    Customer.get(1, qb=company.qb)
    with pytest.raises(QuickbooksException) as err:
        Customer.get(1, qb=company.qb)
    assert err.value.error_code == 10000 and "ThrottleExceeded" in err.value.message


def test_more_than_the_concurrent_limit_in_flight_is_throttled(company):
    _only(company, concurrent=2)
    company.emulator.control.latency(300)
    statuses: list[int] = []

    def call() -> None:
        statuses.append(company.raw("GET", "customer/1").status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(200) == 2 and statuses.count(429) == 3
    assert company.emulator.control.counters(company.realm_id)["concurrent_peak"] == 2


def test_batch_calls_have_their_own_per_minute_limit_and_items_count_against_requests(company):
    _only(company, batch_per_minute=2, per_minute=12)
    batch = {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Term"} for i in range(5)]}
    assert [company.raw("POST", "batch", json=batch).status_code for _ in range(3)] == [200, 200, 429]
    company.emulator.control.set_clock(advance_seconds=61)
    big = {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Term"} for i in range(13)]}
    assert company.raw("POST", "batch", json=big).status_code == 429  # 13 items > 12 a minute
    _only(company, per_minute=12, batch_items_count=False)
    assert company.raw("POST", "batch", json=big).status_code == 200


def test_an_injected_error_fires_the_given_number_of_times(company):
    company.emulator.control.fault(company.realm_id, "GET customer", status=500, times=1)
    with pytest.raises(SevereException):
        Customer.get(1, qb=company.qb)
    assert Customer.get(1, qb=company.qb).Id == "1"
    assert company.emulator.control.counters(company.realm_id)["faults_injected"] == 1


@pytest.mark.emulator_options(random_seed=7)
def test_an_injected_fault_fires_with_its_probability(company):
    _only(company)
    company.emulator.control.fault(company.realm_id, "GET customer", status=503, probability=0.3)
    statuses = [company.raw("GET", "customer/1").status_code for _ in range(60)]
    assert 5 <= statuses.count(503) <= 35 and statuses.count(200) == 60 - statuses.count(503)
    company.emulator.control.clear_faults(company.realm_id)
    assert company.raw("GET", "customer/1").status_code == 200


def test_a_gateway_error_has_an_html_body(company):
    company.emulator.control.fault(company.realm_id, "* query", status=502)
    answer = company.raw("GET", "query", params={"query": "select * from Term"})
    assert answer.status_code == 502 and "Bad Gateway" in answer.text


def test_a_reply_lost_after_commit_is_recovered_by_retrying_with_the_same_requestid(company):
    company.emulator.control.fault(company.realm_id, "POST invoice", mode="commit_then_drop", times=1)
    with pytest.raises(requests.ConnectionError):
        company.raw("POST", "invoice", params={"requestid": "key-1"}, json=NEW_INVOICE)
    assert len(company.emulator.control.objects(company.realm_id, "Invoice")) == 1  # it did commit
    retry = company.raw("POST", "invoice", params={"requestid": "key-1"}, json=NEW_INVOICE)
    assert retry.status_code == 200
    assert retry.json()["Invoice"]["Id"] == company.emulator.control.objects(company.realm_id, "Invoice")[0]["Id"]
    assert len(company.emulator.control.objects(company.realm_id, "Invoice")) == 1


def test_a_truncated_reply_after_commit_is_a_complete_200_nobody_can_read(company):
    company.emulator.control.fault(company.realm_id, "POST invoice", mode="commit_then_truncate", times=1)
    answer = company.raw("POST", "invoice", params={"requestid": "key-2"}, json=NEW_INVOICE)
    assert answer.status_code == 200 and answer.text.startswith('{"Invoice"')
    with pytest.raises(ValueError):
        answer.json()
    assert len(company.emulator.control.objects(company.realm_id, "Invoice")) == 1  # it did commit


def test_a_dropped_request_does_nothing(company):
    company.emulator.control.fault(company.realm_id, "POST invoice", mode="drop", times=1)
    with pytest.raises(requests.ConnectionError):
        company.raw("POST", "invoice", json=NEW_INVOICE)
    assert company.emulator.control.objects(company.realm_id, "Invoice") == []


def test_injected_latency_delays_matching_calls(company):
    company.emulator.control.fault(company.realm_id, "GET customer", mode="latency", latency_ms=250)
    started = time.monotonic()
    assert company.raw("GET", "customer/1").status_code == 200
    assert time.monotonic() - started >= 0.25


def test_a_global_fault_on_the_token_endpoint_reaches_intuitlib(company):
    company.emulator.control.fault(None, "POST token", status=503, times=1)
    with pytest.raises(AuthClientError) as err:
        auth_client(company.emulator, refresh_token=company.tokens["refresh_token"]).refresh()
    assert err.value.status_code == 503
    client = auth_client(company.emulator, refresh_token=company.tokens["refresh_token"])
    client.refresh()
    assert client.access_token


def test_a_bad_fault_rule_is_refused(company):
    for rule in ({"route": "GET customer", "status": 200}, {"route": "GET customer", "mode": "explode"},
                 {"route": "", "status": 500}, {"route": "GET customer", "probability": 2}):
        answer = requests.post(f"{company.emulator.url}/_sandbox/realms/{company.realm_id}/faults", json=rule,
                               timeout=10)
        assert answer.status_code == 400, rule


def test_an_untouched_company_has_quickbooks_limits_and_throttles_the_eleventh_request_in_a_second(company):
    control = company.emulator.control
    assert control.request("GET", f"/realms/{company.realm_id}/limits")["limits"] == {
        "per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40, "batch_items_count": True}
    statuses = []
    for _ in range(11):
        # Pin the emulator's clock to one instant before each call, so a slow machine cannot spread the
        # eleven requests over more than a second.
        control.set_clock(now="2026-03-02T17:00:00Z")
        statuses.append(company.raw("GET", "customer/1", headers={"Accept": "application/json"}))
    assert [s.status_code for s in statuses] == [200] * 10 + [429]
    assert statuses[-1].headers["Content-Type"].startswith("application/xml")
    error = ElementTree.fromstring(statuses[-1].content).find(f"{NS}Fault/{NS}Error")
    assert error.get("code") == "3001" and "ThrottleExceeded" in error.find(f"{NS}Message").text
    assert control.counters(company.realm_id)["throttled"] == 1
