"""Stripe amounts are integers in the currency's minor unit; this turns them into exact Decimals.

https://docs.stripe.com/currencies#zero-decimal (zero-decimal currencies are sent as whole
units: 500 JPY is ``500``) and #three-decimal (1.000 KWD is ``1000``). ISK is listed by Stripe among
the special cases that the API still represents with two decimals, so it keeps the default.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF",
    "XOF", "XPF",
})
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places Stripe's integer amounts have in ``currency``."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def from_minor(amount: Any, currency: str) -> Decimal | None:
    """``amount`` (minor units, int or a decimal string such as ``unit_amount_decimal``) in major units."""
    if amount is None or amount == "" or isinstance(amount, bool):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"{str(amount)[:30]!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError("amount is not finite")
    return value.scaleb(-minor_unit_exponent(currency))
