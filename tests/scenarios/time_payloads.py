"""Toggl and Clockify webhook bodies for the scenarios, made from the vendors' own samples in
tests/fixtures/ (sources named there) with the ids, times and durations a scenario needs."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOGGL_PROJECT = 4242
CLOCKIFY_PROJECT = "64c777ddd3fcab07cfbb210c"


def _load(vendor: str, name: str) -> dict:
    return json.loads((FIXTURES / vendor / name).read_text())


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def toggl(entry_id: int, start: datetime, seconds: int, *, changed: datetime, project: int = TOGGL_PROJECT,
          deleted: bool = False, event_id: int | None = None) -> tuple[bytes, dict]:
    """A Toggl Track webhook: a stopped time entry created or updated (or deleted) at ``changed``."""
    body = copy.deepcopy(_load("toggl", "time_entry_deleted.json" if deleted else "time_entry_updated_stopped.json"))
    entry = body["payload"]
    entry.update({"id": entry_id, "start": _z(start), "stop": _z(start + timedelta(seconds=seconds)),
                  "duration": seconds, "at": _z(changed), "project_id": project, "billable": True,
                  "description": f"Northwind support #{entry_id}",
                  "server_deleted_at": _z(changed) if deleted else None})
    body["event_id"] = event_id or int(f"{entry_id}{int(changed.timestamp())}")
    body["metadata"]["time_entry_id"] = str(entry_id)
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


def clockify(entry_id: str, start: datetime, duration: str, end: datetime, *, deleted: bool = False,
             kind: str = "NEW_TIME_ENTRY") -> tuple[bytes, dict]:
    """A Clockify webhook: a finished time entry (``duration`` as ISO 8601, ``PT3H6M``), or its deletion."""
    body = copy.deepcopy(_load("clockify", "time_entry.json"))
    body.update({"id": entry_id, "projectId": CLOCKIFY_PROJECT,
                 "timeInterval": {"start": _z(start), "end": _z(end), "duration": duration}})
    event_type = "TIME_ENTRY_DELETED" if deleted else kind
    return json.dumps(body).encode(), {"Content-Type": "application/json", "Clockify-Webhook-Event-Type": event_type}
