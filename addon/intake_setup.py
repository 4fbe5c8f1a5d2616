"""Registers intake with the rest of autobill: the sweepers ``tick`` runs and the mapping listener that
wakes events waiting for their customer.

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

from addon import eventflow, inbox, mappings, tick
from addon.models.mappings import MappingKind


def sweep_deliveries(ctx: tick.TickContext) -> int:
    """Tick task: enqueue deliveries that were stored but never processed (Redis flushed, worker died)."""
    return inbox.sweep(ctx.container, ctx.now)


def sweep_events(ctx: tick.TickContext) -> int:
    """Tick task: enqueue open events whose next try is due (also those Redis lost)."""
    return eventflow.sweep(ctx.container, ctx.now)


def wake_customer_events(container, session, mapping: mappings.MappingInfo) -> None:
    """A customer mapping was set: the events that waited for it go on."""
    eventflow.wake_customer(session, mapping.company_id, mapping.source, mapping.key, container)


tick.register("intake.sweep_deliveries", sweep_deliveries)
tick.register("intake.sweep_events", sweep_events)
mappings.on_set(MappingKind.CUSTOMER, wake_customer_events)
