"""The JSON form of agreements and rules: every docs/ example round-trips; broken files name the field."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rules import (
    Agreement,
    FixedFee,
    InvalidAgreement,
    InvalidTemplate,
    Retainer,
    SendMode,
    dump_agreement,
    dump_agreements,
    load_agreement,
    load_agreements,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "docs" / "agreements").glob("*.json"))
RETAINER = Path(__file__).resolve().parents[3] / "docs" / "agreements" / "retainer.json"


def _load_any(text: str):
    if '"format"' in text:
        return load_agreements(text), load_agreements, dump_agreements
    return load_agreement(text), load_agreement, dump_agreement


def test_there_is_an_example_agreement_for_each_billing_model():
    names = {p.stem for p in EXAMPLES}
    assert {"fixed-fee", "time-and-materials", "milestones", "retainer", "hour-block", "tiered-support",
            "sla-credits", "pass-through", "subscription", "contract-end", "company-rules"} <= names
    types = set()
    for path in EXAMPLES:
        types |= {c["type"] for a in _agreements_of(json.loads(path.read_text())) for c in a["components"]}
    assert types == {"fixed_fee", "time_and_materials", "milestones", "retainer", "hour_block",
                     "tiered_hours", "sla_credit", "pass_through", "event_lines"}


def _agreements_of(data):
    return data.get("agreements", [data] if "id" in data else [])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_docs_example_loads_dumps_and_loads_again_to_the_same_value(path):
    loaded, load, dump = _load_any(path.read_text())
    text = dump(loaded)
    assert load(text) == loaded
    assert dump(load(text)) == text  # the dumped form is stable


def test_the_retainer_example_reads_as_a_bookkeeper_wrote_it():
    agreement = load_agreement(RETAINER.read_text())
    support = agreement.component("support")
    assert isinstance(support, Retainer)
    assert support.fee == Decimal("4000.00") and support.included_hours == Decimal("20")
    assert support.rollover.cap_hours == Decimal("10") and support.rollover.expire_after == 2
    assert agreement.rules[0].how.send_mode is SendMode.REVIEW_BY_EXCEPTION
    assert agreement.start == date(2026, 1, 1) and agreement.timezone == "America/New_York"


def _broken(mutate) -> str:
    data = json.loads(RETAINER.read_text())
    mutate(data)
    return json.dumps(data)


@pytest.mark.parametrize(("mutate", "path", "why"), [
    (lambda d: d["components"][0].update(fee="4,000.0x"), "components[0].fee", "not a number"),
    (lambda d: d["components"][0].update(fee=-5), "components[0].fee", "zero or more"),
    (lambda d: d["components"][0].update(fees="1"), "components[0].fees", "not a field of retainer"),
    (lambda d: d["components"][0].update(type="retainr"), "components[0].type", "not a component type"),
    (lambda d: d["components"][0]["rollover"].update(expire_after=0), "components[0].rollover.expire_after",
     "at least 1"),
    (lambda d: d.pop("start"), "start", "is required"),
    (lambda d: d.update(start="2026-13-01"), "start", "not a date"),
    (lambda d: d.update(end="2025-12-31"), "end", "before the start"),
    (lambda d: d.update(currency="dollars"), "currency", "three-letter"),
    (lambda d: d.update(timezone="Mars/Olympus"), "timezone", "unknown time zone"),
    (lambda d: d.update(customer_id=58), "customer_id", "expected text"),
    (lambda d: d.update(cycle="fortnightly"), "cycle", "unknown cadence"),
    (lambda d: d["rules"][0]["how"].update(send_mode="yolo"), "rules[0].how.send_mode", "not one of"),
    (lambda d: d["rules"][0]["how"].pop("tolerance_percent"), "rules[0].how.tolerance_percent",
     "needs a tolerance_percent"),
    (lambda d: d["rules"][0]["when"].update(kind="invoice_paid"), "rules[0].when.kind", "not one of"),
    (lambda d: d["rules"][0].update(what={"components": ["helpdesk"]}), "rules[0].what.components[0]",
     "no component is called 'helpdesk'"),
    (lambda d: d["rules"][0]["when"].update(conditions={"all": [{"path": "amount", "op": "approx"}]}),
     "rules[0].when.conditions.all[0].op", "unknown operator"),
    (lambda d: d["components"].append(dict(d["components"][0])), "components[1].id", "used by another"),
    (lambda d: d["rules"].append(dict(d["rules"][0])), "rules[1].version", "version 1 twice"),
    (lambda d: d["rules"].append({**d["rules"][0], "version": 2}), "rules[1].effective_from", "overlaps"),
    (lambda d: d["components"][0].update(description="{{ agreement.nmae }}"), "components[0].description",
     "unknown variable"),
    (lambda d: d.update(memo="{{ agreement.__class__.__mro__ }}"), "memo", "outside the sandbox"),
])
def test_a_broken_agreement_file_is_refused_with_one_error_naming_the_field_and_why(mutate, path, why):
    with pytest.raises(InvalidAgreement) as caught:
        load_agreement(_broken(mutate))
    assert caught.value.path == path
    assert why in caught.value.reason
    assert str(caught.value).startswith(path + ": ")
    assert caught.value.code in ("invalid_agreement", "invalid_template") and not caught.value.retryable


def test_floats_are_refused_for_money_even_in_a_python_dict():
    data = json.loads(RETAINER.read_text())
    data["components"][0]["fee"] = 4000.1
    with pytest.raises(InvalidAgreement, match=r"components\[0\]\.fee: write amounts as exact numbers"):
        load_agreement(data)


def test_json_numbers_are_read_exactly_as_decimals():
    text = RETAINER.read_text().replace('"4000.00"', "4000.10")
    assert load_agreement(text).component("support").fee == Decimal("4000.10")


def test_text_that_is_not_json_is_refused_with_its_position():
    with pytest.raises(InvalidAgreement, match="not valid JSON at line 1"):
        load_agreement('{"id": ')


def test_an_agreement_of_another_company_is_refused_when_loading_for_a_company():
    with pytest.raises(InvalidAgreement, match="company_id: belongs to company 'demo-company', not 'other'"):
        load_agreement(RETAINER.read_text(), company_id="other")


def test_a_missing_time_zone_takes_the_company_one_given_when_loading():
    data = json.loads(RETAINER.read_text())
    del data["timezone"]
    assert load_agreement(data, timezone="Pacific/Auckland").timezone == "Pacific/Auckland"
    assert load_agreement(data).timezone == "UTC"


def test_a_company_file_refuses_an_agreement_rule_without_starts_and_names_it():
    doc = {"format": "autobill.agreements/1", "company_id": "c1",
           "rules": [{"id": "r", "when": {"kind": "deal_won"}}]}
    with pytest.raises(InvalidAgreement, match=r"^rules\[0\]: a company rule must say"):
        load_agreements(json.dumps(doc))


def test_a_company_file_of_an_unknown_format_is_refused():
    with pytest.raises(InvalidAgreement, match="format: 'autobill.agreements/9'"):
        load_agreements('{"format": "autobill.agreements/9"}')


def test_a_bad_template_in_a_company_rule_is_named_with_its_path():
    doc = json.loads((RETAINER.parent / "company-rules.json").read_text())
    doc["rules"][0]["starts"]["name"] = "{% include 'x' %}"
    with pytest.raises(InvalidTemplate) as caught:
        load_agreements(json.dumps(doc))
    assert caught.value.path == "rules[0].starts.name"


def test_agreements_built_in_python_dump_to_the_documented_form():
    agreement = Agreement(id="agr-1", company_id="c1", customer_id="58", start=date(2026, 1, 31),
                          components=(FixedFee(id="fee", amount=Decimal("2500.00")),))
    data = json.loads(dump_agreement(agreement))
    assert data == {"id": "agr-1", "company_id": "c1", "customer_id": "58", "start": "2026-01-31",
                    "components": [{"type": "fixed_fee", "id": "fee", "amount": "2500.00"}]}
    assert load_agreement(dump_agreement(agreement)) == agreement
