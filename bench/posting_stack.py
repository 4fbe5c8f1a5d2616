"""What bench/posting.py runs on: Redis, the emulator, a PostgreSQL schema, connected companies with
agreements, ``autobill worker`` processes (with a CPU meter around each job), and the figures read back.

The worker processes are ``autobill worker`` itself (``addon.cli.main(["worker", ...])``), started as
``python -m bench.posting_stack worker ...`` so that, before the command runs, ``rq.job.Job.perform``
is wrapped (in this bench only; addon/ is unchanged): the worker calls ``job.perform()`` for each
job, so ``time.process_time()`` around it is the CPU of the job function (autobill and the libraries
it calls), without RQ's dequeue and bookkeeping; it is the process's CPU, so the worker's heartbeat and
pubsub threads (idle but for a Redis call a second) count in too. Each job adds its figure to a Redis
hash. The workers' own CPU, with their waited-for children and any live child (RQ's scheduler; with
``--forking-jobs`` the work horses) (``/proc/<pid>/stat``: utime + stime + cutime + cstime), is the
total; the difference is RQ's share.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gateway_throughput import _objects  # noqa: E402
from bench.ingest import drop_schema, free_port, gunicorn, stop  # noqa: E402

CPU_KEY = "autobill-bench:job-cpu"  # job function name -> CPU seconds inside job.perform()
COUNT_KEY = "autobill-bench:job-count"  # job function name -> jobs performed
PROFILE_ENV = "AUTOBILL_BENCH_PROFILE_DIR"  # set: each job is also profiled (cProfile) into that folder
FORKING_ENV = "AUTOBILL_BENCH_FORKING"  # set: jobs run in a forked work horse each (RQ's default Worker way)
TICK = os.sysconf("SC_CLK_TCK")

# --- The CPU meter inside the workers -------------------------------------------------------------

def install_job_meter() -> None:
    """Wrap ``rq.job.Job.perform`` so each job adds its CPU seconds to Redis (bench workers only)."""
    from rq.job import Job

    original = Job.perform
    profile_dir = os.environ.get(PROFILE_ENV)

    def perform(self):
        name = (self.func_name or "?").rsplit(".", 1)[-1]
        profiler = None
        if profile_dir:
            import cProfile

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        started = time.process_time()
        try:
            return original(self)
        finally:
            spent = time.process_time() - started
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(os.path.join(profile_dir, f"{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}.prof"))
            try:
                self.connection.pipeline().hincrbyfloat(CPU_KEY, name, spent).hincrby(COUNT_KEY, name, 1).execute()
            except Exception:  # noqa: BLE001, S110 - a lost figure must not fail the job
                pass

    Job.perform = perform


def job_figures(redis) -> dict[str, dict]:
    """``{job function: {"jobs": n, "cpu_s": seconds}}`` the meter collected."""
    cpu = {k.decode(): float(v) for k, v in redis.hgetall(CPU_KEY).items()}
    count = {k.decode(): int(v) for k, v in redis.hgetall(COUNT_KEY).items()}
    return {name: {"jobs": count.get(name, 0), "cpu_s": cpu.get(name, 0.0)} for name in sorted(set(cpu) | set(count))}


def _package(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for own in ("addon", "rules", "connectors", "webapp"):
        if f"{ROOT}/{own}/" in path:
            return own
    return "builtins" if path == "~" else "stdlib"


HOT_SPOTS = {  # (file suffix, function): what the cumulative time there is spent on
    ("sqlalchemy/sql/elements.py", "_compiler"): "compiling SQL",
    ("sqlalchemy/pool/base.py", "__connect"): "opening database connections",
    ("addon/quickbooks/gateway.py", "_call"): "QuickBooks calls (client side)",
    ("addon/audit.py", "append"): "audit appends",
}


def profile_summary(folder: str) -> dict[str, dict]:
    """Per job function: profiled CPU ms per job, the packages its own time went to, and hot spots (shares)."""
    import collections
    import pstats

    files: dict[str, list[str]] = collections.defaultdict(list)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".prof"):
            files[name.split("-", 1)[0]].append(os.path.join(folder, name))
    summary = {}
    for job, paths in files.items():
        stats = pstats.Stats(*paths)
        own: collections.Counter = collections.Counter()
        hot: collections.Counter = collections.Counter()
        statements = 0
        for (path, _line, fn), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
            own[_package(path)] += tottime
            if fn == "_execute_context" and path.endswith("sqlalchemy/engine/base.py"):
                statements += calls
            for (suffix, function), label in HOT_SPOTS.items():
                if fn == function and path.endswith(suffix):
                    hot[label] += cumtime
        total = sum(own.values()) or 1.0
        summary[job] = {"jobs": len(paths), "profiled_cpu_ms_per_job": round(total / len(paths) * 1000, 1),
                        "sql_statements_per_job": round(statements / len(paths), 1),
                        "own_time_by_package": {k: round(v / total, 3) for k, v in own.most_common(8)},
                        "hot_spots": {k: round(v / total, 3) for k, v in hot.most_common()}}
    return summary


def _ticks(pid: int, *, children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # fields[11:15] are utime, stime, cutime, cstime (proc(5)); cutime/cstime hold waited-for children.
    return sum(int(x) for x in fields[11:15 if children else 13])


def process_tree_cpu(pids: list[int]) -> float:
    """CPU seconds of ``pids``, their waited-for children, and their live children (RQ's scheduler, horses)."""
    total = 0
    live_children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent in pids:
                live_children[int(entry.name)] = parent
    for pid in pids:
        try:
            total += _ticks(pid, children=True)
        except OSError:
            continue
    for pid in live_children:
        try:
            total += _ticks(pid, children=True)
        except OSError:
            continue
    return total / TICK


# --- The world the parts share ---------------------------------------------------------------------

def month_boundary(now: datetime) -> datetime:
    """The start of ``now``'s month in UTC: the month-end a bench part ticks."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_month(boundary: datetime) -> datetime:
    """The first instant of the month before ``boundary`` (a month's first instant)."""
    return (boundary - timedelta(days=1)).replace(day=1)


class Stack:
    """A fresh PostgreSQL schema and its container, companies on their own emulator realms, a pool of
    workers (grown or shrunk per part) and, when asked, the web app. Each part makes its own companies."""

    def __init__(self, *, postgres: str, redis_url: str, emulator_port: str, folder: Path, extra: dict[str, str]):
        import sqlalchemy

        from addon import bootstrap, migrate
        from addon.config import load_settings
        from addon.vault import generate_key
        from tests.conftest import postgres_schema_url

        self.postgres, self.folder = postgres, folder
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(postgres)
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        self.web_port = free_port()
        self.env = {**os.environ, "DATABASE_URL": postgres_schema_url(postgres, self.schema), "REDIS_URL": redis_url,
                    "AUTOBILL_STATE_DIR": str(folder / "state"), "AUTOBILL_SANDBOX_PORT": emulator_port,
                    "AUTOBILL_ENCRYPTION_KEYS": generate_key(), "SECRET_KEY": "bench-secret",
                    "AUTOBILL_PUBLIC_URL": f"http://127.0.0.1:{self.web_port}", "OAUTHLIB_INSECURE_TRANSPORT": "1",
                    "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}
        self.env.pop("QBO_CLIENT_ID", None)
        self.container = bootstrap.build(load_settings(self.env))
        migrate.upgrade(self.container.database)
        bootstrap.set_current(self.container)
        self.control = f"{self.container.settings.sandbox_url}/_sandbox"
        self.workers: list[subprocess.Popen] = []
        self.web: subprocess.Popen | None = None
        self._log = (folder / "workers.log").open("ab")

    # companies and what they bill
    def add_company(self, name: str) -> dict:
        """A connected company on a fresh demo-seeded realm, holding tokens the emulator issued."""
        import requests

        from addon.clock import utcnow
        from addon.companies import create_company
        from addon.oauth import TokenGrant
        from addon.tokens import TokenStore

        realm = requests.post(f"{self.control}/realms", json={"name": name, "seed": "demo"}, timeout=30).json()["realmId"]
        body = requests.post(f"{self.control}/realms/{realm}/tokens", json={"client_id": "autobill-demo-client"},
                             timeout=30).json()
        customers = _objects(requests.get(f"{self.control}/realms/{realm}/objects/Customer", timeout=30).json())
        customer = next(c for c in customers if c["DisplayName"] == "Northwind IT")["Id"]
        with self.container.unit_of_work() as session:
            company = create_company(session, environment="emulator", realm_id=realm, name=name, now=utcnow())
        grant = TokenGrant(body["access_token"], body["refresh_token"], int(body["expires_in"]),
                           int(body["x_refresh_token_expires_in"]))
        TokenStore(self.container.database, self.container.vault).save(company.id, grant, expected_version=0,
                                                                       now=utcnow())
        return {"id": company.id, "realm": realm, "customer": customer}

    def add_monthly_fees(self, company: dict, count: int, boundary: datetime) -> None:
        """``count`` agreements with a monthly fee billed at each period close, the month before billed.

        The agreements started the month before ``boundary``; their billing cursors are set as the
        previous month's tick left them (raised through a minute before ``boundary``), so the tick at
        ``boundary`` raises exactly one period close per agreement, as at any month-end; the fee's
        item is in the company's item cache, as after any earlier invoice.
        """
        from addon.clock import utcnow
        from addon.models.postings import BillingCursor

        start = previous_month(boundary).date().isoformat()
        agreements = [{
            "id": f"agr-fee-{n:05d}", "customer_id": company["customer"], "customer_name": "Northwind IT",
            "start": start, "timezone": "UTC", "cycle": "monthly", "bill_to": ["billing@northwind.example"],
            "components": [{"type": "fixed_fee", "id": "managed", "item": "Managed services", "amount": "1000.00"}],
            "rules": [{"id": "monthly-fee", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}]}
            for n in range(count)]
        self.container.agreements.import_document(company["id"], json.dumps({
            "format": "autobill.agreements/1", "company_id": company["id"], "agreements": agreements}),
            actor="user:bench")
        self.warm_item_cache(company, {"Managed services"})
        now = utcnow()
        with self.container.unit_of_work() as session:
            session.add_all([BillingCursor(company_id=company["id"], agreement_id=a["id"],
                                           through=boundary - timedelta(minutes=1), next_due_at=boundary,
                                           updated_at=now) for a in agreements])

    def warm_item_cache(self, company: dict, names: set[str]) -> None:
        """Look the items up and cache them as a posting does (as any earlier invoice of the company did)."""
        from addon.clock import utcnow
        from addon.postings.invoice import remember_items, resolve_items

        found = resolve_items(self.container.ledger(company["id"]), names, {})
        with self.container.unit_of_work() as session:
            remember_items(session, company["id"], found, utcnow())

    # processes
    def workers_to(self, count: int, queues: str = "tick,events,postings,default") -> None:
        """Grow or shrink the pool to ``count`` idle workers; returns once each has registered with RQ."""
        from rq import Worker

        while len(self.workers) > count:
            self._stop(self.workers.pop())
        while len(self.workers) < count:
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "bench.posting_stack", "worker", "--queues", queues,
                 "--name", f"bench-{len(self.workers)}-{uuid.uuid4().hex[:6]}"],
                cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 180
        while len(Worker.all(connection=self.container.redis)) != count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.workers):
                raise SystemExit(f"workers did not start; see {self.folder / 'workers.log'}")
            time.sleep(0.2)

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def start_web(self, workers: int, threads: int) -> str:
        """gunicorn serving the web app (as bench/ingest.py does); its base URL."""
        from types import SimpleNamespace

        self.web = gunicorn("webapp.wsgi:app", self.web_port, self.env, SimpleNamespace(workers=workers,
                            threads=threads), str(ROOT))
        return f"http://127.0.0.1:{self.web_port}"

    def stop_web(self) -> None:
        if self.web is not None:
            stop(self.web)
            self.web = None

    def worker_cpu(self) -> float:
        """CPU seconds the workers (with their horses and children) have used so far."""
        return process_tree_cpu([p.pid for p in self.workers])

    def reset_meter(self) -> None:
        """Start the in-job CPU meter from zero."""
        self.container.redis.delete(CPU_KEY, COUNT_KEY)

    def close(self) -> None:
        from addon import bootstrap

        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            self._stop(proc)
        self.stop_web()
        self._log.close()
        bootstrap.set_current(None)
        self.container.database.dispose()
        drop_schema(self.postgres, self.schema)

    # what happened
    def counters(self, company: dict) -> dict:
        import requests

        return requests.get(f"{self.control}/realms/{company['realm']}/counters", timeout=30).json()

    def outbox(self, company: dict) -> list[dict]:
        import requests

        return requests.get(f"{self.control}/realms/{company['realm']}/outbox", timeout=30).json()["outbox"]

    def set_latency(self, ms: float) -> None:
        import requests

        requests.post(f"{self.control}/latency", json={"ms": ms}, timeout=10)

    def states(self, companies: list[dict]) -> dict[str, int]:
        """Postings of ``companies`` by state."""
        from sqlalchemy import func, select

        from addon.models.postings import Posting

        with self.container.unit_of_work() as session:
            return dict(session.execute(select(Posting.state, func.count())
                                        .where(Posting.company_id.in_([c["id"] for c in companies]))
                                        .group_by(Posting.state)).all())

    def failed_jobs(self) -> int:
        from addon.bootstrap import QUEUES

        return sum(len(self.container.queue(q).failed_job_registry) for q in QUEUES)


# --- Figures ----------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile ``p`` (0..1) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def rounded(value: float | None, places: int = 3) -> float | None:
    """``value`` rounded for printing (None stays None)."""
    return None if value is None else round(value, places)


def instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 time with its zone (the emulator's ``sentAt``)."""
    return datetime.fromisoformat(text).timestamp()


def counter_delta(after: dict, before: dict) -> dict:
    """What a realm's emulator counters grew by between two readings: requests, 429s, requests by route."""
    routes = {k: v - before["by_route"].get(k, 0) for k, v in after["by_route"].items()}
    return {"requests": after["requests"] - before["requests"], "throttled": after["throttled"] - before["throttled"],
            "by_route": {k: v for k, v in sorted(routes.items()) if v}}


def cpu_figures(stack: Stack, total: float, invoices: int) -> dict:
    """CPU inside the jobs (by job function) against the workers' ``total``, per invoice and per job."""
    jobs = job_figures(stack.container.redis)
    inside = sum(j["cpu_s"] for j in jobs.values())
    count = sum(j["jobs"] for j in jobs.values())
    per_invoice = {name: round(j["cpu_s"] / invoices * 1000, 2) for name, j in jobs.items()} if invoices else {}
    return {
        "jobs": {name: j["jobs"] for name, j in jobs.items()},
        "job_cpu_ms_per_invoice": round(inside / invoices * 1000, 2) if invoices else None,
        "job_cpu_ms_per_invoice_by_job": per_invoice,
        "job_cpu_ms_per_job": {name: round(j["cpu_s"] / j["jobs"] * 1000, 2) for name, j in jobs.items() if j["jobs"]},
        "worker_cpu_s": round(total, 2), "job_cpu_s": round(inside, 2),
        "rq_overhead_ms_per_job": round((total - inside) / count * 1000, 2) if count else None,
        "rq_overhead_ms_per_invoice": round((total - inside) / invoices * 1000, 2) if invoices else None,
    }


def run_worker(argv: list[str]) -> None:
    """``autobill worker`` with the bench's CPU meter around each job (and, as an experiment, a fork per job)."""
    install_job_meter()
    if os.environ.get(FORKING_ENV):
        from rq import Worker

        import addon.workers

        class ForkingWorker(Worker):  # RQ's default: a work horse forked for every job
            get_heartbeat_ttl = addon.workers.AutobillWorker.get_heartbeat_ttl

        addon.workers.AutobillWorker = ForkingWorker
    from addon.cli import main

    main(["worker", *argv])


if __name__ == "__main__":
    if sys.argv[1:2] != ["worker"]:
        raise SystemExit("usage: python -m bench.posting_stack worker [autobill worker options]")
    run_worker(sys.argv[2:])
