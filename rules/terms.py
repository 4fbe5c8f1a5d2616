"""Payment terms, tax treatment and item defaults of an agreement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from rules.calendar import days_in_month
from rules.errors import InvalidAgreement


class TermsKind(StrEnum):
    """How a due date follows from the invoice date."""

    NET = "net"  # due ``days`` after the invoice date
    END_OF_MONTH = "end_of_month"  # due ``days`` after the last day of the invoice's month
    DUE_ON_RECEIPT = "due_on_receipt"


_DUE_ON_RECEIPT, _END_OF_MONTH = TermsKind.DUE_ON_RECEIPT, TermsKind.END_OF_MONTH  # plain names: see rules.window


@dataclass(frozen=True)
class PaymentTerms:
    """When an invoice is due; ``name`` is the QuickBooks term to show (``Net 30``)."""

    kind: TermsKind = TermsKind.NET
    days: int = 30
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, TermsKind):
            object.__setattr__(self, "kind", TermsKind(self.kind))
        if not isinstance(self.days, int) or isinstance(self.days, bool) or not 0 <= self.days <= 366:
            raise InvalidAgreement("days", "must be a whole number from 0 to 366")

    def due_date(self, invoice_date: date) -> date:
        """The due date of an invoice dated ``invoice_date``."""
        if self.kind is _DUE_ON_RECEIPT:
            return invoice_date
        if self.kind is _END_OF_MONTH:
            month_end = invoice_date.replace(day=days_in_month(invoice_date.year, invoice_date.month))
            return month_end + timedelta(days=self.days)
        return invoice_date + timedelta(days=self.days)

    @cached_property
    def label(self) -> str:
        """``Net 30``, ``Due on receipt``, ``End of month + 15``, or the QuickBooks name."""
        if self.name:
            return self.name
        if self.kind is TermsKind.DUE_ON_RECEIPT:
            return "Due on receipt"
        if self.kind is TermsKind.END_OF_MONTH:
            return "End of month" + (f" + {self.days}" if self.days else "")
        return f"Net {self.days}"


@dataclass(frozen=True)
class TaxTreatment:
    """How lines get their tax code: taxable lines ``taxable_code``, others ``non_taxable_code``
    (QuickBooks US: TAX / NON), an exempt client always the latter. ``rates`` (percent per code),
    when known, let a draft carry the tax it expects."""

    exempt: bool = False
    taxable_code: str = "TAX"
    non_taxable_code: str = "NON"
    default_code: str | None = None  # for lines nothing else decides (non_taxable_code when unset)
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def code_for(self, *, override: str | None, item_code: str | None, taxable: bool | None) -> str:
        """The tax code of one line: its override, else the item's, else its taxable flag, else the default."""
        if self.exempt:
            return self.non_taxable_code
        if override:
            return override
        if item_code:
            return item_code
        if taxable is not None:
            return self.taxable_code if taxable else self.non_taxable_code
        return self.default_code or self.non_taxable_code


@dataclass(frozen=True)
class ItemDefaults:
    """What autobill knows of a QuickBooks item: its default tax code or taxable flag."""

    tax_code: str | None = None
    taxable: bool | None = None
