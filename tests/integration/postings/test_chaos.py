"""Chaos against the QuickBooks emulator, with a real Redis, PostgreSQL and real worker processes.

1,000 events across 20 companies, each delivery POSTed 1-3 times (signed, over HTTP, to the running web
app), 10% of the deals arriving as two different events; meanwhile the emulator answers 10% of the API
calls with a 5xx, drops 5% of the writes' replies after committing them, throttles a few (429), and every
access token expires once mid-run; half the companies' QuickBooks forget requestids, so only the lookup
by customer, date and private-note marker prevents a duplicate there. Workers are SIGKILLed at random
moments and replaced, and Redis is flushed once. At the end: exactly one invoice per business key (counted
in the emulator), at most one email per invoice, every event done, every posting final, every audit
chain valid, no RQ job left started.

The plan comes from one seed (``AUTOBILL_CHAOS_SEED``, printed with a summary of what was injected):
``AUTOBILL_CHAOS_SEED=<seed> pytest tests/integration/postings/test_chaos.py -s`` replays it.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import Counter
from decimal import Decimal

import pytest
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import select

from addon.models.events import EventRecord
from addon.models.postings import Posting, PostingState
from tests.integration.connection.conftest import connect_realm
from tests.integration.postings.chaosplan import CUSTOMERS, ITEM, RULE_ID, agreement_id, make_plan
from tests.integration.postings.chaosrun import (
    QUEUES,
    Chaos,
    cpu,
    events_closed,
    progress_of,
    send_all,
    settled,
    stuck,
)
from tests.integration.postings.stack import Stack, wait_until

SEED = int(os.environ.get("AUTOBILL_CHAOS_SEED", "20260201"))
COMPANIES, EVENTS, DOUBLED_SHARE = 20, 1000, 0.10
WORKERS = 4
DELIVERY_SECONDS = 40  # the deliveries are spread over this long
DEADLINE = 600  # seconds from the first delivery to every posting final (measured: 80-90 s, one test at a time)
SCALE = 0.05  # job timeout 9 s, monitoring 2 s, maintenance 3 s, sweep graces 3 and 6 s, lease 11 s
SETTINGS = {
    "AUTOBILL_TIME_SCALE": str(SCALE),
    "AUTOBILL_TICK_SECONDS": str(5 / SCALE),  # each tick costs a work horse; every 5 s is often enough here
    # The emulator counts QuickBooks' request limits in real seconds: the budget's windows stay real too.
    "AUTOBILL_QBO_MINUTE_WINDOW": str(60 / SCALE), "AUTOBILL_QBO_SECOND_WINDOW": str(1 / SCALE),
    "AUTOBILL_POSTING_RETRY_MAX": str(4 / SCALE), "AUTOBILL_RETRY_MAX": str(5 / SCALE),
    # 10% 5xx on every call makes a look-then-write attempt fail about one time in four: with the default
    # of 8 tries a posting or two per run would (rightly) land in the failed list.
    "AUTOBILL_POSTING_MAX_ATTEMPTS": "20",
}

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("stack"),
              pytest.mark.emulator_options(random_seed=SEED)]


@pytest.fixture
def stack(tmp_path, postgres_database_url, redis_url, emulator):
    made = Stack(tmp_path, postgres_database_url, redis_url, emulator, **SETTINGS)
    yield made
    made.stop()


def _setup_company(container, emulator, n: int, memory_off: bool) -> dict:
    """A connected company whose three clients each have an agreement billing won deals' lines, auto-sent."""
    control = emulator.control
    realm = control.create_realm(f"Chaos IT {n:02d}", seed="demo")
    if memory_off:
        control.preferences(realm, requestid_memory="off")
    company_id = connect_realm(container, emulator, realm, name=f"Chaos IT {n:02d}").id
    qbo = {c["DisplayName"]: c["Id"] for c in control.objects(realm, "Customer")}
    agreements = []
    for key, name in CUSTOMERS:
        container.mappings.set(company_id, "customer", "generic", key, qbo[name], actor="test")
        agreements.append({"id": agreement_id(key), "customer_id": qbo[name], "customer_name": name,
                           "start": "2026-01-01", "components": [{"type": "event_lines", "id": "deal", "item": ITEM}],
                           "rules": [{"id": RULE_ID, "how": {"send_mode": "auto_send"}, "when": {"kind": "deal_won"}}]})
    container.agreements.import_document(company_id, json.dumps({
        "format": "autobill.agreements/1", "company_id": company_id, "agreements": agreements}), actor="user:us_author")
    endpoint = container.endpoints.create(company_id, "generic", actor="test")
    return {"n": n, "realm": realm, "company_id": company_id, "url": endpoint.url, "secret": endpoint.generated_secret,
            "memory_off": memory_off}


def _inject_faults(control, realm: str) -> None:
    """10% 5xx on every call, 5% of the writes committed and their reply dropped, a few 429s."""
    control.fault(realm, "* *", mode="error", status=429, probability=0.02, times=2)
    for status, share in ((500, 0.04), (502, 0.02), (503, 0.02), (504, 0.02)):
        control.fault(realm, "* *", mode="error", status=status, probability=share)
    for route in ("POST invoice", "POST invoice/send"):
        control.fault(realm, route, mode="commit_then_drop", probability=0.05 / 0.88)


def _marked(invoices: list[dict]) -> Counter:
    """Invoices per business key, by the ``autobill:<key>`` line that ends their private note."""
    found = Counter()
    for invoice in invoices:
        lines = (invoice.get("PrivateNote") or "").rstrip().splitlines()
        if lines and lines[-1].strip().startswith("autobill:"):
            found[lines[-1].strip().removeprefix("autobill:")] += 1
    return found


def test_a_thousand_events_under_faults_kills_and_a_redis_flush_make_exactly_one_invoice_per_deal(stack, emulator):
    plan = make_plan(SEED, companies=COMPANIES, events=EVENTS, doubled_share=DOUBLED_SHARE, kill_gap=(4.0, 10.0))
    print(f"chaos seed {SEED}: {len(plan.deals)} deals, {len(plan.events)} events ({plan.doubled} deals twice) in "
          f"{len(plan.deliveries)} deliveries, {len(plan.posts)} POSTs; Redis flushed at {plan.flush_at:.0%} of the "
          f"invoices sent, tokens expired at {plan.expire_at:.0%}; requestid memory off for {sorted(plan.memory_off)}")
    container = stack.container
    companies = [_setup_company(container, emulator, n, n in plan.memory_off) for n in range(COMPANIES)]
    for company in companies:
        _inject_faults(emulator.control, company["realm"])
    for _ in range(WORKERS):
        stack.start_worker()
    stack.start_scheduler()
    started = time.monotonic()
    senders, posting, duplicates = send_all(plan, companies, started, DELIVERY_SECONDS)
    chaos = Chaos(stack, emulator, plan, started)
    shown, events_closed_at, progress, moved, before = started, None, {}, started, None
    while True:
        progress, now = progress_of(container), time.monotonic()
        if progress["postings"] != before:
            moved, before = now, progress["postings"]
        elif now - moved > 45:
            print(f"{now - started:.0f} s: nothing moved for 45 s: {stuck(container)}", flush=True)
            moved = now
        chaos.step(progress, now, started)
        delivered = all(f.done() for f in posting)
        if events_closed_at is None and delivered and events_closed(progress, EVENTS):
            events_closed_at = round(now - started)
        if delivered and chaos.done and settled(progress, EVENTS):
            break
        if now - shown > 15:
            print(f"{now - started:.0f} s: {progress}", flush=True)
            shown = now
        assert now - started < DEADLINE, f"not settled after {DEADLINE} s: {progress}; {stuck(container)}"
        time.sleep(0.5)
    settled_after = time.monotonic() - started
    for future in posting:
        future.result()
    senders.shutdown()
    worker_cpu = chaos.worker_cpu + sum(cpu(stack, name) for name in stack.workers)
    own_cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    # The scheduler enqueues a tick every few seconds: stop it, then no job may stay started.
    stack.kill("scheduler")
    for name in QUEUES:
        queue = container.queue(name)
        wait_until(lambda q=queue: StartedJobRegistry(queue=q).count == 0, 60, 0.2, f"no {name} job left started")

    with container.unit_of_work() as session:
        postings = list(session.execute(select(Posting)).scalars())
        events = list(session.execute(select(EventRecord)).scalars())
    records = {c["company_id"]: container.audit.records(c["company_id"]) for c in companies}
    counters = [emulator.control.counters(c["realm"]) for c in companies]
    throttles = sum(2 - sum(r["times"] or 0 for r in emulator.control.request("GET", f"/realms/{c['realm']}/faults")
                                ["faults"] if r["status"] == 429) for c in companies)
    actions = Counter(r.action for rows in records.values() for r in rows)
    adopted_off = sum(1 for c in companies if c["memory_off"] for r in records[c["company_id"]]
                      if r.action == "invoice.adopted")
    failed_jobs = {name: FailedJobRegistry(queue=container.queue(name)).count for name in QUEUES}
    print(f"chaos seed {SEED}: events closed after {events_closed_at} s, all settled after {settled_after:.0f} s; "
          f"Redis flushed at {chaos.flushed_at} s, tokens expired at {chaos.expired_at} s; faults injected "
          f"{sum(c['faults_injected'] for c in counters)} (429s injected {throttles}, throttled by the limits "
          f"{sum(c['throttled'] for c in counters)}), 401s {sum(c['unauthorized'] for c in counters)}, token refreshes "
          f"{sum(c['token_grants']['refresh_token'] for c in counters)}; kills {chaos.kills}, workers that stopped by "
          f"themselves {len(chaos.restarted)}; duplicate deliveries absorbed {duplicates[True]}, second events finding "
          f"their posting {sum(1 for e in events if 'already there' in (e.reason or ''))}, requestid replays "
          f"{sum(c['replays'] for c in counters)}; adoptions via lookup {actions['invoice.adopted']} ({adopted_off} "
          f"where requestids are forgotten), emails found already sent {actions['email.already_sent']}, retries "
          f"{actions['posting.retry_scheduled']}; failed RQ jobs {failed_jobs}; API requests "
          f"{sum(c['requests'] for c in counters)}; CPU s: workers {worker_cpu:.0f}, test process (web app, emulator, "
          f"senders) {own_cpu:.0f}")

    # Every event done: its posting, or a recorded reason.
    assert len(events) == EVENTS
    assert Counter(e.status for e in events) == Counter({"done": EVENTS}), Counter((e.status, e.reason) for e in events)
    # One posting per deal, each final (sent: every rule auto-sends to a valid address).
    expected = {deal.key(companies[deal.company]["company_id"]): deal for deal in plan.deals}
    assert sorted(p.key for p in postings) == sorted(expected)
    assert Counter(p.state for p in postings) == Counter({PostingState.SENT.value: len(plan.deals)}), \
        Counter((p.state, p.state_reason) for p in postings)
    for company in companies:
        realm, company_id = company["realm"], company["company_id"]
        invoices = emulator.control.objects(realm, "Invoice")
        mine = {k for k, deal in expected.items() if companies[deal.company] is company}
        # Exactly one QuickBooks invoice per business key, and nothing else.
        assert _marked(invoices) == Counter(dict.fromkeys(mine, 1)), f"company {company['n']} ({realm})"
        assert len(invoices) == len(mine)
        for invoice in invoices:
            deal = expected[_marked([invoice]).most_common(1)[0][0]]
            items = [ln for ln in invoice["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
            assert [Decimal(str(ln["Amount"])) for ln in items] == [deal.amount]
        # At most one email per invoice, and the one each sent posting says it sent.
        mails = Counter(m["txnId"] for m in emulator.control.outbox(realm))
        assert max(mails.values(), default=0) <= 1, f"company {company['n']}: {mails.most_common(3)}"
        assert set(mails) == {p.qbo_invoice_id for p in postings if p.company_id == company_id}
        report = container.audit.verify(company_id)
        assert report.ok, (company_id, report)
