"""What python-quickbooks hides: status codes, bodies and headers on the wire."""

from __future__ import annotations

import requests


def test_a_missing_or_bad_token_gets_the_lower_case_401_body(company):
    answer = requests.get(f"{company.emulator.api_url}/company/{company.realm_id}/customer/1",
                          headers={"Authorization": "Bearer not-a-token", "Accept": "application/json"}, timeout=10)
    assert answer.status_code == 401
    body = answer.json()
    error = body["fault"]["error"][0]
    assert error["code"] == "3200" and "AuthenticationFailed" in error["message"]
    assert body["fault"]["type"] == "AUTHENTICATION" and isinstance(body["time"], int)
    assert "Fault" not in body


def test_every_fault_has_a_string_code_and_a_time(company):
    answer = company.raw("GET", "invoice/424242")
    assert answer.status_code == 400
    body = answer.json()
    assert body["Fault"]["Error"][0]["code"] == "610" and body["Fault"]["type"] == "ValidationFault"
    assert body["time"].endswith(("-07:00", "-08:00"))


def test_malformed_json_gets_2010_not_a_server_error(company):
    answer = company.raw("POST", "invoice", data=b'{"Line": [', headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "2010"


def test_an_unknown_property_gets_2010(company):
    answer = company.raw("POST", "customer", json={"DisplayName": "X", "Favourite": "blue"})
    assert answer.status_code == 400
    assert 'Unrecognized field "Favourite"' in answer.json()["Fault"]["Error"][0]["Detail"]


def test_a_wrong_type_gets_2010(company):
    answer = company.raw("POST", "invoice", json={"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": "lots", "SalesItemLineDetail": {}}]})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "2010"


def test_an_unknown_entity_gets_the_unsupported_operation_fault(company):
    answer = company.raw("GET", "spaceship/1")
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "500"


def test_responses_carry_an_intuit_tid_header(company):
    assert company.raw("GET", "customer/1").headers["intuit_tid"]


def test_minorversion_is_accepted_on_every_path(company):
    assert company.raw("GET", "customer/1", params={"minorversion": "75"}).status_code == 200
    assert company.raw("GET", "query", params={"query": "select * from Term", "minorversion": "75"}).status_code == 200
