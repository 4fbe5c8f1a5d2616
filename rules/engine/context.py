"""What a component sees while it bills: the window, its usage, history, and one way to make lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from rules import templates
from rules.agreement import Agreement
from rules.calendar import BillingPeriod
from rules.components import Component
from rules.components.base import UsageFilter
from rules.draft import (
    BlockChange,
    CapUse,
    Carried,
    Consumption,
    CreditApplied,
    DepositApplied,
    DepositBilled,
    DraftLine,
    DraftWarning,
    Explanation,
    FeePeriod,
    LineKind,
    RolloverDraw,
    RolloverGrant,
    UsageConsumed,
)
from rules.errors import InvalidInput, TemplateDataMissing
from rules.events import Event, event_to_dict
from rules.history import History
from rules.money import decimal_mode, exponent, rounding_step
from rules.rule import Rule
from rules.usage import UsageRecord
from rules.window import Window

ZERO = Decimal(0)
DESCRIPTION_LIMIT = templates.LIMITS["description"]


class Context:
    """One draft in the making: components add lines, consumption, warnings and holds to it."""

    def __init__(self, agreement: Agreement, rule: Rule, event: Event, window: Window,
                 usage: Iterable[UsageRecord], history: History, today: date):
        self.agreement = agreement
        self.rule = rule
        self.event = event
        self.window = window
        self.history = history
        self.today = today
        self.currency = agreement.currency
        self.policy = agreement.rounding
        self.lines: list[DraftLine] = []
        self.warnings: list[DraftWarning] = []
        self.holds: list[str] = []
        self.usage_consumed: list[UsageConsumed] = []
        self.blocks: list[BlockChange] = []
        self.rollover_draws: list[RolloverDraw] = []
        self.rollover_grants: list[RolloverGrant] = []
        self.credits: list[CreditApplied] = []
        self.deposits_billed: list[DepositBilled] = []
        self.deposits_applied: list[DepositApplied] = []
        self.carried: list[Carried] = []
        self.fee_periods: list[FeePeriod] = []
        self.cap_uses: list[CapUse] = []
        self._routed = _route(agreement, usage, window)
        self._template_base: dict[str, Any] | None = None
        # Looked up once per draft rather than per line.
        currency, policy = agreement.currency, agreement.rounding
        self._quantum, self._mode = exponent(currency), decimal_mode(policy)
        self._exact = rounding_step(ZERO, ZERO, currency, policy)

    def usage_for(self, component: Component) -> list[UsageRecord]:
        """The usage in this window that ``component`` bills (first matching component wins)."""
        return self._routed.get(component.id, [])

    def subtotal(self) -> Decimal:
        """The sum of the lines made so far."""
        return sum((line.amount for line in self.lines), ZERO)

    def consumes_anything(self) -> bool:
        """True when the draft uses up or creates anything (a zero-line draft may still)."""
        return any(getattr(self, name) for name in _RECORDED)

    def consumption(self) -> Consumption:
        """Everything recorded so far, as the draft's ``Consumption``."""
        return Consumption(*(tuple(getattr(self, name)) for name in _RECORDED))

    def warn(self, code: str, message: str, *, hold: bool = True) -> None:
        """Record a warning (and, by default, hold the invoice for review because of it)."""
        self.warnings.append(DraftWarning(code, message))
        if hold:
            self.holds.append(message)

    def add_line(self, component: Component, kind: LineKind, *, quantity: Decimal, rate: Decimal | None,
                 unrounded: Decimal, default: str, inputs: Iterable[tuple[str, str]], arithmetic: str,
                 sources: Iterable[str] = (), item: str | None = None, taxable: bool | None = None,
                 service_date: date | None = None, notes: Iterable[str] = (),
                 detail: dict[str, Any] | None = None, tax_code: str | None = None) -> DraftLine:
        """Make a line: round its amount once, pick its tax code, render its description.
        A ``rate`` of None makes a one-unit line whose rate is the rounded amount (prorated fees)."""
        amount = unrounded.quantize(self._quantum, rounding=self._mode)
        if rate is None:
            rate = amount
        item = item or component.item or self.rule.what.default_item
        override = tax_code or component.tax_code
        code = self._tax_code(item, taxable, override)
        description = default
        if component.description:
            description = self._render_line(component, kind, default, item, quantity, rate, amount, detail)
        elif len(description) > DESCRIPTION_LIMIT:
            description = description[: DESCRIPTION_LIMIT - 1] + "…"
        explanation = Explanation(
            component.id, component.TYPE, tuple(inputs), arithmetic, unrounded,
            self._exact if unrounded == amount else rounding_step(unrounded, amount, self.currency, self.policy),
            tuple(sources), self.rule.id, self.rule.version, tuple(notes))
        line = DraftLine(kind, component.id, item, description, quantity, rate, amount, code, explanation,
                         service_date, component.class_ref or self.agreement.class_ref)
        self.lines.append(line)
        return line

    def _tax_code(self, item: str | None, taxable: bool | None, override: str | None) -> str:
        defaults = self.agreement.items.get(item) if item else None
        if defaults is not None and defaults.taxable is not None:
            taxable = defaults.taxable
        return self.agreement.tax.code_for(override=override, item_code=defaults.tax_code if defaults else None,
                                           taxable=taxable)

    def template_base(self) -> dict[str, Any]:
        """The variables every template sees (agreement, period, event, rule, today)."""
        if self._template_base is None:
            self._template_base = template_variables(self.agreement, self.rule, self.event,
                                                     self.window.period, self.today)
        return self._template_base

    def _render_line(self, component: Component, kind: LineKind, default: str, item: str | None,
                     quantity: Decimal, rate: Decimal, amount: Decimal, detail: dict[str, Any] | None) -> str:
        line = {"kind": kind.value, "component": component.id, "item": item, "quantity": quantity,
                "rate": rate, "amount": amount, "hours": None, "task": None, "person": None, "role": None,
                "project": None, "date": None, "name": None, "period": self.template_base()["period"]}
        if detail:
            line.update(detail)
        variables = {**self.template_base(), "line": line, "default": default, "invoice": None}
        try:
            return templates.render("description", component.description, variables)
        except TemplateDataMissing as exc:
            self.missing_data(f"the description template of {component.id}", exc, "the default description is used")
            return default

    def missing_data(self, what: str, exc: TemplateDataMissing, fallback: str) -> None:
        """Hold the draft because a template needs event data this event lacks (once per template)."""
        event = self.event
        message = (f"{what} {exc.reason} ({event.kind} {event.source}:{event.source_object_id}); "
                   f"{fallback}")
        if message not in self.holds:
            self.warn("template_data_missing", message)


def period_variables(period: BillingPeriod | None) -> dict[str, Any] | None:
    """A period as template data."""
    if period is None:
        return None
    return {"start": period.start, "end": period.last_day, "label": period.label, "index": period.index,
            "partial": period.is_partial}


def template_variables(agreement: Agreement, rule: Rule, event: Event | None, period: BillingPeriod | None,
                       today: date) -> dict[str, Any]:
    """The plain data templates see; the same shape as ``templates.sample_context()``."""
    event_data = None
    if event is not None:
        event_data = event_to_dict(event)
        event_data["attributes"] = templates.EventAttributes(event_data["attributes"])
    return {
        "agreement": templates.agreement_variables(agreement),
        "period": period_variables(period),
        "event": event_data,
        "rule": {"id": rule.id, "version": rule.version},
        "today": today,
    }


def _takers(agreement: Agreement) -> dict[str, tuple[tuple[str, UsageFilter | None], ...]]:
    """For each usage kind, the components that may take a record of it, in the agreement's order:
    (id, its ``usage`` filter, None when the filter lists nothing). A component without a filter takes
    every record that reaches it, so the ones after it are left out."""
    found = agreement.__dict__.get("_usage_takers")
    if found is None:
        by_kind: dict[str, list[tuple[str, UsageFilter | None]]] = {}
        for comp in agreement.components:
            if not comp.USAGE_KINDS:
                continue
            f = getattr(comp, "usage", None)
            if f is not None and not (f.kinds or f.projects or f.tasks or f.roles or f.people):
                f = None
            for kind in comp.USAGE_KINDS:
                candidates = by_kind.setdefault(kind, [])
                if not candidates or candidates[-1][1] is not None:
                    candidates.append((comp.id, f))
        found = {kind: tuple(candidates) for kind, candidates in by_kind.items()}
        object.__setattr__(agreement, "_usage_takers", found)
    return found


# The lists a Context records consumption in, in the order of Consumption's fields.
_RECORDED = ("usage_consumed", "blocks", "rollover_draws", "rollover_grants", "credits", "deposits_billed",
             "deposits_applied", "carried", "fee_periods", "cap_uses")
_USAGE_ORDER = attrgetter("date", "source", "source_id")


def _route(agreement: Agreement, usage: Iterable[UsageRecord], window: Window) -> dict[str, list[UsageRecord]]:
    only, through = window.only_source_ids, window.usage_through
    if only is None and through is None:
        return {}
    latest: dict[tuple[str, str], UsageRecord] = {}
    agreement_id = agreement.id
    for record in usage:
        if record.agreement_id is not None and record.agreement_id != agreement_id:
            raise InvalidInput(f"usage record {record.source}:{record.source_id} belongs to agreement "
                               f"{record.agreement_id}, not {agreement_id}")
        if only is not None:
            if record.source_id not in only:
                continue
        elif record.date >= through:
            continue
        slot = (record.source, record.source_id)
        known = latest.get(slot)
        if known is None or known.version < record.version:
            latest[slot] = record
    routed: dict[str, list[UsageRecord]] = {}
    takers = _takers(agreement)
    if not takers or not latest:
        return routed
    records = sorted(latest.values(), key=_USAGE_ORDER) if len(latest) > 1 else latest.values()
    for record in records:
        candidates = takers.get(record.kind)  # a StrEnum: it finds the kind's name
        if candidates is None:
            continue
        owner = next((comp_id for comp_id, f in candidates if f is None or f.matches(record)), None)
        if owner is not None:
            found = routed.get(owner)
            if found is None:
                routed[owner] = [record]
            else:
                found.append(record)
    return routed
