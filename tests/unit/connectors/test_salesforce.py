from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

import connectors
from connectors import salesforce
from connectors.errors import PayloadError, VerificationError
from rules.events import EventKind

FIXTURES = Path(__file__).parents[2] / "fixtures" / "salesforce"
ORG = {"organization_id": "00D5e000000KQ2eEAG"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_registry_finds_salesforce_by_name():
    assert connectors.get("salesforce") is salesforce


@pytest.mark.parametrize("org_id", ["00D5e000000KQ2eEAG", "00D5e000000KQ2e"])
def test_a_message_from_the_configured_org_is_accepted_by_its_15_or_18_character_id(org_id):
    salesforce.verify(fixture("outbound-opportunity-won.xml"), {}, None, settings={"organization_id": org_id})


def test_a_message_from_another_org_is_refused():
    with pytest.raises(VerificationError, match="OrganizationId does not match"):
        salesforce.verify(fixture("outbound-opportunity-won.xml"), {}, None,
                          settings={"organization_id": "00D5e000000ZZZZEAG"})


def test_an_endpoint_without_an_org_id_accepts_nothing():
    with pytest.raises(VerificationError, match="no Salesforce OrganizationId"):
        salesforce.verify(fixture("outbound-opportunity-won.xml"), {}, None, settings={})


def test_a_configured_action_id_must_match_too():
    body = fixture("outbound-opportunity-won.xml")
    salesforce.verify(body, {}, None, settings={**ORG, "action_id": "04k5e000000CaRkAAK"})
    with pytest.raises(VerificationError, match="ActionId"):
        salesforce.verify(body, {}, None, settings={**ORG, "action_id": "04k5e000000XXXXAAK"})


def test_a_tampered_org_id_in_the_body_is_refused():
    body = fixture("outbound-opportunity-won.xml").replace(b"00D5e000000KQ2eEAG", b"00D5e000000KQ2fEAG")
    with pytest.raises(VerificationError):
        salesforce.verify(body, {}, None, settings=ORG)


@pytest.mark.parametrize("name", ["attack-external-entity.xml", "attack-billion-laughs.xml"])
def test_xml_with_entities_is_refused_and_never_expanded(name):
    with pytest.raises(VerificationError, match="DTD, entity"):
        salesforce.verify(fixture(name), {}, None, settings=ORG)
    with pytest.raises(PayloadError, match="DTD, entity"):
        salesforce.events(fixture(name), {}, settings=ORG)
    assert salesforce.delivery_key(fixture(name), {}).startswith("sha256:")


@pytest.mark.parametrize("body", [b"", b"  ", b"\xff\xfe<a/>", b"<notifications", b"{}", b"<a>" * 3000 + b"</a>" * 3000])
def test_unreadable_bodies_cannot_be_authenticated_and_are_payload_errors_to_events(body):
    with pytest.raises(VerificationError):
        salesforce.verify(body, {}, None, settings=ORG)
    with pytest.raises(PayloadError):
        salesforce.events(body, {})
    assert salesforce.delivery_key(body, {}).startswith("sha256:")


def test_a_won_opportunity_is_a_deal_won_event_with_its_amount_and_account():
    body = fixture("outbound-opportunity-won.xml")
    [event] = salesforce.events(body, {}, settings=ORG)
    assert event.kind is EventKind.DEAL_WON
    assert (event.source, event.source_object_id, event.source_event_id) == (
        "salesforce", "0065e00000BvQ1mAAF", "04l5e00000Gx7QzAAJ")
    assert (event.amount, event.currency) == (Decimal("36000.0"), "USD")
    assert event.source_customer.id == "0015e00000ZkM3hAAF"
    assert event.occurred_at == datetime(2026, 1, 5, 16, 20, 11, tzinfo=UTC)
    assert salesforce.ignored_reason(body, {}) is None


def test_an_opportunity_at_another_stage_is_ignored_with_its_stage_named():
    body = fixture("outbound-opportunity-not-won.xml")
    assert salesforce.events(body, {}) == []
    assert salesforce.ignored_reason(body, {}) == (
        "no won opportunity: opportunity 0065e00000BvQ2nAAF is at stage 'Negotiation/Review', not won")


def test_a_batch_yields_only_its_won_opportunities_and_an_org_currency_fills_a_missing_one():
    [event] = salesforce.events(fixture("outbound-two-notifications.xml"), {}, settings={**ORG, "currency": "USD"})
    assert event.source_object_id == "0065e00000BvQ3oAAF" and event.currency == "USD"
    assert event.amount is None and event.source_customer is None  # enrichment fetches them
    assert event.occurred_at == datetime(2026, 1, 6, tzinfo=UTC)


def test_a_custom_won_stage_name_counts_when_the_endpoint_names_it():
    body = fixture("outbound-opportunity-not-won.xml")
    [event] = salesforce.events(body, {}, settings={"won_stage_names": ["Negotiation/Review"]})
    assert event.source_object_id == "0065e00000BvQ2nAAF"


def test_the_delivery_key_is_the_org_and_the_notification_ids():
    assert salesforce.delivery_key(fixture("outbound-opportunity-won.xml"), {}) == "00D5e000000KQ2e:04l5e00000Gx7QzAAJ"
    batch = salesforce.delivery_key(fixture("outbound-two-notifications.xml"), {})
    assert batch.startswith("00D5e000000KQ2e:batch:")
    assert batch == salesforce.delivery_key(fixture("outbound-two-notifications.xml").replace(b"\n", b"\r\n"), {})


def test_the_reply_is_a_soap_acknowledgement_that_salesforce_accepts():
    status, headers, body = salesforce.reply(fixture("outbound-opportunity-won.xml"), {})
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    ack = ElementTree.fromstring(body).find(".//{http://soap.sforce.com/2005/09/outbound}notificationsResponse")
    assert ack.findtext("{http://soap.sforce.com/2005/09/outbound}Ack") == "true"
    assert salesforce.REPLY_AFTER_STORE is True


def test_a_won_opportunity_without_any_date_is_a_payload_error_naming_the_missing_field():
    body = fixture("outbound-two-notifications.xml").replace(b"<sf:CloseDate>2026-01-06</sf:CloseDate>", b"")
    with pytest.raises(PayloadError, match="no LastModifiedDate or CloseDate"):
        salesforce.events(body, {})


@given(st.text(max_size=200))
def test_any_text_gives_events_or_a_payload_error_and_never_another_exception(text):
    body = ("<?xml version='1.0'?><notifications xmlns='http://soap.sforce.com/2005/09/outbound'>"
            f"<Notification><Id>1</Id>{text}</Notification></notifications>").encode()
    try:
        salesforce.events(body, {})
        salesforce.ignored_reason(body, {})
    except PayloadError:
        pass
    salesforce.delivery_key(body, {})


@pytest.mark.parametrize("name, org_id, opportunity, stage", [
    ("captured-opportunity-negotiation.xml", "00D5w000004qGTOEA2", "0065w000023STAmAAO", "Negotiation/Review"),
    ("captured-opportunity-perception-analysis.xml", "00D7F00000107XsUAI", "0067F000003pmdWQAQ",
     "Perception Analysis"),
])
def test_captured_outbound_messages_for_opportunities_not_won_are_acknowledged_and_ignored(
        name, org_id, opportunity, stage):
    body = fixture(name)  # messages Salesforce orgs really sent (tests/fixtures/salesforce/SOURCES.md)
    salesforce.verify(body, {}, None, settings={"organization_id": org_id})
    with pytest.raises(VerificationError, match="OrganizationId does not match"):
        salesforce.verify(body, {}, None, settings=ORG)
    assert salesforce.events(body, {}) == []
    assert salesforce.ignored_reason(body, {}) == (
        f"no won opportunity: opportunity {opportunity} is at stage {stage!r}, not won")
    status, _, ack = salesforce.reply(body, {})
    assert status == 200 and b"<Ack>true</Ack>" in ack
