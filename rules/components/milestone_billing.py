"""Billing of milestones and deposits: the deposit on a won deal, each milestone less its share of
the deposit, and an unused deposit credited at the contract's end."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rules.components.milestones import DepositApplication, Milestone, Milestones
from rules.draft import DepositApplied, DepositBilled, LineKind
from rules.errors import EventIncomplete
from rules.events import Event, EventKind
from rules.history import DepositBalance
from rules.money import HUNDRED, exponent, money, plain
from rules.window import Trigger

if TYPE_CHECKING:
    from rules.engine.context import Context


# Set by drafting (addon) from a milestone mapping's detail, on the event it hands to the mapped
# agreement only: the id of the milestone this event completes. Whatever a sender put under this
# name is dropped before the engine sees the event.
MAPPED_MILESTONE = "mapped_milestone"


def matching_milestone(component: Milestones, event: Event) -> Milestone | None:
    """The milestone ``event`` completes: the one a milestone mapping names (``MAPPED_MILESTONE``),
    else one whose ``match`` names the event's source object."""
    mapped = event.attributes.get(MAPPED_MILESTONE)
    if mapped is not None:
        return next((m for m in component.milestones if m.id == mapped), None)
    candidates = {event.source_object_id, f"{event.source}:{event.source_object_id}"}
    for milestone in component.milestones:
        if candidates.intersection(milestone.match):
            return milestone
    return None


def bill(component: Milestones, ctx: Context) -> None:
    """Deposit on deal won; milestone fee less deposit on completion; unused deposit at the end."""
    event, window = ctx.event, ctx.window
    if window.trigger is Trigger.OBJECT and event.kind is EventKind.DEAL_WON and component.deposit:
        _deposit(ctx, component)
    elif window.trigger is Trigger.OBJECT and event.kind is EventKind.MILESTONE_COMPLETED:
        milestone = matching_milestone(component, event)
        if milestone is not None:
            _milestone(ctx, component, milestone)
    elif window.trigger is Trigger.END:
        for deposit in _open_deposits(ctx, component):
            _take_deposit(ctx, component, deposit, deposit.remaining, LineKind.UNUSED_DEPOSIT,
                          f"Unused deposit credited ({_deposit_name(deposit)})", "unused at the contract's end")


def _contract_value(ctx: Context, component: Milestones) -> tuple[Decimal, str]:
    if component.contract_value is not None:
        return component.contract_value, "the agreement's contract value"
    if ctx.event.amount is not None:
        return ctx.event.amount, "the deal's amount"
    raise EventIncomplete(f"{ctx.event.source}:{ctx.event.source_object_id} has no amount and "
                          f"{component.id} sets no contract_value")


def _deposit(ctx: Context, component: Milestones) -> None:
    deposit = component.deposit
    source = f"{ctx.event.source}:{ctx.event.source_object_id}"
    if deposit.percent is not None:
        value, origin = _contract_value(ctx, component)
        unrounded = value * deposit.percent / HUNDRED
        inputs = [("contract value", f"{money(value)} from {origin}"), ("deposit", f"{plain(deposit.percent)}%")]
        arithmetic = f"{money(value)} × {plain(deposit.percent)}%"
    else:
        unrounded = deposit.amount
        inputs, arithmetic = [("deposit", money(deposit.amount))], f"{money(deposit.amount)} fixed"
    line = ctx.add_line(component, LineKind.DEPOSIT, quantity=Decimal(1), rate=None, unrounded=unrounded,
                        item=deposit.item, default=f"Deposit: {ctx.agreement.name or component.id}",
                        inputs=inputs, arithmetic=arithmetic, sources=[source], detail={"name": "Deposit"})
    ctx.deposits_billed.append(DepositBilled(component.id, line.amount))


def _milestone(ctx: Context, component: Milestones, milestone: Milestone) -> None:
    source = f"{ctx.event.source}:{ctx.event.source_object_id}"
    if milestone.percent is not None:
        value, origin = _contract_value(ctx, component)
        unrounded = value * milestone.percent / HUNDRED
        inputs = [("milestone", milestone.name), ("contract value", f"{money(value)} from {origin}"),
                  ("share", f"{plain(milestone.percent)}%")]
        arithmetic = f"{money(value)} × {plain(milestone.percent)}%"
    else:
        unrounded = milestone.amount
        inputs, arithmetic = [("milestone", milestone.name)], f"{money(milestone.amount)} fixed"
    how = "a milestone mapping" if ctx.event.attributes.get(MAPPED_MILESTONE) is not None else "its match list"
    inputs.append(("completed by", f"{source}, by {how}"))
    line = ctx.add_line(component, LineKind.MILESTONE, quantity=Decimal(1), rate=None, unrounded=unrounded,
                        item=milestone.item, default=f"Milestone: {milestone.name}", inputs=inputs,
                        arithmetic=arithmetic, sources=[source], service_date=ctx.window.on,
                        detail={"name": milestone.name})
    left = line.amount
    deposit_rule = component.deposit.apply if component.deposit else DepositApplication.UNTIL_USED
    for deposit in _open_deposits(ctx, component):
        if left <= 0:
            break
        if deposit_rule is DepositApplication.PROPORTIONAL and component.contract_value:
            # The share is left unrounded: the line rounds it once, and its explanation shows that step.
            share = deposit.amount * line.amount / component.contract_value
            take = min(deposit.remaining, share, left)
            why = f"{money(deposit.amount)} × {money(line.amount)} / {money(component.contract_value)} contract value"
        else:
            take = min(deposit.remaining, left)
            why = f"as much of the {money(deposit.remaining)} left as this milestone allows"
        left -= _take_deposit(ctx, component, deposit, take, LineKind.LESS_DEPOSIT,
                              f"Less deposit ({_deposit_name(deposit)})", why)


def _open_deposits(ctx: Context, component: Milestones) -> list[DepositBalance]:
    return sorted((d for d in ctx.history.deposits if d.component_id == component.id and d.remaining > 0),
                  key=lambda d: d.key)


def _deposit_name(deposit: DepositBalance) -> str:
    return f"invoice {deposit.invoice_ref}" if deposit.invoice_ref else f"deposit invoice {deposit.key[:12]}"


def _take_deposit(ctx: Context, component: Milestones, deposit: DepositBalance, take: Decimal, kind: LineKind,
                  default: str, why: str) -> Decimal:
    """A line taking ``take`` (rounded once, on the line) off the invoice; returns what it took."""
    if take <= 0:
        return Decimal(0)
    on_unit = take == take.quantize(exponent(ctx.currency))
    line = ctx.add_line(component, kind, quantity=Decimal(1), rate=None, unrounded=-take, item=component.deposit.item
                        if component.deposit else None, default=default,
                        inputs=[("deposit", f"{money(deposit.amount)}, {money(deposit.remaining)} left"),
                                ("taken", why)],
                        arithmetic=f"-{money(take) if on_unit else plain(take.normalize())}",
                        sources=[deposit.key], detail={"name": "Deposit"})
    ctx.deposits_applied.append(DepositApplied(component.id, deposit.key, -line.amount))
    return -line.amount
