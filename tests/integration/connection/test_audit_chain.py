"""The audit chain: appended one at a time, verified, tamper-evident, exported, free of secrets."""

import csv
import io
import threading
from decimal import Decimal

import pytest
from sqlalchemy import delete, event, update

from addon.models.audit import AuditRecord
from tests.integration.connection.conftest import add_company


def _fill(container, company_id, n=5):
    for i in range(n):
        container.audit.append(company_id, "invoice.created", actor="worker", subject=f"invoice:{100 + i}",
                               details={"amount": Decimal("5437.50"), "n": i})


def test_appended_records_form_a_chain_that_verifies(container):
    company = add_company(container)
    _fill(container, company.id)
    report = container.audit.verify(company.id)
    assert report.ok and report.records == 5
    records = container.audit.records(company.id)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))
    assert records[0].details == '{"amount":"5437.50","n":0}'


def test_editing_a_record_breaks_the_chain_at_that_record(container):
    company = add_company(container)
    _fill(container, company.id)
    with container.unit_of_work() as session:
        session.execute(update(AuditRecord).where(AuditRecord.company_id == company.id, AuditRecord.seq == 3)
                        .values(details='{"amount":"1.00","n":2}'))
    report = container.audit.verify(company.id)
    assert not report.ok and report.broken_at == 3 and "changed" in report.problem


@pytest.mark.parametrize("seq", [2, 5])
def test_deleting_a_record_breaks_the_chain_even_the_newest(container, seq):
    company = add_company(container)
    _fill(container, company.id)
    with container.unit_of_work() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.company_id == company.id, AuditRecord.seq == seq))
    report = container.audit.verify(company.id)
    assert not report.ok and report.broken_at == seq


def test_chains_are_per_company(container):
    northwind = add_company(container)
    contoso = add_company(container, name="Contoso Managed Services", realm="4620816365201235730")
    _fill(container, northwind.id, 3)
    _fill(container, contoso.id, 2)
    assert container.audit.verify(northwind.id).records == 3
    assert container.audit.verify(contoso.id).records == 2


def test_appends_in_one_transaction_read_the_locked_head_once(container):
    company = add_company(container)
    _fill(container, company.id, 2)
    reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "audit_heads" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(container.database.engine, "before_cursor_execute", count)
    try:
        with container.unit_of_work() as session:
            for action in ("invoice.created", "totals.compared", "email.sent"):
                container.audit.append(company.id, action, actor="worker", subject="posting:1", session=session)
        with container.unit_of_work() as session:  # a new transaction locks the head again
            container.audit.append(company.id, "posting.finished", actor="worker", subject="posting:1",
                                   session=session)
    finally:
        event.remove(container.database.engine, "before_cursor_execute", count)
    assert len(reads) == 2, reads
    report = container.audit.verify(company.id)
    assert report.ok and report.records == 6, report


def _append_then_roll_back(container, session, company_id: str, action: str) -> None:
    """Append ``action`` inside a savepoint that is then rolled back."""
    try:
        with session.begin_nested():
            container.audit.append(company_id, action, actor="worker", subject="posting:1", session=session)
            raise RuntimeError("undo this one")
    except RuntimeError:
        pass


def test_an_append_in_a_rolled_back_savepoint_leaves_the_chain_valid(container):
    company = add_company(container)
    _fill(container, company.id, 2)
    with container.unit_of_work() as session:
        container.audit.append(company.id, "invoice.created", actor="worker", subject="posting:1", session=session)
        _append_then_roll_back(container, session, company.id, "totals.compared")
        container.audit.append(company.id, "email.sent", actor="worker", subject="posting:1", session=session)
    report = container.audit.verify(company.id)
    assert report.ok and report.records == 4, report
    assert [r.action for r in container.audit.records(company.id)][2:] == ["invoice.created", "email.sent"]


def test_a_first_append_taken_back_by_a_savepoint_leaves_the_next_one_to_start_the_chain(container):
    company = add_company(container, name="Fabrikam Inc", realm="4620816365201235731")
    with container.unit_of_work() as session:
        _append_then_roll_back(container, session, company.id, "billing.backlog")  # creates the head, undone
        container.audit.append(company.id, "email.sent", actor="worker", subject="posting:1", session=session)
    report = container.audit.verify(company.id)
    assert report.ok and report.records == 1, report


def test_concurrent_appenders_keep_one_valid_chain(container):
    company = add_company(container)
    errors = []

    def append_many(worker):
        try:
            for i in range(15):
                container.audit.append(company.id, "test.append", actor=f"worker-{worker}", subject=f"n:{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = container.audit.verify(company.id)
    assert report.ok and report.records == 90


def test_details_never_carry_secrets(container):
    company = add_company(container)
    container.audit.append(company.id, "connection.refreshed", actor="worker", subject=f"company:{company.id}",
                           details={"access_token": "eyJ-secret", "nested": {"refresh_token": "RT1-secret",
                                    "client_secret": "s3cret", "Authorization": "Bearer x"}, "intuit_tid": "1-abc"})
    text = container.audit.records(company.id)[0].details
    assert "secret" not in text.replace("client_secret", "") and "Bearer" not in text
    assert '"intuit_tid":"1-abc"' in text


def test_the_chain_exports_as_csv_in_chain_order(container):
    company = add_company(container)
    _fill(container, company.id, 3)
    out = io.StringIO()
    assert container.audit.export_csv(company.id, out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["subject"] == "invoice:102" and rows[1]["hash"] == rows[2]["prev_hash"]
