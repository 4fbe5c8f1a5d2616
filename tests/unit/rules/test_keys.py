"""Business keys: short enough for QuickBooks' requestid, stable, and never shared by two things."""

from datetime import date

from rules import BusinessKey, agreement_id_for
from rules.keys import end_thing, object_thing, period_thing, threshold_thing


def test_a_business_key_renders_as_36_characters_usable_as_a_requestid():
    key = BusinessKey("company-1", "agr-northwind", "monthly", period_thing(date(2026, 12, 1)))
    assert len(str(key)) == 36 and str(key).isalnum() and str(key) == key.requestid
    assert str(key).startswith("ab1")
    assert key.text == "company-1/agr-northwind/monthly/period:2026-12-01"


def test_the_same_key_parts_always_render_the_same_key():
    parts = ("c1", "agr-1", "renewal", object_thing("stripe", "sub_9", date(2026, 12, 1)))
    assert str(BusinessKey(*parts)) == str(BusinessKey(*parts)) == "ab1" + str(BusinessKey(*parts))[3:]


def test_parts_are_separated_so_shifting_text_between_them_gives_another_key():
    assert str(BusinessKey("c1", "agr-1", "r", "x")) != str(BusinessKey("c1", "agr-", "1r", "x"))


def test_billed_things_name_periods_objects_thresholds_and_ends_apart():
    day = date(2026, 11, 1)
    things = {period_thing(day), object_thing("hubspot", "2026-11-01"), threshold_thing(day, 1),
              threshold_thing(day, 2), end_thing(day), object_thing("stripe", "sub", day)}
    assert len(things) == 6


def test_an_agreement_a_rule_starts_gets_one_id_per_company_rule_and_source_object():
    first = agreement_id_for("c1", "won-deals", "hubspot", "deal-1001")
    assert first == agreement_id_for("c1", "won-deals", "hubspot", "deal-1001")
    assert first.startswith("agr-") and len(first) == 28
    others = {agreement_id_for("c2", "won-deals", "hubspot", "deal-1001"),
              agreement_id_for("c1", "other-rule", "hubspot", "deal-1001"),
              agreement_id_for("c1", "won-deals", "pipedrive", "deal-1001"),
              agreement_id_for("c1", "won-deals", "hubspot", "deal-1002")}
    assert first not in others and len(others) == 4
