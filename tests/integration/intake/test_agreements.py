"""The agreements store on both databases: import, versioned rules, reads, export, agreements rules start."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from addon.errors import InvalidInput, NotFound
from rules import agreement_id_for, load_agreement
from rules.jsonform import dump_agreement

DOCS = Path(__file__).parents[3] / "docs" / "agreements"
RETAINER = json.loads((DOCS / "retainer.json").read_text())


def _document(**changes) -> str:
    """The retainer example, owned by no company yet, with ``changes`` to its first rule."""
    data = json.loads(json.dumps(RETAINER))
    data.pop("company_id")
    data["rules"][0].update(changes)
    return json.dumps(data)


def _actions(container, company) -> list[str]:
    return [r.action for r in container.audit.records(company.id)]


def test_every_example_agreement_in_the_docs_imports_and_reads_back_as_its_file_says(container, company):
    files = sorted(DOCS.glob("*.json"))
    assert len(files) >= 10
    for path in files:
        report = container.agreements.import_document(company.id, path.read_text(), actor="user:us_ann",
                                                      reassign=True)
        assert not report.updated and not report.unchanged
    stored = {a.id: a for a in container.agreements.all(company.id)}
    for path in files:
        data = json.loads(path.read_text())
        if "agreements" in data:
            continue
        expected = load_agreement({**data, "company_id": company.id}, timezone="UTC")
        assert stored[expected.id] == expected, path.name
    assert [r.id for r in container.agreements.company_rules(company.id)] == ["hubspot-won-deals"]
    assert container.agreements.company_rules(company.id)[0].version == 2
    summaries = container.agreements.list(company.id)
    assert len(summaries) == len(stored) and all(s.origin == "import" for s in summaries)


def test_importing_the_same_file_or_its_own_export_again_changes_nothing(container, company):
    container.agreements.import_document(company.id, _document(), actor="cli")
    actions = _actions(container, company)
    again = container.agreements.import_document(company.id, _document(), actor="cli")
    assert (again.created, again.updated, again.unchanged, again.rules) == ((), (), ("agr-northwind-support",), ())
    exported = container.agreements.export(company.id)
    assert json.loads(exported)["format"] == "autobill.agreements/1"
    round_trip = container.agreements.import_document(company.id, exported, actor="cli")
    assert round_trip.rules == () and round_trip.unchanged == ("agr-northwind-support",)
    assert _actions(container, company) == actions == ["agreement.created", "rule.versioned"]


def test_a_changed_rule_becomes_a_new_version_and_the_old_version_is_kept(container, company):
    container.agreements.import_document(company.id, _document(), actor="user:us_ann")
    report = container.agreements.import_document(
        company.id, _document(how={"send_mode": "auto_send"}), actor="user:us_bob")
    assert [(c.rule_id, c.change, c.versions) for c in report.rules] == [("monthly-retainer", "versioned", (2,))]
    [rule] = container.agreements.agreement(company.id, "agr-northwind-support").rules
    assert (rule.version, rule.how.send_mode.value) == (2, "auto_send")
    versions = container.agreements.versions(company.id, "monthly-retainer", agreement_id="agr-northwind-support")
    assert [(v.version, v.current, v.created_by) for v in versions] == [(1, False, "user:us_ann"),
                                                                          (2, True, "user:us_bob")]
    assert versions[0].superseded_at is not None
    assert _actions(container, company)[-1] == "rule.versioned"


def test_new_versions_with_effective_dates_keep_their_numbers_and_a_removed_rule_is_retired(container, company):
    container.agreements.import_document(company.id, _document(), actor="cli")
    data = json.loads(_document(effective_to="2026-06-30"))
    data["rules"].append({**data["rules"][0], "version": 2, "effective_from": "2026-07-01", "effective_to": None,
                          "how": {"send_mode": "auto_send"}})
    container.agreements.import_document(company.id, json.dumps(data), actor="cli")
    agreement = container.agreements.agreement(company.id, "agr-northwind-support")
    # Version 1 gained an end date, so its text changed: it is stored as version 2, the file's version 2 as 3.
    assert [(r.version, r.effective_to) for r in agreement.rules] == [(2, date(2026, 6, 30)), (3, None)]
    assert agreement.rule_in_effect("monthly-retainer", date(2026, 8, 1)).how.send_mode.value == "auto_send"
    data["rules"] = []
    report = container.agreements.import_document(company.id, json.dumps(data), actor="cli")
    assert [(c.rule_id, c.change) for c in report.rules] == [("monthly-retainer", "retired")]
    assert container.agreements.agreement(company.id, "agr-northwind-support").rules == ()
    assert len(container.agreements.versions(company.id, agreement_id="agr-northwind-support")) == 3


def test_an_invalid_file_is_refused_with_the_field_and_nothing_is_stored(container, company):
    bad = json.loads(_document())
    bad["components"][0]["fee"] = "four thousand"
    with pytest.raises(InvalidInput, match=r"components\[0\]\.fee"):
        container.agreements.import_document(company.id, json.dumps(bad), actor="cli")
    with pytest.raises(InvalidInput, match="not valid JSON at line 1"):
        container.agreements.import_document(company.id, "{nope", actor="cli")
    with pytest.raises(InvalidInput, match="belongs to company 'demo-company'"):
        container.agreements.import_document(company.id, json.dumps(RETAINER), actor="cli")
    with pytest.raises(NotFound):
        container.agreements.import_document("co_nobody", _document(), actor="cli")
    assert container.agreements.list(company.id) == [] and _actions(container, company) == []


def test_agreements_are_found_by_their_quickbooks_customer_and_keep_their_time_zone(container, company):
    container.agreements.import_document(company.id, _document(), actor="cli")
    other = json.loads(_document())
    other.update(id="agr-contoso", customer_id="61")
    other.pop("timezone")
    container.agreements.import_document(company.id, json.dumps(other), actor="cli")
    container.companies.set_timezone(company.id, "Europe/Berlin", actor="cli")
    assert [a.id for a in container.agreements.of_customer(company.id, "58")] == ["agr-northwind-support"]
    assert container.agreements.agreement(company.id, "agr-contoso").timezone == "UTC"
    with pytest.raises(NotFound, match="no agreement 'agr-nope'"):
        container.agreements.agreement(company.id, "agr-nope")


def test_an_agreement_a_rule_started_is_saved_once_under_the_id_the_rule_gives_it(container, company):
    agreement_id = agreement_id_for(company.id, "hubspot-won-deals", "hubspot", "512")
    started = replace(load_agreement(_document(), company_id=company.id), id=agreement_id)
    with container.unit_of_work() as session:
        saved, created = container.agreements.save_started(
            session, started, rule_id="hubspot-won-deals", source="hubspot", source_object_id="512", actor="worker")
    assert created and saved == started
    with container.unit_of_work() as session:
        again, created = container.agreements.save_started(
            session, replace(started, name="something else"), rule_id="hubspot-won-deals", source="hubspot",
            source_object_id="512", actor="worker")
    assert not created and again == started
    with pytest.raises(ValueError, match="has the id"), container.unit_of_work() as session:
        container.agreements.save_started(session, started, rule_id="hubspot-won-deals", source="hubspot",
                                          source_object_id="513", actor="worker")
    [summary] = container.agreements.list(company.id)
    assert (summary.id, summary.origin) == (agreement_id, "rule")
    assert _actions(container, company) == ["agreement.started", "rule.versioned"]
    assert dump_agreement(container.agreements.agreement(company.id, agreement_id)) == dump_agreement(started)
