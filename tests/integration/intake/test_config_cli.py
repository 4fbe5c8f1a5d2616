"""Configuration without a UI: the agreements and mappings commands, run the way a person runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from addon import bootstrap
from addon.companies import Identity, upsert_user
from addon.models.companies import Membership
from tests.integration.connection.test_cli import run

DOCS = Path(__file__).parents[3] / "docs" / "agreements"


def _user(email: str, company_id: str | None = None, role: str | None = None):
    container = bootstrap.current()
    now = datetime(2026, 1, 12, tzinfo=UTC)
    with container.unit_of_work() as session:
        user = upsert_user(session, Identity(sub=email, email=email), now)
        if company_id:
            session.add(Membership(company_id=company_id, user_id=user.id, role=role, created_at=now))
        return user


def test_agreements_import_list_export_and_versions_from_the_command_line(cli_company, capsys, tmp_path):
    ann = _user("ann@northwind.example", cli_company.id, "bookkeeper")
    code, out, err = run(capsys, "agreements", "import", str(DOCS / "retainer.json"), "--company", cli_company.id,
                         "--as", "ann@northwind.example", "--reassign")
    assert (code, err) == (0, "")
    assert out == ("created    agr-northwind-support\n"
                   "rule       agr-northwind-support: monthly-retainer now v1\n")
    code, out, _ = run(capsys, "agreements", "import", str(DOCS / "company-rules.json"), "--company", cli_company.id,
                       "--as", "Bob at the terminal", "--reassign")
    assert "rule       company rules: hubspot-won-deals now v2" in out
    code, out, _ = run(capsys, "agreements", "list", "--company", cli_company.id)
    assert out == "agr-northwind-support  customer 58  Northwind support retainer  rev 1  1 rule(s)  (import)\n"
    target = tmp_path / "export.json"
    assert run(capsys, "agreements", "export", "--company", cli_company.id, "--output", str(target))[0] == 0
    assert [a["id"] for a in json.loads(target.read_text())["agreements"]] == ["agr-northwind-support"]
    code, out, _ = run(capsys, "agreements", "versions", "--company", cli_company.id)
    assert out.startswith("* hubspot-won-deals v2  2026-01-01 to ...  by cli:Bob at the terminal")
    actors = {r.actor for r in bootstrap.current().audit.records(cli_company.id)}
    assert actors == {f"user:{ann.id}", "cli:Bob at the terminal"}


def test_a_known_user_without_a_role_is_refused_and_a_bad_file_is_one_clear_line(cli_company, capsys, tmp_path):
    _user("eve@elsewhere.example")
    code, _, err = run(capsys, "agreements", "import", str(DOCS / "retainer.json"), "--company", cli_company.id,
                       "--as", "eve@elsewhere.example", "--reassign")
    assert code == 2 and err == "autobill: you need the bookkeeper role for this company\n"
    code, _, err = run(capsys, "agreements", "import", str(DOCS / "retainer.json"), "--company", cli_company.id,
                       "--as", "ann")
    assert code == 2 and "belongs to company 'demo-company'" in err and "--reassign" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "agr-1", "customer_id": "58", "start": "2026-13-01"}')
    code, _, err = run(capsys, "agreements", "import", str(broken), "--company", cli_company.id, "--as", "ann")
    assert code == 2 and err.startswith("autobill: the file is not a valid agreement: start:")
    assert "Traceback" not in err


def test_mappings_set_list_and_the_customer_policy_from_the_command_line(cli_company, capsys):
    code, out, _ = run(capsys, "mappings", "set", "--company", cli_company.id, "--kind", "customer", "--source",
                       "hubspot", "--key", "7001", "--target", "58", "--as", "ann")
    assert (code, out) == (0, "customer hubspot 7001 -> 58\n")
    code, out, _ = run(capsys, "mappings", "list", "--company", cli_company.id)
    assert out == "customer   hubspot     7001  ->  58  [person, cli:ann]\n"
    code, _, err = run(capsys, "mappings", "set", "--company", cli_company.id, "--kind", "milestone", "--source",
                       "jira", "--key", "acme/issue/1", "--target", "agr-nope", "--as", "ann")
    assert code == 2 and "no agreement 'agr-nope'" in err
    assert run(capsys, "mappings", "policy", "--company", cli_company.id)[1] == "customers: match_or_create\n"
    code, out, _ = run(capsys, "mappings", "policy", "--company", cli_company.id, "--customers", "hold", "--as", "ann")
    assert (code, out) == (0, "customers: hold\n")
    assert run(capsys, "mappings", "policy", "--company", cli_company.id)[1] == "customers: hold\n"
    code, _, err = run(capsys, "mappings", "list", "--company", "co_nobody")
    assert code == 2 and "no company 'co_nobody'" in err
