"""What an agreement billed before, folded from its postings' stored drafts (``rules.History``).

Drafting, the usage ledger's threshold checks and the dry run all read this; the fold is exactly
``History.after`` over the agreement's drafts in the order they were made (postings are made under the
agreement's lock, so their ids are that order). A deposit is named by its QuickBooks number once the
deposit invoice exists, for the "less deposit (invoice N)" lines of later milestones.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from addon.models.postings import Posting
from rules import History, InvoiceDraft, draft_from_dict, load_draft


def _without_lines(data: dict) -> InvoiceDraft:
    # History.after reads a draft's key, rule, total and consumption, never its lines (the bulk of it).
    return draft_from_dict({**data, "lines": []})


def _consumes_nothing(data: dict) -> bool:
    return not any(data.get("consumption", {}).values())


def _fold(history: History, data: dict) -> History:
    if _consumes_nothing(data) and not data["key"]["billed_thing"].startswith("threshold:"):
        # What History.after does with a draft that consumed nothing, without decoding it: only the
        # rule's previous total moves (the common case of won deals and renewals; much faster).
        return replace(history, previous_totals={**history.previous_totals, data["rule_id"]: Decimal(data["total"])})
    return history.after(_without_lines(data))


def history_for(session: Session, company_id: str, agreement_id: str) -> History:
    """The agreement's ``History``: every stored draft folded in, oldest first."""
    history = History()
    numbers: dict[str, str] = {}
    rows = session.execute(select(Posting.key, Posting.draft, Posting.qbo_doc_number).where(
        Posting.company_id == company_id, Posting.agreement_id == agreement_id).order_by(Posting.id))
    for key, text, doc_number in rows:
        history = _fold(history, json.loads(text, parse_float=Decimal))
        if doc_number:
            numbers[key] = doc_number
    if numbers:
        # Lines that name an earlier invoice (a deposit taken off, an SLA credit taken back) use its
        # QuickBooks number, as the client knows it.
        history = replace(history, invoice_numbers=numbers)
        if history.deposits:
            history = replace(history, deposits=tuple(
                replace(d, invoice_ref=numbers.get(d.key, d.invoice_ref)) for d in history.deposits))
    return history


def previous_draft(session: Session, company_id: str, agreement_id: str, rule_id: str) -> InvoiceDraft | None:
    """The last draft ``rule_id`` made for the agreement (review by exception compares with it)."""
    row = session.execute(select(Posting.draft).where(
        Posting.company_id == company_id, Posting.agreement_id == agreement_id, Posting.rule_id == rule_id)
        .order_by(Posting.id.desc()).limit(1)).scalar_one_or_none()
    return load_draft(row) if row is not None else None
