"""Before drafting, outside any transaction: the QuickBooks item of each line an event carries.

Registered as the events job's prepare step for the kinds drafting handles. For each distinct line
(by product id, SKU and name) ``addon.items.resolve`` picks the item: the company's item mapping,
else a QuickBooks item with the line's SKU, else one with its name; the result travels to the rules
engine on the event (``rules.components.event_lines.RESOLVED_ITEMS``), whose event lines use it
after the agreement's own ``items`` and before the component's or rule's default item. The draft
then names the item, so the posting, its retries and approvals bill exactly what the preview showed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from addon import items
from addon.models.events import EventRecord
from rules import Event, EventLine
from rules.components.event_lines import RESOLVED_ITEMS
from rules.components.milestone_billing import MAPPED_MILESTONE

# Attributes only drafting may set: a sender's values under these names never reach the engine.
DRAFTING_ATTRIBUTES = (RESOLVED_ITEMS, MAPPED_MILESTONE)


def without_drafting_attributes(event: Event) -> Event:
    """``event`` minus the attributes drafting sets (a sender cannot choose them)."""
    if not any(name in event.attributes for name in DRAFTING_ATTRIBUTES):
        return event
    return replace(event, attributes={k: v for k, v in event.attributes.items() if k not in DRAFTING_ATTRIBUTES})


def prepare_event(container: Any, row: EventRecord, event: Event) -> Event:
    """The event drafting is handed: its lines' QuickBooks items resolved (may call QuickBooks)."""
    event = without_drafting_attributes(event)
    if not event.lines:
        return event
    entries = resolved_items(container, row.company_id, event)
    return replace(event, attributes={**event.attributes, RESOLVED_ITEMS: entries})


def resolved_items(container: Any, company_id: str, event: Event) -> list[dict]:
    """One entry per distinct line whose item the company's mappings or QuickBooks decide."""
    distinct: dict[tuple, EventLine] = {}
    for line in event.lines:
        keys = (line.product_id, line.sku, line.product_name)
        if any(keys):
            distinct.setdefault(keys, line)
    entries = []
    choices = items.resolve_lines(container, company_id, event.source, list(distinct.values()))
    for keys, choice in zip(distinct, choices, strict=True):
        keys = list(keys)
        if choice.how == "none":
            continue
        entry: dict[str, Any] = {"keys": keys, "item_id": choice.item_id, "how": choice.how, "key": choice.key}
        if choice.how == "missing":
            entry["problem"] = (
                f"the item mapping of {event.source} product {choice.key} names QuickBooks item {choice.item_id}, "
                "which QuickBooks does not have as an active item: correct it with autobill mappings set "
                f"--company {company_id} --kind item --source {event.source} --key {choice.key} --target ITEM_ID")
        else:
            entry["item"] = choice.name
            entry["why"] = _why(choice, event.source)
        entries.append(entry)
    return entries


def _why(choice: items.ItemChoice, source: str) -> str:
    if choice.how == "sku":
        return f"QuickBooks item {choice.item_id}, matched by SKU {choice.key}"
    if choice.how == "name":
        return f"QuickBooks item {choice.item_id}, matched by name"
    return f"QuickBooks item {choice.item_id}, by the item mapping of {source} product {choice.key}"


def item_problems(event: Event) -> list[str]:
    """Why the event's items cannot be billed yet (a mapping names an item QuickBooks lacks)."""
    entries = event.attributes.get(RESOLVED_ITEMS)
    if not isinstance(entries, list):
        return []
    return [str(e["problem"]) for e in entries if isinstance(e, dict) and e.get("problem")]
