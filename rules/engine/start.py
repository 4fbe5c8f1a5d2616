"""Starting an agreement from a won deal: recurring lines become fees on the cycle each states,
one-off lines are billed at once as the onboarding invoice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rules import templates
from rules.agreement import Agreement
from rules.calendar import CADENCE_NAMES, Cadence, CadenceUnit, add_months, local_date
from rules.components import EventLines, FixedFee, LineSelection
from rules.components.event_lines import bill_event_lines, item_for, line_amount
from rules.draft import InvoiceDraft
from rules.engine.context import Context, template_variables
from rules.engine.drafting import assemble, rule_applies
from rules.errors import EventIncomplete, InvalidInput, TemplateDataMissing
from rules.events import Event, EventKind, EventLine
from rules.history import History
from rules.keys import agreement_id_for, object_thing
from rules.rule import How, Rule, When
from rules.window import Trigger, Window

# Vendors spell billing frequencies in several ways (HubSpot's recurringbillingfrequency, Stripe's
# interval): these are the spellings a line's ``recurring`` may use.
_ALIASES = {"month": "monthly", "quarter": "quarterly", "year": "yearly", "annual": "yearly",
            "per_six_months": "semiannually", "semi_annually": "semiannually", "week": "weekly",
            "every_two_weeks": "biweekly"}
DEFAULT_RULE = Rule(id="each-period", when=When(EventKind.PERIOD_CLOSED), how=How())


@dataclass(frozen=True)
class StartedAgreement:
    """The agreement a won deal starts, and the onboarding invoice of its one-off lines (if any)."""

    agreement: Agreement
    onboarding: InvoiceDraft | None


_EVERY = re.compile(r"^every_(\d+)_(week|month|year)s?$")
_MONTHS = {"biennially": 24, "triennially": 36}


def cadence_of(line: EventLine) -> Cadence:
    """The cadence a recurring line states: ``monthly``, ``annually``, ``quarter``, ``biennially``,
    ``every 48 months`` (the words the connectors write)."""
    name = (line.recurring or "").strip().lower().replace("-", "_").replace(" ", "_")
    name = _ALIASES.get(name, name)
    if name in CADENCE_NAMES:
        return Cadence.named(name)
    if name in _MONTHS:
        return Cadence(CadenceUnit.MONTH, _MONTHS[name])
    match = _EVERY.match(name)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        every = count * 12 if unit == "year" else count
        if 1 <= every <= 120:
            return Cadence(CadenceUnit.WEEK if unit == "week" else CadenceUnit.MONTH, every)
    return _unschedulable(line)


def _unschedulable(line: EventLine) -> Cadence:
    raise EventIncomplete(f"line {line.description!r} recurs {line.recurring!r}, which autobill cannot schedule")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "line"


def _months(cadence: Cadence) -> float:
    return cadence.every * (1 if cadence.unit is CadenceUnit.MONTH else 12 / 52)


def start_agreement(event: Event, rule: Rule, *, company_id: str, customer_id: str, today: date,
                    customer_name: str | None = None, timezone: str = "UTC") -> StartedAgreement | None:
    """The agreement ``rule`` (a company rule with ``starts``) starts from won deal ``event``, or
    None when the rule does not apply. The id comes from (company, rule, source object), so two
    events about one deal start one agreement. ``timezone`` is the company's, used unless the
    template names one."""
    template = rule.starts
    if template is None:
        raise InvalidInput(f"rule {rule.id} does not start agreements")
    agreement_id = agreement_id_for(company_id, rule.id, event.source, event.source_object_id)
    tz = template.timezone or timezone
    probe = Agreement(id=agreement_id, company_id=company_id, customer_id=customer_id,
                      start=local_date(event.occurred_at, tz), timezone=tz)
    if not rule_applies(rule, event, probe):
        return None
    start = event.period_start or _start_date(event) or local_date(event.occurred_at, tz)
    currency = template.currency or event.currency or "USD"
    fees, used = [], set()
    for i, line in enumerate(event.lines):
        if not line.recurring:
            continue
        amount = line_amount(line)
        if amount is None:
            raise EventIncomplete(f"recurring line {line.description!r} has neither an amount nor a unit price")
        base = _slug(line.product_id or line.sku or line.product_name or line.description or f"line-{i + 1}")
        comp_id = base if base not in used else f"{base}-{i + 1}"
        used.add(comp_id)
        item = item_for(template.items, line, event) or rule.what.default_item
        fees.append(FixedFee(id=comp_id, amount=amount, cadence=cadence_of(line), timing=template.timing,
                             prorate=template.prorate, item=item, description=None, tax_code=None))
    cycle = min((f.cadence for f in fees), key=_months, default=Cadence())
    terms_months = [line.term_months for line in event.lines if line.recurring]
    end = None
    if terms_months and all(terms_months):
        months = max(terms_months)
        end = add_months(start.year, start.month, months, start.day) - timedelta(days=1)
    customer = customer_name or (event.source_customer.name if event.source_customer else "") or ""
    variables = {**template_variables(probe, rule, event, None, today), "invoice": None}
    default_name = (f"{customer} ({event.source}:{event.source_object_id})" if customer
                    else f"{event.source}:{event.source_object_id}")
    name, missing = default_name, None
    if template.name:
        try:
            name = templates.render("name", template.name, variables)
        except TemplateDataMissing as exc:
            missing = exc
    agreement = Agreement(
        id=agreement_id, company_id=company_id, customer_id=customer_id, customer_name=customer, name=name,
        currency=currency, timezone=tz, start=start, end=end, cycle=Cadence(cycle.unit, cycle.every),
        terms=template.terms, tax=template.tax, rounding=template.rounding, memo=template.memo,
        private_note=template.private_note,
        components=tuple(fees) + tuple(c for c in template.components if c.id not in used),
        rules=template.rules or (DEFAULT_RULE,))
    onboarding = _onboarding(event, agreement, rule, template.items, today, missing)
    return StartedAgreement(agreement, onboarding)


def _start_date(event: Event) -> date | None:
    value = event.attributes.get("start_date")
    if not value:
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"start_date is not a date: {value!r}") from None


def _onboarding(event: Event, agreement: Agreement, rule: Rule, items, today: date,
                missing: TemplateDataMissing | None = None) -> InvoiceDraft | None:
    one_off = tuple(line for line in event.lines if not line.recurring)
    if not one_off and (event.lines or event.amount is None):
        return None
    component = EventLines(id="onboarding", lines=LineSelection.ONE_OFF, item=rule.what.default_item)
    window = Window(Trigger.OBJECT, object_thing(event.source, event.source_object_id),
                    local_date(event.occurred_at, agreement.timezone))
    ctx = Context(agreement, rule, event, window, (), History(), today)
    if missing is not None:
        ctx.missing_data("the agreement name template", missing, f"the agreement is named {agreement.name!r}")
    bill_event_lines(ctx, component, one_off, items, allow_fallback=not event.lines)
    return assemble(ctx)
