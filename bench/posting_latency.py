"""bench/posting.py, part 1: event-to-sent latency at a steady trickle of signed generic deliveries.

Each deal won is POSTed to the web app (gunicorn) and timed from its 2xx to the email in the emulator's
outbox (``sentAt``); the stages between come from stored timestamps: the event row (the delivery job
ran), ``draft.made``, ``invoice.created``, the outbox, ``email.sent`` (autobill recorded it).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

from bench.posting_stack import Stack, counter_delta, cpu_figures, instant, pct, rounded

CUSTOMER_KEY = "cust-bench"


def _deal(deal_id: str) -> bytes:
    event = {"kind": "deal_won", "source_object_id": deal_id, "occurred_at": datetime.now().astimezone().isoformat(),
             "amount": "4200.00", "currency": "USD", "customer": {"id": CUSTOMER_KEY, "name": "Northwind IT"},
             "lines": [{"description": f"Network assessment ({deal_id})", "quantity": "1", "unit_price": "4200.00"}]}
    return json.dumps({"id": f"delivery-{deal_id}", "events": [event]}, separators=(",", ":")).encode()


def _post(session, url: str, secret: str, deal_id: str) -> int:
    from connectors.generic import SIGNATURE_HEADER, signature_header

    body = _deal(deal_id)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, secret)}
    return session.post(url, data=body, headers=headers, timeout=30).status_code


def _deal_postings(stack: Stack, deal_ids: list[str]) -> dict[str, dict]:
    """Per deal: its event's stored time, its posting, and the posting's audit times by action."""
    from sqlalchemy import select

    from addon.models.audit import AuditRecord
    from addon.models.events import EventRecord
    from addon.models.postings import Posting

    with stack.container.unit_of_work() as session:
        rows = session.execute(select(EventRecord.source_object_id, EventRecord.created_at, Posting.id, Posting.state,
                                      Posting.qbo_invoice_id)
                               .join(Posting, Posting.event_id == EventRecord.id)
                               .where(EventRecord.source_object_id.in_(deal_ids))).all()
        subjects = {f"posting:{r.id}": r.source_object_id for r in rows}
        audit = session.execute(select(AuditRecord.subject, AuditRecord.action, AuditRecord.at)
                                .where(AuditRecord.subject.in_(list(subjects)))).all() if subjects else []
    found = {r.source_object_id: {"event_at": r.created_at.timestamp(), "state": r.state, "invoice": r.qbo_invoice_id,
                                  "audit": {}} for r in rows}
    for subject, action, at in audit:
        found[subjects[subject]]["audit"].setdefault(action, at.timestamp())
    return found


def part_latency(args, stack: Stack) -> dict:
    """One company with a generic endpoint and a deal-won rule; ``args.events`` deals; the figures."""
    import requests

    from addon.postings.store import FINAL

    stack.set_latency(args.latency_ms)
    company = stack.add_company("Bench latency IT")
    container = stack.container
    container.mappings.set(company["id"], "customer", "generic", CUSTOMER_KEY, company["customer"], actor="bench")
    container.agreements.import_document(company["id"], json.dumps({
        "id": "agr-bench-projects", "company_id": company["id"], "customer_id": company["customer"],
        "customer_name": "Northwind IT", "start": "2026-01-01", "bill_to": ["billing@northwind.example"],
        "components": [{"type": "event_lines", "id": "deal", "item": "Consulting hours"}],
        "rules": [{"id": "bill-won-deals", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"}}]}),
        actor="user:bench")
    endpoint = container.endpoints.create(company["id"], "generic", actor="bench")
    stack.start_web(args.web_workers, args.web_threads)
    stack.workers_to(args.workers)
    http = requests.Session()
    finals = {s.value for s in FINAL}

    def wait(ids: list[str], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            got = _deal_postings(stack, ids)
            if (len(got) == len(ids) and all(g["state"] in finals for g in got.values())) or time.monotonic() > deadline:
                return got
            time.sleep(0.25)

    # Warm-up (not measured): every gunicorn worker builds its container, the item is looked up and cached.
    warm = [f"warm-{uuid.uuid4().hex[:8]}" for _ in range(max(2, args.web_workers * 2))]
    for deal_id in warm:
        _post(http, endpoint.url, endpoint.generated_secret, deal_id)
    wait(warm, 60)
    before = stack.counters(company)
    cpu_before = stack.worker_cpu()
    stack.reset_meter()
    failed_before = stack.failed_jobs()

    accepted: dict[str, float] = {}
    statuses: dict[int, int] = {}
    start = time.monotonic()
    for n in range(args.events):
        due = start + n * args.interval
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        deal_id = f"deal-{n:04d}-{uuid.uuid4().hex[:6]}"
        status = _post(http, endpoint.url, endpoint.generated_secret, deal_id)
        statuses[status] = statuses.get(status, 0) + 1
        if 200 <= status < 300:
            accepted[deal_id] = time.time()
    got = wait(list(accepted), 60 + args.events * 2)
    cpu_total = stack.worker_cpu() - cpu_before
    stack.stop_web()
    sent_at = {m["txnId"]: instant(m["sentAt"]) for m in stack.outbox(company)}
    spent = counter_delta(stack.counters(company), before)

    stages = {"accepted_to_event_stored": [], "event_stored_to_drafted": [], "drafted_to_created": [],
              "created_to_sent": [], "sent_to_recorded": []}
    totals = []
    for deal_id, at in accepted.items():
        g = got.get(deal_id)
        if g is None or g["invoice"] not in sent_at:
            continue
        sent = sent_at[g["invoice"]]
        marks = [at, g["event_at"], g["audit"].get("draft.made"), g["audit"].get("invoice.created"), sent,
                 g["audit"].get("email.sent")]
        totals.append(sent - at)
        for values, a, b in zip(stages.values(), marks, marks[1:], strict=False):
            if a is not None and b is not None:
                values.append(b - a)
    invoices = len(totals)
    return {
        "latency_ms": args.latency_ms, "events": args.events, "interval_s": args.interval, "accepted": len(accepted),
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "sent": invoices,
        "p50_s": rounded(pct(totals, 0.5)), "p95_s": rounded(pct(totals, 0.95)), "max_s": rounded(max(totals, default=None)),
        "stages_p50_s": {k: rounded(pct(v, 0.5)) for k, v in stages.items()},
        "stages_p95_s": {k: rounded(pct(v, 0.95)) for k, v in stages.items()},
        "states": stack.states([company]), "failed_jobs": stack.failed_jobs() - failed_before, "workers": args.workers,
        "calls_per_invoice": round(spent["requests"] / invoices, 3) if invoices else None, "by_route": spent["by_route"],
        "http_429": spent["throttled"], "cpu": cpu_figures(stack, cpu_total, invoices),
    }



def print_latency(r: dict) -> None:
    """Print part 1's figures."""
    print(f"latency: {r['sent']}/{r['events']} deals, one every {r['interval_s']} s, QuickBooks answering after "
          f"{r['latency_ms']} ms, {r['workers']} workers")
    print(f"  webhook 2xx -> email in the emulator's outbox (sentAt): p50 {r['p50_s']} s, p95 {r['p95_s']} s, "
          f"max {r['max_s']} s (goal p50 < 2 s, p95 < 5 s)")
    for name in r["stages_p50_s"]:
        print(f"    {name:26s} p50 {r['stages_p50_s'][name]} s  p95 {r['stages_p95_s'][name]} s")
    print(f"  API calls per invoice {r['calls_per_invoice']} {r['by_route']}; 429s {r['http_429']}; "
          f"statuses {r['statuses']}; postings {r['states']}; failed jobs {r['failed_jobs']}")
