"""Business keys: one invoice per (company, agreement, rule, billed thing), ever.

The billed thing is a period, a source object (deal, milestone, subscription + period start), the
n-th threshold crossing of a period or a contract's end: never a delivery or a vendor's event id,
so two events about one renewal give one key. The rendered key is at most 36 characters, so it can
be QuickBooks' ``requestid`` as it is, also in batch requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from rules.quick import quick_init

PREFIX = "ab1"  # bump if the rendering ever changes, so old and new keys cannot meet
KEY_LENGTH = 36


def _digest(*parts: str, length: int) -> str:
    # The unit separator cannot be typed into an id, so shifting text between parts changes the key.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


@quick_init
@dataclass(frozen=True)
class BusinessKey:
    """The key of DESIGN.md; ``str(key)`` is its 36-character form (``ab1`` + 33 hex digits of SHA-256)."""

    company_id: str
    agreement_id: str
    rule_id: str
    billed_thing: str

    def __str__(self) -> str:
        rendered = self.__dict__.get("_rendered")
        if rendered is None:
            rendered = PREFIX + _digest(self.company_id, self.agreement_id, self.rule_id, self.billed_thing,
                                        length=KEY_LENGTH - len(PREFIX))
            object.__setattr__(self, "_rendered", rendered)
        return rendered

    @property
    def requestid(self) -> str:
        """QuickBooks' ``requestid`` for the create call (the same 36 characters)."""
        return str(self)

    @property
    def text(self) -> str:
        """The readable form for audit records: ``company/agreement/rule/billed thing``."""
        return f"{self.company_id}/{self.agreement_id}/{self.rule_id}/{self.billed_thing}"


def period_thing(boundary: date) -> str:
    """The billed thing of a scheduled run at ``boundary`` (a period's first day, or the day after the end)."""
    return f"period:{boundary.isoformat()}"


def object_thing(source: str, source_object_id: str, period_start: date | None = None) -> str:
    """The billed thing of a source object; a subscription's is the object plus its period start."""
    base = f"object:{source}:{source_object_id}"
    return base if period_start is None else f"{base}@{period_start.isoformat()}"


def threshold_thing(period_start: date, crossing: int) -> str:
    """The billed thing of the ``crossing``-th threshold crossing in the period starting ``period_start``."""
    return f"threshold:{period_start.isoformat()}#{crossing}"


def end_thing(last_day: date) -> str:
    """The billed thing of a contract's final invoice."""
    return f"end:{last_day.isoformat()}"


def agreement_id_for(company_id: str, rule_id: str, source: str, source_object_id: str) -> str:
    """The id of the agreement a company rule starts from a source object: the same for every
    event about that object, so two events about one won deal start one agreement."""
    return "agr-" + _digest(company_id, rule_id, source, source_object_id, length=24)
