"""Mappings: what a source knows, mapped to QuickBooks or to an agreement, per company.

| kind | key | target | detail |
|---|---|---|---|
| customer | the source customer's id (``7001``, ``person:42``) | the QuickBooks customer's Id | |
| item | a product id, SKU or product name of the source | the QuickBooks item's Id | |
| project | a connector mapping key (``project:toggl:42``) | an agreement id | |
| milestone | a source object id (``acme/site#milestone-3``) | an agreement id | the agreement's milestone id |

Drafting reads all four (``addon.postings.routing``, ``addon.items``); a milestone mapping's detail
must name a milestone of its agreement.

Listeners registered with ``on_set(kind, listener)`` are called as ``listener(container, session,
mapping)`` inside the unit of work that sets the mapping, so what they change (waking the events
that waited for it) commits with it. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import connectors
from addon.agreements import Agreements
from addon.clock import utcnow
from addon.errors import InvalidInput, NotFound
from addon.models.agreements import AgreementRecord
from addon.models.companies import Company
from addon.models.mappings import Mapping, MappingKind
from addon.sqlutil import MAX_KEY, insert_unless_present
from rules.components.milestones import Milestones

Listener = Callable[[Any, Session, "MappingInfo"], None]
_LISTENERS: dict[MappingKind, list[Listener]] = {}
# Sources that are not connectors but may still own mappings (QuickBooks-side or hand-entered keys).
EXTRA_SOURCES = frozenset({"manual"})


@dataclass(frozen=True)
class MappingInfo:
    """One mapping as services and commands see it."""

    company_id: str
    kind: str
    source: str
    key: str
    target: str
    detail: str | None
    how: str
    updated_at: datetime
    updated_by: str


def _info(row: Mapping) -> MappingInfo:
    return MappingInfo(row.company_id, row.kind, row.source, row.key, row.target, row.detail, row.how,
                       row.updated_at, row.updated_by)


def on_set(kind: MappingKind | str, listener: Listener) -> None:
    """Call ``listener(container, session, mapping)`` whenever a mapping of ``kind`` is set."""
    listeners = _LISTENERS.setdefault(MappingKind(kind), [])
    if listener not in listeners:
        listeners.append(listener)


def remove_listener(kind: MappingKind | str, listener: Listener) -> None:
    """Stop calling ``listener`` (tests use it)."""
    listeners = _LISTENERS.get(MappingKind(kind), [])
    if listener in listeners:
        listeners.remove(listener)


def _kind(kind: str) -> MappingKind:
    try:
        return MappingKind(kind)
    except ValueError:
        raise InvalidInput(f"unknown mapping kind {kind!r}; known: {', '.join(k.value for k in MappingKind)}") from None


def _text(value: Any, what: str, *, required: bool = True) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise InvalidInput(f"a mapping needs a {what}")
        return None
    if len(text) > MAX_KEY:
        raise InvalidInput(f"the mapping's {what} is longer than {MAX_KEY} characters")
    return text


def _check_milestone(session: Session, company_id: str, agreement_id: str, detail: str | None) -> None:
    if detail is None:
        raise InvalidInput("a milestone mapping needs the agreement's milestone id (--detail)")
    agreement = Agreements(None).agreement(company_id, agreement_id, session=session)
    ids = [m.id for c in agreement.components if isinstance(c, Milestones) for m in c.milestones]
    if detail not in ids:
        raise InvalidInput(f"agreement {agreement_id!r} has no milestone {detail!r} "
                           f"(its milestones: {', '.join(ids) or 'none'})")


class Mappings:
    """Sets, reads and lists one company's mappings."""

    def __init__(self, container: Any, clock: Callable[[], datetime] = utcnow):
        self.container = container
        self.clock = clock

    def set(self, company_id: str, kind: str, source: str, key: str, target: str, *, detail: str | None = None,
            actor: str, how: str = "person") -> MappingInfo:
        """Map (kind, source, key) to ``target`` (replacing an earlier target), audited, listeners called."""
        with self.container.unit_of_work() as session:
            return self.set_in(session, company_id, kind, source, key, target, detail=detail, actor=actor, how=how)

    def set_in(self, session: Session, company_id: str, kind: str, source: str, key: str, target: str, *,
               detail: str | None = None, actor: str, how: str = "person") -> MappingInfo:
        """``set`` inside the caller's unit of work."""
        kind_ = _kind(kind)
        source = _text(source, "source")
        if source not in EXTRA_SOURCES and source not in connectors.sources():
            raise InvalidInput(f"no source called {source!r}; known: {', '.join(connectors.sources())}")
        key, target, detail = _text(key, "key"), _text(target, "target"), _text(detail, "detail", required=False)
        if session.get(Company, company_id) is None:
            raise NotFound(f"no company {company_id!r}")
        if kind_ in (MappingKind.PROJECT, MappingKind.MILESTONE):
            if session.get(AgreementRecord, (company_id, target)) is None:
                raise InvalidInput(f"no agreement {target!r} in company {company_id!r} (import it first)")
        if kind_ is MappingKind.MILESTONE:
            _check_milestone(session, company_id, target, detail)
        now = self.clock()
        row = self._row(session, company_id, kind_, source, key)
        before = None if row is None else {"target": row.target, "detail": row.detail}
        if row is None:
            row = Mapping(company_id=company_id, kind=kind_.value, source=source, key=key, created_at=now)
            session.add(row)
        row.target, row.detail, row.how, row.updated_at, row.updated_by = target, detail, how, now, actor
        session.flush()
        self.container.audit.append(
            company_id, "mapping.set", actor=actor, subject=f"mapping:{kind_.value}:{source}:{key}",
            details={"target": target, "detail": detail, "how": how, "before": before}, session=session)
        info = _info(row)
        for listener in _LISTENERS.get(kind_, ()):
            listener(self.container, session, info)
        return info

    def keep_first_in(self, session: Session, company_id: str, kind: str, source: str, key: str, target: str, *,
                      actor: str, how: str) -> tuple[MappingInfo, bool]:
        """Store a mapping autobill found unless one exists (a person's, or another worker's a moment ago):
        (the mapping in force, whether this call stored it). Audited and listeners called only when stored."""
        kind_ = _kind(kind)
        now = self.clock()
        stored = insert_unless_present(session, Mapping, {
            "company_id": company_id, "kind": kind_.value, "source": source, "key": key, "target": target,
            "detail": None, "how": how, "created_at": now, "updated_at": now, "updated_by": actor,
        }, ("company_id", "kind", "source", "key"))
        info = _info(self._row(session, company_id, kind_, source, key))
        if stored:
            self.container.audit.append(
                company_id, "mapping.set", actor=actor, subject=f"mapping:{kind_.value}:{source}:{key}",
                details={"target": target, "detail": None, "how": how, "before": None}, session=session)
            for listener in _LISTENERS.get(kind_, ()):
                listener(self.container, session, info)
        return info, stored

    @staticmethod
    def _row(session: Session, company_id: str, kind: MappingKind, source: str, key: str) -> Mapping | None:
        return session.execute(select(Mapping).where(
            Mapping.company_id == company_id, Mapping.kind == kind.value, Mapping.source == source,
            Mapping.key == key)).scalar_one_or_none()

    def get(self, company_id: str, kind: str, source: str, key: str, *,
            session: Session | None = None) -> MappingInfo | None:
        """The mapping of (kind, source, key), or None."""
        if session is not None:
            row = self._row(session, company_id, _kind(kind), source, key)
            return None if row is None else _info(row)
        with self.container.unit_of_work() as own:
            return self.get(company_id, kind, source, key, session=own)

    def first(self, company_id: str, kind: str, source: str, keys: list[str], *,
              session: Session | None = None) -> MappingInfo | None:
        """The mapping of the first of ``keys`` that has one (mapping keys come most specific first)."""
        for key in keys:
            found = self.get(company_id, kind, source, key, session=session) if key else None
            if found is not None:
                return found
        return None

    def list(self, company_id: str, kind: str | None = None) -> list[MappingInfo]:
        """The company's mappings (of one kind), by kind, source and key."""
        query = select(Mapping).where(Mapping.company_id == company_id)
        if kind is not None:
            query = query.where(Mapping.kind == _kind(kind).value)
        with self.container.unit_of_work() as session:
            rows = session.execute(query.order_by(Mapping.kind, Mapping.source, Mapping.key)).scalars()
            return [_info(row) for row in rows]
