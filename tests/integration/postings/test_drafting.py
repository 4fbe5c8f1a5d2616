"""Drafting: events become postings in one transaction with the usage they consume; a second event
about the same billed thing changes nothing; a won deal starts one agreement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from rules import Event, EventKind, EventLine, SourceCustomer, period_event
from rules.engine.schedule import due_periods
from tests.integration.postings.conftest import from_delivery, import_agreement, postings, raised, run

D = Decimal


def managed(company_id, **extra):
    return {"id": "agr-northwind", "company_id": company_id, "customer_id": "58", "customer_name": "Northwind IT",
            "start": "2026-01-01", "timezone": "America/New_York",
            "components": [{"type": "fixed_fee", "id": "managed", "item": "Managed services", "amount": "1500.00"},
                           {"type": "time_and_materials", "id": "hours", "item": "Consulting hours",
                            "default_rate": "145.00"}],
            "rules": [{"id": "monthly", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}}],
            **extra}


def _period(container, company_id, boundary: date):
    agreement = container.agreements.agreement(company_id, "agr-northwind")
    due = [d for d in due_periods(agreement, datetime(2027, 1, 1, tzinfo=UTC)) if d.boundary == boundary][0]
    return period_event(agreement, due)


def test_a_period_close_makes_one_posting_and_running_it_again_changes_nothing(container, company_id):
    import_agreement(container, company_id, managed(company_id))
    event_id = raised(container, company_id, _period(container, company_id, date(2026, 2, 1)))
    row = run(container, event_id)
    assert row.status == "done" and "1 new posting" in row.reason
    [posting] = postings(container, company_id)
    assert posting.total == D("1500.00") and posting.state == "planned" and posting.event_id == event_id
    assert run(container, event_id).status == "done"
    assert len(postings(container, company_id)) == 1
    actions = [r.action for r in container.audit.records(company_id)]
    assert "draft.made" in actions and container.audit.verify(company_id).ok


def test_usage_is_billed_by_one_period_and_consumed_with_its_posting(container, company_id):
    from addon.usage import record_event

    import_agreement(container, company_id, managed(company_id))
    entry = Event(EventKind.TIME_LOGGED, "toggl", "entry-1", datetime(2026, 1, 20, 15, tzinfo=UTC),
                  attributes={"hours": "37.5", "date": "2026-01-20"}, company_id=company_id,
                  agreement_id="agr-northwind")
    with container.unit_of_work() as session:
        record_event(session, company_id, entry)
    for boundary in (date(2026, 2, 1), date(2026, 3, 1)):
        run(container, raised(container, company_id, _period(container, company_id, boundary)))
    february, march = postings(container, company_id)
    assert february.total == D("1500.00") + D("37.5") * D("145.00")
    assert march.total == D("1500.00")  # the hours were consumed by February's invoice


def test_two_different_events_about_one_won_deal_make_one_posting(container, company_id):
    import_agreement(container, company_id, managed(
        company_id, components=[{"type": "event_lines", "id": "deal", "item": "Managed services"}],
        rules=[{"id": "onboarding", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"}}]))
    customer = SourceCustomer("hs-company-77", "Northwind IT")
    for n in (1, 2):
        won = Event(EventKind.DEAL_WON, "hubspot", "deal-1001", datetime(2026, 1, 20, 15, tzinfo=UTC),
                    source_event_id=f"evt-{n}", amount=D("4200.00"), currency="USD", source_customer=customer,
                    lines=(EventLine("Network assessment", D("1"), unit_price=D("4200.00")),))
        row = run(container, from_delivery(container, company_id, won, customer_id="58"))
        assert row.status == "done"
    [posting] = postings(container, company_id)
    assert posting.total == D("4200.00")


def test_a_company_rule_starts_one_agreement_and_one_onboarding_invoice_from_two_events(container, company_id):
    import_agreement(container, company_id, {"format": "autobill.agreements/1", "company_id": company_id,
                                             "agreements": [], "rules": [
        {"id": "won-deals", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"},
         "starts": {"timezone": "America/New_York"}}]})
    customer = SourceCustomer("hs-company-77", "Northwind IT")
    lines = (EventLine("Managed services", D("1"), unit_price=D("1500.00"), recurring="monthly", term_months=12),
             EventLine("Onboarding", D("1"), unit_price=D("900.00")))
    for n in (1, 2):
        won = Event(EventKind.DEAL_WON, "hubspot", "deal-2002", datetime(2026, 1, 20, 15, tzinfo=UTC),
                    source_event_id=f"evt-{n}", amount=D("2400.00"), currency="USD", source_customer=customer,
                    lines=lines, attributes={"start_date": "2026-02-01"})
        assert run(container, from_delivery(container, company_id, won, customer_id="58")).status == "done"
    [agreement] = container.agreements.of_customer(company_id, "58")
    [onboarding] = postings(container, company_id)
    assert onboarding.total == D("900.00") and onboarding.agreement_id == agreement.id


def test_an_event_no_rule_answers_is_ignored_with_the_reason(container, company_id):
    import_agreement(container, company_id, managed(company_id))
    won = Event(EventKind.DEAL_WON, "hubspot", "deal-3003", datetime(2026, 1, 20, 15, tzinfo=UTC), amount=D("10"),
                currency="USD", source_customer=SourceCustomer("hs-company-77", "Northwind IT"))
    row = run(container, from_delivery(container, company_id, won, customer_id="58"))
    assert row.status == "ignored" and "no rule for deal_won" in row.reason
    assert postings(container, company_id) == []
    assert "event.ignored" in [r.action for r in container.audit.records(company_id)]


def test_a_later_period_close_waits_for_the_earlier_one(container, company_id):
    import_agreement(container, company_id, managed(company_id))
    february = raised(container, company_id, _period(container, company_id, date(2026, 2, 1)))
    march = raised(container, company_id, _period(container, company_id, date(2026, 3, 1)))
    row = run(container, march)
    assert row.status == "ready" and "2026-02-01" in row.reason
    run(container, february)
    assert run(container, march).status == "done"
    assert [p.invoice_date for p in postings(container, company_id)] == sorted(
        p.invoice_date for p in postings(container, company_id))
