"""Threshold checks: when recorded usage takes an agreement's unbilled time over a threshold, or a
prepaid hour block's balance below its ``top_up_below``, raise the n-th ``threshold_crossed`` event of
the period, once. The engine decides (``rules.threshold_event``); a block's event is drafted as a
top-up invoice.

The check runs under the agreement's usage lock (``billing.lock_agreement``), so two workers
recording entries at the same moment see each other's entries one after the other: the crossing
is neither missed nor raised twice. ``threshold_crossings`` is the backstop: its key is (agreement,
rule, period, n-th crossing), so the same crossing found again (more entries after it, before it is
billed) inserts nothing and raises nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from addon.clock import as_utc
from addon.models.usage import ThresholdCrossing
from addon.usage import providers
from addon.usage.billing import unbilled
from rules import Agreement, Event, EventKind, crossing_object_id, rule_applies, threshold_event
from rules.calendar import local_date

log = logging.getLogger(__name__)


def threshold_rules(agreement: Agreement, now: datetime) -> list:
    """The version in effect today of each of the agreement's threshold rules."""
    today = local_date(now, agreement.timezone)
    found, seen = [], set()
    for rule in agreement.rules:
        if rule.when.kind is not EventKind.THRESHOLD_CROSSED or rule.id in seen:
            continue
        seen.add(rule.id)
        current = agreement.rule_in_effect(rule.id, today)
        if current is not None:
            found.append(current)
    return found


def check_thresholds(session: Session, company_id: str, agreement_ids: Iterable[str], *,
                     now: datetime) -> list[Event]:
    """Raise the threshold crossings the agreements' unbilled usage reached; returns the events raised."""
    now = as_utc(now)
    raised: list[Event] = []
    for agreement_id in sorted(set(agreement_ids)):
        agreement = providers.agreement(session, company_id, agreement_id)
        if agreement is None:
            continue
        rules = threshold_rules(agreement, now)
        if not rules:
            continue
        usage = unbilled(session, company_id, agreement_id, lock=True)
        history = providers.history(session, company_id, agreement_id)
        for rule in rules:
            event = threshold_event(agreement, rule, usage=usage, history=history, now=now)
            if event is None:
                continue
            event = _named_for_rule(event, rule.id)
            if not rule_applies(rule, event, agreement):
                continue
            if _claim(session, company_id, agreement_id, rule.id, event, now):
                providers.raise_event(session, company_id, event)
                raised.append(event)
    return raised


def _named_for_rule(event: Event, rule_id: str) -> Event:
    """The crossing's source object names the agreement, the rule, the blocks that fell short (if
    any) and the period's n-th crossing, so two threshold rules of one agreement each raise their own
    event and a top-up says which block it is for."""
    crossing = event.attributes["crossing"]
    blocks = tuple(event.attributes.get("blocks") or ())
    object_id = crossing_object_id(event.agreement_id, rule_id, blocks, event.period_start, crossing)
    return replace(event, source_object_id=object_id, attributes={**event.attributes, "rule_id": rule_id})


def _claim(session: Session, company_id: str, agreement_id: str, rule_id: str, event: Event,
           now: datetime) -> bool:
    crossing = event.attributes["crossing"]
    key = (company_id, agreement_id, rule_id, event.period_start, crossing)
    if session.get(ThresholdCrossing, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ThresholdCrossing(
                company_id=company_id, agreement_id=agreement_id, rule_id=rule_id,
                period_start=event.period_start, crossing=crossing, source_object_id=event.source_object_id,
                hours=_decimal(event.attributes.get("hours")), amount=_decimal(event.attributes.get("amount")),
                raised_at=now))
    except IntegrityError:
        return False
    log.info("threshold crossed: %s", event.source_object_id)
    return True


def crossings(session: Session, company_id: str, agreement_id: str | None = None) -> list[ThresholdCrossing]:
    """The threshold crossings raised for a company (or one agreement), oldest first."""
    stmt = select(ThresholdCrossing).where(ThresholdCrossing.company_id == company_id)
    if agreement_id is not None:
        stmt = stmt.where(ThresholdCrossing.agreement_id == agreement_id)
    return list(session.scalars(stmt.order_by(ThresholdCrossing.raised_at, ThresholdCrossing.crossing)))


def _decimal(value) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None
