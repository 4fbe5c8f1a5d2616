"""JSON in and out with exact money: numbers parse to ``Decimal`` and ``Decimal`` prints as a JSON number.

QuickBooks amounts are decimal; python-quickbooks even sends them as numeric strings. Parsing with
``parse_float=Decimal`` keeps them exact, and a marker trick lets the C encoder write them as numbers.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_MARK = "\x00D"
_MARKED = re.compile(r'"\\u0000D(-?[0-9.]+(?:E[-+]?[0-9]+)?)"')
CENT = Decimal("0.01")
LIMIT = Decimal("1e15")  # QuickBooks amounts have at most 15 integer digits


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Serialize ``value`` to UTF-8 JSON, writing ``Decimal`` as a plain number."""
    text = json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
    if _MARK[0] in text or "\\u0000D" in text:
        text = _MARKED.sub(r"\1", text)
    return text.encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal``; raises ``ValueError`` on bad input."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, parse_float=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal: numbers and numeric strings convert, ``None`` and ``""`` mean absent.

    Raises ``ValueError`` for anything else (booleans, words, objects), so callers can answer with
    QuickBooks' invalid-property fault.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite() or abs(result) >= LIMIT:
        raise ValueError(f"not a number QuickBooks can store: {value!r}")
    return result


def money(value: Decimal) -> Decimal:
    """``value`` rounded half-up to cents, the way QuickBooks rounds line amounts and tax."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
