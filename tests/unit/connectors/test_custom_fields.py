"""The endpoint settings that name custom fields as expenses and SLA breaches, and how their values read."""

from decimal import Decimal

import pytest

from connectors.custom_fields import (
    BreachField,
    CustomFieldSettingsError,
    ExpenseField,
    field_map,
    number,
    shown,
)


def test_settings_name_expense_and_breach_fields_with_defaults_for_what_is_left_out():
    found = field_map({"expense_fields": [{"field": "customfield_10050", "name": "Hardware cost", "currency": "cad",
                                           "taxable": False, "task": "hardware"}],
                       "sla_breach_fields": {"field": "customfield_10060", "values": "Breached"}}, source="jira")
    assert found.expenses == (ExpenseField("customfield_10050", "Hardware cost", "cost", "CAD", None, None, False,
                                           "hardware"),)
    assert found.breaches == (BreachField("customfield_10060", None, ("Breached",)),)
    assert set(found.by_id()) == {"customfield_10050", "customfield_10060"}
    assert not field_map({}, source="jira") and not field_map(None, source="asana")


@pytest.mark.parametrize(("settings", "message"), [
    ({"expense_fields": "customfield_10050"}, "must be a list of at most 20 field objects"),
    ({"expense_fields": [{"name": "Hardware cost"}]}, r"expense_fields\[0\].field must be a non-empty text"),
    ({"expense_fields": [{"field": "cf", "currency": "dollars"}]}, "three-letter ISO 4217 code"),
    ({"expense_fields": [{"field": "cf", "taxable": "yes"}]}, "taxable must be true or false"),
    ({"expense_fields": [{"field": "cf", "markup": "15"}]}, "unknown key"),
    ({"sla_breach_fields": [{"field": "cf", "values": {"Breached": True}}]}, "values must be a list"),
    ({"sla_breach_fields": [{"field": "cf", "values": [""]}]}, r"values\[0\] must be a non-empty text"),
    ({"expense_fields": [{"field": "cf"}], "sla_breach_fields": [{"field": "cf"}]}, "configured twice"),
])
def test_malformed_settings_are_refused_naming_the_setting_and_the_fix(settings, message):
    with pytest.raises(CustomFieldSettingsError, match=message):
        field_map(settings, source="jira")


def test_clickup_expenses_cannot_take_a_quantity_or_description_from_another_field():
    field_map({"expense_fields": [{"field": "b3c1", "quantity_field": "c4d2"}]}, source="jira")
    with pytest.raises(CustomFieldSettingsError, match="clickup webhooks carry one field at a time"):
        field_map({"expense_fields": [{"field": "b3c1", "quantity_field": "c4d2"}]}, source="clickup")


def test_amounts_read_exactly_from_numbers_and_numeric_texts_and_empty_is_none():
    assert number(Decimal("1250.10"), "cost") == Decimal("1250.10")
    assert number(12, "cost") == Decimal(12)
    assert number(" 1,250.50 ", "cost") == Decimal("1250.50")
    assert number(0.1, "cost") == Decimal("0.1")
    assert number(None, "cost") is None and number("", "cost") is None


def test_a_value_shows_its_text_an_options_value_name_and_id_and_each_item_of_a_list():
    assert shown({"self": "x", "value": "Breached", "id": "10021"}) == ["Breached", "10021"]
    assert shown([{"gid": "1", "name": "Breached"}, "text"]) == ["Breached", "1", "text"]
    assert shown(True) == ["true"] and shown(None) == [] and shown("  ") == []


def test_a_breach_field_counts_one_for_a_marker_value_or_its_number_without_values():
    marker = BreachField("cf", values=("Breached", "Yes"))
    assert marker.count(["yes"], None) == 1 and marker.count(["Met"], None) == 0
    counter = BreachField("cf")
    assert counter.count([], Decimal(2)) == 2 and counter.count([], Decimal(0)) == 0 and counter.count([], None) == 0
