"""Prepaid hour blocks: usage that takes the balance below top_up_below raises a threshold event at
once, and its draft is a top-up invoice; the close then draws the hours from the new balance."""

from datetime import date

from rules import (
    EventKind,
    History,
    HourBlock,
    How,
    Rule,
    SendMode,
    TimeAndMaterials,
    What,
    When,
    draft_for_event,
    due_drafts,
    threshold_event,
)
from tests.unit.rules.helpers import PERIOD_RULE, D, agreement, at, boundary, time

TOP_UP = Rule(id="top-up", when=When(EventKind.THRESHOLD_CROSSED), what=What(components=("prepaid",)),
              how=How(SendMode.AUTO_SEND))
BLOCK = HourBlock(id="prepaid", item="Prepaid support hours", block_hours=D(40), block_price=D("5600.00"),
                  top_up_below=D(5))
HELD_40 = History(blocks={"prepaid": D(40)})


def _litware(*components, rules=(PERIOD_RULE, TOP_UP)):
    return agreement(*(components or (BLOCK,)), id="agr-litware", rules=rules)


def test_time_that_leaves_the_block_at_the_threshold_raises_nothing_and_below_it_raises_the_first_crossing():
    agr = _litware()
    usage = [time("c-1", date(2026, 11, 3), "20"), time("c-2", date(2026, 11, 9), "15")]
    assert threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 10, 15)) is None  # 5 h left
    usage.append(time("c-3", date(2026, 11, 10), "0.5"))
    event = threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 10, 16))
    assert event.kind is EventKind.THRESHOLD_CROSSED and event.agreement_id == "agr-litware"
    assert event.source_object_id == "agr-litware/top-up/prepaid@2026-11-01#1"
    assert event.attributes["crossing"] == 1 and event.attributes["blocks"] == {"prepaid": "4.5"}
    assert event.attributes["hours"] == "35.5" and event.attributes["components"] == ["prepaid"]


def test_the_crossing_is_drafted_as_a_top_up_invoice_that_buys_blocks_and_draws_nothing_yet():
    agr = _litware()
    usage = [time("c-1", date(2026, 11, 3), "20"), time("c-2", date(2026, 11, 9), "15.5")]
    event = threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 10, 16))
    draft = draft_for_event(event, agr, TOP_UP, usage=usage, history=HELD_40, today=date(2026, 11, 10))
    [line] = draft.lines
    assert (line.kind.value, line.quantity, line.amount, draft.total) == ("block_purchase", D(1), D("5600.00"),
                                                                          D("5600.00"))
    assert "35.5 h not yet drawn take the balance of 40 h to 4.5 h, below 5 h" in line.description
    assert line.explanation.source_ids == ("toggl:c-1@v1", "toggl:c-2@v1")
    assert draft.key.billed_thing == "threshold:2026-11-01#1" and draft.consumption.usage == ()
    assert [(b.drawn_hours, b.purchased_hours, b.balance_after) for b in draft.consumption.blocks] == [
        (0, D(40), D(80))]


def test_after_the_top_up_the_same_time_raises_nothing_and_the_close_draws_it_from_the_new_balance():
    agr = _litware()
    usage = [time("c-1", date(2026, 11, 3), "35.5")]
    event = threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 10, 16))
    top_up = draft_for_event(event, agr, TOP_UP, usage=usage, history=HELD_40, today=date(2026, 11, 10))
    history = HELD_40.after(top_up)
    assert history.blocks == {"prepaid": D(80)} and history.thresholds == {("top-up", date(2026, 11, 1)): 1}
    assert threshold_event(agr, TOP_UP, usage=usage, history=history, now=at(2026, 11, 11)) is None
    [close] = due_drafts(agr, at(2026, 12, 1, 12), since=at(2026, 11, 30, 12), usage=usage, history=history)
    assert [(ln.kind.value, ln.amount) for ln in close.lines] == [("block_draw", D("0.00"))]
    assert close.lines[0].description.endswith("35.5 h used in 2026-11-01 to 2026-11-30, 44.5 h left")
    # 44.5 h left: 40 h more take it to 4.5 h, the period's second crossing.
    later = History(blocks={"prepaid": D("44.5")}, thresholds=history.thresholds)
    second = threshold_event(agr, TOP_UP, usage=[time("c-9", date(2026, 11, 28), "40")], history=later,
                             now=at(2026, 11, 28, 20))
    assert second.attributes["crossing"] == 2 and second.source_object_id.endswith("@2026-11-01#2")


def test_a_big_shortfall_buys_as_many_blocks_as_bring_the_balance_back_above_the_threshold():
    agr = _litware()
    usage = [time("c-1", date(2026, 11, 3), "110")]  # 40 - 110 = -70 h: 75 h needed, 2 blocks
    event = threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 4))
    draft = draft_for_event(event, agr, TOP_UP, usage=usage, history=HELD_40, today=date(2026, 11, 4))
    assert [(ln.quantity, ln.amount) for ln in draft.lines] == [(D(2), D("11200.00"))]
    assert draft.consumption.blocks[0].balance_after == D(120)


def test_a_crossing_drafted_after_the_close_already_topped_up_the_block_makes_no_invoice():
    agr = _litware()
    usage = [time("c-1", date(2026, 11, 3), "36")]
    event = threshold_event(agr, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 30, 20))
    [close] = due_drafts(agr, at(2026, 12, 1, 12), since=at(2026, 11, 30, 12), usage=usage, history=HELD_40)
    assert close.total == D("5600.00")  # the close bought the top-up itself
    assert draft_for_event(event, agr, TOP_UP, usage=usage, history=HELD_40.after(close),
                           today=date(2026, 12, 1)) is None


def test_no_crossing_before_the_first_block_nor_without_top_up_below_nor_for_a_rule_of_other_components():
    usage = [time("c-1", date(2026, 11, 3), "39")]
    assert threshold_event(_litware(), TOP_UP, usage=usage, now=at(2026, 11, 4)) is None  # first block not bought
    no_top_up = _litware(HourBlock(id="prepaid", block_hours=D(40), block_price=D(5600), overage_rate=D(150)))
    assert threshold_event(no_top_up, TOP_UP, usage=usage, history=HELD_40, now=at(2026, 11, 4)) is None
    time_only = Rule(id="time", when=When(EventKind.THRESHOLD_CROSSED), what=What(components=("tm",)))
    mixed = _litware(TimeAndMaterials(id="tm", default_rate=D(145), threshold_hours=D(100)), BLOCK,
                     rules=(PERIOD_RULE, time_only))
    assert threshold_event(mixed, time_only, usage=usage, history=HELD_40, now=at(2026, 11, 4)) is None


def test_without_a_threshold_rule_the_top_up_stays_on_the_period_close():
    agr = _litware(rules=(PERIOD_RULE,))
    usage = [time("c-1", date(2026, 11, 3), "37.5")]
    draft = draft_for_event(boundary(agr, date(2026, 12, 1)), agr, PERIOD_RULE, usage=usage, history=HELD_40,
                            today=date(2026, 12, 1))
    assert [(ln.kind.value, ln.amount) for ln in draft.lines] == [("block_purchase", D("5600.00")),
                                                                  ("block_draw", D("0.00"))]
