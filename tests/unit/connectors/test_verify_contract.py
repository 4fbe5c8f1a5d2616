"""Every connector's ``verify`` refuses a hostile request with VerificationError and nothing else.

The front door answers VerificationError with 401; any other exception escaping ``verify`` would be
a 500, so header values that cannot be parsed (a timestamp beyond year 9999, garbage, empty) must
fail verification.
"""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors.errors import VerificationError

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADERS = [
    "Stripe-Signature", "Autobill-Signature", "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp",
    "X-HubSpot-Signature", "X-HubSpot-Signature-Version", "X-Hub-Signature", "X-Hub-Signature-256",
    "X-Hook-Signature", "X-Hook-Secret", "Linear-Signature", "X-Signature", "X-Webhook-Signature-256",
    "Clockify-Signature", "Authorization",
]
HOSTILE_VALUES = ["", "t=99999999999999999999,v1=00", "t=-1,v1=zz", "t=1e400,v1=ab", "sha256=", "v1",
                  "Basic !!!", "9" * 40, "t=,v1=", "\x00"]


@pytest.mark.parametrize("name", connectors.names())
@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_verify_refuses_hostile_signature_headers_with_a_verification_error(name, value):
    module = connectors.get(name)
    headers = {header: value for header in HEADERS}
    with pytest.raises(VerificationError):
        module.verify(b'{"events": []}', headers, "whsec_test", url="https://autobill.example/hooks/x/y",
                      now=NOW, settings={"organization_id": "00D000000000001"})


@pytest.mark.parametrize("name", connectors.names())
@given(body=st.binary(max_size=200), value=st.text(max_size=60))
def test_verify_never_raises_anything_but_a_verification_error(name, body, value):
    module = connectors.get(name)
    headers = {header: value for header in HEADERS}
    try:
        module.verify(body, headers, "whsec_test", url="https://autobill.example/hooks/x/y", now=NOW)
    except VerificationError:
        pass


@pytest.mark.parametrize("name, header", [("stripe", "Stripe-Signature"), ("generic", "Autobill-Signature")])
def test_a_correctly_signed_impossible_timestamp_fails_verification(name, header):
    import hashlib
    import hmac

    body = b'{"id": "evt_1"}'
    stamp = "9" * 30
    signature = hmac.new(b"whsec_test", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    with pytest.raises(VerificationError, match="cannot be"):
        connectors.get(name).verify(body, {header: f"t={stamp},v1={signature}"}, "whsec_test", now=NOW)
