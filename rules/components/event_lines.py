"""Subscription renewals and one-off deal invoices: the lines and amount the event carries, or
the agreement's price."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rules.components.base import Component, positive
from rules.draft import LineKind
from rules.errors import CurrencyMismatch, EventIncomplete
from rules.events import Event, EventKind, EventLine
from rules.money import money, plain
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


class LineSelection(StrEnum):
    """Which of the event's lines to bill."""

    ALL = "all"
    ONE_OFF = "one_off"
    RECURRING = "recurring"


@dataclass(frozen=True, kw_only=True)
class EventLines(Component):
    """Bill the event's lines (``items`` maps a product id, SKU or name to a QuickBooks item);
    with no lines, its amount; with neither, ``price``."""

    TYPE = "event_lines"

    lines: LineSelection = LineSelection.ALL
    price: Decimal | None = None
    items: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("price", self.price, zero_ok=True)
        if not isinstance(self.lines, LineSelection):
            object.__setattr__(self, "lines", LineSelection(self.lines))


def selected_lines(component_lines: LineSelection, lines: tuple[EventLine, ...]) -> tuple[EventLine, ...]:
    """The event's lines this component bills."""
    if component_lines is LineSelection.ONE_OFF:
        return tuple(line for line in lines if not line.recurring)
    if component_lines is LineSelection.RECURRING:
        return tuple(line for line in lines if line.recurring)
    return lines


def line_amount(line: EventLine) -> Decimal | None:
    """What one event line costs: its amount, else quantity × unit price."""
    if line.amount is not None:
        return line.amount
    if line.unit_price is not None:
        return line.quantity * line.unit_price
    return None


# Set by drafting (addon) before the engine runs: for each distinct line, the QuickBooks item the
# company's item mappings (or QuickBooks itself, by SKU or name) chose, as a list of
# ``{"keys": [product_id, sku, product_name], "item": name, "why": text}``. Whatever a sender put
# under this name is dropped first.
RESOLVED_ITEMS = "resolved_items"


def resolved_item(event: Event | None, line: EventLine) -> Mapping[str, Any] | None:
    """What drafting resolved for ``line`` (``RESOLVED_ITEMS``), if anything."""
    entries = event.attributes.get(RESOLVED_ITEMS) if event is not None else None
    if not isinstance(entries, list | tuple):
        return None
    keys = [line.product_id, line.sku, line.product_name]
    for entry in entries:
        if isinstance(entry, Mapping) and list(entry.get("keys") or ()) == keys and entry.get("item"):
            return entry
    return None


def item_for(items: Mapping[str, str], line: EventLine, event: Event | None = None) -> str | None:
    """The QuickBooks item of an event line: the component's ``items`` (by product id, SKU, then
    product name), else what drafting resolved for it; None leaves it to the component's default."""
    for key in (line.product_id, line.sku, line.product_name):
        if key and key in items:
            return items[key]
    entry = resolved_item(event, line)
    return str(entry["item"]) if entry is not None else None


def bill(component: EventLines, ctx: Context) -> None:
    """Lines for a renewal or a won deal: the event's lines, else its amount, else the agreement's price."""
    event = ctx.event
    if ctx.window.trigger is not Trigger.OBJECT or event.kind not in (EventKind.SUBSCRIPTION_RENEWED,
                                                                     EventKind.DEAL_WON):
        return
    if event.currency and event.currency != ctx.currency:
        raise CurrencyMismatch(f"{event.source}:{event.source_object_id} is in {event.currency}; "
                               f"the agreement bills in {ctx.currency}")
    bill_event_lines(ctx, component, selected_lines(component.lines, event.lines), component.items,
                     allow_fallback=not event.lines)


def bill_event_lines(ctx: Context, component: Component, lines: tuple[EventLine, ...], items: Mapping[str, str],
                     *, allow_fallback: bool) -> None:
    """Bill ``lines`` (or the event's amount / the component's price when the event has none)."""
    event = ctx.event
    source = f"{event.source}:{event.source_object_id}"
    service = event.period_start or ctx.window.on
    span = f" ({event.period_start.isoformat()} to {event.period_end.isoformat()})" if (
        event.period_start and event.period_end) else ""
    for line in lines:
        amount = line_amount(line)
        if amount is None:
            raise EventIncomplete(f"line {line.description!r} of {source} has neither an amount nor a unit price")
        quantity = line.quantity if line.quantity else Decimal(1)
        rate = line.unit_price if line.unit_price is not None and line.amount is None else amount / quantity
        recurring = f", {line.recurring}" if line.recurring else ""
        inputs = [("line", f"{plain(quantity)} × {money(rate)}{recurring}"), ("from", source)]
        item = item_for(items, line)
        if item is None:
            entry = resolved_item(event, line)
            if entry is not None:
                item = str(entry["item"])
                inputs.append(("item", f"{item}: {entry.get('why') or 'resolved by drafting'}"))
        ctx.add_line(component, LineKind.EVENT_LINE, quantity=quantity, rate=rate, unrounded=amount,
                     item=item, taxable=line.taxable,
                     default=(line.description or line.product_name or "Item") + span,
                     inputs=inputs,
                     arithmetic=f"{plain(quantity)} × {money(rate)}" if line.amount is None
                     else f"{money(amount)} as the source states it",
                     sources=[source], service_date=service,
                     detail={"name": line.product_name or line.description, "date": service})
    if lines or not allow_fallback:
        return
    price, origin = event.amount, "the event's amount"
    if price is None:
        price, origin = getattr(component, "price", None), "the agreement's price"
    if price is None:
        raise EventIncomplete(f"{source} carries no amount or lines, and {component.id} sets no price")
    name = component.item or ("Subscription renewal" if event.kind is EventKind.SUBSCRIPTION_RENEWED else "Deal")
    ctx.add_line(component, LineKind.EVENT_LINE, quantity=Decimal(1), rate=None, unrounded=price,
                 default=name + span, inputs=[("amount", f"{money(price)} from {origin}")],
                 arithmetic=f"{money(price)}", sources=[source], service_date=service, detail={"name": name})
