"""Connecting, disconnecting and reconnecting companies against the emulator over HTTP."""

import pytest
from rq import SimpleWorker
from sqlalchemy import text

from addon import bootstrap, companyjobs
from addon.connect import ConnectFlow
from addon.emulator_connect import connect_with_emulator
from addon.ledger import AuthLost, InvalidGrant
from addon.models.companies import Role
from tests.integration.connection.conftest import _close, emulator_container
from tests.integration.connection.test_cli import run


@pytest.fixture
def container(tmp_path, sqlite_database_url, redis_url, emulator):
    made = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    _close(made)


def test_companies_connect_emulator_works_from_a_clean_state(emulator, tmp_path, redis_url, monkeypatch, capsys):
    state = tmp_path / "fresh"
    monkeypatch.setenv("AUTOBILL_STATE_DIR", str(state))
    monkeypatch.setenv("AUTOBILL_SANDBOX_PORT", emulator.url.rsplit(":", 1)[1])
    monkeypatch.setenv("REDIS_URL", redis_url)
    for name in ("DATABASE_URL", "QBO_CLIENT_ID", "AUTOBILL_ENCRYPTION_KEYS", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.set_current(None)
    try:
        code, out, err = run(capsys, "companies", "connect", "--emulator", "--name", "Northwind IT")
        assert code == 0, err
        assert out.startswith("connected co_") and "Northwind IT" in out and "(emulator)" in out
        assert "admin: owner@demo.example" in out
        assert (state / "autobill.sqlite3").exists() and (state / "secrets.json").exists()
        code, out, _ = run(capsys, "companies", "list")
        assert "Northwind IT" in out and "connected" in out and "tz UTC" in out
    finally:
        _close(bootstrap.current())
        bootstrap.set_current(None)


def test_connecting_records_the_company_its_admin_and_encrypted_tokens(container, emulator):
    result = connect_with_emulator(container, company_name="Northwind IT", email="nora@northwind.example")
    company = result.company
    assert result.created and company.name == "Northwind IT" and company.status == "connected"
    assert company.environment == "emulator" and company.timezone == "UTC"
    assert container.companies.role_of(result.user.id, company.id) == Role.ADMIN
    assert result.user.email == "nora@northwind.example"
    assert [r.action for r in container.audit.records(company.id)] == ["company.connected"]
    with container.database.engine.connect() as connection:
        raw = " ".join(str(v) for row in connection.execute(text("select * from qbo_connections")) for v in row)
    assert not any(token in raw for token in emulator.control.issued_tokens())
    assert container.ledger(company.id).company_info().name == "Northwind IT"


def test_disconnecting_revokes_at_intuit_wipes_the_tokens_and_keeps_the_history(container, emulator):
    company = connect_with_emulator(container, company_name="Northwind IT").company
    flow = ConnectFlow(container)
    refresh_token = flow.store.load(company.id).refresh_token
    flow.disconnect(company.id, actor="user:test")
    with pytest.raises(InvalidGrant):
        container.oauth.refresh(refresh_token)
    stored = flow.store.load(company.id)
    assert stored.access_token is None and stored.refresh_token is None
    assert container.companies.get(company.id).status == "disconnected"
    with pytest.raises(AuthLost):
        container.ledger(company.id).company_info()
    assert [r.action for r in container.audit.records(company.id)] == ["company.connected", "company.disconnected"]
    assert container.audit.verify(company.id).ok


def test_reconnecting_after_a_disconnect_keeps_the_same_company(container, emulator):
    first = connect_with_emulator(container, company_name="Northwind IT").company
    ConnectFlow(container).disconnect(first.id, actor="user:test")
    again = connect_with_emulator(container, realm_id=first.realm_id)
    assert again.company.id == first.id and again.reconnected and not again.created
    assert container.companies.get(first.id).status == "connected"
    assert container.ledger(first.id).company_info().name == "Northwind IT"
    assert container.audit.records(first.id)[-1].action == "company.reconnected"


def test_a_401_triggers_one_refresh_and_one_retry(container, emulator):
    company = connect_with_emulator(container, company_name="Northwind IT").company
    emulator.control.expire_tokens()  # QuickBooks no longer takes the access token we still believe in
    assert container.ledger(company.id).company_info().name == "Northwind IT"
    counters = emulator.control.counters(company.realm_id)
    assert counters["token_grants"]["refresh_token"] == 1 and counters["unauthorized"] == 1


def test_a_revoked_grant_pauses_work_which_resumes_after_reconnect_without_loss_or_doubling(container, emulator):
    company = connect_with_emulator(container, company_name="Northwind IT").company
    for n in range(3):
        companyjobs.enqueue(container, company.id, "tests.integration.connection.jobs.create_invoice", f"inv-{n}")
    container.oauth.revoke(ConnectFlow(container).store.load(company.id).refresh_token)  # disconnected in QBO
    worker = SimpleWorker([container.queue("postings")], connection=container.redis)
    worker.work(burst=True)
    assert container.companies.get(company.id).status == "needs_reconnect"
    assert "refresh token was refused" in container.companies.get(company.id).status_reason
    assert len(companyjobs.parked(container, company.id)) == 3
    assert emulator.control.objects(company.realm_id, "Invoice") == []
    assert len(container.queue("postings").failed_job_registry) == 0

    result = connect_with_emulator(container, realm_id=company.realm_id)
    assert result.reconnected and result.resumed_jobs == 3
    worker.work(burst=True)
    assert companyjobs.resume(container, company.id) == 0
    worker.work(burst=True)
    notes = sorted(i["PrivateNote"] for i in emulator.control.objects(company.realm_id, "Invoice"))
    assert notes == ["autobill:inv-0", "autobill:inv-1", "autobill:inv-2"]
    assert emulator.control.counters(company.realm_id)["throttled"] == 0
    actions = [r.action for r in container.audit.records(company.id)]
    assert actions == ["company.connected", "connection.refresh_failed", "company.reconnected"]


@pytest.fixture
def pg_container(tmp_path, postgres_database_url, redis_url, emulator):
    made = emulator_container(tmp_path, postgres_database_url, redis_url, emulator)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    _close(made)


def test_two_people_completing_a_connect_for_the_same_new_realm_at_once_get_one_company(
        pg_container, emulator, monkeypatch):
    import threading

    import addon.connect

    container = pg_container
    realm = emulator.control.create_realm("Northwind IT", seed="empty")
    both_looked = threading.Barrier(2, timeout=20)
    looked = threading.local()
    real_find = addon.connect.find_by_realm

    def find_then_wait(session, environment, realm_id):
        found = real_find(session, environment, realm_id)
        if not getattr(looked, "once", False):  # the first look of each: neither has written yet
            looked.once = True
            both_looked.wait()
        return found

    monkeypatch.setattr(addon.connect, "find_by_realm", find_then_wait)
    results, errors = {}, []

    def connect(email):
        try:
            results[email] = connect_with_emulator(container, realm_id=realm, email=email)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    people = [threading.Thread(target=connect, args=(e,)) for e in ("nora@northwind.example", "sam@northwind.example")]
    for person in people:
        person.start()
    for person in people:
        person.join(60)
    assert errors == []
    nora, sam = results["nora@northwind.example"], results["sam@northwind.example"]
    assert nora.company.id == sam.company.id and sorted([nora.created, sam.created]) == [False, True]
    assert [c.realm_id for c in container.companies.list()] == [realm]
    company_id = nora.company.id
    assert {container.companies.role_of(r.user.id, company_id) for r in (nora, sam)} == {Role.ADMIN}
    actions = sorted(r.action for r in container.audit.records(company_id))
    assert actions == ["company.connected", "company.tokens_renewed"] and container.audit.verify(company_id).ok
    assert container.ledger(company_id).company_info().name == "Northwind IT"  # the stored tokens work
