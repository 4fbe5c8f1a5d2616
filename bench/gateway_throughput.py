"""Invoices created and sent per minute through the LedgerGateway, against one company and against 50.

QuickBooks allows a company 500 requests a minute; creating and sending an invoice takes two, so
the ceiling is 250 created-and-sent invoices a minute. The goal is at least 0.9 of it, sustained,
with zero 429s and never more than 10 requests in flight. Everything is real except QuickBooks:
the emulator runs in a process of its own and answers every call after a realistic latency
(300 ms by default); ``autobill worker`` processes (RQ) run company jobs that each create one
invoice (with a requestid) and send it, through the per-company budget in Redis. A feeder keeps
each company's queue topped up. The second run does the same for 50 companies at once, where this
machine (two cores), not QuickBooks, sets the limit.

    .venv/bin/python bench/gateway_throughput.py [--seconds 60] [--companies 50] [--multi-seconds 30]
                                                 [--workers 12] [--multi-workers 24] [--latency-ms 300]

Use --seconds 300 for the "several minutes" figure. Prints figures and ends with one JSON line;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CEILING = 250.0  # created-and-sent invoices a minute per company: 500 requests / 2
JOB = "bench.gateway_throughput.create_and_send"


def create_and_send(company_id: str, customer_id: str, item_id: str, n: int) -> str:
    """The benchmark's company job: one invoice created (with a requestid) and sent."""
    from addon import bootstrap
    from addon.ledger import InvoiceLineSpec, InvoiceSpec

    ledger = bootstrap.current().ledger(company_id)
    line = InvoiceLineSpec(amount=Decimal("145.00"), description="1 hour at 145.00", item_id=item_id,
                           quantity=Decimal("1"), unit_price=Decimal("145.00"))
    invoice = ledger.create_invoice(InvoiceSpec(customer_id, (line,), bill_email="billing@northwind.example"),
                                    request_id=f"bench-{company_id}-{n}")
    return ledger.send_invoice(invoice.id).id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--logfile", str(folder / "redis.log"), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from redis import Redis

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            if Redis.from_url(url).ping():
                return proc, url
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _start_emulator() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "addon", "sandbox", "--port", "0", "--seed", "empty"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("Press Ctrl-C"):
            port = re.search(r"listening on http://[\d.]+:(\d+)", "".join(seen)).group(1)
            return proc, port


def _prepare(env: dict, companies: int):
    """A container, and that many connected companies with a customer and an item each."""
    from addon import bootstrap, migrate
    from addon.clock import utcnow
    from addon.companies import create_company
    from addon.config import load_settings
    from addon.oauth import TokenGrant
    from addon.tokens import TokenStore

    container = bootstrap.build(load_settings(env))
    migrate.upgrade(container.database)
    bootstrap.set_current(container)
    import requests

    control = f"{container.settings.sandbox_url}/_sandbox"
    made = []
    store = TokenStore(container.database, container.vault)
    for n in range(companies):
        realm = requests.post(f"{control}/realms", json={"name": f"Bench IT {n}", "seed": "demo"}, timeout=30).json()["realmId"]
        body = requests.post(f"{control}/realms/{realm}/tokens", json={"client_id": "autobill-demo-client"},
                             timeout=30).json()
        customers = requests.get(f"{control}/realms/{realm}/objects/Customer", timeout=30).json()
        items = requests.get(f"{control}/realms/{realm}/objects/Item", timeout=30).json()
        customer = next(c for c in _objects(customers) if c["DisplayName"] == "Northwind IT")["Id"]
        item = next(i for i in _objects(items) if i["Name"] == "Consulting hours")["Id"]
        with container.unit_of_work() as session:
            company = create_company(session, environment="emulator", realm_id=realm, name=f"Bench IT {n}", now=utcnow())
        grant = TokenGrant(body["access_token"], body["refresh_token"], int(body["expires_in"]),
                           int(body["x_refresh_token_expires_in"]))
        store.save(company.id, grant, expected_version=0, now=utcnow())
        made.append((company.id, realm, customer, item))
    return container, made


def _objects(answer) -> list:
    if isinstance(answer, dict):
        return next((v for v in answer.values() if isinstance(v, list)), [])
    return answer


def _counters(container, realm: str) -> dict:
    import requests

    return requests.get(f"{container.settings.sandbox_url}/_sandbox/realms/{realm}/counters", timeout=30).json()


def _run(env: dict, companies: int, seconds: float, workers: int, warmup: float = 5.0) -> dict:
    from addon import companyjobs

    container, made = _prepare(env, companies)
    log = open(Path(env["AUTOBILL_STATE_DIR"]) / "workers.log", "ab")  # noqa: SIM115 - closed with the workers
    procs = [subprocess.Popen([sys.executable, "-m", "addon", "worker", "--queues", "postings"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT) for _ in range(workers)]
    enqueued = {company_id: 0 for company_id, *_ in made}
    sent_at_start: dict[str, int] = {}
    requests_at_start: dict[str, int] = {}
    timeline: list[int] = []  # invoices sent in all, every 10 s
    sending = {company_id: False for company_id, *_ in made}
    next_mark = None
    # Jobs waiting per company: plenty for one company's 10 in flight; a few each for many companies,
    # so the shared FIFO queue interleaves them instead of serving the first ones only.
    ahead = 30 if companies == 1 else max(3, 150 // companies)
    try:
        # The clock starts once every company has sent an invoice (workers are up), plus a warm-up.
        measure_from = ends = float("inf")
        give_up = time.monotonic() + 300
        while time.monotonic() < ends and time.monotonic() < give_up:
            total = 0
            for company_id, realm, customer, item in made:
                counters = _counters(container, realm)
                sent = counters["by_route"].get("POST invoice/send", 0)
                sending[company_id] = sent > 0
                total += sent
                if company_id not in sent_at_start and time.monotonic() >= measure_from:
                    sent_at_start[company_id] = sent
                    requests_at_start[company_id] = counters["requests"]
                for _ in range(max(0, ahead - (enqueued[company_id] - sent))):
                    companyjobs.enqueue(container, company_id, JOB, customer, item, enqueued[company_id])
                    enqueued[company_id] += 1
            if measure_from == float("inf") and all(sending.values()):
                measure_from = time.monotonic() + warmup
                ends = measure_from + seconds
            if time.monotonic() >= measure_from and (next_mark is None or time.monotonic() >= next_mark):
                timeline.append(total)
                next_mark = time.monotonic() + 10
            time.sleep(0.5)
        if measure_from == float("inf"):
            raise SystemExit("the workers sent nothing within 5 minutes")
        elapsed = time.monotonic() - measure_from
        rows = []
        for company_id, realm, *_ in made:
            c = _counters(container, realm)
            rows.append({"sent": c["by_route"].get("POST invoice/send", 0) - sent_at_start.get(company_id, 0),
                         "throttled": c["throttled"], "peak": c["concurrent_peak"],
                         "requests": c["requests"] - requests_at_start.get(company_id, 0)})
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = len(container.queue("postings").failed_job_registry)
    container.database.dispose()
    per_minute = [r["sent"] / elapsed * 60 for r in rows]
    return {
        "companies": companies, "workers": workers, "seconds": round(elapsed, 1),
        "invoices_per_min_total": round(sum(per_minute), 1),
        "invoices_per_min_per_company": round(sum(per_minute) / len(per_minute), 1),
        "min_company_invoices_per_min": round(min(per_minute), 1),
        "ratio_of_ceiling": round(sum(per_minute) / len(per_minute) / CEILING, 3),
        "requests_per_min_per_company": round(sum(r["requests"] for r in rows) / elapsed * 60 / len(rows), 1),
        "sent_per_10s": [b - a for a, b in zip(timeline, timeline[1:], strict=False)],
        "http_429": sum(r["throttled"] for r in rows), "max_in_flight": max(r["peak"] for r in rows),
        "failed_jobs": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--multi-seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--multi-workers", type=int, default=24)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra setting for autobill (e.g. QBO_REQUESTS_PER_MINUTE=490)")
    parser.add_argument("--no-emulator-limits", action="store_true",
                        help="switch the emulator's throttle off (to measure what the machine can do)")
    args = parser.parse_args()

    from addon.vault import generate_key

    folder = Path(tempfile.mkdtemp(prefix="autobill-bench-"))
    redis_proc, redis_url = _start_redis(folder)
    emulator, port = _start_emulator()
    results = {}
    try:
        import requests

        requests.post(f"http://127.0.0.1:{port}/_sandbox/latency", json={"ms": args.latency_ms}, timeout=10)
        if args.no_emulator_limits:
            requests.post(f"http://127.0.0.1:{port}/_sandbox/limits",
                          json={"per_minute": None, "per_second": None, "concurrent": None}, timeout=10)
        for name, companies, seconds, workers in (("one_company", 1, args.seconds, args.workers),
                                                  ("many_companies", args.companies, args.multi_seconds,
                                                   args.multi_workers)):
            if companies < 1 or seconds <= 0:
                continue
            state = folder / name
            env = {**os.environ, "AUTOBILL_STATE_DIR": str(state), "REDIS_URL": redis_url,
                   "AUTOBILL_SANDBOX_PORT": port, "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "bench",
                   "OAUTHLIB_INSECURE_TRANSPORT": "1", "PYTHONPATH": str(ROOT)}
            env.update(dict(item.split("=", 1) for item in args.set))
            env.pop("DATABASE_URL", None)
            env.pop("QBO_CLIENT_ID", None)
            from redis import Redis

            Redis.from_url(redis_url).flushall()
            result = _run(env, companies, seconds, workers)
            results[name] = result
            print(f"{name}: {result['companies']} company(ies), {result['workers']} workers, "
                  f"{result['seconds']} s measured at {args.latency_ms} ms per call")
            print(f"  {result['invoices_per_min_per_company']} created-and-sent invoices/min per company "
                  f"= {result['ratio_of_ceiling']:.2f} of QuickBooks' ceiling ({CEILING:.0f}/min); "
                  f"{result['invoices_per_min_total']}/min in all")
            print(f"  {result['requests_per_min_per_company']} requests/min per company; invoices sent per 10 s: "
                  f"{result['sent_per_10s']}")
            print(f"  429s: {result['http_429']}, most requests in flight for one company: "
                  f"{result['max_in_flight']}, failed jobs: {result['failed_jobs']}")
    finally:
        emulator.terminate()
        redis_proc.terminate()
        emulator.wait(10)
        redis_proc.wait(10)
        if not os.environ.get("AUTOBILL_BENCH_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    print(json.dumps({"latency_ms": args.latency_ms, "ceiling_per_company": CEILING, **results}))


if __name__ == "__main__":
    main()
