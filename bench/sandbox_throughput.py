"""Requests per second the QuickBooks emulator sustains across many companies.

Starts ``autobill sandbox`` in a process of its own, creates REALMS companies with tokens, relaxes
their limits, then drives a mix of reads, queries and invoice creates from client processes over
keep-alive connections for DURATION seconds. A second, paced phase runs every company at QuickBooks'
own per-company rate (8 requests/s, under the 10/s and 500/min limits) with the limits switched back
on and counts 429s, which should be none. Prints figures and ends with one JSON line. Never asserts.

    .venv/bin/python bench/sandbox_throughput.py [--realms 120] [--duration 5] [--clients 2] [--threads 16]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVOICE = json.dumps({"CustomerRef": {"value": "1"}, "Line": [
    {"DetailType": "SalesItemLineDetail", "Amount": "290.00",
     "SalesItemLineDetail": {"ItemRef": {"value": "2"}, "Qty": 2, "UnitPrice": "145.00"}},
    {"DetailType": "SalesItemLineDetail", "Amount": "899.00",
     "SalesItemLineDetail": {"ItemRef": {"value": "3"}, "TaxCodeRef": {"value": "TAX"}}}]}).encode()
QUERY = "/query?query=" + "select%20*%20from%20Item%20where%20Name%20%3D%20%27Hardware%27"


def start_server() -> tuple[subprocess.Popen, str]:
    """The emulator in its own process (as ``autobill run`` starts it)."""
    proc = subprocess.Popen([sys.executable, "-m", "addon", "sandbox", "--port", "0", "--seed", "empty"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the emulator did not start:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return proc, re.search(r"listening on http://([\d.]+:\d+)", "".join(lines)).group(1)


def control(host: str, method: str, path: str, body=None):
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request(method, "/_sandbox" + path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    answer = conn.getresponse().read()
    conn.close()
    return json.loads(answer) if answer else None


def _worker(host: str, realms: list[tuple[str, str]], stop_at: float, per_realm: float | None, out) -> None:
    """One client thread: keep-alive requests round the given realms until ``stop_at``."""
    rate = per_realm * len(realms) if per_realm else None
    conn = http.client.HTTPConnection(host, timeout=30)
    count, errors, throttled, latencies = 0, 0, 0, []
    i = 0
    next_at = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        if rate:
            if now < next_at:
                time.sleep(min(next_at - now, stop_at - now))
                continue
            # never catch up in a burst: a realm must not see more than its rate in any second
            next_at = max(next_at, now - 0.2 / rate) + 1.0 / rate
        realm_id, token = realms[i % len(realms)]
        kind = i % 4
        i += 1
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        base = f"/v3/company/{realm_id}"
        started = time.perf_counter()
        try:
            if kind == 0:
                conn.request("POST", base + "/invoice?minorversion=75", body=INVOICE,
                             headers={**headers, "Content-Type": "application/json"})
            elif kind == 1:
                conn.request("GET", base + QUERY, headers=headers)
            else:
                conn.request("GET", base + "/customer/1?minorversion=75", headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, timeout=30)
            status = 0
        latencies.append(time.perf_counter() - started)
        count += 1
        if status == 429:
            throttled += 1
        elif status != 200:
            errors += 1
    out.put((count, errors, throttled, latencies))


def _client(host: str, realms, threads: int, stop_at: float, rate: float | None, out) -> None:
    per = [realms[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=_worker, args=(host, chunk, stop_at, rate, out)) for chunk in per if chunk]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def run_phase(host, realms, clients, threads, duration, rate=None) -> dict:
    """Drive the load from ``clients`` processes and collect counts and latencies."""
    out = multiprocessing.Queue()
    stop_at = time.monotonic() + duration
    chunks = [realms[i::clients] for i in range(clients)]
    procs = [multiprocessing.Process(target=_client, args=(host, chunk, threads, stop_at, rate, out)) for chunk in chunks]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    results = [out.get() for _ in range(sum(min(threads, len(c)) for c in chunks if c))]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    count = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[3])
    pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None  # noqa: E731
    return {"requests": count, "rps": round(count / elapsed, 1), "errors": sum(r[1] for r in results),
            "throttled": sum(r[2] for r in results), "p50_ms": pick(0.50), "p99_ms": pick(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realms", type=int, default=120)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=16, help="connections per client process")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    proc, host = start_server()
    try:
        realms = []
        for n in range(args.realms):
            realm_id = control(host, "POST", "/realms", {"name": f"Bench {n}", "seed": "demo"})["realmId"]
            realms.append((realm_id, control(host, "POST", f"/realms/{realm_id}/tokens", {})["access_token"]))
        control(host, "POST", "/limits", {"per_minute": None, "per_second": None, "concurrent": None,
                                          "batch_per_minute": None})
        relaxed = run_phase(host, realms, args.clients, args.threads, args.duration)
        print(f"limits relaxed: {relaxed['rps']} requests/s across {args.realms} realms "
              f"({relaxed['requests']} requests, {relaxed['errors']} errors, p50 {relaxed['p50_ms']} ms, "
              f"p99 {relaxed['p99_ms']} ms)")
        control(host, "POST", "/limits", {"per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40})
        per_realm = 8.0
        paced = run_phase(host, realms, args.clients, args.threads, args.duration, rate=per_realm)
        print(f"QBO limits on, every realm at {per_realm:g} requests/s: {paced['rps']} of "
              f"{per_realm * args.realms:g} requests/s, {paced['throttled']} throttled, {paced['errors']} errors, "
              f"p99 {paced['p99_ms']} ms")
        if args.realms <= 100:
            print("(issue 2's paced target is over 100 realms at QuickBooks' rate: run with --realms 120)")
        print(json.dumps({"benchmark": "sandbox_throughput", "realms": args.realms, "duration_s": args.duration,
                          "relaxed_rps": relaxed["rps"], "relaxed_p50_ms": relaxed["p50_ms"],
                          "relaxed_p99_ms": relaxed["p99_ms"], "relaxed_errors": relaxed["errors"],
                          "paced_target_rps": per_realm * args.realms, "paced_rps": paced["rps"],
                          "paced_throttled": paced["throttled"], "paced_errors": paced["errors"]}))
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
