"""The dry run: every draft a tick would make for a set of agreements, a per-customer diff against
the previous period, and anomaly flags. It calls ``due_drafts``, the code that makes real drafts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from rules.agreement import Agreement
from rules.draft import DraftLine, InvoiceDraft
from rules.engine.schedule import due_drafts
from rules.errors import RulesError
from rules.history import History
from rules.money import HUNDRED, ZERO, money, plain
from rules.usage import UsageRecord


@dataclass(frozen=True)
class DryRunInput:
    """One agreement with its unbilled usage and history, as the caller loaded them."""

    agreement: Agreement
    usage: tuple[UsageRecord, ...] = ()
    history: History = field(default_factory=History)
    since: datetime | None = None


@dataclass(frozen=True)
class LineSummary:
    """Lines of one kind of one component and item, added up."""

    quantity: Decimal
    rate: Decimal | None  # None when the lines have different rates
    amount: Decimal


@dataclass(frozen=True)
class LineChange:
    """How one kind of line changed: ``before`` or ``after`` is None when it was added or removed."""

    component_id: str
    kind: str
    item: str | None
    before: LineSummary | None
    after: LineSummary | None


@dataclass(frozen=True)
class Flag:
    """An anomaly a person should look at: ``change_above_threshold``, ``new_line_type``,
    ``zero_total``, ``negative_total``, ``missing_rate``. ``draft_key`` names the draft it is about
    (None for the customer's drafts together)."""

    code: str
    message: str
    draft_key: str | None = None


@dataclass(frozen=True)
class CustomerDiff:
    """One customer's drafts against its previous period's."""

    customer_id: str
    customer_name: str
    currency: str
    previous_total: Decimal | None
    total: Decimal
    change_percent: Decimal | None
    added: tuple[LineChange, ...]
    removed: tuple[LineChange, ...]
    changed: tuple[LineChange, ...]
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class DryRun:
    """Everything a tick at ``now`` would do, without doing it."""

    now: datetime
    drafts: tuple[InvoiceDraft, ...]
    customers: tuple[CustomerDiff, ...]
    errors: tuple[tuple[str, RulesError], ...]  # (agreement id, what stopped it)


def dry_run(inputs: Iterable[DryRunInput], *, now: datetime,
            previous: Mapping[str, Sequence[InvoiceDraft]] | None = None,
            change_threshold_percent: Decimal = Decimal(25)) -> DryRun:
    """Drafts for every input, diffed per customer against ``previous`` (customer id -> that
    customer's drafts of the previous period); one failing agreement does not stop the others."""
    previous = previous or {}
    drafts: list[InvoiceDraft] = []
    errors: list[tuple[str, RulesError]] = []
    for item in inputs:
        try:
            drafts.extend(due_drafts(item.agreement, now, since=item.since, usage=item.usage, history=item.history))
        except RulesError as exc:
            errors.append((item.agreement.id, exc))
    by_customer: dict[str, list[InvoiceDraft]] = {}
    for draft in drafts:
        by_customer.setdefault(draft.customer_id, []).append(draft)
    customers = tuple(customer_diff(by_customer[cid], previous.get(cid, ()), change_threshold_percent)
                      for cid in sorted(by_customer))
    return DryRun(now, tuple(drafts), customers, tuple(errors))


def _summaries(drafts: Sequence[InvoiceDraft]) -> dict[tuple[str, str, str | None], LineSummary]:
    grouped: dict[tuple[str, str, str | None], list[DraftLine]] = {}
    for draft in drafts:
        for line in draft.lines:
            grouped.setdefault((line.component_id, line.kind.value, line.item), []).append(line)
    out = {}
    for key, lines in grouped.items():
        rates = {line.rate for line in lines}
        out[key] = LineSummary(sum((ln.quantity for ln in lines), ZERO), rates.pop() if len(rates) == 1 else None,
                               sum((ln.amount for ln in lines), ZERO))
    return out


def customer_diff(drafts: Sequence[InvoiceDraft], previous: Sequence[InvoiceDraft],
                  threshold: Decimal = Decimal(25)) -> CustomerDiff:
    """One customer's drafts against its previous period's drafts, with anomaly flags."""
    now_lines, before_lines = _summaries(drafts), _summaries(previous)
    total = sum((d.total for d in drafts), ZERO)
    previous_total = sum((d.total for d in previous), ZERO) if previous else None
    added, removed, changed = [], [], []
    for key in sorted(set(now_lines) | set(before_lines), key=lambda k: (k[0], k[1], k[2] or "")):
        change = LineChange(key[0], key[1], key[2], before_lines.get(key), now_lines.get(key))
        if change.before is None:
            added.append(change)
        elif change.after is None:
            removed.append(change)
        elif change.before != change.after:
            changed.append(change)
    flags: list[Flag] = []
    percent = None
    if previous_total:
        percent = (total - previous_total) * HUNDRED / abs(previous_total)
        if abs(percent) > threshold:
            flags.append(Flag("change_above_threshold", f"total moved {plain(percent.quantize(Decimal('0.1')))}% "
                                                        f"from {money(previous_total)} to {money(total)}"))
    if previous:
        known_kinds = {key[1] for key in before_lines}
        for kind in sorted({c.kind for c in added} - known_kinds):
            flags.append(Flag("new_line_type", f"a {kind.replace('_', ' ')} line appears for the first time"))
    # Each draft is an invoice of its own: a zero or negative one is flagged even when the customer's
    # other drafts make the sum look fine; the sum is flagged too when there are several.
    for draft in drafts:
        name = f"{draft.rule_id} {draft.key.billed_thing}"
        if draft.total == 0:
            flags.append(Flag("zero_total", f"{name}: the total is 0.00", str(draft.key)))
        elif draft.total < 0:
            flags.append(Flag("negative_total", f"{name}: the total is negative ({money(draft.total)})",
                              str(draft.key)))
    if len(drafts) > 1:
        if total == 0:
            flags.append(Flag("zero_total", f"the customer's {len(drafts)} drafts total 0.00"))
        elif total < 0:
            flags.append(Flag("negative_total", f"the customer's {len(drafts)} drafts total {money(total)}"))
    for draft in drafts:
        for warning in draft.warnings:
            if warning.code == "missing_rate":
                flags.append(Flag("missing_rate", warning.message, str(draft.key)))
    first = drafts[0]
    return CustomerDiff(first.customer_id, first.customer_name, first.currency, previous_total, total, percent,
                        tuple(added), tuple(removed), tuple(changed), tuple(flags))
