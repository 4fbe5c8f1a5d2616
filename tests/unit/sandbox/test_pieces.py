"""The emulator's pure pieces: JSON money, the query language, throttles, PDFs, webhook signatures."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sandbox import faults, jsonio, pdf, query
from sandbox.limits import Limits, Throttle
from sandbox.webhooks import sign


def test_money_round_trips_as_exact_json_numbers():
    text = jsonio.dumps({"Amount": Decimal("5437.50"), "Rate": Decimal("8.25"), "Qty": Decimal("37.5"), "n": 3})
    assert text == b'{"Amount":5437.50,"Rate":8.25,"Qty":37.5,"n":3}'
    assert jsonio.loads(text)["Amount"] == Decimal("5437.50")


def test_numeric_strings_convert_and_words_do_not():
    assert jsonio.to_decimal("145.00") == Decimal("145.00") and jsonio.to_decimal("") is None
    for bad in ("ten", True, {"x": 1}, "1e400", "NaN"):
        with pytest.raises(ValueError):
            jsonio.to_decimal(bad)
    assert jsonio.money(Decimal("74.1675")) == Decimal("74.17") and jsonio.money(Decimal("0.125")) == Decimal("0.13")


def test_the_query_parser_reads_python_quickbooks_forms():
    parsed = query.parse("SELECT * FROM Invoice WHERE CustomerRef = '1' AND TxnDate >= '2026-01-01' "
                         "ORDERBY TotalAmt DESC STARTPOSITION 11 MAXRESULTS 5000")
    assert parsed.entity.name == "Invoice" and parsed.max_results == 1000 and parsed.start == 11
    assert parsed.conditions[0][:2] == ("CustomerRef", "=") and parsed.order == [("TotalAmt", True)]
    assert query.parse("select count(*) from customer where displayname in ('A', 'B''s', 'C\\'s')").count
    assert query.parse("select * from Payment where Metadata.LastUpdatedTime > '2015-01-16' "
                       "Order By Metadata.LastUpdatedTime").order == [("MetaData.LastUpdatedTime", False)]


@pytest.mark.parametrize("sql, code", [
    ("select * from Invoice where PrivateNote = 'x'", "4001"),
    ("select * from Invoice where Id = '1' OR Id = '2'", "4000"),
    ("select * from Widget", "4001"),
    ("select * from Invoice where", "4000"),
    ("select * from Invoice where TotalAmt > 'lots'", "4001"),
])
def test_queries_the_api_refuses(sql, code):
    with pytest.raises(faults.QBOFault) as err:
        query.parse(sql)
    assert err.value.code == code


def test_like_in_and_comparisons_run_over_objects():
    rows = [{"Id": "2", "DisplayName": "Northwind IT", "Balance": Decimal("10"), "Active": True},
            {"Id": "10", "DisplayName": "Contoso Ltd", "Balance": Decimal("0"), "Active": False}]
    run = lambda sql: query.run(query.parse(sql), rows)  # noqa: E731
    assert [r["Id"] for r in run("select * from Customer where DisplayName like '%wind%'")["Customer"]] == ["2"]
    assert run("select * from Customer where Balance > '5'")["Customer"][0]["Id"] == "2"
    assert run("select * from Customer where Active = false")["Customer"][0]["Id"] == "10"
    assert [r["Id"] for r in run("select * from Customer order by Id desc")["Customer"]] == ["10", "2"]
    assert run("select * from Customer where Id in ('3')") == {}
    assert run("select count(*) from Customer") == {"totalCount": 2}


def test_a_throttle_refuses_over_each_limit_and_frees_the_window_with_time():
    throttle = Throttle(Limits(per_minute=3, per_second=2, concurrent=None, batch_per_minute=1))
    assert throttle.admit(0.0) and throttle.admit(0.1)
    assert not throttle.admit(0.2)  # third in one second
    assert throttle.admit(1.5)
    assert not throttle.admit(2.0)  # fourth in one minute
    assert throttle.admit(61.0)
    assert throttle.admit(70.0, batch=True) and not throttle.admit(71.0, batch=True)


def test_a_throttle_counts_requests_in_flight_and_their_peak():
    throttle = Throttle(Limits(per_minute=None, per_second=None, concurrent=2, batch_per_minute=None))
    assert throttle.admit(0) and throttle.admit(0) and not throttle.admit(0)
    throttle.release()
    assert throttle.admit(0) and throttle.peak == 2 and throttle.in_flight == 2


def test_limits_from_the_control_api_are_checked():
    assert Limits.from_dict({"per_minute": None}).per_minute is None
    for bad in ({"per_hour": 5}, {"per_minute": -1}, {"concurrent": "ten"}, {"batch_items_count": 1}):
        with pytest.raises(ValueError):
            Limits.from_dict(bad)


def test_intuits_webhook_signature_vector():
    # intuit/QuickBooks-V3-DotNET-SDK WebhooksServiceTest.cs (see tests/fixtures/qbo/SOURCES.md)
    import json
    from pathlib import Path

    sample = json.loads((Path(__file__).resolve().parents[2] / "fixtures/qbo/webhook_classic.json").read_text())
    assert sign(sample["verifier_token"], sample["payload"].encode()) == sample["intuit_signature"]


def test_the_pdf_cross_reference_points_at_its_objects():
    data = pdf.render("Demo IT Services", "Invoice", {
        "Id": "7", "DocNumber": "1007", "TxnDate": "2026-01-31", "CustomerRef": {"value": "1", "name": "Northwind (IT)"},
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal("145.00"),
                  "SalesItemLineDetail": {"Qty": Decimal("1"), "UnitPrice": Decimal("145.00")}}],
        "TotalAmt": Decimal("145.00"), "Balance": Decimal("145.00"), "CurrencyRef": {"value": "USD"}})
    start = int(re.search(rb"startxref\n(\d+)", data).group(1))
    assert data[start:start + 4] == b"xref"
    offsets = [int(x) for x in re.findall(rb"(\d{10}) 00000 n", data)]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    assert b"Northwind \\(IT\\)" in data
