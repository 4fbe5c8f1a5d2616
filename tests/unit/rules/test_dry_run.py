"""The dry run: the drafts a tick would make, per-customer diffs and anomaly flags."""

from datetime import date

from rules import (
    DryRunInput,
    FixedFee,
    History,
    PassThrough,
    TimeAndMaterials,
    UsageConsumed,
    UsageKind,
    UsageRecord,
    dry_run,
    due_drafts,
)
from tests.unit.rules.helpers import D, agreement, at, time

NOW, SINCE = at(2026, 12, 1, 12), at(2026, 11, 30, 12)


def _northwind(**fields):
    return agreement(FixedFee(id="fee", amount=D("4000.00")), TimeAndMaterials(id="tm", default_rate=D("145.00")),
                     PassThrough(id="kit"), **fields)


def _previous():
    agr = _northwind()
    return due_drafts(agr, at(2026, 11, 1, 12), since=at(2026, 10, 31, 12),
                      usage=[time("te-0", date(2026, 10, 30), "10")])


def test_a_dry_run_makes_exactly_the_drafts_a_tick_makes():
    agr = _northwind()
    usage = (time("te-1", date(2026, 11, 3), "12"),)
    run = dry_run([DryRunInput(agr, usage, since=SINCE)], now=NOW)
    assert run.drafts == tuple(due_drafts(agr, NOW, since=SINCE, usage=usage))


def test_the_diff_shows_added_removed_and_changed_lines_against_the_previous_period():
    usage = (time("te-1", date(2026, 11, 3), "12"),
             UsageRecord(UsageKind.EXPENSE, "xero", "x-1", 1, date(2026, 11, 7), amount=D("250.00")))
    run = dry_run([DryRunInput(_northwind(), usage, since=SINCE)], now=NOW, previous={"58": _previous()})
    diff = run.customers[0]
    assert (diff.customer_id, diff.previous_total, diff.total) == ("58", D("4000.00"), D("5990.00"))
    assert [(c.component_id, c.kind) for c in diff.added] == [("kit", "pass_through"), ("tm", "time")]
    assert diff.removed == () and diff.changed == ()
    assert diff.change_percent == D("49.75")
    codes = [f.code for f in diff.flags]
    assert codes == ["change_above_threshold", "new_line_type", "new_line_type"]


def test_a_changed_rate_or_quantity_is_listed_as_a_change():
    previous = due_drafts(_northwind(), at(2026, 12, 1, 12), since=SINCE, usage=[time("te-1", date(2026, 11, 3), "10")])
    agr = _northwind(components=(FixedFee(id="fee", amount=D("4000.00")),
                                 TimeAndMaterials(id="tm", default_rate=D("150.00"))))
    run = dry_run([DryRunInput(agr, (time("te-2", date(2026, 12, 3), "10"),), since=at(2026, 12, 31, 12))],
                  now=at(2027, 1, 1, 12), previous={"58": previous})
    change = run.customers[0].changed[0]
    assert (change.kind, change.before.rate, change.after.rate, change.after.amount) == (
        "time", D("145.00"), D("150.00"), D("1500.00"))
    assert run.customers[0].flags == ()


def test_zero_totals_and_missing_rates_are_flagged():
    agr = agreement(TimeAndMaterials(id="tm"))
    run = dry_run([DryRunInput(agr, (time("te-1", date(2026, 11, 3), "2"),), since=SINCE)], now=NOW)
    assert [f.code for f in run.customers[0].flags] == ["zero_total", "missing_rate"]


def test_one_broken_agreement_does_not_stop_the_dry_run():
    good = _northwind()
    bad = agreement(PassThrough(id="kit"), id="agr-bad", customer_id="59")
    usage = (UsageRecord(UsageKind.EXPENSE, "xero", "x-1", 1, date(2026, 11, 7), amount=D(1), currency="EUR"),)
    run = dry_run([DryRunInput(bad, usage, since=SINCE), DryRunInput(good, since=SINCE)], now=NOW)
    assert [d.agreement_id for d in run.drafts] == ["agr-northwind"]
    assert [(agreement_id, err.code) for agreement_id, err in run.errors] == [("agr-bad", "currency_mismatch")]


def test_a_correction_that_makes_the_total_negative_is_flagged():
    agr = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")))
    history = History(billed_usage=(UsageConsumed("toggl", "te-1", 1, "tm", hours=D(10)),))
    deleted = UsageRecord(UsageKind.TIME, "toggl", "te-1", 2, date(2026, 10, 30), hours=D(10), deleted=True)
    run = dry_run([DryRunInput(agr, (deleted,), history, since=SINCE)], now=NOW)
    assert run.drafts[0].total == D("-1450.00")
    assert [f.code for f in run.customers[0].flags] == ["negative_total"]


def test_a_negative_draft_is_flagged_even_when_the_customers_total_is_positive():
    time_only = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")), id="agr-time")
    fees = agreement(FixedFee(id="fee", amount=D("4000.00")), id="agr-fees")
    history = History(billed_usage=(UsageConsumed("toggl", "te-1", 1, "tm", hours=D(10)),))
    deleted = UsageRecord(UsageKind.TIME, "toggl", "te-1", 2, date(2026, 10, 30), hours=D(10), deleted=True)
    run = dry_run([DryRunInput(time_only, (deleted,), history, since=SINCE), DryRunInput(fees, since=SINCE)], now=NOW)
    [diff] = run.customers
    assert diff.total == D("2550.00")
    [flag] = [f for f in diff.flags if f.code == "negative_total"]
    credit = next(d for d in run.drafts if d.agreement_id == "agr-time")
    assert flag.draft_key == str(credit.key)
    assert flag.message == "monthly period:2026-12-01: the total is negative (-1,450.00)"


def test_a_zero_draft_is_flagged_beside_a_customers_non_zero_total_and_a_zero_sum_is_flagged_once_more():
    zero = agreement(TimeAndMaterials(id="tm"), id="agr-zero")  # no rate: 0.00 and a missing rate
    fees = agreement(FixedFee(id="fee", amount=D("4000.00")), id="agr-fees")
    usage = (time("te-1", date(2026, 11, 3), "2"),)
    run = dry_run([DryRunInput(zero, usage, since=SINCE), DryRunInput(fees, since=SINCE)], now=NOW)
    zero_draft = next(d for d in run.drafts if d.agreement_id == "agr-zero")
    assert [(f.code, f.draft_key) for f in run.customers[0].flags] == [
        ("zero_total", str(zero_draft.key)), ("missing_rate", str(zero_draft.key))]
    # +1,450.00 and -1,450.00: each draft is fine or flagged on its own, and their sum is 0.00.
    plus = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")), id="agr-plus")
    minus = agreement(TimeAndMaterials(id="tm", default_rate=D("145.00")), id="agr-minus")
    billed = History(billed_usage=(UsageConsumed("toggl", "te-9", 1, "tm", hours=D(10)),))
    gone = UsageRecord(UsageKind.TIME, "toggl", "te-9", 2, date(2026, 10, 30), hours=D(10), deleted=True)
    run = dry_run([DryRunInput(plus, (time("te-8", date(2026, 11, 3), "10"),), since=SINCE),
                   DryRunInput(minus, (gone,), billed, since=SINCE)], now=NOW)
    assert [(f.code, f.draft_key is None) for f in run.customers[0].flags] == [
        ("negative_total", False), ("zero_total", True)]
    assert run.customers[0].flags[1].message == "the customer's 2 drafts total 0.00"
