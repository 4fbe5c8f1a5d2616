"""After a whole connection lifecycle, no token the emulator issued is in the database or the audit export."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from addon import bootstrap
from addon.clock import utcnow
from addon.connect import ConnectFlow
from addon.emulator_connect import connect_with_emulator
from addon.keyrotation import rotate_all
from addon.ledger import AuthLost
from addon.tick import tick
from addon.vault import Vault, generate_key
from tests.integration.connection.conftest import _close, emulator_container


def dump(database) -> str:
    """Every value of every table, as text."""
    parts = []
    with database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def test_a_full_lifecycle_leaves_no_token_in_the_database_or_the_audit(tmp_path, database_url, redis_url, emulator):
    container = emulator_container(tmp_path, database_url, redis_url, emulator)
    bootstrap.set_current(container)
    try:
        company = connect_with_emulator(container, company_name="Northwind IT").company
        ledger = container.ledger(company.id)
        ledger.company_info()
        emulator.control.expire_tokens()
        ledger.company_info()  # 401, refresh, retry
        on_the_hour = (utcnow() + timedelta(days=31)).replace(minute=0, second=0, microsecond=0)
        report = tick(on_the_hour, container)  # the hourly keep-alive refreshes the idle company
        assert {o.name: o.result for o in report.outcomes}["qbo_keepalive"]["refreshed"] == 1
        rotated = Vault([generate_key(), *container.settings.encryption_keys])
        rotate_all(container.database, rotated, container.audit)
        container.__dict__["vault"] = rotated
        container.__dict__.pop("tokens", None)
        ConnectFlow(container).disconnect(company.id, actor="user:test")
        connect_with_emulator(container, realm_id=company.realm_id)
        container.oauth.revoke(container.tokens.store.load(company.id).refresh_token)
        with pytest.raises(AuthLost):
            container.ledger(company.id).company_info()
        assert container.companies.get(company.id).status == "needs_reconnect"

        issued = emulator.control.issued_tokens()
        assert len(issued) >= 6
        everything = dump(container.database)
        assert not [t for t in issued if t in everything]
        out = io.StringIO()
        container.audit.export_csv(company.id, out)
        assert not [t for t in issued if t in out.getvalue()]
        assert container.audit.verify(company.id).ok
    finally:
        bootstrap.set_current(None)
        _close(container)
