"""Asana enrichment: read each task an event names and decide whether it really is completed, or
what the custom field a usage event names now holds (``connectors.asana_fields``).

``GET /tasks/{task_gid}`` with ``opt_fields`` (https://developers.asana.com/reference/gettask) and a
personal access token or OAuth token as ``Authorization: Bearer`` (https://developers.asana.com/docs/authentication).
Rate limits answer 429 with ``Retry-After`` (https://developers.asana.com/docs/rate-limits).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from connectors import asana_fields
from connectors.api_client import JsonApi, stored_token, unreadable_as_enrichment
from connectors.base import DroppedEvent, Enriched, dict_or_empty, mapping_key
from connectors.errors import EnrichmentError
from connectors.timeparse import parse_timestamp
from rules.events import Event

API_BASE = "https://app.asana.com/api/1.0"
TASK_FIELDS = ",".join([
    "name", "completed", "completed_at", "resource_subtype", "permalink_url", "projects.name",
    "workspace.name", "custom_fields.name", "custom_fields.display_value", *asana_fields.TASK_FIELDS,
])


def enrich(events: Iterable[Event], *, credentials, base_url: str | None = None,
           session: requests.Session | None = None, settings: Mapping[str, Any] | None = None) -> Enriched:
    """Confirm each Asana completion with the task itself, and read the custom field each usage event
    names; ``.dropped`` lists the events that bill nothing, with the reason."""
    settings = settings or {}
    events = list(events)
    pending = [e for e in events if e.source == "asana" and e.attributes.get("needs_enrichment")]
    if not pending:
        return Enriched(events)
    token = stored_token(credentials, ("token", "access_token"), "no Asana API token is stored for this endpoint "
                         "(autobill endpoints create --api-token-stdin)")
    tasks: dict[str, dict | None] = {}
    with JsonApi(base_url or API_BASE, headers={"Authorization": f"Bearer {token}"}, vendor="Asana",
                 session=session) as api:
        for event in pending:
            gid = _task_gid(event)
            if gid not in tasks:
                tasks[gid] = _fetch(api, gid)
    waiting = {id(event) for event in pending}
    kept, dropped = [], []
    for event in events:
        if id(event) not in waiting:
            kept.append(event)
            continue
        if event.attributes.get("custom_field"):
            _usage(event, tasks[_task_gid(event)], settings, kept, dropped)
            continue
        task = tasks[event.source_object_id]
        verdict = _verdict(event.source_object_id, task, settings)
        if verdict:
            dropped.append(DroppedEvent(event, verdict))
        else:
            kept.append(_completed(event, task))
    return Enriched(kept, dropped)


def _task_gid(event: Event) -> str:
    """The task an event is about: a completion names it as its source object, a custom field event
    as ``task_gid`` (its source object is the task and the field)."""
    return str(event.attributes.get("task_gid") or event.source_object_id) if event.attributes.get("custom_field") \
        else event.source_object_id


def _usage(event: Event, task: dict | None, settings, kept: list, dropped: list) -> None:
    if task is None:
        # Not a deletion: a deleted task sends its own ``deleted`` event; this may be lost access.
        dropped.append(DroppedEvent(event, f"Asana task {_task_gid(event)} no longer exists or the connected "
                                           f"account cannot see it, so its custom field cannot be read"))
        return
    with unreadable_as_enrichment(f"Asana task {_task_gid(event)}"):
        found = asana_fields.completed(event, task, settings)
    if isinstance(found, str):
        dropped.append(DroppedEvent(event, found))
    else:
        kept.append(found)


def _fetch(api: JsonApi, gid: str) -> dict | None:
    if not gid.isdigit():
        raise EnrichmentError(f"Asana task id {gid!r} is not a gid")
    answer = api.get(f"/tasks/{gid}", params={"opt_fields": TASK_FIELDS}, missing_ok=True)
    if answer is None:  # 404: the task is gone, or the connected account cannot see it
        return None
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise EnrichmentError("Asana answered without a task object")
    return data


def _verdict(gid: str, task: dict | None, settings: Mapping[str, Any]) -> str | None:
    if task is None:
        return f"Asana task {gid} no longer exists or the connected account cannot see it"
    if task.get("completed") is not True:
        return f"Asana task {gid} is not completed (it was marked incomplete again before autobill looked)"
    if settings.get("milestones_only") and task.get("resource_subtype") != "milestone":
        return f"Asana task {gid} is not a milestone and this endpoint bills milestones only"
    return None


def _completed(event: Event, task: dict) -> Event:
    projects = [p for p in task.get("projects") or [] if isinstance(p, dict) and p.get("gid")]
    workspace = dict_or_empty(task.get("workspace"))
    keys = [mapping_key("project", "asana", p["gid"]) for p in projects]
    if workspace.get("gid"):
        keys.append(mapping_key("workspace", "asana", workspace["gid"]))
    fields = {str(f.get("name")): f.get("display_value") for f in task.get("custom_fields") or []
              if isinstance(f, dict) and f.get("name")}
    with unreadable_as_enrichment(f"Asana task {event.source_object_id}"):
        finished = parse_timestamp(task["completed_at"], what="completed_at") if task.get("completed_at") \
            else event.occurred_at
    return dataclasses.replace(event, occurred_at=finished, attributes={
        **event.attributes,
        "needs_enrichment": False,
        "title": task.get("name"),
        "resource_subtype": task.get("resource_subtype"),
        "is_milestone": task.get("resource_subtype") == "milestone",
        "projects": [{"gid": p["gid"], "name": p.get("name")} for p in projects],
        "custom_fields": fields,
        "url": task.get("permalink_url"),
        "mapping_keys": keys,
    })
