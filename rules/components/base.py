"""What every billing component shares: its id, item, description template, tax code and class."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from rules.errors import InvalidAgreement
from rules.usage import UsageRecord


class Timing(StrEnum):
    """A fee billed at the start of its period (in advance) or after it ends (in arrears)."""

    ADVANCE = "advance"
    ARREARS = "arrears"


@dataclass(frozen=True)
class UsageFilter:
    """Which usage a component takes; empty lists match everything. Each record is taken by the
    first component of the agreement (in order) whose filter matches it."""

    kinds: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    people: tuple[str, ...] = ()

    def matches(self, record: UsageRecord) -> bool:
        """True when ``record`` passes every non-empty list."""
        return ((not self.kinds or record.kind.value in self.kinds)
                and (not self.projects or record.project in self.projects)
                and (not self.tasks or record.task in self.tasks)
                and (not self.roles or record.role in self.roles)
                and (not self.people or record.person in self.people))


@dataclass(frozen=True, kw_only=True)
class Component:
    """Base of the billing components; ``TYPE`` names it in the JSON form."""

    TYPE: ClassVar[str] = ""
    # The usage kinds this component consumes (empty: none).
    USAGE_KINDS: ClassVar[tuple[str, ...]] = ()

    id: str
    item: str | None = None  # QuickBooks item; the rule's default item when unset
    description: str | None = None  # a template; each model has a plain default
    tax_code: str | None = None  # overrides the item's default
    class_ref: str | None = None

    def __post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise InvalidAgreement("id", "a component needs an id")


def positive(name: str, value: Decimal | None, *, zero_ok: bool = False) -> None:
    """Refuse a negative (or zero) ``value`` naming the field."""
    if value is None:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal")
    if not value.is_finite() or value < 0 or (value == 0 and not zero_ok):
        raise InvalidAgreement(name, f"must be {'zero or more' if zero_ok else 'more than zero'}")
