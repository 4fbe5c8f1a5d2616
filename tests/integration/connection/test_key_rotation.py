"""Key rotation: rows under the old key stay readable, are re-encrypted, then need only the new key."""

from sqlalchemy import select, update

from addon.keyrotation import rotate_all
from addon.models.companies import Connection
from addon.vault import Vault, VaultError, generate_key
from tests.integration.connection.conftest import add_company


def _store(container, vault, company_id, access, refresh):
    with container.unit_of_work() as session:
        row = session.get(Connection, company_id)
        row.access_token, row.refresh_token = vault.encrypt(access), vault.encrypt(refresh)


def _stored(container, company_id):
    with container.unit_of_work() as session:
        row = session.get(Connection, company_id)
        return row.access_token, row.refresh_token


def test_rotation_reencrypts_everything_under_the_newest_key(container):
    old_key, new_key = generate_key(), generate_key()
    old = Vault([old_key])
    northwind, contoso = add_company(container), add_company(container, name="Contoso", realm="77")
    _store(container, old, northwind.id, "AT-northwind", "RT-northwind")
    _store(container, old, contoso.id, "AT-contoso", "RT-contoso")

    both = Vault([new_key, old_key])
    assert both.decrypt(_stored(container, northwind.id)[1]) == "RT-northwind"
    report = rotate_all(container.database, both, container.audit)
    assert report.rotated == 4 and report.already_current == 0

    only_new = Vault([new_key])
    assert [only_new.decrypt(v) for v in _stored(container, northwind.id)] == ["AT-northwind", "RT-northwind"]
    assert [only_new.decrypt(v) for v in _stored(container, contoso.id)] == ["AT-contoso", "RT-contoso"]
    try:
        old.decrypt(_stored(container, contoso.id)[0])
        raise AssertionError("the old key alone still opens a rotated value")
    except VaultError:
        pass
    assert rotate_all(container.database, both, container.audit).rotated == 0
    actions = [r.action for r in container.audit.records(northwind.id)]
    assert actions == ["keys.rotated"]
    assert container.audit.verify(northwind.id).ok


def test_rotation_leaves_a_value_alone_when_a_running_process_replaced_it_meanwhile(container, monkeypatch):
    old_key, new_key = generate_key(), generate_key()
    company = add_company(container)
    _store(container, Vault([old_key]), company.id, "AT-1", "RT-1")
    both = Vault([new_key, old_key])
    fresh = both.encrypt("RT-2-from-a-refresh")
    real_rotate = both.rotate

    def rotate_while_a_refresh_lands(ciphertext):
        with container.unit_of_work() as session:
            session.execute(update(Connection).where(Connection.company_id == company.id)
                            .values(refresh_token=fresh))
        return real_rotate(ciphertext)

    monkeypatch.setattr(both, "rotate", rotate_while_a_refresh_lands)
    rotate_all(container.database, both, container.audit)
    with container.unit_of_work() as session:
        refresh = session.execute(select(Connection.refresh_token)).scalar_one()
    assert Vault([new_key]).decrypt(refresh) == "RT-2-from-a-refresh"
