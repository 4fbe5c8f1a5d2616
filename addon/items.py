"""Item mapping: which QuickBooks item bills a source's product or line.

In order: a stored mapping (by product id, then SKU, then product name), then a QuickBooks item
with that name or SKU, then the rule's default item. The drafting step asks for each line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from addon.models.mappings import MappingKind
from rules.events import EventLine


@dataclass(frozen=True)
class ItemChoice:
    """The QuickBooks item for a line: its Id when known, its name, and how it was chosen."""

    item_id: str | None
    name: str | None
    how: str  # mapping, name, sku, default, none


def line_keys(line: EventLine) -> list[str]:
    """The keys a person can map a line by, most specific first."""
    return [key for key in (line.product_id, line.sku, line.product_name) if key]


def resolve(container: Any, company_id: str, source: str, line: EventLine, *,
            default_item: str | None = None, session=None) -> ItemChoice:
    """The item for ``line``: stored mapping, then name or SKU in QuickBooks, then ``default_item``.

    ``LedgerFault`` from QuickBooks is raised for the caller to retry; nothing is created here.
    """
    mapped = container.mappings.first(company_id, MappingKind.ITEM, source, line_keys(line), session=session)
    if mapped is not None:
        return ItemChoice(mapped.target, None, "mapping")
    ledger = container.ledger(company_id)
    name = line.product_name or None
    if name:
        found = ledger.find_item(name)
        if found is not None:
            return ItemChoice(found.id, found.name, "name")
    if line.sku:
        by_sku = ledger.query("Item", {"Sku": line.sku, "Active": True}, max_results=2)
        if len(by_sku) == 1:
            return ItemChoice(by_sku[0].id, by_sku[0].name, "sku")
    if default_item:
        found = ledger.find_item(default_item)
        return ItemChoice(found.id if found else None, default_item, "default")
    return ItemChoice(None, None, "none")
