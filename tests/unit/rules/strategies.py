"""Hypothesis strategies for agreements, usage and instants across time zones UTC-12 to UTC+14."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from rules import (
    Agreement,
    Cadence,
    CadenceUnit,
    EntryRounding,
    FixedFee,
    HourBlock,
    How,
    PassThrough,
    Retainer,
    Rollover,
    Rule,
    SendMode,
    SlaCredits,
    Tier,
    TieredHours,
    TimeAndMaterials,
    Timing,
    UsageFilter,
    UsageKind,
    UsageRecord,
    When,
)
from rules.events import EventKind

# The extremes (UTC-12, UTC+14), half- and quarter-hour offsets, DST changes at midnight
# (Havana, Santiago, Beirut), 30-minute DST (Lord Howe), and Samoa's skipped day.
ZONES = ["Etc/GMT+12", "Pacific/Pago_Pago", "America/St_Johns", "America/Havana", "America/Santiago",
         "America/New_York", "America/Sao_Paulo", "UTC", "Europe/London", "Europe/Berlin", "Asia/Beirut",
         "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Apia", "Pacific/Kiritimati",
         "Etc/GMT-14"]

zones = st.sampled_from(ZONES)
# Dates that favour month ends and leap days.
days = st.one_of(
    st.dates(date(2010, 1, 1), date(2031, 12, 31)),
    st.builds(lambda y, m, d: date(y, m, min(d, 28 + (m != 2) * 2 + (m in (1, 3, 5, 7, 8, 10, 12)))),
              st.integers(2010, 2031), st.integers(1, 12), st.integers(28, 31)),
    st.sampled_from([date(2012, 2, 29), date(2016, 2, 29), date(2020, 2, 29), date(2024, 2, 29),
                     date(2011, 12, 30), date(2011, 12, 29)]),
)
cadences = st.one_of(
    st.builds(Cadence, st.just(CadenceUnit.MONTH), st.sampled_from([1, 2, 3, 6, 12])),
    st.builds(Cadence, st.just(CadenceUnit.MONTH), st.sampled_from([1, 3]), st.integers(1, 31)),
    st.builds(Cadence, st.just(CadenceUnit.WEEK), st.sampled_from([1, 2, 4])),
)
money_amounts = st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2)
hours = st.decimals(Decimal("0.01"), Decimal("60"), places=2)
period_rule = Rule(id="each-period", when=When(EventKind.PERIOD_CLOSED), how=How(SendMode.AUTO_SEND))


@st.composite
def tick_walks(draw, start: date, tz_name: str) -> list[datetime]:
    """Increasing instants from just before ``start`` over two to four years, in uneven steps."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(hours=draw(st.integers(0, 60)))
    steps = draw(st.lists(st.integers(1, 24 * 45), min_size=15, max_size=60))
    scale = draw(st.integers(1, 3))
    ticks, at = [first], first
    for step in steps:
        at = at + timedelta(hours=step * scale)
        ticks.append(at)
    return ticks


@st.composite
def mixed_agreements(draw) -> Agreement:
    """An agreement with a random mix of components and a period rule."""
    start = draw(days)
    tz = draw(zones)
    cadence = draw(st.sampled_from([Cadence(), Cadence(CadenceUnit.MONTH, 1, 1), Cadence.named("quarterly")]))
    pool = [
        FixedFee(id="fee", amount=draw(money_amounts), timing=draw(st.sampled_from(list(Timing))),
                 prorate=draw(st.booleans())),
        Retainer(id="retainer", fee=draw(money_amounts), included_hours=draw(st.decimals(0, 40, places=1)),
                 overage_rate=draw(money_amounts), timing=draw(st.sampled_from(list(Timing))),
                 rollover=draw(st.sampled_from([None, Rollover(Decimal(10), 2)])),
                 usage=UsageFilter(projects=("retainer",))),
        HourBlock(id="block", block_hours=Decimal(20), block_price=draw(money_amounts), top_up_below=Decimal(3),
                  usage=UsageFilter(projects=("block",))),
        TieredHours(id="tiers", tiers=(Tier(Decimal(120), Decimal(10)), Tier(Decimal("99.50"))),
                    usage=UsageFilter(projects=("tiers",))),
        TimeAndMaterials(id="tm", default_rate=draw(money_amounts),
                         rounding=EntryRounding(draw(st.sampled_from([None, Decimal("0.25"), Decimal("0.1")]))),
                         cap_amount=draw(st.sampled_from([None, Decimal("5000.00")])), over_cap="carry_over"),
        PassThrough(id="expenses", markup_percent=draw(st.sampled_from([None, Decimal(10), Decimal("12.5")]))),
        SlaCredits(id="sla", percent_of_fee=Decimal(5), cap_percent=Decimal(20)),
    ]
    chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique_by=lambda c: c.id))
    chosen.sort(key=lambda c: [p.id for p in pool].index(c.id))
    currency = draw(st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
    return Agreement(id=f"agr-{draw(st.integers(1, 10**6))}", company_id="c1", customer_id="58",
                     customer_name="Northwind IT", currency=currency, timezone=tz, start=start, cycle=cadence,
                     components=tuple(chosen), rules=(period_rule,))


@st.composite
def usage_for(draw, agreement: Agreement, through: date) -> tuple[UsageRecord, ...]:
    """Random time, expenses and breaches dated from the agreement start to ``through``."""
    span = max((through - agreement.start).days, 1)
    records = []
    for i in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from([UsageKind.TIME, UsageKind.TIME, UsageKind.EXPENSE, UsageKind.SLA_BREACH]))
        on = agreement.start + timedelta(days=draw(st.integers(0, span - 1)))
        project = draw(st.sampled_from(["retainer", "block", "tiers", "other"]))
        if kind is UsageKind.TIME:
            records.append(UsageRecord(kind, "toggl", f"t{i}", 1, on, hours=draw(hours), project=project,
                                       billable=draw(st.booleans()), person="Ana"))
        elif kind is UsageKind.EXPENSE:
            records.append(UsageRecord(kind, "xero", f"x{i}", 1, on, amount=draw(money_amounts), description="Kit",
                                       billable=draw(st.booleans())))
        else:
            records.append(UsageRecord(kind, "pagerduty", f"p{i}", 1, on, billable=draw(st.booleans())))
    return tuple(records)
