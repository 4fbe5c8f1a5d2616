"""What drafting hands the engine on the event: the milestone a milestone mapping names, and the
QuickBooks items it resolved for the event's lines (after the agreement's own items, before defaults)."""

from datetime import date

from rules import Event, EventKind, EventLine, EventLines, Milestone, Milestones, Rule, When, draft_for_event
from rules.components.event_lines import RESOLVED_ITEMS
from rules.components.milestone_billing import MAPPED_MILESTONE
from tests.unit.rules.helpers import D, agreement, at

MILESTONE_RULE = Rule(id="on-milestone", when=When(EventKind.MILESTONE_COMPLETED))
WON_RULE = Rule(id="won", when=When(EventKind.DEAL_WON))


def _site():
    return agreement(Milestones(id="site", milestones=(
        Milestone("design", "Design sign-off", ("jira:acme/version/1",), amount=D("2000.00")),
        Milestone("launch", "Launch", amount=D("5000.00")))), rules=(MILESTONE_RULE,))


def _done(**attributes):
    return Event(EventKind.MILESTONE_COMPLETED, "jira", "acme/version/1", at(2026, 11, 20, 15), attributes=attributes)


def test_a_mapped_milestone_is_billed_instead_of_the_one_the_match_list_names_and_keyed_by_it():
    draft = draft_for_event(_done(**{MAPPED_MILESTONE: "launch"}), _site(), MILESTONE_RULE, today=date(2026, 11, 20))
    assert [ln.amount for ln in draft.lines] == [D("5000.00")]
    assert draft.key.billed_thing == "milestone:site:launch"
    assert ("completed by", "jira:acme/version/1, by a milestone mapping") in draft.lines[0].explanation.inputs


def test_without_a_mapping_the_match_list_decides_and_a_milestone_needs_no_match_list():
    draft = draft_for_event(_done(), _site(), MILESTONE_RULE, today=date(2026, 11, 20))
    assert [ln.amount for ln in draft.lines] == [D("2000.00")] and draft.key.billed_thing == "milestone:site:design"


def test_a_mapped_milestone_the_agreement_lacks_bills_nothing():
    assert draft_for_event(_done(**{MAPPED_MILESTONE: "go-live"}), _site(), MILESTONE_RULE,
                           today=date(2026, 11, 20)) is None


def test_resolved_items_come_after_the_agreements_own_items_and_before_the_components_default():
    agr = agreement(EventLines(id="deal", item="Services", items={"SKU-9": "Hardware"}), rules=(WON_RULE,))
    lines = (EventLine("Firewall", unit_price=D("900.00"), sku="SKU-9"),
             EventLine("Assessment", unit_price=D("1200.00"), product_id="88001"),
             EventLine("Widget", unit_price=D("50.00"), product_name="Widget"))
    resolved = [{"keys": [None, "SKU-9", None], "item": "Network gear", "why": "mapped"},
                {"keys": ["88001", None, None], "item": "Network assessment", "why": "QuickBooks item 7, by mapping"}]
    won = Event(EventKind.DEAL_WON, "hubspot", "deal-1", at(2026, 11, 20, 15), lines=lines,
                attributes={RESOLVED_ITEMS: resolved})
    draft = draft_for_event(won, agr, WON_RULE, today=date(2026, 11, 20))
    assert [ln.item for ln in draft.lines] == ["Hardware", "Network assessment", "Services"]
    assert ("item", "Network assessment: QuickBooks item 7, by mapping") in draft.lines[1].explanation.inputs
