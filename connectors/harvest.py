"""Harvest (API v2) has no webhooks: ``poll`` fetches time entries updated since a stored cursor.

Requests carry ``Authorization: Bearer``, ``Harvest-Account-Id`` and a ``User-Agent`` naming the app
(https://help.getharvest.com/api-v2/introduction/overview/general/). ``GET /v2/time_entries`` filters by
``updated_since`` and pages with ``links.next`` (cursor pagination, where ``next_page`` may be null:
https://help.getharvest.com/api-v2/introduction/overview/pagination/). Limits: 100 requests per 15 s,
then 429 with ``Retry-After`` in seconds (same overview page, "Rate limiting").

The cursor is an ISO 8601 UTC time. After a complete poll it moves to ``now - OVERLAP``, not to the
newest ``updated_at`` seen: an entry edited while we page through may move between pages, and
Harvest's clock is not ours, so the next poll re-reads a few minutes. Re-read entries come back as
the same (id, ``updated_at``) version, which the usage ledger stores once.
Harvest's API lists no deleted entries, so a deletion in Harvest is not seen by polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors.api_client import JsonApi, RateLimited
from connectors.base import dict_or_empty, mapping_key
from connectors.errors import ConnectorError, EnrichmentError
from connectors.timeparse import as_aware, parse_timestamp
from rules.events import Event, EventKind

SOURCE = "harvest"
API_BASE = "https://api.harvestapp.com/v2"
USER_AGENT = "autobill time import (https://github.com/autobill/autobill)"
OVERLAP = timedelta(minutes=5)
FIRST_POLL_LOOKBACK = timedelta(days=31)
MAX_PAGES = 1000  # a server that always answers "next" must not keep a worker forever
MAX_WAITS_PER_PAGE = 3
# (connect, read) seconds: a page holds up to 2,000 entries, so reading one may take longer than a single record.
POLL_TIMEOUT = (5.0, 30.0)


@dataclass(frozen=True)
class PollResult:
    """One poll's outcome. Store ``events`` first, then save ``cursor`` (unchanged when incomplete)."""

    events: list[Event]
    cursor: str
    complete: bool = True
    retry_after: float | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    pages: int = 0


def _credentials(credentials: Any) -> tuple[str, str]:
    if isinstance(credentials, Mapping):
        token = credentials.get("token") or credentials.get("access_token")
        account = credentials.get("account_id")
        if isinstance(token, str) and token.strip() and account not in (None, ""):
            return token.strip(), str(account).strip()
    raise EnrichmentError("Harvest needs stored credentials with an account_id and a token")


def _cursor_time(cursor: str | None, now: datetime) -> datetime:
    if cursor is None:
        return now - FIRST_POLL_LOOKBACK
    try:
        return parse_timestamp(cursor, what="cursor")
    except ConnectorError:
        raise ValueError(f"Harvest cursor {cursor!r} is not an ISO 8601 time") from None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def poll(credentials, cursor: str | None, *, base_url: str | None = None,
         session: requests.Session | None = None, now: datetime | None = None, page_size: int = 500,
         settings: Mapping[str, Any] | None = None, max_wait_seconds: float = 15.0,
         sleep: Callable[[float], None] = time.sleep, user_agent: str = USER_AGENT) -> PollResult:
    """Time entries updated since ``cursor`` as ``TIME_LOGGED`` events, and the cursor to save after."""
    if not 1 <= page_size <= 2000:
        raise ValueError(f"page_size must be between 1 and 2000, not {page_size}")
    now = as_aware(now)
    token, account = _credentials(credentials)
    since = _cursor_time(cursor, now)
    headers = {"Authorization": f"Bearer {token}", "Harvest-Account-Id": account, "User-Agent": user_agent}
    page: tuple[str, dict | None] | None = ("", {"updated_since": _iso(since), "per_page": page_size})
    found: list[Event] = []
    skipped: list[tuple[str, str]] = []
    pages = waits = 0
    with JsonApi(base_url or API_BASE, headers=headers, vendor="Harvest", session=session,
                 timeout=POLL_TIMEOUT) as api:
        while page:
            if pages >= MAX_PAGES:
                raise EnrichmentError(f"Harvest kept answering with more pages after {MAX_PAGES}")
            link, params = page
            try:
                answer = api.follow(link) if link else api.get("/time_entries", params=params)
            except RateLimited as limited:
                wait = limited.retry_after if limited.retry_after is not None else 15.0
                if wait <= max_wait_seconds and waits < MAX_WAITS_PER_PAGE:
                    waits += 1
                    sleep(wait)
                    continue
                # Stop early: what was read is returned, the cursor stays, the next poll resumes.
                return PollResult(found, cursor or _iso(since), complete=False, retry_after=wait,
                                  skipped=skipped, pages=pages)
            pages, waits = pages + 1, 0
            body = dict_or_empty(answer)
            entries = body.get("time_entries")
            if not isinstance(entries, list):
                raise EnrichmentError("Harvest answered without a time_entries list")
            for entry in entries:
                _take(entry, settings or {}, found, skipped)
            page = _next(body, page_size, since)
    return PollResult(found, _iso(max(since, now - OVERLAP)), skipped=skipped, pages=pages)


def _next(body: dict, page_size: int, since: datetime) -> tuple[str, dict | None] | None:
    """The next page: a ``links.next`` URL (``JsonApi.follow`` refuses another host), else a page number."""
    links = dict_or_empty(body.get("links"))
    following = links.get("next")
    if isinstance(following, str) and following:
        return following, None
    if isinstance(body.get("next_page"), int):
        return "", {"updated_since": _iso(since), "per_page": page_size, "page": body["next_page"]}
    return None


def _take(entry: Any, settings: Mapping[str, Any], found: list[Event], skipped: list[tuple[str, str]]) -> None:
    entry_id = str(entry.get("id")) if isinstance(entry, dict) else "?"
    try:
        if entry.get("is_running"):
            skipped.append((entry_id, "a running timer; it counts once stopped"))
            return
        found.append(_event(entry, settings))
    except (ConnectorError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        skipped.append((entry_id, f"could not be read ({type(exc).__name__}: {exc})"))


def _event(entry: dict, settings: Mapping[str, Any]) -> Event:
    project, client = dict_or_empty(entry.get("project")), dict_or_empty(entry.get("client"))
    user, task = dict_or_empty(entry.get("user")), dict_or_empty(entry.get("task"))
    hours = entry["rounded_hours"] if settings.get("use_rounded_hours") else entry["hours"]
    keys = []
    if project.get("id"):
        keys.append(mapping_key("project", SOURCE, project["id"]))
    if client.get("id"):
        keys.append(mapping_key("client", SOURCE, client["id"]))
    updated = parse_timestamp(entry["updated_at"], what="updated_at")
    rate = entry.get("billable_rate")
    return Event(
        kind=EventKind.TIME_LOGGED,
        source=SOURCE,
        source_object_id=str(entry["id"]),
        occurred_at=updated,
        source_event_id=f"{entry['id']}@{entry['updated_at']}",
        attributes={
            "date": datetime.strptime(str(entry["spent_date"]), "%Y-%m-%d").date().isoformat(),
            "hours": str(hours),
            "rounded_hours": str(entry.get("rounded_hours")) if entry.get("rounded_hours") is not None else None,
            "person": user.get("name"),
            "person_id": user.get("id"),
            "task": task.get("name"),
            "project": project.get("name"),
            "billable": bool(entry.get("billable", True)),
            "rate": str(rate) if rate is not None else None,
            "currency": client.get("currency"),
            "description": entry.get("notes") or "",
            "deleted": False,
            "is_billed": bool(entry.get("is_billed", False)),
            "is_locked": bool(entry.get("is_locked", False)),
            "updated_at": updated.isoformat(),
            "mapping_keys": keys,
        },
    )
