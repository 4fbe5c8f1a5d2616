"""Rules: when an event of a kind arrives and conditions hold, bill these components, sent this way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rules.components.base import Component, Timing
from rules.errors import InvalidAgreement
from rules.events import EventKind
from rules.money import RoundingPolicy
from rules.terms import PaymentTerms, TaxTreatment

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with",
             "ends_with", "exists", "missing")


class SendMode(StrEnum):
    """What happens to an invoice once created."""

    AUTO_SEND = "auto_send"
    HOLD_FOR_REVIEW = "hold_for_review"
    REVIEW_BY_EXCEPTION = "review_by_exception"  # send unless it differs from the last by > tolerance
    CREATE_ONLY = "create_only"


@dataclass(frozen=True)
class Condition:
    """``path`` (``attributes.pipeline``, ``amount``, ``source_customer.name``) ``op`` ``value``."""

    path: str
    op: str = "eq"
    value: Any = None

    def __post_init__(self) -> None:
        if not self.path or not isinstance(self.path, str):
            raise InvalidAgreement("path", "a condition needs a field path")
        if self.op not in OPERATORS:
            raise InvalidAgreement("op", f"unknown operator {self.op!r}; known: {', '.join(OPERATORS)}")
        if self.op in ("in", "not_in") and not isinstance(self.value, tuple | list):
            raise InvalidAgreement("value", f"{self.op} needs a list of values")
        object.__setattr__(self, "value", _normal(self.value))


def _normal(value: Any) -> Any:
    # One spelling per value, so the JSON form round-trips: exact decimals as text, lists as tuples.
    if isinstance(value, float):
        raise InvalidAgreement("value", "write numbers as exact values like \"150.00\", not floats")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    return value


@dataclass(frozen=True)
class Conditions:
    """All of ``all`` and at least one of ``any`` (an empty group holds)."""

    all: tuple[Condition | Conditions, ...] = ()
    any: tuple[Condition | Conditions, ...] = ()


@dataclass(frozen=True)
class When:
    """The event kind a rule answers, and the conditions the event must meet."""

    kind: EventKind
    conditions: Conditions = Conditions()

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EventKind):
            object.__setattr__(self, "kind", EventKind(self.kind))


@dataclass(frozen=True)
class What:
    """The components to bill (empty: all of the agreement's), the item for lines nothing maps,
    and templates overriding the agreement's memo, private note and document number."""

    components: tuple[str, ...] = ()
    default_item: str | None = None
    memo: str | None = None
    private_note: str | None = None
    doc_number: str | None = None


@dataclass(frozen=True)
class How:
    """Send mode; review by exception holds when the total moves more than ``tolerance_percent``
    from the previous one; a hold happens after create unless ``hold_before_create``."""

    send_mode: SendMode = SendMode.HOLD_FOR_REVIEW
    tolerance_percent: Decimal | None = None
    hold_before_create: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.send_mode, SendMode):
            object.__setattr__(self, "send_mode", SendMode(self.send_mode))
        if self.send_mode is SendMode.REVIEW_BY_EXCEPTION and self.tolerance_percent is None:
            raise InvalidAgreement("tolerance_percent", "review_by_exception needs a tolerance_percent")
        if self.tolerance_percent is not None and (
                not isinstance(self.tolerance_percent, Decimal) or self.tolerance_percent < 0):
            raise InvalidAgreement("tolerance_percent", "must be a Decimal of zero or more")


@dataclass(frozen=True, kw_only=True)
class AgreementTemplate:
    """How a company rule starts an agreement from a won deal: the recurring lines become fixed
    fees on the cycle each line states; these settings fill the rest."""

    name: str | None = None  # a template; default "<customer> (<deal>)"
    currency: str | None = None  # the event's currency when unset
    timezone: str | None = None  # the company's when unset
    terms: PaymentTerms = PaymentTerms()
    tax: TaxTreatment = TaxTreatment()
    rounding: RoundingPolicy = RoundingPolicy.HALF_UP
    timing: Timing = Timing.ADVANCE
    prorate: bool = True
    items: Mapping[str, str] = field(default_factory=dict)  # product id / SKU / name -> item
    components: tuple[Component, ...] = ()  # added to every agreement this starts
    rules: tuple[Rule, ...] = ()  # the new agreement's rules; default: bill each period, held for review
    memo: str | None = None
    private_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A versioned rule; ``starts`` makes it a company rule that starts agreements."""

    id: str
    version: int = 1
    when: When
    what: What = What()
    how: How = How()
    effective_from: date | None = None
    effective_to: date | None = None  # last day the version applies
    starts: AgreementTemplate | None = None

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise InvalidAgreement("id", "a rule needs an id")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise InvalidAgreement("version", "must be a whole number, at least 1")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise InvalidAgreement("effective_to", "is before effective_from")
        if self.starts is not None and self.when.kind is not EventKind.DEAL_WON:
            raise InvalidAgreement("starts", "only a deal_won rule can start an agreement")

    def in_effect(self, on: date) -> bool:
        """True when this version applies on ``on``."""
        return ((self.effective_from is None or self.effective_from <= on)
                and (self.effective_to is None or on <= self.effective_to))
