from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.base import body_digest, decimal_or_none, quantity_or_one, setting
from connectors.errors import PayloadError, VerificationError
from connectors.signing import parse_signature_header
from connectors.timeparse import check_fresh, from_epoch_millis, from_epoch_seconds, parse_day, parse_instant


def test_a_signature_header_gives_its_timestamp_and_every_v1_and_ignores_other_schemes():
    assert parse_signature_header("t=12, v1=aa,v0=bb,v1=cc,x", "H") == (12, ["aa", "cc"])


@pytest.mark.parametrize("value, message", [("v1=aa", "no timestamp"), ("t=1", "no v1"), ("t=x,v1=a", "not a number")])
def test_a_broken_signature_header_is_a_verification_error_naming_the_header(value, message):
    with pytest.raises(VerificationError, match=f"Sig-Header header .*{message}|{message}"):
        parse_signature_header(value, "Sig-Header")


def test_freshness_is_checked_both_ways_and_says_by_how_much():
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    check_fresh(sent, sent + timedelta(seconds=300), 300, "t")
    with pytest.raises(VerificationError, match="t is 301 s old; the window is 300 s"):
        check_fresh(sent, sent + timedelta(seconds=301), 300, "t")
    with pytest.raises(VerificationError, match="in the future"):
        check_fresh(sent, sent - timedelta(seconds=301), 300, "t")


def test_epoch_times_are_exact_and_aware():
    assert from_epoch_millis(1767261600123) == datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert from_epoch_seconds("1767225600") == datetime(2026, 1, 1, tzinfo=UTC)
    for bad in ("soon", 10**30, None):
        with pytest.raises(PayloadError):
            from_epoch_seconds(bad)


def test_instants_need_an_offset_and_days_a_date():
    assert parse_instant("2026-01-01T01:00:00+01:00", "f") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_day("2026-02-28", "f") == date(2026, 2, 28)
    for bad in ("2026-01-01T00:00:00", "yesterday", 5):
        with pytest.raises(PayloadError, match="f"):
            parse_instant(bad, "f")


def test_decimals_are_exact_and_refuse_floats_booleans_and_infinity():
    assert decimal_or_none("145.8333", "x") == Decimal("145.8333")
    assert decimal_or_none(Decimal("0.1"), "x") == Decimal("0.1") and decimal_or_none("", "x") is None
    for bad in (0.1, True, "NaN", "Infinity", "ten", [1]):
        with pytest.raises(PayloadError):
            decimal_or_none(bad, "x")


def test_small_helpers():
    assert quantity_or_one(None) == 1 and quantity_or_one(Decimal("0")) == 0
    assert setting(None, "a", 3) == 3 and setting({"a": None}, "a", 3) == 3 and setting({"a": 0}, "a", 3) == 0
    assert body_digest(b"") == body_digest(None) != body_digest(b"x")
