"""What a component sees while it bills: the window, its usage, history, and one way to make lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from rules import templates
from rules.agreement import Agreement
from rules.calendar import BillingPeriod
from rules.components import Component
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
from rules.errors import InvalidInput
from rules.events import Event, event_to_dict
from rules.history import History
from rules.money import quantize, rounding_step
from rules.rule import Rule
from rules.usage import UsageRecord
from rules.window import Window

ZERO = Decimal(0)


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

    def usage_for(self, component: Component) -> list[UsageRecord]:
        """The usage in this window that ``component`` bills (first matching component wins)."""
        return self._routed.get(component.id, [])

    def subtotal(self) -> Decimal:
        """The sum of the lines made so far."""
        return sum((line.amount for line in self.lines), ZERO)

    def consumption(self) -> Consumption:
        """Everything recorded so far, as the draft's ``Consumption``."""
        return Consumption(
            tuple(self.usage_consumed), tuple(self.blocks), tuple(self.rollover_draws),
            tuple(self.rollover_grants), tuple(self.credits), tuple(self.deposits_billed),
            tuple(self.deposits_applied), tuple(self.carried), tuple(self.fee_periods), tuple(self.cap_uses))

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
        amount = quantize(unrounded, self.currency, self.policy)
        if rate is None:
            rate = amount
        item = item or component.item or self.rule.what.default_item
        defaults = self.agreement.items.get(item) if item else None
        if defaults is not None and defaults.taxable is not None:
            taxable = defaults.taxable
        tax_code = self.agreement.tax.code_for(
            override=tax_code or component.tax_code, item_code=defaults.tax_code if defaults else None,
            taxable=taxable)
        description = default
        if component.description:
            description = self._render_line(component, kind, default, item, quantity, rate, amount, detail)
        elif len(description) > templates.LIMITS["description"]:
            description = description[: templates.LIMITS["description"] - 1] + "…"
        explanation = Explanation(
            component_id=component.id, model=component.TYPE, inputs=tuple(inputs), arithmetic=arithmetic,
            unrounded=unrounded, rounding=rounding_step(unrounded, amount, self.currency, self.policy),
            source_ids=tuple(sources), rule_id=self.rule.id, rule_version=self.rule.version, notes=tuple(notes))
        line = DraftLine(kind=kind, component_id=component.id, item=item, description=description,
                         quantity=quantity, rate=rate, amount=amount, tax_code=tax_code,
                         explanation=explanation, service_date=service_date,
                         class_ref=component.class_ref or self.agreement.class_ref)
        self.lines.append(line)
        return line

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
        return templates.render("description", component.description, variables)


def period_variables(period: BillingPeriod | None) -> dict[str, Any] | None:
    """A period as template data."""
    if period is None:
        return None
    return {"start": period.start, "end": period.last_day, "label": period.label, "index": period.index,
            "partial": period.is_partial}


def template_variables(agreement: Agreement, rule: Rule, event: Event | None, period: BillingPeriod | None,
                       today: date) -> dict[str, Any]:
    """The plain data templates see; the same shape as ``templates.SAMPLE_INVOICE``."""
    return {
        "agreement": {"id": agreement.id, "name": agreement.name, "customer_id": agreement.customer_id,
                      "customer_name": agreement.customer_name, "po_number": agreement.po_number,
                      "currency": agreement.currency, "start": agreement.start, "end": agreement.end,
                      "cycle": agreement.cycle.label, "attributes": dict(agreement.attributes)},
        "period": period_variables(period),
        "event": event_to_dict(event) if event is not None else None,
        "rule": {"id": rule.id, "version": rule.version},
        "today": today,
    }


def _route(agreement: Agreement, usage: Iterable[UsageRecord], window: Window) -> dict[str, list[UsageRecord]]:
    if window.only_source_ids is None and window.usage_through is None:
        return {}
    latest: dict[tuple[str, str], UsageRecord] = {}
    for record in usage:
        if record.agreement_id is not None and record.agreement_id != agreement.id:
            raise InvalidInput(f"usage record {record.source}:{record.source_id} belongs to agreement "
                               f"{record.agreement_id}, not {agreement.id}")
        if window.only_source_ids is not None:
            if record.source_id not in window.only_source_ids:
                continue
        elif record.date >= window.usage_through:
            continue
        slot = (record.source, record.source_id)
        known = latest.get(slot)
        if known is None or known.version < record.version:
            latest[slot] = record
    routed: dict[str, list[UsageRecord]] = {}
    takers = [c for c in agreement.components if c.USAGE_KINDS]
    for record in sorted(latest.values(), key=lambda r: (r.date, r.source, r.source_id)):
        kind = record.kind.value
        for comp in takers:
            usage_filter = getattr(comp, "usage", None)
            if kind in comp.USAGE_KINDS and (usage_filter is None or usage_filter.matches(record)):
                routed.setdefault(comp.id, []).append(record)
                break
    return routed
