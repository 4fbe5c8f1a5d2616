"""The helpers connectors share for reading deliveries (``connectors.base``, work and time additions)."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.base import Enriched, Reading, dropped_reasons, hours_from_seconds, read_guard, stable_key
from connectors.errors import PayloadError, VerificationError
from connectors.signing import verify_hex_hmac
from connectors.timeparse import local_date, parse_timestamp


@pytest.mark.parametrize("text, expected", [
    ("2021-08-11T20:10:39.609+0300", datetime(2021, 8, 11, 17, 10, 39, 609000, tzinfo=UTC)),
    ("2023-07-17T10:57:40.959597671Z", datetime(2023, 7, 17, 10, 57, 40, 959597, tzinfo=UTC)),
    ("2019-05-15T15:20:18Z", datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)),
    ("2024-01-15T09:00:00+01:00", datetime(2024, 1, 15, 8, 0, tzinfo=UTC)),
    (1628701839609, datetime(2021, 8, 11, 17, 10, 39, 609000, tzinfo=UTC)),
    ("1642736320112", datetime(2022, 1, 21, 3, 38, 40, 112000, tzinfo=UTC)),
])
def test_vendor_timestamps_of_every_shape_become_aware_utc(text, expected):
    assert parse_timestamp(text) == expected


def test_a_timestamp_can_keep_its_writers_offset():
    moment = parse_timestamp("2021-08-11T01:30:00.000+0300", keep_offset=True)
    assert moment.utcoffset() == timedelta(hours=3) and moment.date().isoformat() == "2021-08-11"


@pytest.mark.parametrize("value", [None, "", "soon", True, [], {}, "2021-13-45T00:00:00Z", 10**20])
def test_unreadable_timestamps_are_payload_errors(value):
    with pytest.raises(PayloadError):
        parse_timestamp(value, what="closed_at")


def test_seconds_become_hours_to_six_places_rounding_half_up():
    assert hours_from_seconds(5400) == "1.500000"
    assert hours_from_seconds(3001) == "0.833611"
    assert hours_from_seconds(1) == "0.000278"


def test_the_local_date_follows_the_time_zone_setting():
    late = datetime(2024, 1, 15, 23, 30, tzinfo=UTC)
    assert local_date(late, None) == "2024-01-15"
    assert local_date(late, {"time_zone": "Asia/Tokyo"}) == "2024-01-16"
    assert local_date(late.astimezone(timezone(timedelta(hours=-5))), {}) == "2024-01-15"
    with pytest.raises(PayloadError, match="not a known time zone"):
        local_date(late, {"time_zone": "Mars/Olympus"})


def test_hex_hmac_checks_prefix_case_and_body():
    body = b'{"ok": true}'
    digest = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    verify_hex_hmac(body, f"sha256={digest.upper()}", "k", header="X-Sig", prefix="sha256=")
    verify_hex_hmac(body, digest, b"k", header="X-Sig")
    with pytest.raises(VerificationError, match="missing X-Sig"):
        verify_hex_hmac(body, None, "k", header="X-Sig")
    with pytest.raises(VerificationError, match="does not match"):
        verify_hex_hmac(body + b" ", digest, "k", header="X-Sig")


def test_verification_messages_never_contain_the_secret_or_the_expected_signature():
    body = b"{}"
    expected = hmac.new(b"top-secret", body, hashlib.sha256).hexdigest()
    with pytest.raises(VerificationError) as caught:
        verify_hex_hmac(body, "0" * 64, "top-secret", header="X-Sig")
    assert "top-secret" not in caught.value.message and expected not in caught.value.message


def test_a_guarded_reader_turns_shape_errors_into_payload_errors_and_lets_others_through():
    @read_guard
    def reader(data):
        return Reading([data["events"][0]])

    with pytest.raises(PayloadError, match="unexpected shape"):
        reader({"events": []})
    with pytest.raises(PayloadError, match="unexpected shape"):
        reader({"events": 5})
    assert reader({"events": ["x"]}).events == ["x"]


def test_stable_keys_are_stable_and_separate_their_parts():
    assert stable_key("a", "b") == stable_key("a", "b")
    assert stable_key("ab", "") != stable_key("a", "b")


def test_an_enriched_result_is_a_list_with_its_dropped_events_and_reasons():
    result = Enriched(["kept"], [("gone", "not completed")])
    assert list(result) == ["kept"] and dropped_reasons(result) == [("gone", "not completed")]
    assert dropped_reasons(["plain", "list"]) == []
