"""The control API: the calls scripts and tests drive the emulator with, over plain HTTP."""

from __future__ import annotations

import requests

from sandbox.control_client import ControlAPIError


def test_creating_a_realm_answers_its_id_and_seeds_it(emulator):
    answer = requests.post(f"{emulator.url}/_sandbox/realms", json={"name": "Acme IT", "seed": "demo"}, timeout=10)
    assert answer.status_code == 200
    realm_id = answer.json()["realmId"]
    assert realm_id.isdigit()
    customers = emulator.control.objects(realm_id, "Customer")
    assert [c["DisplayName"] for c in customers][:2] == ["Northwind IT", "Contoso Ltd"]
    items = {i["Name"] for i in emulator.control.objects(realm_id, "Item")}
    assert {"Managed services", "Consulting hours", "Hardware"} <= items
    terms = {t["Name"] for t in emulator.control.objects(realm_id, "Term")}
    assert {"Net 15", "Net 30", "Due on receipt"} <= terms
    assert {t["Id"] for t in emulator.control.objects(realm_id, "TaxCode")} >= {"TAX", "NON"}


def test_an_empty_realm_has_accounts_and_terms_but_no_customers(emulator):
    realm_id = emulator.control.create_realm("Blank Co", seed="empty")
    assert emulator.control.objects(realm_id, "Customer") == []
    assert emulator.control.objects(realm_id, "Account")


def test_a_token_body_from_the_control_api_is_shaped_like_the_token_endpoints(emulator):
    realm_id = emulator.control.create_realm("Tok Co")
    answer = requests.post(f"{emulator.url}/_sandbox/realms/{realm_id}/tokens",
                           json={"client_id": emulator.client_id}, timeout=10)
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert {"access_token", "refresh_token", "x_refresh_token_expires_in"} <= set(body)


def test_bad_control_requests_get_a_400_with_a_message(emulator):
    for path, body in (("/realms", {"name": ""}), ("/realms", {"name": "x", "seed": "lots"}),
                       ("/clock", {"advance_seconds": "soon"}), ("/latency", {"ms": -1})):
        answer = requests.post(f"{emulator.url}/_sandbox{path}", json=body, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"], path
    garbage = requests.post(f"{emulator.url}/_sandbox/realms", data=b"{not json", timeout=10)
    assert garbage.status_code == 400
    assert requests.get(f"{emulator.url}/_sandbox/realms/42/counters", timeout=10).status_code == 404


def test_tokens_for_an_unknown_app_are_refused(emulator):
    realm_id = emulator.control.create_realm("Who Co")
    try:
        emulator.control.tokens(realm_id, client_id="no-such-app")
    except ControlAPIError as err:
        assert err.status == 400
    else:
        raise AssertionError("an unknown client_id must be refused")


def test_counters_count_requests_per_realm(company):
    for _ in range(3):
        assert company.raw("GET", "customer/1").status_code == 200
    counters = company.emulator.control.counters(company.realm_id)
    assert counters["requests"] == 3 and counters["throttled"] == 0 and counters["concurrent_peak"] >= 1
    assert counters["by_route"]["GET customer"] == 3
    assert counters["token_grants"] == {"authorization_code": 1, "refresh_token": 0}


def test_the_clock_can_be_set_and_advanced(emulator):
    assert emulator.control.set_clock(now="2030-01-01T12:00:00Z")["now"].startswith("2030-01-01T12:00")
    assert emulator.control.set_clock(advance_seconds=3600)["now"].startswith("2030-01-01T13:00")


def test_the_index_page_lists_realms(emulator):
    realm_id = emulator.control.create_realm("Listed Co")
    page = requests.get(f"{emulator.url}/_sandbox/", timeout=10)
    assert page.status_code == 200 and "Listed Co" in page.text and realm_id in page.text
    assert requests.get(f"{emulator.url}/", allow_redirects=False, timeout=10).status_code == 302
