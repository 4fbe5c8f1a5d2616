"""``autobill usage list|show``, run the way a person runs them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from addon import bootstrap, migrate, usage
from addon.cli import main
from rules import BusinessKey, UsageConsumed
from tests.integration.connection.conftest import add_company
from tests.integration.usage.conftest import NOW, time_entry

A = "agr-northwind-support"


@pytest.fixture
def env(monkeypatch, tmp_path, sqlite_database_url, redis_url, neighbours):
    for key, value in {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": sqlite_database_url,
                       "REDIS_URL": redis_url}.items():
        monkeypatch.setenv(key, value)
    for key in ("QBO_CLIENT_ID", "AUTOBILL_ENCRYPTION_KEYS", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    bootstrap.set_current(None)
    container = bootstrap.current()
    migrate.upgrade(container.database)
    yield container
    container.database.dispose()
    bootstrap.set_current(None)


def run(capsys, *argv):
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_usage_list_shows_each_record_with_its_agreement_and_what_needs_mapping(env, neighbours, capsys):
    company = add_company(env).id
    neighbours.projects["project:toggl:42"] = A
    with env.unit_of_work() as session:
        billed = usage.record_event(session, company, time_entry("101", "2.0"), now=NOW).recorded
        usage.record_event(session, company, time_entry("102", "1.25"), now=NOW)
        usage.record_event(session, company, time_entry("109", "1.0", keys=("project:toggl:99",)), now=NOW)
    with env.unit_of_work() as session:
        usage.consume(session, company, [UsageConsumed("toggl", "101", 1, "support", hours=Decimal("2"))],
                      BusinessKey(company, A, "monthly", "period:2026-04-01"))
        usage.record_event(session, company, time_entry("101", "2.5", changed=NOW + timedelta(hours=1)), now=NOW)
    code, out, _ = run(capsys, "usage", "list", "--company", company)
    assert code == 0
    assert "toggl:101 v2  time  2.5 h  Ana  agr-northwind-support  changed after billing" in out
    assert "toggl:102 v1  time  1.25 h  Ana  agr-northwind-support  unbilled" in out
    code, out, _ = run(capsys, "usage", "list", "--company", company, "--needs-mapping")
    assert out.strip().endswith("toggl:109 v1  time  1 h  Ana  needs mapping  needs mapping  keys project:toggl:99")
    assert len(out.strip().splitlines()) == 1
    code, out, _ = run(capsys, "usage", "show", "--company", company, "--source", "toggl", "--id", "101")
    assert out.splitlines()[0].startswith("v1  2026-03-02  2 h  agr-northwind-support")
    assert f"billed v1 for {A} by posting ab1" in out and billed.version == 1


def test_usage_commands_name_an_unknown_company_or_record_in_one_line(env, capsys):
    code, _, err = run(capsys, "usage", "list", "--company", "co_nobody")
    assert code == 2 and "co_nobody" in err and "Traceback" not in err
    company = add_company(env).id
    code, _, err = run(capsys, "usage", "show", "--company", company, "--source", "toggl", "--id", "404")
    assert code == 2 and "no usage record toggl:404" in err


def test_a_harvest_account_is_set_up_with_its_token_on_stdin_and_its_account_id(env, capsys, monkeypatch):
    import io
    import json

    from addon.models.inbox import Endpoint
    from addon.usage_setup import harvest_accounts

    company = add_company(env).id
    monkeypatch.setattr("sys.stdin", io.StringIO("1234567.pt.northwind-token\n"))
    code, out, err = run(capsys, "endpoints", "create", "--company", company, "--source", "harvest",
                         "--api-token-stdin", "--setting", "account_id=1234567")
    assert code == 0, err
    assert "(harvest)" in out and "polled   autobill asks harvest for changes every 300 s" in out
    assert "northwind-token" not in out + err
    with env.unit_of_work() as session:
        row = session.query(Endpoint).filter_by(company_id=company, source="harvest").one()
        assert "northwind-token" not in (row.api_credentials or "") and json.loads(row.settings) == {
            "account_id": 1234567}
    [account] = harvest_accounts(env)
    assert (account.company_id, account.credentials) == (company, "1234567.pt.northwind-token")
    code, _, err = run(capsys, "endpoints", "create", "--company", company, "--source", "harvest",
                       "--setting", "account_id=1")
    assert code == 2 and "need the API token autobill polls with (--api-token-stdin)" in err


def test_custom_field_settings_are_set_with_endpoints_configure_and_a_malformed_one_is_refused_in_one_line(
        env, capsys, monkeypatch):
    import io
    import json

    company = add_company(env).id
    monkeypatch.setattr("sys.stdin", io.StringIO("klienti-jira-secret\n"))
    code, out, err = run(capsys, "endpoints", "create", "--company", company, "--source", "jira", "--secret-stdin")
    assert code == 0, err
    [endpoint] = env.endpoints.list(company)
    fields = '[{"field": "customfield_10050", "name": "Hardware cost", "price": "cost", "currency": "USD"}]'
    code, out, err = run(capsys, "endpoints", "configure", "--company", company, "--endpoint", endpoint.id,
                         "--setting", f"expense_fields={fields}",
                         "--setting", 'sla_breach_fields=[{"field": "customfield_10060", "values": ["Breached"]}]')
    assert code == 0, err
    assert json.loads(out.split(" settings ", 1)[1])["expense_fields"][0]["field"] == "customfield_10050"
    code, _, err = run(capsys, "endpoints", "configure", "--company", company, "--endpoint", endpoint.id,
                       "--setting", 'expense_fields=[{"field": "customfield_10050", "price": "retail"}]')
    assert code == 2 and "Traceback" not in err
    assert 'jira endpoint setting refused: expense_fields[0].price must be "cost" or "list"' in err
    assert env.endpoints.list(company)[0].settings["expense_fields"][0].get("price") == "cost"
