"""GitHub: a milestone closed (and, by setting, an issue closed with a billing label) is work done.

Signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>``
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
``X-GitHub-Delivery`` is kept on redelivery, so it is the dedupe key:
https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks
Payloads: https://docs.github.com/en/webhooks/webhook-events-and-payloads#milestone
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Headers, Reading, as_dict, header_key, load_json, mapping_key, read_guard
from connectors.signing import verify_hex_hmac
from connectors.timeparse import parse_timestamp
from rules.events import Event, EventKind

SOURCE = "github"


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``X-Hub-Signature-256`` is the body's HMAC under ``secret``."""
    # The legacy SHA-1 X-Hub-Signature is deliberately not accepted.
    verify_hex_hmac(raw_body, Headers(headers).get("X-Hub-Signature-256"), secret,
                    header="X-Hub-Signature-256", prefix="sha256=")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """``X-GitHub-Delivery``, which GitHub keeps when a delivery is redelivered."""
    return header_key(headers, "X-GitHub-Delivery", raw_body)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """A closed milestone (or labelled issue) as a ``MILESTONE_COMPLETED`` event; else nothing."""
    return _read(raw_body, headers, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, headers, settings).ignored


@read_guard
def _read(raw_body: bytes, headers: Mapping[str, str], settings: Mapping[str, Any] | None) -> Reading:
    payload = as_dict(load_json(raw_body), "the payload")
    kind = (Headers(headers).get("X-GitHub-Event") or "").strip()
    action = payload.get("action")
    if kind == "ping":
        return Reading([], "ping: GitHub's test delivery sent when the webhook is created")
    if kind == "milestone":
        if action != "closed":
            return Reading([], f"milestone {action}: only a closed milestone is work done")
        return Reading([_milestone_event(payload, headers)])
    if kind == "issues":
        return _labelled_issue(payload, headers, settings or {})
    return Reading([], f"{kind or 'unnamed'} events do not concern billing (subscribe to milestone "
                       f"and issues only)")


def _repository(payload: dict) -> tuple[str, list[str]]:
    repo = as_dict(payload.get("repository"), "repository")
    full_name = str(repo["full_name"])
    owner = full_name.split("/", 1)[0]
    keys = [mapping_key("repository", SOURCE, full_name), mapping_key("owner", SOURCE, owner)]
    return full_name, keys


def _milestone_event(payload: dict, headers: Mapping[str, str]) -> Event:
    milestone = as_dict(payload.get("milestone"), "milestone")
    full_name, keys = _repository(payload)
    number = int(milestone["number"])
    closed = milestone.get("closed_at") or milestone.get("updated_at")
    return Event(
        kind=EventKind.MILESTONE_COMPLETED,
        source=SOURCE,
        source_object_id=f"{full_name}#milestone-{number}",
        occurred_at=parse_timestamp(closed, what="milestone.closed_at"),
        source_event_id=Headers(headers).get("X-GitHub-Delivery"),
        attributes={
            "title": milestone.get("title"),
            "description": milestone.get("description"),
            "number": number,
            "github_id": milestone.get("id"),
            "due_on": milestone.get("due_on"),
            "closed_issues": milestone.get("closed_issues"),
            "open_issues": milestone.get("open_issues"),
            "closed_by": as_dict(payload.get("sender") or {}, "sender").get("login"),
            "url": milestone.get("html_url"),
            "mapping_keys": keys,
        },
    )


def _labelled_issue(payload: dict, headers: Mapping[str, str], settings: Mapping[str, Any]) -> Reading:
    action = payload.get("action")
    label = settings.get("billing_label")
    if action != "closed":
        return Reading([], f"issue {action}: only a closed issue can be work done")
    if not label:
        return Reading([], "closed issues bill only when the endpoint has a billing_label setting")
    issue = as_dict(payload.get("issue"), "issue")
    names = [str(as_dict(item, "issue label")["name"]) for item in issue.get("labels") or []]
    number = int(issue["number"])
    if str(label).casefold() not in {name.casefold() for name in names}:
        return Reading([], f"issue #{number} was closed without the billing label {label!r}")
    if issue.get("state_reason") == "not_planned":
        return Reading([], f"issue #{number} was closed as not planned")
    full_name, keys = _repository(payload)
    return Reading([Event(
        kind=EventKind.MILESTONE_COMPLETED,
        source=SOURCE,
        source_object_id=f"{full_name}#issue-{number}",
        occurred_at=parse_timestamp(issue.get("closed_at") or issue.get("updated_at"), what="issue.closed_at"),
        source_event_id=Headers(headers).get("X-GitHub-Delivery"),
        attributes={
            "title": issue.get("title"),
            "number": number,
            "github_id": issue.get("id"),
            "labels": names,
            "closed_by": as_dict(payload.get("sender") or {}, "sender").get("login"),
            "url": issue.get("html_url"),
            "mapping_keys": keys,
        },
    )])
