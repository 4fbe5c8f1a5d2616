"""Milestones: a fixed amount or a share of the contract value when a completion event matches;
an optional deposit on deal won, applied later as a "less deposit" line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rules.components.base import Component, positive
from rules.errors import InvalidAgreement


class DepositApplication(StrEnum):
    """How a deposit is taken off milestone invoices."""

    UNTIL_USED = "until_used"  # as much as each milestone invoice allows, until none is left
    PROPORTIONAL = "proportional"  # the deposit's share of the contract value off each milestone


@dataclass(frozen=True)
class Milestone:
    """One milestone: ``amount`` or ``percent`` of the contract value; ``match`` lists the source
    objects that complete it as ``source:object id`` (``jira:acme.atlassian.net/version/10010``,
    ``github:acme/website#milestone-7``) or a bare object id. It may be empty when milestone
    mappings (kept outside the agreement) name the objects that complete it."""

    id: str
    name: str
    match: tuple[str, ...] = ()
    amount: Decimal | None = None
    percent: Decimal | None = None
    item: str | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percent is None):
            raise InvalidAgreement("amount", "a milestone needs exactly one of amount or percent")
        positive("amount", self.amount)
        positive("percent", self.percent)


@dataclass(frozen=True)
class Deposit:
    """A deposit billed when the deal is won: ``amount`` or ``percent`` of the contract value."""

    amount: Decimal | None = None
    percent: Decimal | None = None
    item: str | None = None
    apply: DepositApplication = DepositApplication.UNTIL_USED

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percent is None):
            raise InvalidAgreement("amount", "a deposit needs exactly one of amount or percent")
        positive("amount", self.amount)
        positive("percent", self.percent)
        if not isinstance(self.apply, DepositApplication):
            object.__setattr__(self, "apply", DepositApplication(self.apply))


@dataclass(frozen=True, kw_only=True)
class Milestones(Component):
    """Milestone fees against ``contract_value`` (or the won deal's amount)."""

    TYPE = "milestones"

    milestones: tuple[Milestone, ...]
    contract_value: Decimal | None = None
    deposit: Deposit | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("contract_value", self.contract_value)
        if self.contract_value is None and any(m.percent is not None for m in self.milestones):
            raise InvalidAgreement("contract_value", "is needed when a milestone is a percentage")
        ids = [m.id for m in self.milestones]
        if len(set(ids)) != len(ids):
            raise InvalidAgreement("milestones", "milestone ids must be unique")
