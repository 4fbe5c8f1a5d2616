"""The window of a draft: what one rule firing covers (a boundary, a threshold, an end, an object)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rules.calendar import BillingPeriod
from rules.quick import quick_init


class Trigger(StrEnum):
    """Why a draft is being made."""

    BOUNDARY = "boundary"  # a scheduled run where one period closes and the next opens
    THRESHOLD = "threshold"  # unbilled usage crossed a threshold
    END = "end"  # the contract ended
    OBJECT = "object"  # a deal, milestone, renewal or single usage record


# The triggers as plain names, for the month-end loop: on Python 3.11 reading a member off an Enum
# class goes through EnumType.__getattr__, which costs about as much as a small function call.
BOUNDARY, THRESHOLD, END, OBJECT = Trigger.BOUNDARY, Trigger.THRESHOLD, Trigger.END, Trigger.OBJECT


@quick_init
@dataclass(frozen=True)
class Window:
    """What one draft covers."""

    trigger: Trigger
    billed_thing: str
    on: date  # the local date the draft is about (boundary, event date, last day)
    boundary_index: int | None = None
    closed: BillingPeriod | None = None  # the agreement period that closed (arrears, usage)
    opening: BillingPeriod | None = None  # the agreement period that opens (advance)
    previous_boundary: date | None = None
    next_boundary: date | None = None
    usage_through: date | None = None  # usage dated before this day is billed
    end_day: date | None = None  # the contract's last day (END)
    only_source_ids: frozenset[str] | None = None  # an OBJECT usage event bills just its record

    @property
    def period(self) -> BillingPeriod | None:
        """The period people should read the invoice as being about."""
        return self.closed or self.opening
