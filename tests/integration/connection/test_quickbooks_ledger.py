"""The QuickBooks adapter passes the ledger contract against the emulator, over HTTP."""

import pytest

from tests.integration.connection.conftest import _close, connect_realm, emulator_container
from tests.unit.connection.ledger_contract import LedgerContract


class TestQuickBooksLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, tmp_path, sqlite_database_url, redis_url, emulator):
        container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator)
        realm = emulator.control.create_realm("Northwind IT", seed="demo")
        emulator.control.preferences(realm, custom_txn_numbers=True)
        company = connect_realm(container, emulator, realm)
        yield container.ledger(company.id)
        _close(container)
