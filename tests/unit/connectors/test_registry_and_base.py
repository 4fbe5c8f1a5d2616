import json

import pytest

import connectors
from connectors.base import Headers, load_json
from connectors.errors import PayloadError, UnknownConnector, VerificationError
from connectors.signing import same


def test_unknown_connector_names_are_refused():
    for name in ("nope", "base", "errors", "../etc", "_private"):
        with pytest.raises(UnknownConnector):
            connectors.get(name)


def test_headers_are_case_insensitive_and_require_names_the_missing_header():
    headers = Headers({"X-Hub-Signature-256": "sha256=ab"})
    assert headers["x-hub-signature-256"] == "sha256=ab"
    with pytest.raises(VerificationError, match="missing X-GitHub-Delivery header"):
        headers.require("X-GitHub-Delivery")


def test_same_compares_strings_and_bytes():
    assert same("abc", b"abc")
    assert not same("abc", "abd")


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "empty"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"{not json", "not JSON"),
        (("[" * 100 + "]" * 100).encode(), "nested deeper"),
        (("[" * 100000 + "]" * 100000).encode(), "nested deeper"),
    ],
)
def test_unreadable_bodies_are_payload_errors_with_a_reason(body, reason):
    with pytest.raises(PayloadError, match=reason):
        load_json(body)


def test_json_numbers_with_a_fraction_are_decimals_never_floats():
    from decimal import Decimal

    data = load_json(json.dumps({"amount": 1234.50}).encode())
    assert data["amount"] == Decimal("1234.5") and isinstance(data["amount"], Decimal)
