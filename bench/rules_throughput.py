"""Drafts per second for a month-end run over 10,000 agreements with mixed components, on one core.

Goal (issue 4): 10,000 agreements in under 2 seconds. The run is repeated, each time on freshly built
agreements (so nothing one run cached on them helps the next) with the calendar's caches (schedules,
local dates) cleared, and the best and median are reported. Small per-process tables that any long-lived
worker keeps warm too (compiled templates, currency quanta, rounding texts) stay warm between runs. Both wall time and CPU time (``time.process_time``) are printed: on a
shared machine wall time also counts the time other processes had the core, so compare CPU time.
``--digest`` also prints the SHA-256 of every draft's canonical JSON (``dump_draft``), so two versions
of the engine can be checked to make byte-identical drafts. Prints the figures and ends with one JSON
line; asserts nothing. Run: .venv/bin/python bench/rules_throughput.py [agreements] [repeats] [--digest]
"""

from __future__ import annotations

import gc
import hashlib
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from rules import (
    Agreement,
    Cadence,
    EntryRounding,
    EventKind,
    FixedFee,
    History,
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
    UsageFilter,
    UsageKind,
    UsageRecord,
    When,
    due_drafts,
    dump_draft,
)
from rules.calendar import clear_caches

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Sydney",
         "Asia/Kolkata", "Pacific/Kiritimati", "Etc/GMT+12", "UTC"]
RULE = Rule(id="month-end", when=When(EventKind.PERIOD_CLOSED), how=How(SendMode.REVIEW_BY_EXCEPTION, Decimal(20)))
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # past midnight of Dec 1 from UTC+14 to UTC-12
SINCE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # before midnight of Dec 1 at UTC+14


def _components(rng: random.Random):
    d = Decimal
    pool = [
        FixedFee(id="managed", amount=d(rng.randrange(500, 9000)), item="Managed services"),
        Retainer(id="support", fee=d(4000), included_hours=d(20), overage_rate=d("150.00"), timing="arrears",
                 rollover=Rollover(d(10), 2), rounding=EntryRounding(d("0.25")), usage=UsageFilter(projects=("support",))),
        TimeAndMaterials(id="projects", default_rate=d("145.00"), rounding=EntryRounding(d("0.25"), minimum=d("0.5")),
                         cap_amount=d("10000.00"), over_cap="carry_over"),
        HourBlock(id="block", block_hours=d(40), block_price=d(5600), top_up_below=d(5),
                  usage=UsageFilter(projects=("block",))),
        TieredHours(id="helpdesk", tiers=(Tier(d(120), d(10)), Tier(d(110), d(30)), Tier(d(95))),
                    usage=UsageFilter(projects=("helpdesk",))),
        PassThrough(id="hardware", markup_percent=d(15)),
        SlaCredits(id="sla", percent_of_fee=d(5), cap_percent=d(20)),
    ]
    chosen = [pool[0]] + rng.sample(pool[1:], rng.randrange(1, 4))
    return tuple(sorted(chosen, key=lambda c: [p.id for p in pool].index(c.id)))


def build(n: int, seed: int = 7):
    """``n`` agreements, each with a month of usage, and their histories."""
    rng = random.Random(seed)
    inputs = []
    for i in range(n):
        agreement = Agreement(id=f"agr-{i:05d}", company_id=f"c{i % 50}", customer_id=str(1000 + i),
                              customer_name=f"Client {i}", start=date(2026, rng.randrange(1, 11), rng.randrange(1, 29)),
                              timezone=rng.choice(ZONES), cycle=Cadence(day_of_month=1), components=_components(rng),
                              rules=(RULE,))
        usage = []
        for j in range(rng.randrange(3, 12)):
            on = date(2026, 11, rng.randrange(1, 31))
            usage.append(UsageRecord(UsageKind.TIME, "toggl", f"{i}-{j}", 1, on,
                                     hours=Decimal(rng.randrange(5, 90)) / 10, person="Ana",
                                     project=rng.choice(["support", "block", "helpdesk", "other"])))
        if rng.random() < 0.3:
            usage.append(UsageRecord(UsageKind.EXPENSE, "xero", f"{i}-x", 1, date(2026, 11, 9), amount=Decimal("830.00")))
        if rng.random() < 0.2:
            usage.append(UsageRecord(UsageKind.SLA_BREACH, "pagerduty", f"{i}-p", 1, date(2026, 11, 12)))
        history = History(blocks={"block": Decimal(30)}, previous_totals={"month-end": Decimal(rng.randrange(4000, 9000))})
        inputs.append((agreement, tuple(usage), history))
    return inputs


def run_once(inputs, digest=None) -> tuple[float, float, int, int]:
    """One month-end over ``inputs``: (wall seconds, CPU seconds, drafts, lines), from cold caches.
    With ``digest`` (a hashlib object) every draft's canonical JSON is fed to it; that is timed
    apart and left out (the drafts are not kept, so keeping them does not slow the collector)."""
    clear_caches()
    gc.collect()
    drafts = lines = 0
    left_out_wall = left_out_cpu = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    for agreement, usage, history in inputs:
        made = due_drafts(agreement, NOW, since=SINCE, usage=usage, history=history)
        drafts += len(made)
        lines += sum(len(d.lines) for d in made)
        if digest is not None:
            w, c = time.perf_counter(), time.process_time()
            for draft in made:
                digest.update(dump_draft(draft).encode("utf-8") + b"\n")
            left_out_wall += time.perf_counter() - w
            left_out_cpu += time.process_time() - c
    cpu, wall = time.process_time() - cpu - left_out_cpu, time.perf_counter() - wall - left_out_wall
    return wall, cpu, drafts, lines


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    repeats = int(args[1]) if len(args) > 1 else 3
    digest = hashlib.sha256() if "--digest" in sys.argv else None
    runs = [run_once(build(n), digest if i == 0 else None) for i in range(repeats)]
    walls, cpus = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
    best, median = cpus[0], statistics.median(cpus)
    _, _, drafts, lines = runs[0]
    for i, (wall, cpu, _, _) in enumerate(runs, 1):
        print(f"run {i}: {cpu:.3f} s CPU ({wall:.3f} s wall)")
    print(f"month-end over {n} agreements: {drafts} drafts, {lines} lines; CPU best {best:.3f} s "
          f"({drafts / best:,.0f} drafts/s), median {median:.3f} s; wall best {walls[0]:.3f} s; "
          "goal: 10,000 agreements in under 2 s")
    figures = {"agreements": n, "drafts": drafts, "lines": lines, "repeats": repeats,
               "best_cpu_seconds": round(best, 3), "median_cpu_seconds": round(median, 3),
               "best_wall_seconds": round(walls[0], 3), "median_wall_seconds": round(statistics.median(walls), 3),
               "drafts_per_second_best": round(drafts / best, 1),
               "drafts_per_second_median": round(drafts / median, 1), "goal_seconds": 2.0,
               "goal_met_median": median < 2.0 if n == 10_000 else None}
    if digest is not None:
        figures["drafts_sha256"] = digest.hexdigest()
        print(f"drafts sha256: {figures['drafts_sha256']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
