"""Recording usage, versions, mapping, consumption and unbilled usage on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from addon import usage
from addon.models.usage import UsageVersion
from addon.usage import Outcome
from rules import BusinessKey, UsageConsumed
from tests.integration.usage.conftest import NOW, hours_of, time_entry

A = "agr-northwind-support"
B = "agr-contoso-project"


def record(database, company, event, at=NOW):
    with database.unit_of_work() as session:
        return usage.record_event(session, company, event, now=at).recorded


def unbilled(database, company, agreement=A, **kw):
    with database.unit_of_work() as session:
        return usage.unbilled(session, company, agreement, **kw)


def consumed(record_, hours, component="support", deleted=False):
    return UsageConsumed(record_.source, record_.source_id, record_.version, component,
                         hours=Decimal(hours), deleted=deleted)


def key(company, thing="period:2026-04-01", agreement=A):
    return BusinessKey(company, agreement, "monthly", thing)


def consume(database, company, items, posting_key, **kw):
    with database.unit_of_work() as session:
        return usage.consume(session, company, items, posting_key, **kw)


def versions(database, company, entry_id):
    with database.unit_of_work() as session:
        rows = session.query(UsageVersion).filter_by(company_id=company, source_id=entry_id)
        return [(r.version, r.hours, r.deleted) for r in rows.order_by(UsageVersion.version)]


def test_a_time_entry_becomes_version_one_of_its_record_on_the_agreement_its_project_maps_to(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    result = record(database, company, time_entry("te-1", "1.333333"))
    assert (result.outcome, result.version, result.agreement_id) == (Outcome.NEW, 1, A)
    [entry] = unbilled(database, company)
    assert entry.hours == Decimal("1.333333") and entry.agreement_id == A and entry.person == "Ana"
    assert entry.date == date(2026, 3, 2) and entry.version == 1


def test_an_identical_re_read_is_not_a_new_version_but_a_real_edit_is(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    record(database, company, time_entry("te-1", "2.0"))
    again = record(database, company, time_entry("te-1", "2.0"))
    assert again.outcome is Outcome.UNCHANGED
    edited = record(database, company, time_entry("te-1", "2.5", changed=NOW + timedelta(minutes=5)))
    assert (edited.outcome, edited.version) == (Outcome.CHANGED, 2)
    assert versions(database, company, "te-1") == [(1, Decimal("2.0"), False), (2, Decimal("2.5"), False)]


def test_an_edit_before_billing_replaces_the_usage_and_a_deletion_removes_it(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    record(database, company, time_entry("te-1", "2.0"))
    record(database, company, time_entry("te-2", "1.0"))
    record(database, company, time_entry("te-1", "3.0", changed=NOW + timedelta(minutes=1)))
    record(database, company, time_entry("te-2", "1.0", deleted=True, changed=NOW + timedelta(minutes=2)))
    assert hours_of(unbilled(database, company)) == {"te-1": Decimal("3.0")}
    assert [r.version for r in unbilled(database, company)] == [2]


def test_edits_and_deletions_after_billing_come_back_for_an_adjustment(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    one = record(database, company, time_entry("te-1", "2.0"))
    two = record(database, company, time_entry("te-2", "1.0"))
    consume(database, company, [consumed(one, "2.0"), consumed(two, "1.0")], key(company))
    assert unbilled(database, company) == []
    record(database, company, time_entry("te-1", "1.5", changed=NOW + timedelta(hours=1)))
    record(database, company, time_entry("te-2", "1.0", deleted=True, changed=NOW + timedelta(hours=1)))
    assert hours_of(unbilled(database, company)) == {"te-1": Decimal("1.5"), "te-2": "-"}
    with database.unit_of_work() as session:
        billed = {u.source_id: (u.version, u.hours) for u in usage.billed_usage(session, company, A)}
    assert billed == {"te-1": (1, Decimal("2.0")), "te-2": (1, Decimal("1.0"))}


def test_consume_is_idempotent_for_one_posting_and_refuses_a_second_posting_of_the_same_version(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    one = record(database, company, time_entry("te-1", "2.0"))
    first = consume(database, company, [consumed(one, "2.0")], key(company))
    again = consume(database, company, [consumed(one, "2.0")], key(company))
    assert (first.recorded, again.recorded, again.already) == (1, 0, 1)
    with pytest.raises(usage.UsageAlreadyBilled) as refused:
        consume(database, company, [consumed(one, "2.0")], key(company, "threshold:2026-03-01#1"))
    assert refused.value.retryable
    assert unbilled(database, company) == []


def test_consume_refuses_a_version_the_ledger_does_not_hold_and_a_key_of_another_company(ledger, neighbours):
    database, company = ledger
    one = record(database, company, time_entry("te-1", "2.0"))
    ghost = UsageConsumed("toggl", "te-1", 7, "support", hours=Decimal("2"))
    with pytest.raises(usage.UnknownUsage, match="no version 7 of toggl:te-1"):
        consume(database, company, [ghost], key(company))
    with pytest.raises(usage.UnknownUsage, match="company"):
        consume(database, company, [consumed(one, "2.0")], key("co_someoneelse"))
    with pytest.raises(TypeError, match="agreement_id"):
        consume(database, company, [consumed(one, "2.0")], "ab1" + "0" * 33)


def test_a_string_posting_key_works_with_the_agreement_named(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    one = record(database, company, time_entry("te-1", "2.0"))
    done = consume(database, company, [consumed(one, "2.0")], str(key(company)), agreement_id=A)
    assert done.recorded == 1 and unbilled(database, company) == []


def test_unmapped_usage_is_kept_as_needs_mapping_and_mapped_when_its_project_mapping_is_set(ledger, neighbours):
    database, company = ledger
    waiting = record(database, company, time_entry("te-1", "2.0", keys=("project:toggl:77", "tag:toggl:vip")))
    assert waiting.agreement_id is None
    with database.unit_of_work() as session:
        lines = usage.list_usage(session, company, needs_mapping=True)
    assert [(line.source_id, line.status) for line in lines] == [("te-1", "needs mapping")]
    assert unbilled(database, company) == []
    neighbours.projects["tag:toggl:vip"] = A
    with database.unit_of_work() as session:
        assert usage.map_waiting_usage(session, company, "tag:toggl:vip", now=NOW) == [A]
    assert hours_of(unbilled(database, company)) == {"te-1": Decimal("2.0")}
    with database.unit_of_work() as session:
        assert usage.list_usage(session, company, needs_mapping=True) == []
        assert [line.status for line in usage.list_usage(session, company, agreement_id=A)] == ["unbilled"]
    assert versions(database, company, "te-1") == [(1, Decimal("2.0"), False)]


def test_a_re_read_of_waiting_usage_maps_it_once_a_mapping_exists(ledger, neighbours):
    database, company = ledger
    record(database, company, time_entry("te-1", "2.0"))
    neighbours.projects["project:toggl:42"] = A
    again = record(database, company, time_entry("te-1", "2.0"))
    assert (again.outcome, again.agreement_id, again.version) == (Outcome.MAPPED, A, 1)


def test_a_late_delivery_of_an_older_change_is_stale_but_clockify_follows_arrival(ledger, neighbours):
    database, company = ledger
    record(database, company, time_entry("te-1", "3.0", changed=NOW))
    late = record(database, company, time_entry("te-1", "2.0", changed=NOW - timedelta(minutes=3)))
    assert late.outcome is Outcome.STALE
    assert versions(database, company, "te-1") == [(1, Decimal("3.0"), False)]
    record(database, company, time_entry("cf-1", "3.0", source="clockify", changed=NOW))
    later = record(database, company, time_entry("cf-1", "2.0", source="clockify", changed=NOW - timedelta(hours=1)))
    assert later.outcome is Outcome.CHANGED
    assert versions(database, company, "cf-1") == [(1, Decimal("3.0"), False), (2, Decimal("2.0"), False)]


def test_a_deletion_is_the_final_version(ledger, neighbours):
    database, company = ledger
    record(database, company, time_entry("te-1", "3.0"))
    record(database, company, time_entry("te-1", "3.0", deleted=True, changed=NOW + timedelta(minutes=1)))
    after = record(database, company, time_entry("te-1", "4.0", changed=NOW + timedelta(minutes=2)))
    assert after.outcome is Outcome.AFTER_DELETION
    assert versions(database, company, "te-1") == [(1, Decimal("3.0"), False), (2, Decimal("3.0"), True)]


def test_an_entry_moved_to_another_agreement_after_billing_is_credited_where_it_was_billed(ledger, neighbours):
    database, company = ledger
    neighbours.projects.update({"project:toggl:42": A, "project:toggl:43": B})
    one = record(database, company, time_entry("te-1", "2.0"))
    consume(database, company, [consumed(one, "2.0")], key(company))
    moved = record(database, company, time_entry("te-1", "2.0", keys=("project:toggl:43",),
                                                 changed=NOW + timedelta(hours=1)))
    assert (moved.version, moved.agreement_id, moved.previous_agreement_id) == (2, B, A)
    assert set(moved.touched) == {A, B}
    [credit] = unbilled(database, company, A)
    assert (credit.deleted, credit.version, credit.agreement_id) == (True, 2, A)
    [bill] = unbilled(database, company, B)
    assert (bill.deleted, bill.version, bill.hours) == (False, 2, Decimal("2.0"))
    consume(database, company, [consumed(credit, "0", deleted=True)], key(company, "period:2026-05-01"))
    consume(database, company, [consumed(bill, "2.0", component="project")], key(company, agreement=B))
    assert unbilled(database, company, A) == [] and unbilled(database, company, B) == []


def test_unbilled_through_a_day_leaves_later_usage_for_later(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    record(database, company, time_entry("te-1", "1.0", on=date(2026, 3, 31)))
    record(database, company, time_entry("te-2", "1.0", on=date(2026, 4, 1)))
    assert [r.source_id for r in unbilled(database, company, through=date(2026, 3, 31))] == ["te-1"]
    assert [r.source_id for r in unbilled(database, company)] == ["te-1", "te-2"]


def test_a_non_usage_event_is_refused_with_a_reason(ledger, neighbours):
    from rules import Event, EventKind

    database, company = ledger
    deal = Event(kind=EventKind.DEAL_WON, source="hubspot", source_object_id="deal-1", occurred_at=NOW)
    with pytest.raises(usage.NotUsage, match="deal_won events carry no usage"):
        record(database, company, deal)
    broken = time_entry("te-1", "two hours")
    with pytest.raises(usage.NotUsage, match="cannot be read"):
        record(database, company, broken)


def test_billed_time_moved_to_an_unmapped_project_is_credited_and_billed_again_once_mapped(ledger, neighbours):
    database, company = ledger
    neighbours.projects["project:toggl:42"] = A
    one = record(database, company, time_entry("te-1", "2.0"))
    consume(database, company, [consumed(one, "2.0")], key(company))
    away = record(database, company, time_entry("te-1", "2.0", keys=("project:toggl:77",),
                                                changed=NOW + timedelta(hours=1)))
    assert (away.version, away.agreement_id, away.previous_agreement_id) == (2, None, A)
    [credit] = unbilled(database, company, A)
    consume(database, company, [consumed(credit, "0", deleted=True)], key(company, "period:2026-05-01"))
    assert unbilled(database, company, A) == []
    neighbours.projects["project:toggl:77"] = B
    with database.unit_of_work() as session:
        assert usage.map_waiting_usage(session, company, "project:toggl:77", now=NOW) == [B]
    [bill] = unbilled(database, company, B)
    # A consumed version 2 (as its credit), so B's mapping is a version of its own.
    assert (bill.version, bill.hours, bill.deleted, bill.agreement_id) == (3, Decimal("2.0"), False, B)
    assert unbilled(database, company, A) == []


def test_time_moved_away_and_back_before_the_credit_is_billed_owes_nothing_and_bills_its_change(ledger, neighbours):
    database, company = ledger
    neighbours.projects.update({"project:toggl:42": A, "project:toggl:43": B})
    one = record(database, company, time_entry("te-1", "2.0"))
    consume(database, company, [consumed(one, "2.0")], key(company))
    record(database, company, time_entry("te-1", "2.0", keys=("project:toggl:43",), changed=NOW + timedelta(hours=1)))
    assert [r.deleted for r in unbilled(database, company, A)] == [True]
    back = record(database, company, time_entry("te-1", "3.0", changed=NOW + timedelta(hours=2)))
    assert (back.version, back.agreement_id, back.previous_agreement_id) == (3, A, B)
    [change] = unbilled(database, company, A)
    assert (change.version, change.hours, change.deleted) == (3, Decimal("3.0"), False)
    assert unbilled(database, company, B) == []
    with database.unit_of_work() as session:
        [line] = usage.list_usage(session, company, agreement_id=A)
    assert line.status == "changed after billing"


def test_usage_naming_an_agreement_the_company_has_goes_there_and_an_unknown_one_waits_for_a_mapping(
        ledger, neighbours):
    from tests.integration.usage.agreements import northwind

    database, company = ledger
    neighbours.agreements[A] = northwind(company)
    named = record(database, company, time_entry("ex-1", "1.0", source="generic", keys=(), agreement_id=A))
    stray = record(database, company, time_entry("ex-2", "1.0", source="generic", keys=(),
                                                 agreement_id="agr-of-another-company"))
    assert (named.agreement_id, stray.agreement_id) == (A, None)
    with database.unit_of_work() as session:
        assert [line.source_id for line in usage.list_usage(session, company, needs_mapping=True)] == ["ex-2"]
