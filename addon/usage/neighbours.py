"""Intake's services as the usage ledger's neighbours: project mappings, agreements, raising events.

These are the defaults ``addon.usage.providers`` falls back to; tests may set stand-ins there.
"""

from __future__ import annotations

from addon import eventflow
from addon.agreements import Agreements
from addon.errors import NotFound
from addon.mappings import Mappings
from addon.models.mappings import MappingKind

# Both are used only with the caller's session, so they need no container of their own.
_MAPPINGS = Mappings(None)
_AGREEMENTS = Agreements(None)


def resolve_project(session, company_id: str, source: str, keys) -> str | None:
    """The agreement of the first of ``keys`` with a project mapping."""
    found = _MAPPINGS.first(company_id, MappingKind.PROJECT.value, source, list(keys), session=session)
    return found.target if found is not None else None


def agreement(session, company_id: str, agreement_id: str):
    """The stored agreement with its current rules, or None when it is gone."""
    try:
        return _AGREEMENTS.agreement(company_id, agreement_id, session=session)
    except NotFound:
        return None


def raise_event(session, company_id: str, event) -> None:
    """Store a threshold-crossed event through intake (deduped on its source object), enqueued after commit."""
    eventflow.raise_event(session, company_id, event)
