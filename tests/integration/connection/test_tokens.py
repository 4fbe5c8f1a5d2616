"""Single-flight refresh with a compare-and-set, on SQLite and PostgreSQL, with a real Redis lock."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from addon.clock import utcnow
from addon.ledger import AuthLost
from addon.models.companies import Company, Connection
from addon.tokens import TokenKeeper, TokenStore
from tests.integration.connection.conftest import add_company
from tests.unit.connection.fakes import FakeOAuth


@pytest.fixture
def oauth():
    return FakeOAuth()


@pytest.fixture
def store(container):
    return TokenStore(container.database, container.vault)


@pytest.fixture
def keeper(container, store, oauth):
    return TokenKeeper(store, oauth, container.redis, container.audit)


@pytest.fixture
def company(container, store, oauth):
    made = add_company(container)
    assert store.save(made.id, oauth.issue(), expected_version=0, now=utcnow())
    return made


def _expire(container, company_id):
    with container.unit_of_work() as session:
        session.get(Connection, company_id).access_expires_at = datetime.now(UTC) - timedelta(seconds=1)


def test_a_fresh_access_token_is_used_without_refreshing(keeper, company, oauth):
    assert keeper.current(company.id).access_token == "AT-1"
    assert oauth.refreshes == 0


def test_an_expired_access_token_is_refreshed_and_the_new_pair_stored_first(keeper, store, company, oauth, container):
    _expire(container, company.id)
    tokens = keeper.current(company.id)
    assert tokens.access_token == "AT-2" and oauth.refreshes == 1
    stored = store.load(company.id)
    assert (stored.access_token, stored.refresh_token, stored.version) == ("AT-2", "RT-2", 2)


def test_a_refresh_requested_for_an_old_version_reloads_instead_of_refreshing(keeper, company, oauth, container):
    _expire(container, company.id)
    keeper.current(company.id)
    tokens = keeper.refresh(company.id, seen_version=1)  # a 401 seen with the version-1 token
    assert tokens.access_token == "AT-2" and oauth.refreshes == 1


def test_the_compare_and_set_stores_only_one_of_two_writers_at_the_same_version(store, company, oauth):
    barrier, results = threading.Barrier(2), []

    def write():
        grant = oauth.issue()
        barrier.wait()
        results.append(store.save(company.id, grant, expected_version=1, now=utcnow()))

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert store.load(company.id).version == 2


def test_eight_threads_hitting_an_expired_token_refresh_once(keeper, company, oauth, container):
    _expire(container, company.id)
    barrier, seen, errors = threading.Barrier(8), [], []

    def call():
        barrier.wait()
        try:
            seen.append(keeper.current(company.id).access_token)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and oauth.refreshes == 1 and set(seen) == {"AT-2"}


def test_invalid_grant_is_not_believed_when_a_sibling_rotated_the_token_meanwhile(keeper, store, company, oauth,
                                                                                   container, monkeypatch):
    real = oauth.refresh

    def sibling_wins_then_we_lose(refresh_token):
        store.save(company.id, real(refresh_token), expected_version=1, now=utcnow())
        return real(refresh_token)  # the token we hold was just rotated: invalid_grant

    monkeypatch.setattr(oauth, "refresh", sibling_wins_then_we_lose)
    tokens = keeper.refresh(company.id, seen_version=1)
    assert tokens.access_token == "AT-2"
    with container.unit_of_work() as session:
        assert session.get(Company, company.id).status == "connected"


def test_a_refused_refresh_token_marks_the_company_needs_reconnect_and_audits_it(keeper, company, oauth,
                                                                                 container):
    oauth.live_refresh.clear()  # revoked at Intuit
    _expire(container, company.id)
    with pytest.raises(AuthLost):
        keeper.current(company.id)
    with container.unit_of_work() as session:
        row = session.get(Company, company.id)
        assert row.status == "needs_reconnect" and "refresh token was refused" in row.status_reason
    [record] = container.audit.records(company.id)
    assert record.action == "connection.refresh_failed" and "RT-1" not in record.details
    with pytest.raises(AuthLost):
        keeper.current(company.id)  # no more refresh attempts while it needs reconnecting
    assert oauth.refreshes == 1


def test_a_grant_refused_after_newer_tokens_were_stored_leaves_the_company_connected_and_asks_for_a_retry(
        keeper, store, company, oauth, container):
    from addon.ledger import Transient

    seen = store.load(company.id).version
    keeper.refresh(company.id, seen_version=seen)  # a sibling stored newer tokens meanwhile
    fault = keeper.grant_refused(company.id, seen_version=seen, reason="QuickBooks refused the old token")
    assert isinstance(fault, Transient) and fault.retryable
    assert container.companies.get(company.id).status == "connected"
    assert [r.action for r in container.audit.records(company.id)] == []
    fault = keeper.grant_refused(company.id, seen_version=seen + 1, reason="QuickBooks refused the new one too")
    assert isinstance(fault, AuthLost) and container.companies.get(company.id).status == "needs_reconnect"
    assert [r.action for r in container.audit.records(company.id)] == ["connection.lost"]
    assert container.companies.get(company.id).status_reason == "QuickBooks refused the new one too"
