"""SLA credits: each breach earns a credit (a share of the period fee, or fixed), capped per
period, shown on the next invoice and never taking it below zero."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rules.components.base import Component, positive
from rules.errors import InvalidAgreement


@dataclass(frozen=True, kw_only=True)
class SlaCredits(Component):
    """``percent_of_fee`` of the period fee, or ``fixed_amount``, per breach."""

    TYPE = "sla_credit"
    USAGE_KINDS = ("sla_breach",)

    percent_of_fee: Decimal | None = None
    fixed_amount: Decimal | None = None
    fee_components: tuple[str, ...] = ()  # whose period fee counts; empty: every fee and retainer
    cap_percent: Decimal | None = None  # of the period fee
    cap_amount: Decimal | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.percent_of_fee is None) == (self.fixed_amount is None):
            raise InvalidAgreement("percent_of_fee", "an SLA credit needs exactly one of percent_of_fee or fixed_amount")
        for name in ("percent_of_fee", "fixed_amount", "cap_percent", "cap_amount"):
            positive(name, getattr(self, name))
