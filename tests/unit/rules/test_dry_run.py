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
