"""From event to invoice sent, through the real pipeline: latency at a trickle, a month-end's throughput
against QuickBooks' ceiling, the CPU an invoice costs, and the API calls it takes.

Everything is real except QuickBooks: a redis-server, a fresh PostgreSQL schema
(AUTOBILL_TEST_POSTGRES_URL or the suite's default), ``autobill worker`` processes (RQ, forking),
gunicorn serving the web app, and the emulator in a process of its own answering every call after a
set latency, with QuickBooks' limits on (500 requests/min, 10/s, 10 in flight per company).

1. latency: signed generic deliveries (a deal won) POSTed to the web app at a steady trickle; from
   the 2xx to the email in the emulator's outbox (its ``sentAt``), p50 and p95, with the stages read
   from stored timestamps: event stored (the delivery job), drafted (``draft.made``), created
   (``invoice.created``), sent (outbox). Goal: p50 < 2 s, p95 < 5 s.
2. month-end: one company, many agreements with a monthly fee whose period closes at the month's
   boundary; the scheduler's tick (a ``run_tick_job`` on the ``tick`` queue each minute, as RQ cron
   enqueues it) raises the period closes, event jobs draft, posting jobs create and send.
   Created-and-sent invoices per minute as a share of QuickBooks' ceiling for one company (250/min);
   per-10-s timeline, 429s, peak in flight. Goal: >= 0.9, no 429, never more than 10 in flight.
3. many: the same month-end across many companies (5,000 invoices across 50 by default, at a lower
   latency to keep it short): wall time, CPU ms per invoice inside the jobs (goal <= 10), and RQ's
   own CPU per job beside it (bench/posting_stack.py says how each is measured).
4. API calls per invoice, from the emulator's counters by route, in each part (goal: exactly 2).

    .venv/bin/python bench/posting.py [--part all|latency|month-end|many] [--quick] [--latency-ms 300]
        [--events 30 --interval 2] [--agreements 600 --month-end-workers 6]
        [--companies 50 --per-company 100 --many-workers 12 --many-latency-ms 50] [--set NAME=VALUE]
        [--profile DIR] [--forking-jobs]

``--quick`` is a smoke run (about a minute on a quiet two-core machine). ``--profile`` and
``--forking-jobs`` help find where the time goes (docs/postings.md, "Speed"). Prints figures and
ends with one JSON line; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gateway_throughput import _start_emulator, _start_redis  # noqa: E402
from bench.posting_latency import part_latency, print_latency  # noqa: E402
from bench.posting_stack import (  # noqa: E402
    FORKING_ENV,
    PROFILE_ENV,
    Stack,
    counter_delta,
    cpu_figures,
    instant,
    month_boundary,
    profile_summary,
    rounded,
)

CEILING = 250.0  # created-and-sent invoices a minute per company: 500 requests / 2
QUICK = {"events": 4, "interval": 1.0, "agreements": 16, "month_end_workers": 3, "companies": 3, "per_company": 5,
         "many_workers": 3, "many_latency_ms": 20, "web_workers": 1}


# --- 2 and 3. month-ends --------------------------------------------------------------------------

def month_end(args, stack: Stack, *, companies: int, per_company: int, workers: int, latency_ms: float) -> dict:
    """Tick the month boundary for ``companies`` x ``per_company`` monthly fees; figures once all are final."""
    from rq.job import Job

    from addon.clock import utcnow
    from addon.postings.store import FINAL
    from addon.scheduler import run_tick_job

    stack.set_latency(latency_ms)
    boundary = month_boundary(utcnow())
    made = []
    setup = time.monotonic()
    for n in range(companies):
        company = stack.add_company(f"Bench month-end {n}")
        stack.add_monthly_fees(company, per_company, boundary)
        made.append(company)
    print(f"  set up {companies} company(ies) x {per_company} agreements in {time.monotonic() - setup:.1f} s; "
          f"starting {workers} workers", flush=True)
    up = time.monotonic()
    stack.workers_to(workers)
    print(f"  workers up in {time.monotonic() - up:.1f} s; ticking (due: the boundary {boundary.isoformat()})",
          flush=True)
    time.sleep(1)
    before = {c["id"]: stack.counters(c) for c in made}
    cpu_before = stack.worker_cpu()
    stack.reset_meter()
    failed_before = stack.failed_jobs()
    expected = companies * per_company
    finals = {s.value for s in FINAL}
    settings = stack.container.settings

    ticks = stack.container.queue("tick")

    def enqueue_tick():
        # As RQ cron does (addon.scheduler): a tick of the current minute on the tick queue, RQ's timeout,
        # one a minute. The month's boundary is due in it (the cursors stand a minute before it).
        return ticks.enqueue(run_tick_job, job_timeout=int(settings.job_timeout), result_ttl=600)

    t0 = time.time()
    tick_jobs = [enqueue_tick()]
    next_tick = time.monotonic() + 60
    # Twice the time QuickBooks' budget needs for one company's share, plus 0.3 s of one core per invoice.
    timeout = args.timeout or (120 + 2 * per_company / CEILING * 60 + expected * 0.3)
    deadline = time.monotonic() + timeout
    next_print = time.monotonic() + 10
    while True:
        states = stack.states(made)
        done = sum(v for k, v in states.items() if k in finals)
        if done >= expected or time.monotonic() > deadline:
            break
        if time.monotonic() >= next_print:
            print(f"  {time.time() - t0:6.0f} s: {states}", flush=True)
            next_print += 10
        if time.monotonic() >= next_tick:  # the scheduler's next minute: picks up what a killed tick left
            tick_jobs.append(enqueue_tick())
            next_tick += 60
        time.sleep(0.5)
    finished = time.time()
    cpu_total = stack.worker_cpu() - cpu_before
    tick = Job.fetch(tick_jobs[0].id, connection=stack.container.redis)
    tick_s = (tick.ended_at - tick.started_at).total_seconds() if tick.ended_at and tick.started_at else None
    tick_status = tick.get_status(refresh=False)
    posting_s = _posting_job_seconds(stack, t0)
    concurrency = stack.container.settings.posting_concurrency

    sent_times, spent = [], {"requests": 0, "throttled": 0, "by_route": {}}
    peak, per_company_sent = 0, []
    for company in made:
        mails = [m for m in stack.outbox(company) if m["status"] == "delivered"]
        sent_times += [instant(m["sentAt"]) for m in mails]
        per_company_sent.append(len(mails))
        counters = stack.counters(company)
        d = counter_delta(counters, before[company["id"]])
        spent["requests"] += d["requests"]
        spent["throttled"] += d["throttled"]
        for route, n in d["by_route"].items():
            spent["by_route"][route] = spent["by_route"].get(route, 0) + n
        peak = max(peak, counters["concurrent_peak"])
    sent_times.sort()
    invoices = len(sent_times)
    cpu = cpu_figures(stack, cpu_total, invoices)
    timeline = [0] * (int((sent_times[-1] - t0) // 10) + 1 if invoices else 0)
    for t in sent_times:
        timeline[int((t - t0) // 10)] += 1
    # Sustained: the middle 90% of the invoices, past the ramp-up (tick, first drafts) and the tail.
    lo, hi = int(0.05 * invoices), max(0, math.ceil(0.95 * invoices) - 1)
    sustained = (hi - lo) / (sent_times[hi] - sent_times[lo]) * 60 if hi > lo and sent_times[hi] > sent_times[lo] else None
    overall = invoices / (sent_times[-1] - t0) * 60 if invoices else None
    return {
        "companies": companies, "invoices_expected": expected, "invoices_sent": invoices, "workers": workers,
        "latency_ms": latency_ms, "boundary": boundary.isoformat(), "timed_out": finished - t0 >= timeout,
        "wall_s": rounded(sent_times[-1] - t0 if invoices else None, 1), "tick_job_s": rounded(tick_s, 2),
        "tick_job_status": str(getattr(tick_status, "value", tick_status)), "tick_jobs": len(tick_jobs),
        "first_sent_s": rounded(sent_times[0] - t0 if invoices else None, 1),
        "per_min_sustained": rounded(sustained, 1), "per_min_overall": rounded(overall, 1),
        "per_min_per_company_sustained": rounded(sustained / companies if sustained else None, 1),
        "ratio_of_ceiling": rounded(sustained / companies / CEILING if sustained else None),
        "ratio_of_ceiling_overall": rounded(overall / companies / CEILING if overall else None),
        "sent_per_10s": timeline, "min_company_sent": min(per_company_sent, default=0),
        "http_429": spent["throttled"], "peak_in_flight": peak,
        "calls_per_invoice": round(spent["requests"] / invoices, 3) if invoices else None,
        "posting_job_s_mean": rounded(sum(posting_s) / len(posting_s) if posting_s else None),
        "posting_concurrency": concurrency,
        # What AUTOBILL_POSTING_CONCURRENCY jobs of one company at a time can send at that job length.
        "concurrency_bound_per_min_per_company": rounded(concurrency / (sum(posting_s) / len(posting_s)) * 60
                                                    if posting_s else None, 1),
        "by_route": spent["by_route"], "states": stack.states(made), "failed_jobs": stack.failed_jobs() - failed_before,
        "cpu": cpu,
    }


def _posting_job_seconds(stack: Stack, since: float) -> list[float]:
    """How long each posting job that finished after ``since`` ran (RQ's started and ended times)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    from addon.postings.jobs import QUEUE

    ids = FinishedJobRegistry(queue=stack.container.queue(QUEUE)).get_job_ids()
    spans = []
    for start in range(0, len(ids), 500):
        for job in Job.fetch_many(ids[start:start + 500], connection=stack.container.redis):
            if job is not None and job.started_at and job.ended_at and job.started_at.timestamp() >= since:
                spans.append((job.ended_at - job.started_at).total_seconds())
    return spans


# --- Output ---------------------------------------------------------------------------------------

def _print_month_end(name: str, r: dict) -> None:
    print(f"{name}: {r['invoices_sent']}/{r['invoices_expected']} invoices across {r['companies']} company(ies), "
          f"{r['workers']} workers, QuickBooks answering after {r['latency_ms']} ms"
          + (" (TIMED OUT)" if r["timed_out"] else ""))
    print(f"  wall {r['wall_s']} s from the tick's enqueue to the last email (boundary tick job {r['tick_job_s']} s, "
          f"{r['tick_job_status']}; {r['tick_jobs']} tick(s) in all; first email after {r['first_sent_s']} s)")
    print(f"  {r['per_min_sustained']}/min sustained (middle 90% of invoices), {r['per_min_overall']}/min overall; "
          f"per company {r['per_min_per_company_sustained']}/min = {r['ratio_of_ceiling']} of QuickBooks' ceiling "
          f"({CEILING:.0f}/min; overall {r['ratio_of_ceiling_overall']})")
    print(f"  invoices sent per 10 s: {r['sent_per_10s']}")
    print(f"  a posting job (create + send) ran {r['posting_job_s_mean']} s on average: {r['posting_concurrency']} "
          f"at a time per company (AUTOBILL_POSTING_CONCURRENCY) send at most "
          f"{r['concurrency_bound_per_min_per_company']}/min per company")
    print(f"  429s {r['http_429']}, peak in flight {r['peak_in_flight']} (limit 10); API calls per invoice "
          f"{r['calls_per_invoice']} {r['by_route']}; postings {r['states']}; failed jobs {r['failed_jobs']}")
    c = r["cpu"]
    print(f"  CPU inside jobs {c['job_cpu_ms_per_invoice']} ms per invoice {c['job_cpu_ms_per_invoice_by_job']} "
          f"(goal <= 10); per job {c['job_cpu_ms_per_job']}")
    print(f"  RQ's own CPU (workers + horses - inside jobs): {c['rq_overhead_ms_per_job']} ms per job, "
          f"{c['rq_overhead_ms_per_invoice']} ms per invoice; jobs {c['jobs']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="all", help="all, or a comma list of latency, month-end, many")
    parser.add_argument("--quick", action="store_true", help="a smoke run with small sizes (under a minute)")
    parser.add_argument("--latency-ms", type=float, default=300, help="emulator latency per call, parts 1 and 2")
    parser.add_argument("--events", type=int, default=30, help="part 1: deals sent")
    parser.add_argument("--interval", type=float, default=2.0, help="part 1: seconds between two deals")
    parser.add_argument("--workers", type=int, default=2, help="part 1: RQ workers (autobill run's default)")
    parser.add_argument("--web-workers", type=int, default=2, help="part 1: gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=4, help="part 1: threads per gunicorn worker")
    parser.add_argument("--agreements", type=int, default=600, help="part 2: monthly fees of the one company")
    parser.add_argument("--month-end-workers", type=int, default=6, help="part 2: RQ workers")
    parser.add_argument("--companies", type=int, default=50, help="part 3: companies")
    parser.add_argument("--per-company", type=int, default=100, help="part 3: monthly fees per company")
    parser.add_argument("--many-workers", type=int, default=12, help="part 3: RQ workers")
    parser.add_argument("--many-latency-ms", type=float, default=50, help="part 3: emulator latency per call")
    parser.add_argument("--timeout", type=float, default=None, help="seconds a month-end may take (default: sized)")
    parser.add_argument("--profile", metavar="DIR", default=None,
                        help="also profile every job (cProfile, CPU time) into DIR and print where it went "
                             "(profiling inflates the CPU figures: use it to see shares, not speeds)")
    parser.add_argument("--forking-jobs", action="store_true",
                        help="experiment: workers fork a work horse for every job (RQ's default Worker; not how "
                             "autobill runs) to show what running jobs in the worker saves")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra autobill setting for every process (e.g. AUTOBILL_POSTING_CONCURRENCY=6)")
    args = parser.parse_args()
    if args.quick:
        defaults = {a.dest: a.default for a in parser._actions}
        for name, value in QUICK.items():
            if getattr(args, name) == defaults[name]:
                setattr(args, name, value)
    parts = {"latency", "month-end", "many"} if args.part == "all" else {p.strip() for p in args.part.split(",")}
    if parts - {"latency", "month-end", "many"}:
        parser.error(f"unknown part(s): {', '.join(sorted(parts - {'latency', 'month-end', 'many'}))}")

    from tests.settings import postgres_url

    extra = dict(item.split("=", 1) for item in args.set)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        extra[PROFILE_ENV] = str(Path(args.profile).resolve())
    if args.forking_jobs:
        extra[FORKING_ENV] = "1"
    postgres = postgres_url()
    folder = Path(tempfile.mkdtemp(prefix="autobill-bench-posting-"))
    redis_proc, redis_url = _start_redis(folder)
    emulator, port = _start_emulator()
    results: dict = {"bench": "posting", "quick": args.quick, "cpus": os.cpu_count(), "ceiling_per_company": CEILING,
                     "settings": extra, "forking_jobs": args.forking_jobs, "profiled": bool(args.profile)}
    print(f"posting bench{' (quick)' if args.quick else ''}: {os.cpu_count()} CPUs; parts {', '.join(sorted(parts))}")
    stack = None
    try:
        began = time.monotonic()
        stack = Stack(postgres=postgres, redis_url=redis_url, emulator_port=port, folder=folder, extra=extra)
        print(f"fresh schema migrated in {time.monotonic() - began:.1f} s", flush=True)
        if "latency" in parts:
            results["latency"] = r = part_latency(args, stack)
            print_latency(r)
        if "month-end" in parts:
            print("month-end (one company): setting up", flush=True)
            results["month_end"] = r = month_end(args, stack, companies=1, per_company=args.agreements,
                                                 workers=args.month_end_workers, latency_ms=args.latency_ms)
            _print_month_end("month-end (one company)", r)
        if "many" in parts:
            print("month-end (many companies): setting up", flush=True)
            results["many"] = r = month_end(args, stack, companies=args.companies, per_company=args.per_company,
                                            workers=args.many_workers, latency_ms=args.many_latency_ms)
            _print_month_end("month-end (many companies)", r)
            print(f"  (QuickBooks answered after {args.many_latency_ms} ms here, less than in parts 1-2, to keep the "
                  f"run short; the emulator's, gunicorn's, PostgreSQL's and Redis' CPU is not counted)")
    finally:
        if stack is not None:
            stack.close()
        emulator.terminate()
        redis_proc.terminate()
        emulator.wait(10)
        redis_proc.wait(10)
        if os.environ.get("AUTOBILL_BENCH_KEEP"):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    results["calls_per_invoice"] = {k: results[k]["calls_per_invoice"] for k in ("latency", "month_end", "many")
                                    if k in results}
    print(f"API calls per invoice (goal 2): {results['calls_per_invoice']}")
    if args.forking_jobs:
        print("NOTE: --forking-jobs: a work horse was forked for every job; autobill runs jobs in its workers")
    if args.profile:
        results["profile"] = profile_summary(args.profile)
        print("where the jobs' CPU went (shares of profiled time; profiling inflates absolute figures):")
        for job, p in results["profile"].items():
            print(f"  {job}: {p['jobs']} jobs, {p['profiled_cpu_ms_per_job']} ms each profiled, "
                  f"{p['sql_statements_per_job']} SQL statements each; own time by package "
                  f"{p['own_time_by_package']}; inside {p['hot_spots']}")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
