"""Checking signed requests: secrets as bytes, HMAC-SHA256, constant-time comparison, signature headers.

Messages name what was wrong (which header, stale by how long) but never a secret or a computed
signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from connectors.base import Headers
from connectors.errors import PayloadError, VerificationError
from connectors.timeparse import check_fresh, from_epoch_millis, from_epoch_seconds


def secret_bytes(secret: str | bytes | None) -> bytes:
    """The secret as bytes; a missing secret fails verification rather than matching anything."""
    if secret is None or secret == "" or secret == b"":
        raise VerificationError("no secret is configured for this endpoint")
    return secret if isinstance(secret, bytes) else secret.encode("utf-8")


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    """Raw HMAC-SHA256 digest of ``message`` under ``secret``."""
    return hmac.new(secret_bytes(secret), message, hashlib.sha256).digest()


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time equality of two strings or byte strings."""
    a_bytes = a.encode("utf-8") if isinstance(a, str) else a
    b_bytes = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


def verify_hex_hmac(raw_body: bytes, provided: str | None, secret: str | bytes | None, *,
                    header: str, prefix: str = "") -> None:
    """Check a hex HMAC-SHA256 of the raw body (optionally prefixed, ``sha256=``) in constant time."""
    key = secret_bytes(secret)
    if not provided:
        raise VerificationError(f"missing {header} header")
    value = provided.strip()
    if prefix:
        if not value.lower().startswith(prefix.lower()):
            raise VerificationError(f"{header} header does not start with {prefix!r}")
        value = value[len(prefix):]
    if not same(hmac_sha256(key, raw_body).hex(), value.lower()):
        raise VerificationError(f"{header} signature does not match the body")


def parse_signature_header(value: str, header: str) -> tuple[int, list[str]]:
    """The timestamp and every ``v1`` signature of a ``t=...,v1=...[,v1=...]`` header.

    Other schemes (``v0``, future ones) are ignored, as Stripe advises; a header without a
    numeric ``t`` or without any ``v1`` is a ``VerificationError`` naming the header.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(item)
            except ValueError:
                raise VerificationError(f"{header} header has a timestamp that is not a number") from None
        elif key == "v1" and item:
            signatures.append(item.strip())
    if timestamp is None:
        raise VerificationError(f"{header} header has no timestamp (t=)")
    if not signatures:
        raise VerificationError(f"{header} header has no v1 signature")
    return timestamp, signatures


def stamped_hmac(secret: str | bytes, timestamp: int, raw_body: bytes) -> str:
    """The hex ``v1`` signature of a ``t=...,v1=...`` header: HMAC-SHA256 of ``"<t>." + raw body``."""
    return hmac_sha256(secret, str(timestamp).encode() + b"." + raw_body).hex()


def verify_stamped_hmac(raw_body: bytes, headers: Mapping[str, str], secret, *, header: str,
                        now: datetime | None, tolerance_seconds: float) -> None:
    """Check a Stripe-style ``t=<unix>,v1=<hex>`` header: any ``v1`` may match, and ``t`` must be fresh.

    https://docs.stripe.com/webhooks#verify-manually (several ``v1`` while a secret is rotated).
    """
    key = secret_bytes(secret)
    timestamp, signatures = parse_signature_header(Headers(headers).require(header), header)
    expected = stamped_hmac(key, timestamp, raw_body)
    if not any(same(expected, candidate.lower()) for candidate in signatures):
        raise VerificationError(f"no v1 signature in {header} matches the body")
    check_fresh(signed_instant(timestamp, header), now, tolerance_seconds, f"{header} timestamp")


def signed_instant(value, header: str, *, millis: bool = False) -> datetime:
    """The instant a signature header states; an impossible one fails verification, not parsing."""
    try:
        return from_epoch_millis(value) if millis else from_epoch_seconds(value)
    except PayloadError:
        raise VerificationError(f"{header} states a time that cannot be") from None
