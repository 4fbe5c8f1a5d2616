"""Agreements: the contract record for one client of one company, with its components and rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from rules.calendar import Cadence, Schedule, schedule_for, zone
from rules.components import Component
from rules.errors import InvalidAgreement, InvalidInput
from rules.money import RoundingPolicy
from rules.rule import Rule
from rules.terms import ItemDefaults, PaymentTerms, TaxTreatment

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, kw_only=True)
class Agreement:
    """One client's contract: who is billed, how, and by which components and rules.

    ``cycle`` is the agreement's period grid, anchored to ``start``; ``end`` is the last day
    (inclusive). ``memo``, ``private_note`` and ``doc_number`` are templates.
    """

    id: str
    company_id: str
    customer_id: str  # the QuickBooks customer's Id
    start: date
    customer_name: str = ""
    name: str = ""
    currency: str = "USD"
    timezone: str = "UTC"
    end: date | None = None
    cycle: Cadence = Cadence()
    terms: PaymentTerms = PaymentTerms()
    tax: TaxTreatment = TaxTreatment()
    rounding: RoundingPolicy = RoundingPolicy.HALF_UP
    bill_to: tuple[str, ...] = ()
    po_number: str | None = None
    memo: str | None = None
    private_note: str | None = None
    doc_number: str | None = None
    class_ref: str | None = None
    items: Mapping[str, ItemDefaults] = field(default_factory=dict)
    attributes: Mapping[str, str] = field(default_factory=dict)  # free values templates may use
    components: tuple[Component, ...] = ()
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        for name in ("id", "company_id", "customer_id"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidAgreement(name, "is required")
        if not isinstance(self.rounding, RoundingPolicy):
            object.__setattr__(self, "rounding", RoundingPolicy(self.rounding))
        if not _CURRENCY.match(self.currency or ""):
            raise InvalidAgreement("currency", f"{self.currency!r} is not a three-letter ISO currency code")
        try:
            zone(self.timezone)
        except InvalidInput as exc:
            raise InvalidAgreement("timezone", exc.message) from None
        if self.end is not None and self.end < self.start:
            raise InvalidAgreement("end", f"{self.end} is before the start {self.start}")
        _check_components(self.components)
        _check_rules(self.rules, {c.id for c in self.components})

    @property
    def schedule(self) -> Schedule:
        """The agreement's period grid."""
        # Kept on the (immutable) agreement: drafting asks for it many times per draft.
        found = self.__dict__.get("_schedule")
        if found is None:
            found = schedule_for(self.start, self.cycle, self.end)
            object.__setattr__(self, "_schedule", found)
        return found

    def component(self, component_id: str) -> Component:
        """The component called ``component_id``."""
        for comp in self.components:
            if comp.id == component_id:
                return comp
        raise KeyError(component_id)

    def rule_versions(self, rule_id: str) -> tuple[Rule, ...]:
        """Every version of rule ``rule_id``, oldest first."""
        return tuple(sorted((r for r in self.rules if r.id == rule_id), key=lambda r: r.version))

    def rule_in_effect(self, rule_id: str, on: date) -> Rule | None:
        """The version of ``rule_id`` that applies on ``on``."""
        for rule in self.rule_versions(rule_id):
            if rule.in_effect(on):
                return rule
        return None


def _check_components(components: tuple[Component, ...]) -> None:
    seen: set[str] = set()
    for i, comp in enumerate(components):
        if not isinstance(comp, Component):
            raise InvalidAgreement(f"components[{i}]", "is not a billing component")
        if comp.id in seen:
            raise InvalidAgreement(f"components[{i}].id", f"{comp.id!r} is used by another component")
        seen.add(comp.id)


def _check_rules(rules: tuple[Rule, ...], component_ids: set[str]) -> None:
    by_id: dict[str, list[tuple[int, Rule]]] = {}
    for i, rule in enumerate(rules):
        if rule.starts is not None:
            raise InvalidAgreement(f"rules[{i}].starts", "only a company rule can start agreements")
        for j, comp_id in enumerate(rule.what.components):
            if comp_id not in component_ids:
                raise InvalidAgreement(f"rules[{i}].what.components[{j}]", f"no component is called {comp_id!r}")
        by_id.setdefault(rule.id, []).append((i, rule))
    for versions in by_id.values():
        versions.sort(key=lambda pair: pair[1].version)
        for (_, older), (i, newer) in zip(versions, versions[1:], strict=False):
            if older.version == newer.version:
                raise InvalidAgreement(f"rules[{i}].version", f"rule {newer.id!r} has version {newer.version} twice")
            if older.effective_to is None or (newer.effective_from is not None
                                              and newer.effective_from <= older.effective_to):
                raise InvalidAgreement(
                    f"rules[{i}].effective_from",
                    f"version {newer.version} of rule {newer.id!r} overlaps version {older.version}; "
                    "end the older version (effective_to) before the newer one starts")


@dataclass(frozen=True, kw_only=True)
class AgreementSet:
    """A company's agreements and its company rules (those that start agreements): one JSON file."""

    company_id: str | None = None
    agreements: tuple[Agreement, ...] = ()
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for i, agreement in enumerate(self.agreements):
            if agreement.id in seen:
                raise InvalidAgreement(f"agreements[{i}].id", f"{agreement.id!r} appears twice")
            seen.add(agreement.id)
            if self.company_id is not None and agreement.company_id != self.company_id:
                raise InvalidAgreement(f"agreements[{i}].company_id",
                                       f"belongs to company {agreement.company_id!r}, not {self.company_id!r}")
        for i, rule in enumerate(self.rules):
            if rule.starts is None:
                raise InvalidAgreement(f"rules[{i}]", "a company rule must say what agreement it starts (starts)")
        ids = [(r.id, r.version) for r in self.rules]
        if len(set(ids)) != len(ids):
            raise InvalidAgreement("rules", "a company rule id and version appear twice")
