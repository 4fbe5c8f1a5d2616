"""Worked examples a bookkeeper can read (tests/fixtures/rules/*.json), each with a hand-computed total."""

from decimal import Decimal

import pytest

from rules import draft_for_event
from tests.unit.rules.worked import examples

EXAMPLES = examples()


def test_every_billing_model_has_a_worked_example():
    models = {line for ex in EXAMPLES for line in ex.expect.get("models", [])}
    assert models >= {"fixed_fee", "time_and_materials", "milestones", "retainer", "hour_block", "tiered_hours",
                      "sla_credit", "pass_through", "event_lines", "contract_end"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_the_worked_example_bills_its_hand_computed_total(example):
    rule = example.agreement.rule_in_effect(example.rule_id, example.today)
    draft = draft_for_event(example.event, example.agreement, rule, usage=example.usage, history=example.history,
                            today=example.today)
    expect = example.expect
    got = [(line.kind.value, str(line.amount)) for line in draft.lines]
    assert got == [(line["kind"], line["amount"]) for line in expect["lines"]], example.working
    assert draft.total == Decimal(expect["total"]), example.working
    assert draft.total == sum(line.amount for line in draft.lines)
    if "quantities" in expect:
        assert [str(line.quantity) for line in draft.lines] == expect["quantities"]
    if "tax_codes" in expect:
        assert [line.tax_code for line in draft.lines] == expect["tax_codes"]
    if "expected_tax" in expect:
        assert draft.tax_total == Decimal(expect["expected_tax"])
    if "due_date" in expect:
        assert draft.due_date.isoformat() == expect["due_date"]
    if "holds" in expect:
        assert len(draft.hold_reasons) == expect["holds"], draft.hold_reasons
    for fragment in expect.get("descriptions", []):
        assert any(fragment in line.description for line in draft.lines), (fragment, draft.lines)
    for name, value in expect.get("consumption", {}).items():
        assert [_plain(item) for item in getattr(draft.consumption, name)] == value
    for line in draft.lines:
        assert line.explanation.rule_id == rule.id and line.explanation.rule_version == rule.version
        assert line.amount == line.amount.quantize(Decimal("0.01"))


def _plain(item):
    return {k: str(v) for k, v in vars(item).items() if v is not None and k != "source_ids"}
