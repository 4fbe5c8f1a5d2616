"""What the usage ledger asks of its neighbours, as replaceable functions.

The posting pipeline knows what was billed before (``History``, folded from stored drafts): it
registers its function with ``set_history_provider`` (until then: an empty history). Intake knows
agreements, project mappings and how to raise an internal event: those default to intake's services
(``addon.usage.neighbours``). Setting a function replaces the default; setting None restores it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from rules import Agreement, Event, History

HistoryProvider = Callable[[Session, str, str], History]
AgreementProvider = Callable[[Session, str, str], "Agreement | None"]
ProjectResolver = Callable[[Session, str, str, Sequence[str]], "str | None"]
EventRaiser = Callable[[Session, str, Event], Any]

_history: HistoryProvider | None = None
_agreement: AgreementProvider | None = None
_resolver: ProjectResolver | None = None
_raiser: EventRaiser | None = None


def set_history_provider(fn: HistoryProvider | None) -> None:
    """Register ``fn(session, company_id, agreement_id) -> rules.History`` (None: empty history)."""
    global _history
    _history = fn


def set_agreement_provider(fn: AgreementProvider | None) -> None:
    """Register ``fn(session, company_id, agreement_id) -> rules.Agreement | None``."""
    global _agreement
    _agreement = fn


def set_project_resolver(fn: ProjectResolver | None) -> None:
    """Register ``fn(session, company_id, source, mapping_keys) -> agreement id | None``, which
    returns the agreement of the first (most specific) key that has a project mapping."""
    global _resolver
    _resolver = fn


def set_event_raiser(fn: EventRaiser | None) -> None:
    """Register ``fn(session, company_id, event)`` that stores an internal event (intake's
    ``eventflow.raise_event``)."""
    global _raiser
    _raiser = fn


def history(session: Session, company_id: str, agreement_id: str) -> History:
    """What was billed before for the agreement (empty until the posting pipeline registers)."""
    return _history(session, company_id, agreement_id) if _history is not None else History()


def agreement(session: Session, company_id: str, agreement_id: str) -> Agreement | None:
    """The agreement, or None when it is unknown."""
    if _agreement is not None:
        return _agreement(session, company_id, agreement_id)
    from addon.usage import neighbours

    return neighbours.agreement(session, company_id, agreement_id)


def resolve_project(session: Session, company_id: str, source: str, keys: Sequence[str]) -> str | None:
    """The agreement the first mapped key names, or None: the usage needs mapping."""
    if not keys:
        return None
    if _resolver is not None:
        return _resolver(session, company_id, source, keys)
    from addon.usage import neighbours

    return neighbours.resolve_project(session, company_id, source, keys)


def raise_event(session: Session, company_id: str, event: Event) -> None:
    """Store an internal event in the caller's transaction."""
    if _raiser is not None:
        _raiser(session, company_id, event)
        return
    from addon.usage import neighbours

    neighbours.raise_event(session, company_id, event)


def snapshot() -> tuple:
    """The registered functions (tests restore them afterwards)."""
    return _history, _agreement, _resolver, _raiser


def restore(saved: tuple) -> None:
    """Put back what ``snapshot`` returned."""
    global _history, _agreement, _resolver, _raiser
    _history, _agreement, _resolver, _raiser = saved
