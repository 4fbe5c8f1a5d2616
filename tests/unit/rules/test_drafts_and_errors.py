"""Drafts round-trip through their stored JSON; the errors are few, coded and say whether to retry."""

from datetime import date

from rules import (
    CurrencyMismatch,
    EventIncomplete,
    FixedFee,
    InvalidAgreement,
    InvalidInput,
    InvalidTemplate,
    RulesError,
    TemplateDataMissing,
    TimeAndMaterials,
    draft_from_dict,
    draft_to_dict,
    due_drafts,
    dump_draft,
    load_draft,
)
from rules.errors import ERRORS
from tests.unit.rules.helpers import D, agreement, at, time


def _draft():
    agr = agreement(FixedFee(id="fee", amount=D("4000.00")), TimeAndMaterials(id="tm", default_rate=D("145.00")))
    return due_drafts(agr, at(2026, 12, 1, 12), since=at(2026, 11, 30), usage=[time("te-1", date(2026, 11, 3), "37.5")])[0]


def test_a_draft_round_trips_through_its_stored_json_form():
    draft = _draft()
    assert draft_from_dict(draft_to_dict(draft)) == draft
    assert load_draft(dump_draft(draft)) == draft


def test_the_stored_form_of_a_draft_keeps_money_as_exact_text():
    data = draft_to_dict(_draft())
    assert data["total"] == "9437.50" and data["lines"][1]["quantity"] == "37.5"
    assert data["lines"][1]["explanation"]["arithmetic"] == "37.5 h × 145.00"
    assert data["key"]["billed_thing"] == "period:2026-12-01"


def test_every_rules_error_has_a_code_a_message_and_says_whether_retrying_helps():
    samples = [RulesError("x"), InvalidAgreement("fee", "must be more than zero"), InvalidTemplate("memo", "bad"),
               EventIncomplete("no amount"), CurrencyMismatch("EUR"), InvalidInput("naive"),
               TemplateDataMissing("memo", "uses the event attribute 'dealname', which this event does not carry")]
    assert {type(s) for s in samples} == set(ERRORS)
    codes = {s.code for s in samples}
    assert len(codes) == len(samples)
    assert [s for s in samples if s.retryable] == [samples[3]]
    assert all(s.message and str(s) for s in samples)
    assert str(samples[1]) == "fee: must be more than zero"
