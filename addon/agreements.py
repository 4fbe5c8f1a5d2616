"""The agreements store: a company's agreements and rules, in the JSON form ``rules`` defines.

``import_document`` creates or updates agreements by id from a file (one agreement or a company's
set with its company rules), validated on the way in; rules are versioned by ``addon.ruleversions``
(a change is a new version, never an edit in place). Reads return ``rules.Agreement`` values built
from what is stored, so the rules engine sees exactly what was validated. Every change is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon import ruleversions
from addon.clock import utcnow
from addon.errors import InvalidInput, NotFound
from addon.models.agreements import AgreementRecord
from addon.models.companies import Company
from addon.sqlutil import insert_unless_present
from rules import Agreement, AgreementSet, InvalidAgreement, Rule, agreement_id_for
from rules.codec import decode
from rules.jsonform import FORMAT, agreement_to_dict, dump_agreements, load_agreement, load_agreements


@dataclass(frozen=True)
class ImportReport:
    """What one import did: agreements created, updated and unchanged, and rule versions added."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    rules: tuple[ruleversions.RuleChange, ...] = field(default=())


@dataclass(frozen=True)
class AgreementSummary:
    """One stored agreement as ``autobill agreements list`` shows it."""

    id: str
    customer_id: str
    name: str
    revision: int
    origin: str
    rules: int
    updated_at: datetime


def _document(agreement: Agreement) -> dict[str, Any]:
    data = agreement_to_dict(agreement)
    data.pop("rules", None)
    # Pinned, so a later change of the company's time zone never moves this agreement's periods.
    data["timezone"] = agreement.timezone
    return data


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parse(text: str | bytes, company_id: str, *, reassign: bool) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidInput(f"the file is not valid JSON{where}") from None
    except RecursionError:
        raise InvalidInput("the file is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("the file must hold one agreement or a company's agreements (a JSON object)")
    if "agreements" not in data and "format" not in data:  # one agreement on its own
        data = {"format": FORMAT, "agreements": [data], "company_id": data.get("company_id"), "_single": True}
    named = {data.get("company_id")} | {a.get("company_id") for a in data.get("agreements") or []
                                        if isinstance(a, dict)}
    others = sorted(str(n) for n in named - {None, company_id})
    if others and not reassign:
        raise InvalidInput(f"the file belongs to company {others[0]!r}, not {company_id!r} "
                           f"(import it with --reassign to make it {company_id!r}'s)")
    data["company_id"] = company_id
    for agreement in data.get("agreements") or []:
        if isinstance(agreement, dict):
            agreement["company_id"] = company_id
    return data


class Agreements:
    """Imports, reads and exports one company's agreements and rules."""

    def __init__(self, container: Any, clock: Callable[[], datetime] = utcnow):
        self.container = container
        self.clock = clock

    # Writing ---------------------------------------------------------------------------------
    def import_document(self, company_id: str, text: str | bytes, *, actor: str,
                        reassign: bool = False) -> ImportReport:
        """Create or update the file's agreements (by id) and rules; all or nothing, audited."""
        data = _parse(text, company_id, reassign=reassign)
        # Company rules change only when the document lists them: importing one agreement leaves them be.
        with_company_rules = "rules" in data
        single = data.pop("_single", False)
        with self.container.unit_of_work() as session:
            company = session.get(Company, company_id)
            if company is None:
                raise NotFound(f"no company {company_id!r}")
            try:
                loaded = load_agreements(data, company_id=company_id, timezone=company.timezone)
            except InvalidAgreement as exc:
                path = exc.path.removeprefix("agreements[0].") if single else exc.path
                raise InvalidInput(f"the file is not a valid agreement: {path}: {exc.reason}") from None
            now, report = self.clock(), {"created": [], "updated": [], "unchanged": [], "rules": []}
            for agreement in loaded.agreements:
                state = self._save(session, agreement, actor=actor, now=now, origin="import")
                report[state].append(agreement.id)
                report["rules"] += self._sync_rules(session, company_id, agreement.id, agreement.rules, actor, now)
                self._check(session, company_id, agreement.id)
            if with_company_rules:
                report["rules"] += self._sync_rules(session, company_id, ruleversions.COMPANY_SCOPE, loaded.rules,
                                                    actor, now)
            try:
                self.company_rules(company_id, session=session)
            except InvalidAgreement as exc:
                raise InvalidInput(f"the company rules with their stored versions are not valid: {exc}") from None
        return ImportReport(tuple(report["created"]), tuple(report["updated"]), tuple(report["unchanged"]),
                            tuple(report["rules"]))

    def _save(self, session: Session, agreement: Agreement, *, actor: str, now: datetime, origin: str,
              started: dict[str, str] | None = None) -> str:
        document = _canonical(_document(agreement))
        row = session.get(AgreementRecord, (agreement.company_id, agreement.id))
        audit = self.container.audit
        subject = f"agreement:{agreement.id}"
        if row is None:
            session.add(AgreementRecord(
                company_id=agreement.company_id, id=agreement.id, customer_id=agreement.customer_id,
                name=agreement.name or agreement.customer_name or agreement.id, document=document, revision=1,
                origin=origin, created_at=now, created_by=actor, updated_at=now, updated_by=actor,
                **(started or {})))
            session.flush()
            audit.append(agreement.company_id, "agreement.created", actor=actor, subject=subject,
                         details={"customer_id": agreement.customer_id, "origin": origin, **(started or {})},
                         session=session)
            return "created"
        if row.document == document:
            return "unchanged"
        before = json.loads(row.document)
        after = json.loads(document)
        row.document, row.customer_id, row.revision = document, agreement.customer_id, row.revision + 1
        row.name, row.updated_at, row.updated_by = agreement.name or agreement.customer_name or agreement.id, now, actor
        audit.append(agreement.company_id, "agreement.updated", actor=actor, subject=subject, details={
            "revision": row.revision, "changed": sorted(k for k in set(before) | set(after)
                                                        if before.get(k) != after.get(k))}, session=session)
        return "updated"

    def _sync_rules(self, session: Session, company_id: str, scope: str, rules: tuple[Rule, ...], actor: str,
                    now: datetime) -> list[ruleversions.RuleChange]:
        changes = ruleversions.sync(session, company_id, scope, rules, actor=actor, now=now)
        for change in changes:
            self.container.audit.append(
                company_id, f"rule.{change.change}", actor=actor,
                subject=f"rule:{scope or 'company'}/{change.rule_id}",
                details={"agreement_id": scope or None, "current_versions": list(change.versions)}, session=session)
        return changes

    def _check(self, session: Session, company_id: str, agreement_id: str) -> None:
        try:
            self.agreement(company_id, agreement_id, session=session)
        except InvalidAgreement as exc:
            raise InvalidInput(f"agreement {agreement_id!r} with its stored rule versions is not valid: {exc}") from None

    def save_started(self, session: Session, agreement: Agreement, *, rule_id: str, source: str,
                     source_object_id: str, actor: str) -> tuple[Agreement, bool]:
        """Store an agreement a company rule started (once per source object); (the stored one, created?)."""
        expected = agreement_id_for(agreement.company_id, rule_id, source, source_object_id)
        if agreement.id != expected:
            raise ValueError(f"an agreement started by rule {rule_id!r} from {source} {source_object_id!r} "
                             f"has the id {expected!r}, not {agreement.id!r}")
        now = self.clock()
        values = {"company_id": agreement.company_id, "id": agreement.id, "customer_id": agreement.customer_id,
                  "name": agreement.name or agreement.customer_name or agreement.id,
                  "document": _canonical(_document(agreement)), "revision": 1, "origin": "rule",
                  "started_by_rule": rule_id, "source": source, "source_object_id": source_object_id,
                  "created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
        if not insert_unless_present(session, AgreementRecord, values, ("company_id", "id")):
            return self.agreement(agreement.company_id, agreement.id, session=session), False
        self.container.audit.append(agreement.company_id, "agreement.started", actor=actor,
                                    subject=f"agreement:{agreement.id}", details={
                                        "rule_id": rule_id, "source": source, "source_object_id": source_object_id,
                                        "customer_id": agreement.customer_id}, session=session)
        self._sync_rules(session, agreement.company_id, agreement.id, agreement.rules, actor, now)
        return self.agreement(agreement.company_id, agreement.id, session=session), True

    # Reading ---------------------------------------------------------------------------------
    def _read(self, session: Session | None, fn):
        if session is not None:
            return fn(session)
        with self.container.unit_of_work() as own:
            return fn(own)

    @staticmethod
    def _build(session: Session, row: AgreementRecord) -> Agreement:
        rules = ruleversions.current_rule_documents(session, row.company_id, row.id)
        return load_agreement({**json.loads(row.document), "rules": rules}, company_id=row.company_id)

    def agreement(self, company_id: str, agreement_id: str, *, session: Session | None = None) -> Agreement:
        """The company's agreement ``agreement_id`` with its current rule versions; ``NotFound`` otherwise."""
        def read(s: Session) -> Agreement:
            row = s.get(AgreementRecord, (company_id, agreement_id))
            if row is None:
                raise NotFound(f"no agreement {agreement_id!r} in company {company_id!r}")
            return self._build(s, row)
        return self._read(session, read)

    def of_customer(self, company_id: str, customer_id: str, *, session: Session | None = None) -> list[Agreement]:
        """The company's agreements billed to QuickBooks customer ``customer_id``, by id."""
        def read(s: Session) -> list[Agreement]:
            rows = s.execute(select(AgreementRecord).where(
                AgreementRecord.company_id == company_id, AgreementRecord.customer_id == customer_id)
                .order_by(AgreementRecord.id)).scalars()
            return [self._build(s, row) for row in rows]
        return self._read(session, read)

    def all(self, company_id: str, *, session: Session | None = None) -> list[Agreement]:
        """Every agreement of the company, by id."""
        def read(s: Session) -> list[Agreement]:
            rows = s.execute(select(AgreementRecord).where(AgreementRecord.company_id == company_id)
                             .order_by(AgreementRecord.id)).scalars()
            return [self._build(s, row) for row in rows]
        return self._read(session, read)

    def company_rules(self, company_id: str, *, session: Session | None = None) -> tuple[Rule, ...]:
        """The company rules (rules that start agreements), current versions."""
        def read(s: Session) -> tuple[Rule, ...]:
            documents = ruleversions.current_rule_documents(s, company_id, ruleversions.COMPANY_SCOPE)
            return decode(AgreementSet, {"company_id": company_id, "rules": documents}).rules
        return self._read(session, read)

    def versions(self, company_id: str, rule_id: str | None = None, *, agreement_id: str | None = None,
                 session: Session | None = None) -> list[ruleversions.RuleVersion]:
        """Every stored version of the agreement's (or the company's) rules, with effective dates."""
        scope = agreement_id or ruleversions.COMPANY_SCOPE
        return self._read(session, lambda s: ruleversions.history(s, company_id, scope, rule_id))

    def list(self, company_id: str) -> list[AgreementSummary]:
        """The company's agreements, by id."""
        with self.container.unit_of_work() as session:
            rows = session.execute(select(AgreementRecord).where(AgreementRecord.company_id == company_id)
                                   .order_by(AgreementRecord.id)).scalars().all()
            return [AgreementSummary(r.id, r.customer_id, r.name, r.revision, r.origin,
                                     len(ruleversions.current_rule_documents(session, company_id, r.id)),
                                     r.updated_at) for r in rows]

    def export(self, company_id: str) -> str:
        """The company's agreements and company rules as one JSON document (what ``import_document`` reads)."""
        with self.container.unit_of_work() as session:
            return dump_agreements(AgreementSet(company_id=company_id, agreements=tuple(self.all(company_id, session=session)),
                                                rules=self.company_rules(company_id, session=session)))
