"""Templates run in Jinja2's sandbox with StrictUndefined; escapes and unknown names are refused."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rules import Event, EventKind, InvalidTemplate, TemplateDataMissing, draft_for_event, load_agreement
from rules.templates import SAMPLE_INVOICE, SAMPLE_LINE, EventAttributes, render, validate
from tests.unit.rules.helpers import boundary


@pytest.mark.parametrize("source", [
    "{{ agreement.__class__ }}",
    "{{ agreement.__class__.__mro__[1].__subclasses__() }}",
    "{% if false %}{{ period.__class__ }}{% endif %}",  # refused even on a branch the sample skips
    "{{ agreement['__class__'] }}",
    "{{ agreement|attr('__class__') }}",
    "{{ '{0.__class__}'.format(agreement) }}",
    "{{ self }}",
    "{{ 'x' * 100000000 }}",
    "{{ 2 ** 100000 }}",
    "{% for i in range(10000000) %}{% endfor %}",
    "{{ agreement.items.__globals__ }}",
])
def test_templates_that_reach_outside_the_sandbox_are_refused(source):
    with pytest.raises(InvalidTemplate, match="outside the sandbox"):
        validate("memo", source)


@pytest.mark.parametrize("source", ["{% import 'os' as os %}", "{% include 'secrets.txt' %}",
                                    "{% extends 'base.html' %}", "{% from 'x' import y %}"])
def test_templates_may_not_import_include_or_extend(source):
    with pytest.raises(InvalidTemplate, match="may not import, include or extend"):
        validate("private_note", source)


def test_an_unknown_variable_is_refused_with_its_name():
    with pytest.raises(InvalidTemplate, match="unknown variable 'customer'"):
        validate("memo", "Hello {{ customer }}")
    with pytest.raises(InvalidTemplate, match="has no attribute 'nmae'"):
        validate("memo", "Hello {{ agreement.nmae }}")


def test_globals_like_cycler_and_lipsum_are_not_available():
    with pytest.raises(InvalidTemplate, match="unknown variable 'lipsum'"):
        validate("memo", "{{ lipsum() }}")


def test_a_line_template_sees_the_line_and_its_default_text():
    validate("description", "{{ default }} ({{ line.hours }} h by {{ line.person }})", line=True)
    text = render("description", "{{ line.name }}: {{ line.amount|money }}", SAMPLE_LINE)
    assert text == "Overage: 1,125.00"


def test_an_invoice_template_cannot_use_line_variables():
    with pytest.raises(InvalidTemplate, match="unknown variable 'line'"):
        validate("memo", "{{ line.amount }}")


@pytest.mark.parametrize(("field", "limit"), [("memo", 1000), ("private_note", 4000), ("doc_number", 21)])
def test_rendered_text_must_fit_quickbooks_limits(field, limit):
    validate(field, "x" * limit)
    with pytest.raises(InvalidTemplate, match=f"QuickBooks allows {limit}"):
        validate(field, "x" * (limit + 1))


def test_a_description_may_be_up_to_4000_characters():
    validate("description", "{{ 'y' * 4000 }}", line=True)
    with pytest.raises(InvalidTemplate, match="renders 4001 characters"):
        validate("description", "{{ 'y' * 4001 }}", line=True)


def test_a_template_that_cannot_be_parsed_says_where():
    with pytest.raises(InvalidTemplate, match="cannot be read.*line 1"):
        validate("memo", "{{ agreement.name ")


# Templates are checked against the agreement's own data; event attributes are only known when an
# event arrives, so saving allows any, and drafting holds the invoice when the event lacks one.

def _site_agreement(**fields):
    doc = {"id": "agr-northwind", "company_id": "c1", "customer_id": "58", "customer_name": "Northwind IT",
           "start": "2026-11-01", "timezone": "America/New_York", "attributes": {"site": "Leeds", "tier": "gold"},
           "components": [{"type": "fixed_fee", "id": "fee", "amount": "4000.00",
                           "description": "{{ default }} at {{ agreement.attributes.site }}"}],
           "rules": [{"id": "monthly", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}},
                     {"id": "won", "when": {"kind": "deal_won"}, "how": {"send_mode": "auto_send"},
                      "what": {"components": ["deal"], "memo": "Deal {{ event.attributes.dealname }}"}}]}
    doc["components"].append({"type": "event_lines", "id": "deal",
                              "description": "{{ default }} ({{ event.attributes.dealname|upper }})"})
    doc.update(fields)
    return load_agreement(json.dumps(doc))


def _won(attributes):
    return Event(EventKind.DEAL_WON, "hubspot", "deal-1001", datetime(2026, 11, 20, 15, tzinfo=UTC),
                 amount=Decimal("12500.00"), currency="USD", attributes=attributes)


def test_an_agreement_attribute_the_agreement_defines_may_be_used_and_is_rendered():
    agr = _site_agreement()
    draft = draft_for_event(boundary(agr, date(2026, 12, 1)), agr, agr.rules[0], today=date(2026, 12, 1))
    assert draft.lines[0].description == "Fee, 2026-12-01 to 2026-12-31 at Leeds"


def test_an_agreement_attribute_the_agreement_lacks_is_refused_naming_those_it_has():
    with pytest.raises(InvalidTemplate) as caught:
        _site_agreement(attributes={"region": "north", "tier": "gold"})
    assert caught.value.path == "components[0].description"
    assert "the agreement has no attribute 'site' (its attributes: region, tier)" in caught.value.reason


def test_event_attributes_may_be_used_when_saving_and_are_rendered_when_the_event_has_them():
    agr = _site_agreement()
    draft = draft_for_event(_won({"dealname": "Northwind rollout"}), agr, agr.rules[1], today=date(2026, 11, 20))
    assert draft.memo == "Deal Northwind rollout"
    assert draft.lines[0].description == "Deal (NORTHWIND ROLLOUT)"
    assert draft.hold_reasons == () and draft.warnings == ()


def test_an_event_attribute_the_event_lacks_holds_the_draft_with_the_default_text_instead_of_failing():
    agr = _site_agreement()
    draft = draft_for_event(_won({"pipeline": "default"}), agr, agr.rules[1], today=date(2026, 11, 20))
    assert draft.memo is None and draft.lines[0].description == "Deal"
    assert draft.private_note == f"autobill:{draft.key}" and draft.needs_review
    assert [w.code for w in draft.warnings] == ["template_data_missing", "template_data_missing"]
    assert draft.hold_reasons == (
        "the description template of deal uses the event attribute 'dealname', which this event does not carry "
        "(deal_won hubspot:deal-1001); the default description is used",
        "the memo template uses the event attribute 'dealname', which this event does not carry "
        "(deal_won hubspot:deal-1001); the invoice goes without a customer memo")


def test_a_nested_event_attribute_that_is_missing_is_named_with_its_path():
    with pytest.raises(TemplateDataMissing, match="event attribute 'company.region'"):
        render("memo", "{{ event.attributes.company.region }}",
               {**SAMPLE_INVOICE, "event": {"attributes": EventAttributes({"company": {"name": "Acme"}})}})


def test_a_template_may_test_whether_the_event_has_an_attribute():
    source = "{% if event.attributes.dealname is defined %}{{ event.attributes.dealname }}{% else %}no name{% endif %}"
    validate("memo", source)
    assert render("memo", source, {**SAMPLE_INVOICE, "event": {"attributes": EventAttributes({})}}) == "no name"
    assert render("memo", source, {**SAMPLE_INVOICE,
                                   "event": {"attributes": EventAttributes({"dealname": "Rollout"})}}) == "Rollout"


def test_an_unknown_event_attribute_is_allowed_when_saving_even_with_filters_and_arithmetic():
    validate("memo", "{{ event.attributes.amount|money }} {{ event.attributes.seats * 2 }} "
                     "{{ event.attributes.owner.email }} {{ event.attributes.stage.title() }}")
    validate("description", "{{ line.amount|money }} for {{ event.attributes.dealname }}", line=True)


@pytest.mark.parametrize("source", [
    "{{ event.attributes.dealname.__class__ }}",
    "{{ event.attributes.dealname.__init__.__globals__ }}",
    "{{ event.attributes['__class__'] }}",
    "{{ event.attributes|attr('__class__') }}",
    "{{ event.attributes.dealname|attr('__class__') }}",
    "{{ agreement.attributes.__class__.__mro__ }}",
])
def test_sandbox_escapes_through_event_and_agreement_attributes_are_still_refused(source):
    with pytest.raises(InvalidTemplate, match="outside the sandbox"):
        validate("memo", source)
    with pytest.raises(InvalidTemplate, match="outside the sandbox"):
        _site_agreement(memo=source)
