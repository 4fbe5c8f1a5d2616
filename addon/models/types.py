"""Column types beyond SQLAlchemy's own."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator):
    """An exact ``Decimal`` kept as its text, on every database.

    SQLite has no decimal type (SQLAlchemy's Numeric goes through floats there), and hours carry six
    places while amounts carry the currency's: text keeps every digit the source sent. Values are
    compared and summed in Python, never in SQL.
    """

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        return str(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"stored value {value!r} is not a number") from None
