"""Webhooks per second the front door acknowledges, and how fast, through gunicorn on PostgreSQL.

Starts its own redis-server, a fresh PostgreSQL schema (AUTOBILL_TEST_POSTGRES_URL or the suite's
default), a company with a generic endpoint, and gunicorn serving ``webapp.wsgi:app``. Beside it, in
the same run and with the same gunicorn settings, a bare Flask app that answers ``204`` and does
nothing: the machine's ceiling. Client processes send distinct, validly signed deliveries over
keep-alive connections:

1. the bare endpoint, as fast as it goes (closed loop);
2. the front door, as fast as it goes (signature check, durable insert, enqueue);
3. the front door paced at RATE deliveries per second for SECONDS, a minute by default as the goal
   says (open loop; latency counted from the moment each request was due, so a stalled server cannot
   hide its queue).

Then it counts the stored deliveries against the 2xx answers. Prints figures, among them two ratios
to the bare endpoint's rate: the flat-out one (phase 2 / phase 1) and the sustained one (phase 3 /
phase 1, which cannot exceed RATE / bare rate, since phase 3 is offered only RATE). Ends with one JSON
line. Never asserts: the goals (1,000/s for a minute, p99 under 50 ms, no ack over 1 s, at least 0.3
of the bare rate, no non-2xx, stored == acknowledged) are read off the output.

    .venv/bin/python bench/ingest.py [--seconds 60] [--rate 1000] [--burst-seconds 5] [--workers 3]
                                     [--threads 4] [--clients 2] [--connections 16] [--quick]

``--quick`` is a smoke run (5 s paced, 2 s flat out): it shows the bench works, not that the goals hold.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BARE_APP = '''
from flask import Flask
app = Flask(__name__)

@app.post("/hooks/<source>/<token>")
def hook(source, token):
    return "", 204
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def gunicorn(app: str, port: int, env: dict, args, chdir: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "30",
               "--backlog", "2048", "--log-level", "warning", "--chdir", chdir]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(port, proc, "gunicorn")
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# --- The client -----------------------------------------------------------------------------------

def _requests(path: str, secret: str, prefix: str, count: int) -> list[bytes]:
    """``count`` raw HTTP requests, each a distinct signed delivery."""
    from connectors.generic import signature_header

    made = []
    for n in range(count):
        body = json.dumps({"id": f"{prefix}-{n}", "events": [{
            "kind": "time_logged", "source_object_id": f"{prefix}-entry-{n}",
            "occurred_at": "2026-01-12T17:00:00Z", "attributes": {"hours": "1.25"}}]}).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nAutobill-Signature: {signature_header(body, secret)}\r\n\r\n")
        made.append(head.encode() + body)
    return made


def _read_answer(sock: socket.socket, buffer: bytearray) -> int:
    """Read one HTTP answer from ``sock``; its status."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    buffer[:] = rest[length:]
    return status


def _connection(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _client(port: int, requests_: list[bytes], connections: int, rate: float | None, seconds: float, out) -> None:
    """One client process: ``connections`` threads send ``requests_`` in turn (paced at ``rate`` if given)."""
    import threading

    start = time.monotonic() + 0.2
    stop_at = start + seconds
    results = []
    lock = threading.Lock()
    counter = iter(range(len(requests_)))

    def run(slot: int) -> None:
        sock, buffer = _connection(port), bytearray()
        latencies, statuses, errors, late = [], {}, 0, 0
        interval = connections / rate if rate else 0.0
        due = start + slot * interval / connections if rate else start
        while True:
            now = time.monotonic()
            if now >= stop_at:
                break
            if rate:
                if now < due:
                    time.sleep(due - now)
                elif now - due > 0.001:
                    late += 1
            else:
                due = now
            with lock:
                n = next(counter, None)
            if n is None:
                break
            try:
                sock.sendall(requests_[n])
                status = _read_answer(sock, buffer)
            except OSError:
                errors += 1
                sock.close()
                sock, buffer = _connection(port), bytearray()
                continue
            latencies.append(time.monotonic() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if rate:
                due += interval
        sock.close()
        with lock:
            results.append((latencies, statuses, errors, late))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for r in results for x in r[0]]
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    out.put((latencies, statuses, sum(r[2] for r in results), sum(r[3] for r in results),
             time.monotonic() - start))


def drive(port: int, requests_: list[bytes], *, clients: int, connections: int, rate: float | None,
          seconds: float) -> dict:
    """Send from ``clients`` processes; accepted per second, latency percentiles, statuses."""
    out = multiprocessing.Queue()
    share = len(requests_) // clients
    procs = [multiprocessing.Process(target=_client, args=(
        port, requests_[i * share:(i + 1) * share], connections, rate / clients if rate else None, seconds, out))
        for i in range(clients)]
    for p in procs:
        p.start()
    parts = [out.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for part in parts for x in part[0])
    statuses: dict[int, int] = {}
    for part in parts:
        for k, v in part[1].items():
            statuses[k] = statuses.get(k, 0) + v
    elapsed = max(part[4] for part in parts)
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0.0

    return {"sent": len(latencies), "ok": ok, "non_2xx": len(latencies) - ok,
            "errors": sum(part[2] for part in parts), "late_sends": sum(part[3] for part in parts),
            "per_second": round(ok / elapsed, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0, "over_1s": sum(x > 1 for x in latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


# --- Setup ----------------------------------------------------------------------------------------

def prepare(postgres: str, redis_url: str, state: str):
    """A migrated schema with one company and a generic endpoint; (database URL, env, path, secret, schema)."""
    import sqlalchemy

    from addon import bootstrap, migrate
    from addon.companies import create_company
    from addon.config import load_settings
    from addon.vault import generate_key
    from tests.conftest import postgres_schema_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = postgres_schema_url(postgres, schema)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "AUTOBILL_ENCRYPTION_KEYS": generate_key(),
           "SECRET_KEY": "bench-secret", "AUTOBILL_STATE_DIR": state, "AUTOBILL_PUBLIC_URL": "http://127.0.0.1",
           "PYTHONPATH": str(ROOT)}
    env.pop("QBO_CLIENT_ID", None)
    container = bootstrap.build(load_settings(env))
    migrate.upgrade(container.database)
    from datetime import UTC, datetime

    with container.unit_of_work() as session:
        company = create_company(session, environment="sandbox", realm_id="9130357766371046", name="Northwind IT",
                                 now=datetime.now(UTC))
    created = container.endpoints.create(company.id, "generic", actor="bench")
    path = created.url.removeprefix("http://127.0.0.1")
    container.database.dispose()
    return url, env, path, created.generated_secret, schema


def count_stored(url: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(sqlalchemy.text("select count(*) from deliveries")).scalar()
    engine.dispose()
    return stored


def drop_schema(postgres: str, schema: str) -> None:
    import sqlalchemy

    admin = sqlalchemy.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of the paced phase (default 60 s, the goal; 5 s with --quick)")
    parser.add_argument("--rate", type=float, default=1000, help="deliveries per second in the paced phase")
    parser.add_argument("--burst-seconds", type=float, default=None,
                        help="length of each as-fast-as-it-goes phase (default 5 s; 2 s with --quick)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per client")
    parser.add_argument("--quick", action="store_true", help="a smoke run: short phases, figures not comparable")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 5.0 if args.quick else 60.0
    if args.burst_seconds is None:
        args.burst_seconds = 2.0 if args.quick else 5.0

    from tests.settings import postgres_url

    postgres = postgres_url()
    work = Path(tempfile.mkdtemp(prefix="autobill-bench-"))
    redis_port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--save", "",
                              "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    servers: list[subprocess.Popen] = [redis]
    schema = None
    try:
        wait_for(redis_port, redis, "redis-server")
        url, env, path, secret, schema = prepare(postgres, f"redis://127.0.0.1:{redis_port}/0", str(work / "state"))
        (work / "bare_app.py").write_text(BARE_APP)
        settings = (f"gunicorn gthread, {args.workers} workers x {args.threads} threads; {args.clients} client "
                    f"processes x {args.connections} keep-alive connections; {os.cpu_count()} CPUs")
        print(f"ingest bench: {settings}")

        bare_port = free_port()
        bare = gunicorn("bare_app:app", bare_port, env, args, str(work))
        servers.append(bare)
        burst = int(args.burst_seconds * 20000)
        bare_requests = _requests("/hooks/generic/bare", secret, "bare", burst)
        drive(bare_port, bare_requests[:2000], clients=args.clients, connections=args.connections, rate=None,
              seconds=1.5)
        ceiling = drive(bare_port, bare_requests, clients=args.clients, connections=args.connections, rate=None,
                        seconds=args.burst_seconds)
        stop(bare)
        print(f"bare Flask endpoint:      {ceiling['per_second']:8.1f}/s  p50 {ceiling['p50_ms']} ms  "
              f"p99 {ceiling['p99_ms']} ms  max {ceiling['max_ms']} ms")

        port = free_port()
        front = gunicorn("webapp.wsgi:app", port, env, args, str(ROOT))
        servers.append(front)
        # Warm up: each gunicorn worker builds its container and opens its pools on its first requests.
        warm = drive(port, _requests(path, secret, "warm", 2000), clients=args.clients,
                     connections=args.connections, rate=None, seconds=1.5)
        fast = drive(port, _requests(path, secret, "burst", burst), clients=args.clients,
                     connections=args.connections, rate=None, seconds=args.burst_seconds)
        print(f"front door, flat out:     {fast['per_second']:8.1f}/s  p50 {fast['p50_ms']} ms  "
              f"p99 {fast['p99_ms']} ms  max {fast['max_ms']} ms  non-2xx {fast['non_2xx']}")
        paced = drive(port, _requests(path, secret, "paced", int(args.rate * args.seconds * 1.05) + 100),
                      clients=args.clients, connections=args.connections, rate=args.rate, seconds=args.seconds)
        print(f"front door at {args.rate:g}/s for {args.seconds:g} s: {paced['per_second']:8.1f}/s  "
              f"p50 {paced['p50_ms']} ms  p99 {paced['p99_ms']} ms  max {paced['max_ms']} ms  "
              f"over 1 s {paced['over_1s']}  non-2xx {paced['non_2xx']}  late sends {paced['late_sends']}")
        stop(front)
        stored = count_stored(url)
        acknowledged = warm["ok"] + fast["ok"] + paced["ok"]
        print(f"stored deliveries {stored}, 2xx answers {acknowledged}"
              f" ({'equal' if stored == acknowledged else 'DIFFERENT'})")
        ratio = round(fast["per_second"] / ceiling["per_second"], 3) if ceiling["per_second"] else 0.0
        sustained = round(paced["per_second"] / ceiling["per_second"], 3) if ceiling["per_second"] else 0.0
        offered = round(args.rate / ceiling["per_second"], 3) if ceiling["per_second"] else 0.0
        print(f"front door / bare endpoint: flat out {ratio}, sustained {sustained} "
              f"(offered {args.rate:g}/s = {offered} of the bare rate)")
        print(json.dumps({
            "bench": "ingest", "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(),
            "bare_per_second": ceiling["per_second"], "max_per_second": fast["per_second"],
            "ratio_to_bare": ratio, "sustained_ratio_to_bare": sustained, "offered_ratio_to_bare": offered,
            "quick": args.quick, "paced_rate": args.rate, "paced_seconds": args.seconds,
            "paced_per_second": paced["per_second"], "p50_ms": paced["p50_ms"], "p99_ms": paced["p99_ms"],
            "max_ms": paced["max_ms"], "over_1s": paced["over_1s"], "non_2xx": fast["non_2xx"] + paced["non_2xx"],
            "errors": fast["errors"] + paced["errors"], "stored": stored, "acknowledged": acknowledged,
            "stored_equals_acknowledged": stored == acknowledged}))
    finally:
        for proc in reversed(servers):
            stop(proc)
        if schema:
            drop_schema(postgres, schema)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
