"""Versioned rules: a rule is never edited in place; a change is stored as new version rows.

Each rule of an agreement (scope = the agreement's id) or of the company (scope ``""``) keeps every
version it ever had in ``rule_versions``; ``current`` marks the versions in use, with the effective
dates the imported document gave them. Importing a rule whose versions match the current ones
changes nothing; otherwise the imported versions become current, keeping their numbers when those
are new (or the same version comes back unchanged) and taking the next free numbers otherwise, and
the versions they replace are kept, marked superseded. A rule missing from the document is retired
(it has no current version any more). Version numbers only grow, so a line's "rule v3" always
names one text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.models.agreements import RuleVersionRecord
from rules.codec import encode
from rules.rule import Rule

COMPANY_SCOPE = ""


@dataclass(frozen=True)
class RuleVersion:
    """One stored version of a rule, as ``autobill agreements versions`` shows it."""

    rule_id: str
    version: int
    effective_from: date | None
    effective_to: date | None
    current: bool
    created_at: datetime
    created_by: str
    superseded_at: datetime | None


@dataclass(frozen=True)
class RuleChange:
    """What an import did to one rule: ``versioned`` (new current versions) or ``retired``."""

    scope: str
    rule_id: str
    change: str
    versions: tuple[int, ...] = ()


def rule_document(rule: Rule) -> dict[str, Any]:
    """The rule's JSON form without its version number (what identifies a version's content)."""
    data = encode(rule)
    data.pop("version", None)
    return data


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def current_rule_documents(session: Session, company_id: str, scope: str) -> list[dict[str, Any]]:
    """The current versions of every rule in ``scope`` in their JSON form (with versions), by rule and version."""
    rows = session.execute(select(RuleVersionRecord).where(
        RuleVersionRecord.company_id == company_id, RuleVersionRecord.scope == scope,
        RuleVersionRecord.current.is_(True)).order_by(RuleVersionRecord.position, RuleVersionRecord.version)).scalars()
    return [{**json.loads(row.document), "version": row.version} for row in rows]


def history(session: Session, company_id: str, scope: str, rule_id: str | None = None) -> list[RuleVersion]:
    """Every version ever stored in ``scope`` (of one rule), oldest first."""
    query = select(RuleVersionRecord).where(RuleVersionRecord.company_id == company_id,
                                            RuleVersionRecord.scope == scope)
    if rule_id is not None:
        query = query.where(RuleVersionRecord.rule_id == rule_id)
    rows = session.execute(query.order_by(RuleVersionRecord.rule_id, RuleVersionRecord.version)).scalars()
    return [RuleVersion(r.rule_id, r.version, r.effective_from, r.effective_to, r.current, r.created_at,
                        r.created_by, r.superseded_at) for r in rows]


def sync(session: Session, company_id: str, scope: str, rules: tuple[Rule, ...], *, actor: str,
         now: datetime) -> list[RuleChange]:
    """Make ``rules`` the current versions of ``scope``, adding version rows, never editing a rule's text."""
    stored: dict[str, list[RuleVersionRecord]] = defaultdict(list)
    for row in session.execute(select(RuleVersionRecord).where(
            RuleVersionRecord.company_id == company_id, RuleVersionRecord.scope == scope)).scalars():
        stored[row.rule_id].append(row)
    imported: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        imported[rule.id].append(rule)
    position = {rule_id: n for n, rule_id in enumerate(imported)}
    changes = []
    for rule_id in sorted(set(stored) | set(imported)):
        rows = sorted(stored.get(rule_id, []), key=lambda r: r.version)
        versions = sorted(imported.get(rule_id, []), key=lambda r: r.version)
        current = [_canonical(json.loads(r.document)) for r in rows if r.current]
        wanted = [_canonical(rule_document(r)) for r in versions]
        if current == wanted:
            for row in rows:
                if row.current:
                    row.position = position.get(rule_id, row.position)
            continue
        for row in rows:
            if row.current:
                row.current, row.superseded_at = False, now
        if not versions:
            changes.append(RuleChange(scope, rule_id, "retired"))
            continue
        numbers = _store_versions(session, company_id, scope, rows, versions, position[rule_id], actor=actor,
                                  now=now)
        changes.append(RuleChange(scope, rule_id, "versioned", numbers))
    session.flush()
    return changes


def _store_versions(session: Session, company_id: str, scope: str, rows: list[RuleVersionRecord],
                    versions: list[Rule], position: int, *, actor: str, now: datetime) -> tuple[int, ...]:
    by_number = {row.version: row for row in rows}
    highest = max(by_number, default=0)
    last = 0
    numbers = []
    for rule in versions:
        document = rule_document(rule)
        same = by_number.get(rule.version)
        if same is not None and rule.version > last and _canonical(json.loads(same.document)) == _canonical(document):
            same.current, same.superseded_at, same.position = True, None, position  # that very version comes back
            number = rule.version
        else:
            number = rule.version if same is None and rule.version > max(highest, last) else max(highest, last) + 1
            session.add(RuleVersionRecord(
                company_id=company_id, scope=scope, rule_id=rule.id, version=number, position=position,
                document=_canonical(document), effective_from=rule.effective_from, effective_to=rule.effective_to,
                current=True, created_at=now, created_by=actor))
            highest = max(highest, number)
        last = number
        numbers.append(number)
    return tuple(numbers)
