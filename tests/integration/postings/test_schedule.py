"""The scheduler's billing: period closes raised by tick in each agreement's time zone, exactly once,
across month ends, a leap day and DST changes, with two schedulers ticking at once; backlogs held."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from addon.models.events import EventRecord
from addon.postings.schedule import bill_periods
from rules.engine.schedule import due_periods
from tests.integration.postings.conftest import build, import_agreement, postings, run


def _agreement(company_id, agreement_id, start, timezone, cycle="monthly"):
    return {"id": agreement_id, "company_id": company_id, "customer_id": "58", "customer_name": "Northwind IT",
            "start": start, "timezone": timezone, "cycle": cycle,
            "components": [{"type": "fixed_fee", "id": "fee", "item": "Managed services", "amount": "1000.00"}],
            "rules": [{"id": "each-period", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}]}


def _open_events(container, company_id):
    with container.unit_of_work() as session:
        return session.execute(select(EventRecord.id).where(
            EventRecord.company_id == company_id, EventRecord.status.in_(["ready", "waiting_mapping"]))
            .order_by(EventRecord.source_object_id)).scalars().all()


def _drain(container, company_id):
    for _ in range(5):
        ids = _open_events(container, company_id)
        if not ids:
            return
        for event_id in ids:
            run(container, event_id)


def test_a_first_look_at_an_agreement_months_behind_holds_its_backlog_for_review(container, company_id):
    import_agreement(container, company_id, _agreement(company_id, "agr-late", "2025-10-01", "America/Chicago"))
    assert bill_periods(container, datetime(2026, 2, 1, 12, tzinfo=UTC)) == 5  # Oct 1 ... Feb 1
    _drain(container, company_id)
    rows = postings(container, company_id)
    assert len(rows) == 5 and {p.state for p in rows} == {"held"} and all(p.backlog for p in rows)
    assert all(p.qbo_invoice_id is None and "catch-up" in p.state_reason for p in rows)
    assert "billing.backlog" in [r.action for r in container.audit.records(company_id)]
    assert bill_periods(container, datetime(2026, 2, 1, 12, 1, tzinfo=UTC)) == 0


def test_a_missed_tick_or_two_catches_up_without_a_hold(container, company_id):
    import_agreement(container, company_id, _agreement(company_id, "agr-ok", "2026-01-01", "UTC"))
    assert bill_periods(container, datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == 1
    assert bill_periods(container, datetime(2026, 3, 1, 0, 5, tzinfo=UTC)) == 2  # the scheduler was down in Feb
    _drain(container, company_id)
    assert [(p.state, p.backlog) for p in postings(container, company_id)] == [("planned", False)] * 3


def test_an_agreement_that_fails_leaves_the_others_of_its_batch_raised_and_is_raised_by_the_next_tick(
        container, company_id, monkeypatch):
    import addon.postings.schedule as schedule

    for n in range(4):
        import_agreement(container, company_id, _agreement(company_id, f"agr-{n}", "2026-01-01", "UTC"))
    enqueued: list[str] = []
    monkeypatch.setattr("addon.eventflow.enqueue_events", lambda _container, ids: enqueued.extend(ids))
    real = schedule.raise_due_periods

    def failing(container_, session, agreement, now):
        count = real(container_, session, agreement, now)  # its event is stored, then the agreement fails
        if agreement.id == "agr-2":
            raise RuntimeError("a broken agreement")
        return count

    monkeypatch.setattr(schedule, "raise_due_periods", failing)
    assert bill_periods(container, datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == 3
    with container.unit_of_work() as session:
        stored = dict(session.execute(select(EventRecord.id, EventRecord.agreement_id)
                                      .where(EventRecord.company_id == company_id)).all())
    assert sorted(stored.values()) == ["agr-0", "agr-1", "agr-3"]
    assert sorted(enqueued) == sorted(stored), "a rolled-back agreement's event must not be enqueued"
    monkeypatch.setattr(schedule, "raise_due_periods", real)
    assert bill_periods(container, datetime(2026, 1, 1, 0, 1, tzinfo=UTC)) == 1  # agr-2, from its cursor


def _instants(boundaries: list[datetime], start: datetime, end: datetime, around: int = 12) -> list[datetime]:
    moments = set()
    t = start
    while t <= end:
        moments.add(t)
        t += timedelta(hours=1)
    for due in boundaries:
        for m in range(-around, around + 1):
            moments.add((due + timedelta(minutes=m)).replace(second=0, microsecond=0))
    return sorted(m for m in moments if start <= m <= end)


def test_month_end_leap_day_and_dst_changes_bill_each_period_once_with_two_schedulers(
        tmp_path, postgres_database_url, redis_url):
    container = build(tmp_path, postgres_database_url, redis_url)
    try:
        from tests.integration.connection.conftest import add_company

        company_id = add_company(container).id
        # Beirut skips its midnight when summer time starts (2028-03-26 00:00 -> 01:00): the boundary
        # falls due when that day begins.
        beirut = ZoneInfo("Asia/Beirut")
        before, after = (datetime(2028, 3, 25, h, 30, tzinfo=UTC).astimezone(beirut) for h in (21, 22))
        assert (before.hour, after.hour) == (23, 1)
        docs = [_agreement(company_id, "agr-leap-tokyo", "2028-01-29", "Asia/Tokyo"),  # Feb 29, a leap day
                _agreement(company_id, "agr-month-end-la", "2028-01-31", "America/Los_Angeles"),  # Feb 29, Mar 31
                _agreement(company_id, "agr-dst-ny", "2028-02-27", "America/New_York", "weekly"),  # Mar 12 is DST
                _agreement(company_id, "agr-skip-beirut", "2028-02-27", "Asia/Beirut", "weekly"),  # Mar 26
                _agreement(company_id, "agr-london", "2028-03-01", "Europe/London", "weekly")]  # Mar 26 BST
        for doc in docs:
            import_agreement(container, company_id, doc)
        start, end = datetime(2028, 2, 26, 12, tzinfo=UTC), datetime(2028, 3, 27, 12, tzinfo=UTC)
        agreements = [container.agreements.agreement(company_id, d["id"]) for d in docs]
        expected = {(a.id, d.boundary) for a in agreements for d in due_periods(a, end)}
        boundaries = [d.due_at for a in agreements for d in due_periods(a, end)]
        bill_periods(container, start)  # the agreements are seen once before the window opens
        instants = _instants(boundaries, start, end)
        barrier, errors = threading.Barrier(2), []

        def scheduler():
            try:
                for now in instants:
                    barrier.wait(30)
                    bill_periods(container, now)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert not errors, errors
        _drain(container, company_id)
        billed = [(p.agreement_id, p.key_text.rsplit("period:", 1)[1]) for p in postings(container, company_id)]
        assert len(billed) == len(set(billed)), "a period was billed twice"
        assert {(a, date.fromisoformat(b)) for a, b in billed} == expected
        assert ("agr-leap-tokyo", "2028-02-29") in billed and ("agr-skip-beirut", "2028-03-26") in billed
        assert not [p for p in postings(container, company_id) if p.backlog]
        with container.unit_of_work() as session:
            raised = session.execute(select(EventRecord.source_object_id, EventRecord.occurred_at,
                                            EventRecord.created_at).where(EventRecord.kind == "period_closed")).all()
        late = [(o, c - at) for o, at, c in raised if not timedelta(0) <= c - at < timedelta(minutes=1)
                and at >= start]
        assert not late, f"period closes raised early or late: {late}"
    finally:
        container.database.dispose()

