"""The db, companies, keys and audit commands, run the way a person runs them."""

import pytest
from sqlalchemy import update

from addon import bootstrap, migrate
from addon.cli import main
from addon.models.audit import AuditRecord
from addon.vault import generate_key
from tests.integration.connection.conftest import add_company


@pytest.fixture
def env(monkeypatch, tmp_path, sqlite_database_url, redis_url):
    values = {"AUTOBILL_STATE_DIR": str(tmp_path / "state"), "DATABASE_URL": sqlite_database_url,
              "REDIS_URL": redis_url}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in ("QBO_CLIENT_ID", "AUTOBILL_ENCRYPTION_KEYS", "SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    bootstrap.set_current(None)
    yield values
    if bootstrap._CONTAINER is not None:
        bootstrap._CONTAINER.database.dispose()
    bootstrap.set_current(None)


def run(capsys, *argv):
    """Run ``autobill argv``; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_db_upgrade_current_and_downgrade(env, capsys):
    assert run(capsys, "db", "current")[1].startswith("database at base")
    head = migrate.heads(bootstrap.current().database)[0]
    assert run(capsys, "db", "upgrade") == (0, f"database at {head}\n", "")
    assert "up to date" in run(capsys, "db", "current")[1]
    assert run(capsys, "db", "downgrade", "base")[1] == "database at base\n"


def test_companies_set_changes_the_time_zone_and_refuses_a_bad_one(env, capsys):
    run(capsys, "db", "upgrade")
    company = add_company(bootstrap.current())
    code, out, _ = run(capsys, "companies", "set", "--company", company.id, "--timezone", "America/New_York")
    assert code == 0 and "tz America/New_York" in out
    code, _, err = run(capsys, "companies", "set", "--company", company.id, "--timezone", "Mars/Olympus")
    assert code == 2 and err == "autobill: 'Mars/Olympus' is not an IANA time zone name (e.g. America/New_York or UTC)\n"
    code, out, _ = run(capsys, "companies", "list")
    assert company.id in out and "Northwind IT" in out and "connected" in out
    code, _, err = run(capsys, "companies", "set", "--company", "co_nope", "--timezone", "UTC")
    assert code == 2 and "no company 'co_nope'" in err


def test_audit_verify_and_export_from_the_command_line(env, capsys, tmp_path):
    run(capsys, "db", "upgrade")
    container = bootstrap.current()
    company = add_company(container)
    container.companies.set_timezone(company.id, "Europe/Berlin", actor="test")
    code, out, _ = run(capsys, "audit", "verify", "--company", company.id)
    assert code == 0 and "intact, 1 record(s)" in out
    target = tmp_path / "audit.csv"
    assert run(capsys, "audit", "export", "--company", company.id, "--output", str(target))[0] == 0
    assert "company.timezone_set" in target.read_text()
    with container.unit_of_work() as session:
        session.execute(update(AuditRecord).values(actor="someone else"))
    code, _, err = run(capsys, "audit", "verify", "--company", company.id)
    assert code == 1 and "BROKEN at record 1" in err


def test_keys_generate_prints_a_usable_key_and_rotate_reports(env, capsys):
    code, out, _ = run(capsys, "keys", "generate")
    assert code == 0 and len(out.strip()) == len(generate_key())
    code, out, _ = run(capsys, "keys", "rotate")
    assert code == 0 and out.startswith("re-encrypted 0 stored secret(s)")
