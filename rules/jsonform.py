"""The JSON form of agreements and rules (documented in docs/rules.md), and of drafts.

``load_*`` refuse an invalid document with one ``InvalidAgreement`` naming the field path and why;
templates are validated as they load, because loading is how agreements are saved. ``dump_*``
write a stable form: loading it again gives the same value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from rules import templates
from rules.agreement import Agreement, AgreementSet
from rules.codec import decode, encode
from rules.draft import InvoiceDraft
from rules.errors import InvalidAgreement
from rules.rule import Rule

FORMAT = "autobill.agreements/1"


def _parse(document: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, Mapping):
        return dict(document)
    try:
        data = json.loads(document, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidAgreement("", f"is not valid JSON{where}") from None
    except RecursionError:
        raise InvalidAgreement("", "is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidAgreement("", "must be a JSON object")
    return data


def _fill(data: dict[str, Any], company_id: str | None, timezone: str | None, path: str) -> dict[str, Any]:
    data = dict(data)
    if company_id is not None:
        given = data.setdefault("company_id", company_id)
        if given != company_id:
            raise InvalidAgreement(f"{path}company_id", f"belongs to company {given!r}, not {company_id!r}")
    if timezone is not None:
        data.setdefault("timezone", timezone)
    return data


def load_agreement(document: str | bytes | Mapping[str, Any], *, company_id: str | None = None,
                   timezone: str | None = None) -> Agreement:
    """One agreement (with its rules) from its JSON form; ``company_id`` and ``timezone`` fill
    what the document leaves out (a different company is refused)."""
    data = _parse(document)
    data.pop("format", None)
    agreement = decode(Agreement, _fill(data, company_id, timezone, ""))
    validate_templates(agreement)
    return agreement


def load_agreements(document: str | bytes | Mapping[str, Any], *, company_id: str | None = None,
                    timezone: str | None = None) -> AgreementSet:
    """A company's agreements and company rules from one JSON document."""
    data = _parse(document)
    fmt = data.pop("format", FORMAT)
    if fmt != FORMAT:
        raise InvalidAgreement("format", f"{fmt!r} is not a format this version reads ({FORMAT!r})")
    company = data.get("company_id", company_id)
    if company_id is not None and company != company_id:
        raise InvalidAgreement("company_id", f"belongs to company {company!r}, not {company_id!r}")
    raw = data.get("agreements", [])
    if isinstance(raw, list):
        data["agreements"] = [
            _fill(a, company, timezone, f"agreements[{i}].") if isinstance(a, dict) else a
            for i, a in enumerate(raw)]
    result = decode(AgreementSet, data)
    for i, agreement in enumerate(result.agreements):
        try:
            validate_templates(agreement)
        except InvalidAgreement as exc:
            raise exc.under(f"agreements[{i}]") from None
    for i, rule in enumerate(result.rules):
        try:
            _validate_rule_templates(rule)
        except InvalidAgreement as exc:
            raise exc.under(f"rules[{i}]") from None
    return result


def dump_agreement(agreement: Agreement) -> str:
    """The JSON form of ``agreement`` (defaults left out), ending with a newline."""
    return json.dumps(encode(agreement), indent=2, ensure_ascii=False) + "\n"


def dump_agreements(agreements: AgreementSet) -> str:
    """The JSON form of a company's agreements and company rules."""
    body = {"format": FORMAT, **encode(agreements)}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def agreement_to_dict(agreement: Agreement) -> dict[str, Any]:
    """The JSON form as plain data (for the settings API)."""
    return encode(agreement)


def validate_templates(agreement: Agreement) -> None:
    """Render every template of ``agreement`` against the sample made of its own data (its
    attributes, name, dates; event attributes may be anything); the first refusal names its path."""
    for name in ("memo", "private_note", "doc_number"):
        source = getattr(agreement, name)
        if source:
            templates.validate(name, source, agreement=agreement)
    for i, comp in enumerate(agreement.components):
        _validate_component(comp, f"components[{i}]", agreement)
    for i, rule in enumerate(agreement.rules):
        try:
            _validate_rule_templates(rule, agreement)
        except InvalidAgreement as exc:
            raise exc.under(f"rules[{i}]") from None


def _validate_component(comp: Any, path: str, agreement: Agreement | None) -> None:
    if comp.description:
        try:
            templates.validate("description", comp.description, line=True, agreement=agreement)
        except InvalidAgreement as exc:
            raise exc.under(path) from None


def _validate_rule_templates(rule: Rule, agreement: Agreement | None = None) -> None:
    # A company rule's templates (``starts``) belong to agreements not made yet: those have no
    # attributes, so they are checked against the sample agreement, which has none either.
    for name in ("memo", "private_note", "doc_number"):
        source = getattr(rule.what, name)
        if source:
            try:
                templates.validate(name, source, agreement=agreement)
            except InvalidAgreement as exc:
                raise exc.under("what") from None
    if rule.starts is not None:
        start = rule.starts
        for name in ("memo", "private_note"):
            source = getattr(start, name)
            if source:
                try:
                    templates.validate(name, source)
                except InvalidAgreement as exc:
                    raise exc.under("starts") from None
        if start.name:
            try:
                templates.validate("name", start.name)
            except InvalidAgreement as exc:
                raise exc.under("starts") from None
        for i, comp in enumerate(start.components):
            _validate_component(comp, f"starts.components[{i}]", None)
        for i, inner in enumerate(start.rules):
            try:
                _validate_rule_templates(inner)
            except InvalidAgreement as exc:
                raise exc.under(f"starts.rules[{i}]") from None


def draft_to_dict(draft: InvoiceDraft) -> dict[str, Any]:
    """Every field of ``draft`` as plain JSON data (what a posting stores)."""
    return encode(draft, omit_defaults=False)


def draft_from_dict(data: Mapping[str, Any]) -> InvoiceDraft:
    """The draft ``draft_to_dict`` wrote."""
    return decode(InvoiceDraft, dict(data))


def dump_draft(draft: InvoiceDraft) -> str:
    """The canonical JSON text of ``draft``: the same inputs give byte-identical text."""
    return json.dumps(draft_to_dict(draft), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_draft(text: str | bytes) -> InvoiceDraft:
    """The draft ``dump_draft`` wrote."""
    return draft_from_dict(json.loads(text, parse_float=Decimal))


def with_company(agreement: Agreement, company_id: str) -> Agreement:
    """``agreement`` moved to ``company_id`` (imports into another company use it)."""
    return replace(agreement, company_id=company_id)
