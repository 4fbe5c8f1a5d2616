"""Salesforce Outbound Messaging: an Opportunity that is won becomes a ``deal_won`` event.

Outbound messages are SOAP 1.1 ``notifications`` of up to 100 ``Notification`` elements, each an
id and an ``sObject`` with the fields chosen when the message was set up:
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm
They are queued for 24 hours, may arrive more than once and out of order, and are retried until the
listener answers with ``notificationsResponse``/``Ack`` true:
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm
There is no signature: authenticity is the unguessable endpoint URL over TLS plus the sending
org's ``OrganizationId`` (and optionally the ``ActionId``), which every endpoint must name.

XML is parsed with defusedxml: a body with a DTD, entity declarations or external references is
refused as not authentic (Salesforce never sends one), never expanded.

Per-endpoint settings: ``organization_id`` (required; 15 or 18 characters), ``action_id``,
``won_stage_names`` (default ``["Closed Won"]``; ``IsWon`` true always counts), ``currency``
(the org's currency when the message carries no ``CurrencyIsoCode``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring

from connectors.base import Reading, batch_key, body_digest, decimal_or_none, setting
from connectors.errors import PayloadError, VerificationError
from connectors.salesforce_api import enrich
from connectors.signing import same
from connectors.timeparse import parse_day, parse_instant
from rules.events import Event, EventKind, SourceCustomer

SOURCE = "salesforce"
OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# The listener's answer; the front door sends it as the 2xx body only after storing the delivery.
ACK = (b'<?xml version="1.0" encoding="UTF-8"?>'
       b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')
# ``reply`` is an acknowledgement to send after the store, not a handshake to answer instead of it.
REPLY_AFTER_STORE = True

__all__ = ["verify", "delivery_key", "events", "ignored_reason", "reply", "enrich", "REPLY_AFTER_STORE"]


class Message:
    """The parts of one outbound message autobill reads."""

    def __init__(self, root: Element):
        found = root if root.tag == OUTBOUND + "notifications" else root.find(f".//{OUTBOUND}notifications")
        if found is None:
            raise PayloadError("the body is not a Salesforce outbound message (no notifications element)")
        self.organization_id = (found.findtext(OUTBOUND + "OrganizationId") or "").strip()
        self.action_id = (found.findtext(OUTBOUND + "ActionId") or "").strip()
        self.notifications: list[tuple[str, str, dict[str, str | None]]] = []
        for note in found.findall(OUTBOUND + "Notification"):
            sobject = note.find(OUTBOUND + "sObject")
            fields: dict[str, str | None] = {}
            kind = ""
            if sobject is not None:
                kind = (sobject.get(XSI_TYPE) or "").rpartition(":")[2]
                for child in sobject:
                    name = child.tag.rpartition("}")[2]
                    fields[name] = None if child.get(XSI_NIL) == "true" else (child.text or "").strip()
            self.notifications.append(((note.findtext(OUTBOUND + "Id") or "").strip(), kind, fields))


def parse(raw_body: bytes) -> Message:
    """The outbound message in ``raw_body``; hostile XML is a ``VerificationError``, bad XML a ``PayloadError``."""
    if not raw_body or not raw_body.strip():
        raise PayloadError("body is empty")
    try:
        return Message(fromstring(raw_body, forbid_dtd=True, forbid_entities=True, forbid_external=True))
    except defusedxml.DefusedXmlException:
        raise VerificationError("XML with a DTD, entity declarations or external references is refused") from None
    except (ParseError, ValueError) as exc:
        raise PayloadError(f"body is not well-formed XML ({str(exc)[:80]})") from None


def _org15(org_id: str) -> str:
    # An 18-character id is the 15-character id plus a case-insensitive checksum.
    return org_id.strip()[:15]


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Accept only a well-formed outbound message from the org (and action) the endpoint names."""
    expected = str(setting(settings, "organization_id", "") or "")
    if len(expected.strip()) < 15:
        raise VerificationError("no Salesforce OrganizationId is configured for this endpoint")
    try:
        message = parse(raw_body)
    except PayloadError as exc:
        # Without a readable OrganizationId nothing shows the body came from the org.
        raise VerificationError(f"cannot check the OrganizationId: {exc.message}") from None
    if not same(_org15(message.organization_id), _org15(expected)):
        raise VerificationError("OrganizationId does not match the endpoint's Salesforce org")
    action = setting(settings, "action_id")
    if action and not same(_org15(message.action_id), _org15(str(action))):
        raise VerificationError("ActionId does not match the endpoint's outbound message")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """The org and the notification ids; a redelivered message repeats them."""
    try:
        message = parse(raw_body)
    except (PayloadError, VerificationError):
        return body_digest(raw_body)
    ids = sorted({note_id for note_id, _, _ in message.notifications if note_id})
    if not ids:
        return body_digest(raw_body)
    return batch_key(_org15(message.organization_id), ids)


def reply(raw_body: bytes, headers: Mapping[str, str]):
    """The SOAP acknowledgement (``Ack`` true), to send as the 2xx body once the delivery is stored."""
    return 200, {"Content-Type": "text/xml; charset=utf-8"}, ACK


def _occurred_at(fields: dict, note_id: str) -> datetime:
    for name in ("LastModifiedDate", "SystemModstamp"):
        if fields.get(name):
            return parse_instant(fields[name], f"{name} of notification {note_id}")
    if fields.get("CloseDate"):
        day = parse_day(fields["CloseDate"], f"CloseDate of notification {note_id}")
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    raise PayloadError(f"notification {note_id} carries no LastModifiedDate or CloseDate; add one to the message")


def _classify(raw_body: bytes, settings) -> Reading:
    try:
        message = parse(raw_body)
    except VerificationError as exc:
        raise PayloadError(exc.message) from None
    won_names = set(setting(settings, "won_stage_names", ["Closed Won"]))
    found: dict[str, Event] = {}
    skipped: list[str] = []
    for note_id, kind, fields in message.notifications:
        if kind != "Opportunity":
            skipped.append(f"a {kind or 'unknown'} notification, not an Opportunity")
            continue
        opportunity = fields.get("Id")
        if not opportunity:
            raise PayloadError(f"notification {note_id} has no Opportunity Id; add Id to the message")
        stage = fields.get("StageName")
        if fields.get("IsWon") != "true" and stage not in won_names:
            skipped.append(f"opportunity {opportunity} is at stage {stage!r}, not won")
            continue
        if opportunity in found:
            continue
        account = fields.get("AccountId")
        found[opportunity] = Event(
            kind=EventKind.DEAL_WON, source=SOURCE, source_object_id=opportunity,
            occurred_at=_occurred_at(fields, note_id),
            source_customer=SourceCustomer(id=account) if account else None,
            amount=decimal_or_none(fields.get("Amount"), f"Amount of notification {note_id}"),
            currency=fields.get("CurrencyIsoCode") or setting(settings, "currency"),
            source_event_id=note_id or None,
            attributes={"name": fields.get("Name"), "stage": stage, "close_date": fields.get("CloseDate"),
                        "account_id": account, "organization_id": message.organization_id,
                        "action_id": message.action_id, "needs_enrichment": True},
        )
    return Reading.from_skipped(list(found.values()), skipped, empty="the message carries no notifications",
                                heading="no won opportunity")


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """One ``deal_won`` event per won Opportunity in the message."""
    return _classify(raw_body, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why the message yields no event (``None`` when it yields some)."""
    return _classify(raw_body, settings).ignored
