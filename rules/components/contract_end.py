"""Contract end: the final invoice's window, and the fee periods only an early end bills.

The final invoice bills unbilled time (usage dated up to the last day), the prorated fee of the last
partial period (fees in arrears; see ``early_end_fee_periods``) and any unused deposit as a credit
(``milestone_billing``). Each component reads the ``END`` window this module makes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rules.calendar import ONE_DAY, BillingPeriod, Cadence, schedule_for
from rules.errors import InvalidInput
from rules.keys import end_thing
from rules.window import Trigger, Window

if TYPE_CHECKING:
    from rules.agreement import Agreement
    from rules.engine.context import Context


def end_window(agreement: Agreement, last: date) -> Window:
    """The window of the final invoice of a contract whose last day is ``last``."""
    if last < agreement.start:
        raise InvalidInput(f"the contract end {last} is before agreement {agreement.id} starts")
    open_ended = schedule_for(agreement.start, agreement.cycle)
    previous = open_ended.boundary(open_ended.index_at(last))
    closed = schedule_for(agreement.start, agreement.cycle, last).period_at(last)
    return Window(Trigger.END, end_thing(last), last, closed=closed, previous_boundary=previous,
                  usage_through=last + ONE_DAY, end_day=last)


def early_end_fee_periods(ctx: Context, cadence: Cadence) -> list[BillingPeriod]:
    """Fee periods (in arrears) the final invoice bills: those the regular runs have not closed,
    cut at the last day. A fixed ``end`` on the agreement is billed by the scheduled final run
    instead, so only an earlier end bills anything here; fees paid in advance are not refunded."""
    window, agreement = ctx.window, ctx.agreement
    last = window.end_day
    if last is None or (agreement.end is not None and last >= agreement.end):
        return []
    grid = schedule_for(agreement.start, cadence, last)
    after = window.previous_boundary or agreement.start - ONE_DAY
    return grid.periods_ending_in(after, last + ONE_DAY)
