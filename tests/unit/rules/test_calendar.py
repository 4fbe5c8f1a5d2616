"""Period grids anchored to the agreement start, local days, and due boundaries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rules import Agreement, Cadence, CadenceUnit, Schedule, due_periods
from rules.calendar import day_starts, local_date
from rules.errors import InvalidAgreement, InvalidInput


def _starts(schedule: Schedule, n: int) -> list[date]:
    return [schedule.period(k).start for k in range(n)]


def test_a_start_on_the_31st_clamps_to_short_months_and_never_drifts():
    schedule = Schedule(date(2026, 1, 31), Cadence())
    assert _starts(schedule, 5) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
                                    date(2026, 5, 31)]


def test_a_start_on_leap_day_bills_on_the_28th_in_common_years_and_the_29th_in_leap_years():
    schedule = Schedule(date(2024, 2, 29), Cadence.named("yearly"))
    assert _starts(schedule, 5) == [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28), date(2027, 2, 28),
                                    date(2028, 2, 29)]


def test_periods_on_a_day_of_month_start_with_a_partial_stub_of_the_full_period():
    schedule = Schedule(date(2026, 1, 15), Cadence(CadenceUnit.MONTH, 1, day_of_month=1))
    stub = schedule.period(0)
    assert (stub.start, stub.end, stub.full_start, stub.full_end) == (
        date(2026, 1, 15), date(2026, 2, 1), date(2026, 1, 1), date(2026, 2, 1))
    assert stub.is_partial and stub.fraction == Decimal(17) / Decimal(31)
    assert schedule.period(1).start == date(2026, 2, 1) and not schedule.period(1).is_partial


def test_a_quarterly_day_of_month_schedule_counts_quarters_from_the_first_anchor():
    schedule = Schedule(date(2026, 2, 10), Cadence(CadenceUnit.MONTH, 3, day_of_month=1))
    assert _starts(schedule, 3) == [date(2026, 2, 10), date(2026, 3, 1), date(2026, 6, 1)]
    assert schedule.period(0).full_start == date(2025, 12, 1)


def test_every_two_weeks_counts_fourteen_days_from_the_start():
    schedule = Schedule(date(2026, 12, 28), Cadence.named("biweekly"))
    assert _starts(schedule, 3) == [date(2026, 12, 28), date(2027, 1, 11), date(2027, 1, 25)]


def test_the_last_period_is_cut_at_the_end_and_the_final_boundary_is_the_next_day():
    schedule = Schedule(date(2026, 1, 1), Cadence.named("quarterly"), end=date(2026, 5, 15))
    last = schedule.period(1)
    assert (last.start, last.last_day, last.days, last.full_days) == (date(2026, 4, 1), date(2026, 5, 15), 45, 91)
    assert schedule.period(2) is None
    assert [schedule.boundary(k) for k in range(4)] == [date(2026, 1, 1), date(2026, 4, 1), date(2026, 5, 16), None]


def test_the_period_at_a_day_is_found_for_every_day_of_a_year():
    schedule = Schedule(date(2025, 3, 31), Cadence(CadenceUnit.MONTH, 1))
    day = date(2025, 3, 31)
    while day < date(2026, 4, 1):
        period = schedule.period_at(day)
        assert period.start <= day < period.end
        day = date.fromordinal(day.toordinal() + 1)


def test_a_cadence_refuses_nonsense_values_naming_the_field():
    with pytest.raises(InvalidAgreement, match="every"):
        Cadence(CadenceUnit.MONTH, 0)
    with pytest.raises(InvalidAgreement, match="day_of_month"):
        Cadence(CadenceUnit.WEEK, 1, day_of_month=3)
    with pytest.raises(InvalidAgreement, match="fortnightly"):
        Cadence.named("fortnightly")


def test_a_day_starts_at_local_midnight_even_where_midnight_is_skipped():
    # Havana springs forward at midnight: 2026-03-08 begins at 01:00 local (05:00 UTC).
    assert day_starts(date(2026, 3, 8), "America/Havana") == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), "America/Havana") == date(2026, 3, 8)
    # Samoa skipped 2011-12-30 entirely: it starts when 2011-12-31 starts.
    assert day_starts(date(2011, 12, 30), "Pacific/Apia") == day_starts(date(2011, 12, 31), "Pacific/Apia")


def test_naive_instants_are_refused():
    agreement = Agreement(id="a", company_id="c", customer_id="1", start=date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        due_periods(agreement, datetime(2026, 2, 1))


def test_the_first_of_the_month_is_due_at_local_midnight_in_the_agreement_zone():
    agreement = Agreement(id="a", company_id="c", customer_id="1", start=date(2026, 1, 1), timezone="Pacific/Kiritimati")
    # Midnight on Feb 1 at UTC+14 is 10:00 UTC on Jan 31.
    before = datetime(2026, 1, 31, 9, 59, tzinfo=UTC)
    at = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    assert [d.boundary for d in due_periods(agreement, before, since=datetime(2026, 1, 2, tzinfo=UTC))] == []
    assert [d.boundary for d in due_periods(agreement, at, since=before)] == [date(2026, 2, 1)]


def test_missed_ticks_catch_up_every_boundary_since_the_last_one():
    agreement = Agreement(id="a", company_id="c", customer_id="1", start=date(2026, 1, 31))
    due = due_periods(agreement, datetime(2026, 5, 1, tzinfo=UTC), since=datetime(2026, 1, 31, 12, tzinfo=UTC))
    assert [d.boundary for d in due] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert [d.closed.start for d in due] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
