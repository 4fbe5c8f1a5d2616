"""Item mapping: which QuickBooks item bills a source's product or line.

In order: a stored item mapping (by product id, then SKU, then product name), then a QuickBooks item
with that SKU, then one with that name, then the rule's default item. A match found in QuickBooks is
stored as an item mapping (``how`` = ``sku`` or ``name``, shown by ``autobill mappings list`` and
replaced by a person's; one stored by name still yields to the line's SKU found in QuickBooks), and the item's name is cached by its Id (``qbo_item_refs``), so a product
seen before costs no QuickBooks call. A product QuickBooks has no item for is remembered in Redis
for ``AUTOBILL_ITEM_MISS_CACHE`` seconds (a cache: losing it costs a lookup, nothing else).

QuickBooks filters items on Id, Name, Active, Type and Sku:
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/item
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from addon.clock import utcnow
from addon.models.mappings import Mapping, MappingKind
from addon.models.postings import ItemRef
from addon.postings.sqlinsert import upsert
from rules.events import EventLine

log = logging.getLogger(__name__)
ACTOR = "worker"
# A mapping autobill stored from a QuickBooks match says how it matched; a person's says "person".
FOUND_BY = ("sku", "name")


@dataclass(frozen=True)
class ItemChoice:
    """The QuickBooks item for a line: its Id when known, its name, how it was chosen and by which key.

    ``how``: ``mapping`` (a person's item mapping), ``sku`` or ``name`` (matched in QuickBooks, now
    or earlier), ``default``, ``none`` (left to the rule), ``missing`` (a mapping names an item
    QuickBooks does not have, or not as an active item).
    """

    item_id: str | None
    name: str | None
    how: str
    key: str | None = None


def line_keys(line: EventLine) -> list[str]:
    """The keys a person can map a line by, most specific first."""
    return [key for key in (line.product_id, line.sku, line.product_name) if key]


def resolve(container: Any, company_id: str, source: str, line: EventLine, *,
            default_item: str | None = None) -> ItemChoice:
    """The item for ``line``: stored mapping, then SKU or name in QuickBooks, then ``default_item``.

    Runs outside any transaction (it may call QuickBooks); ``LedgerFault`` is raised for the caller
    to retry. Nothing is created in QuickBooks here.
    """
    mapped = container.mappings.first(company_id, MappingKind.ITEM, source, line_keys(line))
    # A match autobill stored by name yields to the line's SKU (more specific), if QuickBooks has it.
    if mapped is not None and not (mapped.how == "name" and line.sku):
        return _mapped(container, company_id, mapped)
    ledger = None
    for by, value in (("sku", line.sku), ("name", line.product_name)):
        if by == "name" and mapped is not None:
            return _mapped(container, company_id, mapped)
        if not value or _missed(container, company_id, by, value):
            continue
        ledger = ledger or container.ledger(company_id)
        found = _find(ledger, by, value)
        if found is None:
            _miss(container, company_id, by, value)
            continue
        return _found(container, company_id, source, value, by, found.id, found.name)
    if default_item:
        ledger = ledger or container.ledger(company_id)
        found = ledger.find_item(default_item)
        return ItemChoice(found.id if found else None, default_item, "default")
    return ItemChoice(None, None, "none")


def resolve_lines(container: Any, company_id: str, source: str, lines: list[EventLine]) -> list[ItemChoice]:
    """``resolve`` for each of ``lines``: what is stored (mappings, cached names, remembered misses) is read
    at once; only the rest goes to QuickBooks."""
    keys = sorted({key for line in lines for key in line_keys(line)})
    with container.unit_of_work() as session:
        stored = {row.key: row for row in session.execute(select(Mapping).where(
            Mapping.company_id == company_id, Mapping.kind == MappingKind.ITEM.value, Mapping.source == source,
            Mapping.key.in_(keys))).scalars()} if keys else {}
        targets = sorted({row.target for row in stored.values()})
        names = dict(session.execute(select(ItemRef.item_id, ItemRef.name).where(
            ItemRef.company_id == company_id, ItemRef.item_id.in_(targets))
            .order_by(ItemRef.updated_at)).all()) if targets else {}
    choices = []
    for line in lines:
        mapped = next((stored[key] for key in line_keys(line) if key in stored), None)
        sku_first = mapped is not None and mapped.how == "name" and line.sku is not None and not _missed(
            container, company_id, "sku", line.sku)
        if mapped is not None and not sku_first and mapped.target in names:
            how = mapped.how if mapped.how in FOUND_BY else "mapping"
            choices.append(ItemChoice(mapped.target, names[mapped.target], how, mapped.key))
        elif mapped is None and all(_missed(container, company_id, by, value) for by, value in
                                    (("sku", line.sku), ("name", line.product_name)) if value):
            choices.append(ItemChoice(None, None, "none"))
        else:
            choices.append(resolve(container, company_id, source, line))
    return choices


def _mapped(container: Any, company_id: str, mapped) -> ItemChoice:
    how = mapped.how if mapped.how in FOUND_BY else "mapping"
    name = item_name(container, company_id, mapped.target)
    return ItemChoice(mapped.target, name, how if name else "missing", mapped.key)


def item_name(container: Any, company_id: str, item_id: str) -> str | None:
    """The name of QuickBooks item ``item_id`` (cached; else read from QuickBooks), None if it has none active."""
    with container.unit_of_work() as session:
        cached = session.execute(select(ItemRef.name).where(
            ItemRef.company_id == company_id, ItemRef.item_id == item_id)
            .order_by(ItemRef.updated_at.desc()).limit(1)).scalar_one_or_none()
    if cached is not None:
        return cached
    found = container.ledger(company_id).query("Item", {"Id": item_id, "Active": True}, max_results=1)
    if not found:
        return None
    _remember(container, company_id, found[0].name, found[0].id)
    return found[0].name


def _find(ledger, by: str, value: str):
    if by == "name":
        return ledger.find_item(value)
    # A SKU names one product; two active items sharing it is ambiguous, so neither is taken.
    found = ledger.query("Item", {"Sku": value, "Active": True}, max_results=2)
    return found[0] if len(found) == 1 else None


def _found(container: Any, company_id: str, source: str, key: str, by: str, item_id: str,
           name: str) -> ItemChoice:
    """Store the match as a mapping (unless one appeared meanwhile: that one wins) and cache its name."""
    with container.unit_of_work() as session:
        mapping, stored = container.mappings.keep_first_in(session, company_id, MappingKind.ITEM, source, key,
                                                           item_id, actor=ACTOR, how=by)
    if not stored and mapping.target != item_id:
        return _mapped(container, company_id, mapping)
    _remember(container, company_id, name, item_id)
    return ItemChoice(item_id, name, by, key)


def _remember(container: Any, company_id: str, name: str, item_id: str) -> None:
    # The posting resolves a draft's item names through this cache, so it costs no lookup.
    with container.unit_of_work() as session:
        upsert(session, ItemRef, {"company_id": company_id, "name": name, "item_id": item_id,
                                  "updated_at": utcnow()}, ("company_id", "name"), ("item_id", "updated_at"))


def _miss_key(company_id: str, by: str, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"autobill:item-miss:{company_id}:{by}:{digest}"


def _missed(container: Any, company_id: str, by: str, value: str) -> bool:
    try:
        return bool(container.redis.exists(_miss_key(company_id, by, value)))
    except Exception:  # noqa: BLE001 - a cache that cannot answer only costs a lookup
        log.warning("item lookup cache unavailable; asking QuickBooks")
        return False


def _miss(container: Any, company_id: str, by: str, value: str) -> None:
    millis = int(container.settings.item_miss_cache * 1000)
    if millis <= 0:
        return
    try:
        container.redis.set(_miss_key(company_id, by, value), "1", px=millis)
    except Exception:  # noqa: BLE001 - the next draft simply looks again
        log.warning("item lookup cache unavailable; the miss is not remembered")
