"""Bad input gets the Fault QuickBooks would send: never a 500, never a traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.emulator_options(
    limits={"per_minute": None, "per_second": None, "concurrent": None, "batch_per_minute": None})
ENTITIES = ["customer", "item", "invoice", "payment", "creditmemo", "term", "account", "class", "taxcode",
            "companyinfo", "preferences"]
BODIES = [
    b"", b"null", b"[]", b"42", b'"text"', b"{", b'{"Line": "nope"}', b'{"CustomerRef": "1"}',
    b'{"CustomerRef": {"value": {"deep": 1}}, "Line": []}', b'{"CustomerRef": {"value": "1"}, "Line": [1, 2]}',
    b'{"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": "x"}]}',
    b'{"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "DiscountLineDetail", "Amount": 5}]}',
    b'{"CustomerRef": {"value": "1"}, "TotalAmt": "ten"}', b'{"CustomerRef": {"value": "1"}, "TotalAmt": 5, "Line": [{}]}',
    b'{"CustomerRef": {"value": "1"}, "TotalAmt": 5, "Line": [{"Amount": 5, "LinkedTxn": "1"}]}',
    b'{"Id": "1"}', b'{"Id": "1", "SyncToken": "0", "sparse": true, "DisplayName": ["x"]}',
    b'{"Id": {"x": 1}, "SyncToken": "0"}', b'{"Name": 12, "Type": "Service"}', b'{"DisplayName": true}',
    b'{"Name": "Z", "AccountType": 7}', b'{"Name": "T", "DueDays": "soon"}', b'{"TxnDate": "yesterday"}',
    b'{"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1e400}]}',
    "{\"DisplayName\": \"\u00e9\u00e8\"}".encode("latin-1"),
]


@pytest.mark.parametrize("entity", ENTITIES)
def test_malformed_bodies_get_a_fault_for_every_entity(company, entity):
    for body in BODIES:
        for params in ({}, {"operation": "delete"}, {"operation": "void"}, {"operation": "update", "include": "void"}):
            answer = company.raw("POST", entity, data=body, params=params, headers={"Content-Type": "application/json"})
            assert answer.status_code in (200, 400), (entity, body, params, answer.status_code, answer.text[:300])
            if answer.status_code == 400:
                error = answer.json()["Fault"]["Error"][0]
                assert error["code"].isdigit() and "Traceback" not in answer.text


def test_bad_queries_get_query_faults(company):
    for sql in ("", "select", "select * from", "select * from Invoice where", "select * from Invoice where Id =",
                "select * from Invoice where Id = '1' or Id = '2'", "select * from Nothing", "delete from Invoice",
                "select * from Invoice maxresults lots", "select * from Invoice where Id in ('1'",
                "select * from Invoice where TotalAmt like 5", "select * from Invoice order by", "'",
                "select * from Invoice where MetaData.CreateTime > 'not a time'"):
        answer = company.raw("GET", "query", params={"query": sql})
        assert answer.status_code == 400, sql
        assert answer.json()["Fault"]["Error"][0]["code"] in ("4000", "4001"), sql


def test_bad_paths_and_methods_get_faults(company):
    for method, path in (("GET", "invoice"), ("GET", "invoice/1/2/3"), ("DELETE", "invoice/1"), ("POST", "invoice/1"),
                         ("GET", "batch"), ("POST", "cdc"), ("GET", "invoice/abc/pdf"), ("POST", "payment/1/send"),
                         ("GET", "cdc"), ("GET", "cdc?entities=Invoice&changedSince=never")):
        answer = company.raw(method, path)
        assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"], (method, path)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8) |
                            st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
                            lambda children: st.lists(children, max_size=3) |
                            st.dictionaries(st.sampled_from(["Line", "CustomerRef", "Amount", "DetailType", "value",
                                                             "SalesItemLineDetail", "TotalAmt", "LinkedTxn", "TxnId",
                                                             "TxnType", "Qty", "UnitPrice", "ItemRef", "DisplayName",
                                                             "Id", "SyncToken", "sparse", "DiscountLineDetail"]),
                                            children, max_size=5), max_leaves=12))
def test_arbitrary_json_never_breaks_the_emulator(company, payload):
    for entity in ("invoice", "payment", "customer"):
        answer = company.raw("POST", entity, data=json.dumps(payload), headers={"Content-Type": "application/json"})
        assert answer.status_code in (200, 400), (entity, payload, answer.text[:300])
