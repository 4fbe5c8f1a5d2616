"""Money: ``Decimal`` quantized once per line to the currency's minor unit by one named policy."""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum


class RoundingPolicy(StrEnum):
    """How an amount is brought to the currency's minor unit (half-up unless the agreement says)."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    HALF_DOWN = "half_down"
    UP = "up"  # away from zero
    DOWN = "down"  # toward zero


_DECIMAL_MODE = {
    RoundingPolicy.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingPolicy.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingPolicy.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    RoundingPolicy.UP: decimal.ROUND_UP,
    RoundingPolicy.DOWN: decimal.ROUND_DOWN,
}

# ISO 4217 minor units that differ from 2 (https://www.six-group.com/en/products-services/
# financial-information/data-standards.html, list one). Every other code uses 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
}
_EXPONENTS: dict[str, Decimal] = {}
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def minor_unit(currency: str) -> int:
    """Number of decimal places of ``currency`` (2 for USD, 0 for JPY, 3 for KWD)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def exponent(currency: str) -> Decimal:
    """The quantum of ``currency``: ``Decimal('0.01')`` for USD."""
    found = _EXPONENTS.get(currency)
    if found is None:
        found = _EXPONENTS[currency] = Decimal(1).scaleb(-minor_unit(currency))
    return found


def decimal_mode(policy: RoundingPolicy) -> str:
    """The ``decimal`` rounding constant of ``policy``."""
    return _DECIMAL_MODE[policy]


def quantize(amount: Decimal, currency: str, policy: RoundingPolicy = RoundingPolicy.HALF_UP) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit by ``policy``."""
    return amount.quantize(exponent(currency), rounding=_DECIMAL_MODE[policy])


def round_to(value: Decimal, places: int, policy: RoundingPolicy = RoundingPolicy.HALF_UP) -> Decimal:
    """``value`` rounded to ``places`` decimals (quantities and percentages shown in explanations)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=_DECIMAL_MODE[policy])


def plain(value: Decimal) -> str:
    """A Decimal as a plain string for explanations (``7.50`` stays ``7.50``, ``1E+2`` is ``100``);
    a long fraction is cut to 8 places and marked with an ellipsis."""
    text = format(value, "f")
    dot = text.find(".")
    if dot < 0 or len(text) - dot <= 9:
        return text
    return f"{text[:dot + 9]}…"


def money(value: Decimal) -> str:
    """A money amount with thousands separators for explanations (``5,125.00``)."""
    return format(value, ",f")


def money_in(value: Decimal, currency: str) -> str:
    """``money`` with at least the currency's minor unit of places (a cap given as ``1000`` reads
    ``1,000.00``); more places than that are kept, never rounded away."""
    quantum = exponent(currency)
    if value.as_tuple().exponent > quantum.as_tuple().exponent:
        value = value.quantize(quantum)
    return money(value)


def rounding_step(unrounded: Decimal, rounded: Decimal, currency: str, policy: RoundingPolicy) -> str:
    """The one rounding step of a line, in words: ``rounded half_up to 0.01: 2266.6666 -> 2266.67``."""
    step = _STEPS.get((currency, policy))
    if step is None:
        step = _STEPS[(currency, policy)] = (plain(exponent(currency)), policy.value)
    quantum, name = step
    if unrounded == rounded:
        return f"exact at {quantum} ({name})"
    return f"rounded {name} to {quantum}: {plain(unrounded)} -> {plain(rounded)}"


_STEPS: dict[tuple[str, RoundingPolicy], tuple[str, str]] = {}  # (currency, policy) -> (quantum, name) as text
