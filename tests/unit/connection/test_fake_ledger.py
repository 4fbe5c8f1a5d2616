"""The fake ledger passes the ledger contract, and lets a test inject a fault."""

import pytest

from addon.ledger import Throttled
from addon.ledger.fake import FakeLedgerGateway
from tests.unit.connection.ledger_contract import LedgerContract


class TestFakeLedger(LedgerContract):
    @pytest.fixture
    def ledger(self):
        return FakeLedgerGateway()


def test_an_injected_fault_is_raised_by_the_next_call_only():
    ledger = FakeLedgerGateway()
    ledger.fail_next(Throttled("slow down", retry_after=60))
    with pytest.raises(Throttled):
        ledger.company_info()
    assert ledger.company_info().name == "Northwind IT"
