"""Jira Cloud: an issue moved to a done status, a version released, worklogs as time, and custom
fields as expenses and SLA breaches (``connectors.jira_fields``).

Admin webhooks created with a secret sign the body: ``X-Hub-Signature: sha256=<hex HMAC-SHA256>``
https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
``X-Atlassian-Webhook-Identifier`` is unique per delivery and kept across retries (same page,
"Retry policy"). Done is judged by the status *category* ``done``, because status names differ per
workflow: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from connectors import jira_fields
from connectors.base import (
    Headers,
    Reading,
    as_dict,
    header_key,
    hours_from_seconds,
    load_json,
    mapping_key,
    read_guard,
)
from connectors.custom_fields import check_settings as _check_fields
from connectors.signing import verify_hex_hmac
from connectors.timeparse import local_date, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "jira"
WORKLOG_EVENTS = {"worklog_created": False, "worklog_updated": False, "worklog_deleted": True}
ISSUE_EVENTS = {"jira:issue_created": jira_fields.CREATED, "jira:issue_updated": jira_fields.UPDATED,
                "jira:issue_deleted": jira_fields.DELETED}


def check_settings(settings) -> None:
    """Refuse ``expense_fields`` / ``sla_breach_fields`` settings that are not of the documented form."""
    _check_fields(settings, source=SOURCE)


def verify(raw_body: bytes, headers: Mapping[str, str], secret, *, url=None, method="POST", now=None,
           settings=None) -> None:
    """Refuse the request unless ``X-Hub-Signature`` is ``sha256=`` + the body's HMAC under ``secret``."""
    verify_hex_hmac(raw_body, Headers(headers).get("X-Hub-Signature"), secret, header="X-Hub-Signature",
                    prefix="sha256=")


def delivery_key(raw_body: bytes, headers: Mapping[str, str]) -> str:
    """``X-Atlassian-Webhook-Identifier``: one per delivery, the same on every retry."""
    return header_key(headers, "X-Atlassian-Webhook-Identifier", raw_body)


def events(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> list[Event]:
    """Issues moved to done and released versions as milestones; worklogs as time logged; configured
    custom fields as expenses and SLA breaches."""
    return _read(raw_body, headers, settings).events


def ignored_reason(raw_body: bytes, headers: Mapping[str, str], *, settings=None) -> str | None:
    """Why this delivery bills nothing, or ``None`` when it carries an event."""
    return _read(raw_body, headers, settings).ignored


@read_guard
def _read(raw_body: bytes, headers: Mapping[str, str], settings: Mapping[str, Any] | None) -> Reading:
    payload = as_dict(load_json(raw_body), "the payload")
    settings = settings or {}
    kind = payload.get("webhookEvent")
    delivery = Headers(headers).get("X-Atlassian-Webhook-Identifier")
    if kind == "jira:issue_updated" or (kind in ISSUE_EVENTS and jira_fields.field_map(settings)):
        return _issue(payload, delivery, settings, ISSUE_EVENTS[kind])
    if kind == "jira:version_released":
        return _version_released(payload, delivery)
    if kind in WORKLOG_EVENTS:
        return Reading([_worklog(payload, delivery, deleted=WORKLOG_EVENTS[kind], settings=settings)])
    return Reading([], f"{kind or 'an unnamed event'}: not an issue moving to done, a version released, "
                       f"a worklog or an issue's custom field")


def _site(self_url: Any) -> str | None:
    host = urlsplit(str(self_url or "")).hostname
    return host or None


def _object_id(site: str | None, kind: str, object_id: Any) -> str:
    return f"{site}/{kind}/{object_id}" if site else f"{kind}/{object_id}"


def _issue_keys(issue: dict, fields: dict) -> list[str]:
    site = _site(issue.get("self"))
    project = as_dict(fields.get("project") or {}, "issue.fields.project")
    keys = []
    parent = fields.get("parent")
    if isinstance(parent, dict) and parent.get("key"):
        keys.append(mapping_key("parent", SOURCE, parent["key"]))
    if project.get("id"):
        keys.append(mapping_key("project", SOURCE, project["id"]))
    if project.get("key"):
        keys.append(mapping_key("project", SOURCE, project["key"]))
    if site:
        keys.append(mapping_key("site", SOURCE, site))
    return keys


def _issue(payload: dict, delivery: str | None, settings: Mapping[str, Any], transition: str) -> Reading:
    issue = as_dict(payload.get("issue"), "issue")
    fields = as_dict(issue.get("fields"), "issue.fields")
    key = str(issue.get("key") or issue["id"])
    done = _issue_done(payload, issue, fields, key, delivery, settings) if transition == jira_fields.UPDATED \
        else Reading([], f"issue {key} {transition}: only moving to a done status is work done")
    usage = jira_fields.usage_events(payload, issue, fields, transition=transition,
                                     object_id=_object_id(_site(issue.get("self")), "issue", issue["id"]),
                                     keys=_issue_keys(issue, fields), delivery=delivery, settings=settings)
    if done.events or usage.events:
        return Reading([*done.events, *usage.events])
    return Reading([], "; ".join(r for r in (done.reason, usage.reason) if r))


def _issue_done(payload: dict, issue: dict, fields: dict, key: str, delivery: str | None,
                settings: Mapping[str, Any]) -> Reading:
    changelog = as_dict(payload.get("changelog") or {}, "changelog")
    moves = [as_dict(item, "changelog item") for item in changelog.get("items") or []]
    moves = [item for item in moves if item.get("fieldId", item.get("field")) == "status"]
    if not moves:
        changed = sorted({str(as_dict(item, "changelog item").get("field")) for item in changelog.get("items") or []})
        return Reading([], f"issue {key} changed ({', '.join(changed) or 'nothing listed'}) without a status "
                           f"change; only moving to a done status is work done")
    status = as_dict(fields.get("status"), "issue.fields.status")
    category = as_dict(status.get("statusCategory") or {}, "statusCategory").get("key")
    chosen = settings.get("done_statuses")
    if chosen:
        wanted = {str(value).casefold() for value in chosen}
        if not wanted & {str(status.get("id")).casefold(), str(status.get("name")).casefold()}:
            return Reading([], f"issue {key} moved to {status.get('name')!r}, not one of the endpoint's "
                               f"done_statuses")
    elif category != "done":
        return Reading([], f"issue {key} moved to {status.get('name')!r} (status category {category}), "
                           f"not to a done status")
    site = _site(issue.get("self"))
    project = as_dict(fields.get("project") or {}, "issue.fields.project")
    keys = _issue_keys(issue, fields)
    moved_at = fields.get("resolutiondate") or fields.get("updated") or payload.get("timestamp")
    return Reading([Event(
        kind=EventKind.MILESTONE_COMPLETED,
        source=SOURCE,
        source_object_id=_object_id(site, "issue", issue["id"]),
        occurred_at=parse_timestamp(moved_at, what="issue.fields.updated"),
        source_event_id=delivery,
        attributes={
            "issue_key": key,
            "title": fields.get("summary"),
            "status": status.get("name"),
            "issue_type": as_dict(fields.get("issuetype") or {}, "issuetype").get("name"),
            "project": project.get("name"),
            "moved_by": as_dict(payload.get("user") or {}, "user").get("displayName"),
            "mapping_keys": keys,
        },
    )])


def _version_released(payload: dict, delivery: str | None) -> Reading:
    version = as_dict(payload.get("version"), "version")
    if version.get("released") is False:
        return Reading([], f"version {version.get('name')!r} is not marked released")
    site = _site(version.get("self"))
    keys = [mapping_key("project", SOURCE, version["projectId"])] if version.get("projectId") else []
    if site:
        keys.append(mapping_key("site", SOURCE, site))
    return Reading([Event(
        kind=EventKind.MILESTONE_COMPLETED,
        source=SOURCE,
        source_object_id=_object_id(site, "version", version["id"]),
        occurred_at=parse_timestamp(payload.get("timestamp"), what="timestamp"),
        source_event_id=delivery,
        attributes={"title": version.get("name"), "description": version.get("description"),
                    "release_date": version.get("releaseDate") or version.get("userReleaseDate"),
                    "mapping_keys": keys},
    )])


def _worklog(payload: dict, delivery: str | None, *, deleted: bool, settings: Mapping[str, Any]) -> Event:
    worklog = as_dict(payload.get("worklog"), "worklog")
    site = _site(worklog.get("self"))
    author = as_dict(worklog.get("author") or {}, "worklog.author")
    # The worklog carries its author's own offset; the date there is the day the work was done,
    # unless the endpoint names a time zone to bill in.
    started = parse_timestamp(worklog["started"], what="worklog.started", keep_offset=True)
    day = local_date(started, settings) if settings.get("time_zone") else started.date().isoformat()
    comment = worklog.get("comment")
    changed = worklog.get("updated") if not deleted else payload.get("timestamp") or worklog.get("updated")
    keys = [mapping_key("issue", SOURCE, worklog["issueId"])]
    if site:
        keys.append(mapping_key("site", SOURCE, site))
    return Event(
        kind=EventKind.TIME_LOGGED,
        source=SOURCE,
        source_object_id=_object_id(site, "worklog", worklog["id"]),
        occurred_at=parse_timestamp(changed, what="worklog.updated"),
        source_event_id=delivery,
        attributes={
            "date": day,
            "hours": hours_from_seconds(int(worklog["timeSpentSeconds"])),
            "seconds": int(worklog["timeSpentSeconds"]),
            "person": author.get("displayName") or author.get("accountId"),
            "person_id": author.get("accountId"),
            "task": f"issue {worklog['issueId']}",
            "project": None,
            "billable": bool(settings.get("worklogs_billable", True)),
            "rate": None,
            "description": comment if isinstance(comment, str) else "",
            "deleted": deleted,
            "started_at": started.astimezone(UTC).isoformat(),
            "mapping_keys": keys,
        },
    )
