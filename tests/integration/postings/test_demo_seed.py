"""The demo company `autobill run` prepares: connected, with a generic endpoint, a mapping and an example
agreement, made once however often autobill starts."""

from __future__ import annotations

from addon.clock import utcnow
from addon.demoseed import DEMO_AGREEMENT_ID, DEMO_CUSTOMER_KEY, demo_body, seed_demo
from tests.integration.connection.conftest import _close, emulator_container


def test_the_demo_company_is_seeded_once_with_an_endpoint_a_mapping_and_an_example_agreement(
        tmp_path, sqlite_database_url, redis_url, emulator):
    container = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator)
    try:
        realm = emulator.control.create_realm("Demo IT Services", seed="demo")
        first = seed_demo(container)
        again = seed_demo(container)
        assert first == again and first.realm_id == realm
        assert [c.name for c in container.companies.list()] == ["Demo IT Services"]
        mapping = container.mappings.get(first.company_id, "customer", "generic", DEMO_CUSTOMER_KEY)
        northwind = next(c for c in emulator.control.objects(realm, "Customer") if c["DisplayName"] == "Northwind IT")
        assert mapping.target == northwind["Id"]
        agreement = container.agreements.agreement(first.company_id, DEMO_AGREEMENT_ID)
        assert agreement.customer_id == northwind["Id"] and agreement.rules[0].when.kind.value == "deal_won"
        assert [e.source for e in container.endpoints.list(first.company_id)] == ["generic"]
    finally:
        _close(container)


def test_the_demo_delivery_is_a_valid_generic_delivery():
    from connectors import generic

    [event] = generic.events(demo_body("deal-42", "4200.00", utcnow()), {})
    assert (event.kind.value, event.source_object_id, str(event.amount)) == ("deal_won", "deal-42", "4200.00")
    assert event.source_customer.id == DEMO_CUSTOMER_KEY
