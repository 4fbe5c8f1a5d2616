"""Updates, deletes, voids, DocNumber rules and requestid replay, through python-quickbooks."""

from __future__ import annotations

import pytest
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from tests.integration.sandbox.test_sales import _invoice, _line


def test_a_full_update_replaces_the_lines_and_recomputes_totals(company):
    saved = _invoice(company.qb, _line(100))
    saved.Line = [_line(40), _line(60), _line(25)]
    updated = saved.save(qb=company.qb)
    assert updated.TotalAmt == 125.0 and updated.SyncToken == "1" and updated.DocNumber == saved.DocNumber


def test_a_sparse_update_changes_only_the_fields_sent(company):
    saved = _invoice(company.qb, _line(100), PrivateNote="kept")
    answer = company.raw("POST", "invoice", json={"Id": saved.Id, "SyncToken": "0", "sparse": True,
                                                 "DueDate": "2030-01-31"})
    assert answer.status_code == 200
    body = answer.json()["Invoice"]
    assert body["DueDate"] == "2030-01-31" and body["PrivateNote"] == "kept" and body["TotalAmt"] == 100
    assert body["SyncToken"] == "1"


def test_an_update_with_a_stale_sync_token_gets_5010(company):
    saved = _invoice(company.qb, _line(100))
    saved.PrivateNote = "first"
    saved.save(qb=company.qb)
    saved.PrivateNote = "second, from an old copy"
    with pytest.raises(QuickbooksException) as err:
        saved.save(qb=company.qb)
    assert err.value.error_code == 5010


def test_a_deleted_invoice_is_gone(company):
    saved = _invoice(company.qb, _line(100))
    answer = saved.delete(qb=company.qb)
    assert answer["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": saved.Id}
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(saved.Id, qb=company.qb)


def test_voiding_an_invoice_zeroes_it_and_keeps_it(company):
    saved = _invoice(company.qb, _line(100, "2", 1, 100), PrivateNote="call first")
    answer = saved.void(qb=company.qb)["Invoice"]
    assert answer["TotalAmt"] == 0 and answer["Balance"] == 0 and answer["PrivateNote"] == "Voided - call first"
    assert answer["Line"][0]["SalesItemLineDetail"]["Qty"] == 0 and answer["SyncToken"] == "1"
    assert Invoice.get(saved.Id, qb=company.qb).TotalAmt == 0


def test_customers_cannot_be_deleted_only_made_inactive(company):
    answer = company.raw("POST", "customer", params={"operation": "delete"}, json={"Id": "1", "SyncToken": "0"})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "500"
    customer = Customer.get(1, qb=company.qb)
    customer.Active = False
    assert customer.save(qb=company.qb).Active is False
    answer = company.raw("POST", "invoice", json={"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}]})
    assert answer.json()["Fault"]["Error"][0]["code"] == "2500"


def test_doc_numbers_count_up_when_custom_numbers_are_off(company):
    numbers = [_invoice(company.qb, _line(10)).DocNumber for _ in range(3)]
    assert numbers == ["1001", "1002", "1003"]
    assert _invoice(company.qb, _line(10), DocNumber="1001").DocNumber == "1001"  # not checked when off


def test_a_duplicate_doc_number_gets_6140_when_custom_numbers_are_on(company):
    company.emulator.control.preferences(company.realm_id, custom_txn_numbers=True)
    first = _invoice(company.qb, _line(10), DocNumber="INV-7")
    assert _invoice(company.qb, _line(10)).DocNumber is None
    with pytest.raises(QuickbooksException) as err:
        _invoice(company.qb, _line(10), DocNumber="INV-7")
    assert err.value.error_code == 6140 and f"TxnId={first.Id}" in err.value.detail
    answer = company.raw("POST", "invoice", params={"include": "allowduplicatedocnum"}, json={
        "CustomerRef": {"value": "1"}, "DocNumber": "INV-7",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}]})
    assert answer.status_code == 200


def test_the_same_requestid_replays_the_first_create(company):
    # python-quickbooks' own test_create_idempotence: two saves of new objects with one request id.
    ids = []
    for _ in range(2):
        invoice = Invoice()
        invoice.CustomerRef = {"value": "1"}
        invoice.Line = [_line(100)]
        ids.append(invoice.save(qb=company.qb, request_id="posting-42").Id)
    assert ids[0] == ids[1]
    assert len(company.emulator.control.objects(company.realm_id, "Invoice")) == 1
    assert company.emulator.control.counters(company.realm_id)["replays"] == 1


def test_a_fault_is_not_remembered_so_a_retry_with_the_same_requestid_can_succeed(company):
    body = {"CustomerRef": {"value": "999"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5,
                                                       "SalesItemLineDetail": {}}]}
    assert company.raw("POST", "invoice", params={"requestid": "r-1"}, json=body).status_code == 400
    body["CustomerRef"]["value"] = "1"
    assert company.raw("POST", "invoice", params={"requestid": "r-1"}, json=body).status_code == 200


def test_requestids_are_per_operation(company):
    saved = _invoice(company.qb, _line(100))
    sent = company.raw("POST", f"invoice/{saved.Id}/send", params={"requestid": "same"})
    created = company.raw("POST", "invoice", params={"requestid": "same"}, json={
        "CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5,
                                                 "SalesItemLineDetail": {}}]})
    assert sent.status_code == created.status_code == 200
    assert created.json()["Invoice"]["Id"] != saved.Id


def test_a_requestid_over_50_characters_is_refused(company):
    answer = company.raw("POST", "customer", params={"requestid": "x" * 51}, json={"DisplayName": "Long Id Co"})
    assert answer.status_code == 400 and answer.json()["Fault"]["Error"][0]["code"] == "6000"


def test_requestid_memory_can_be_switched_off_or_limited(company):
    control = company.emulator.control
    control.preferences(company.realm_id, requestid_memory={"seconds": 60})
    body = {"DisplayName": "Memory Co"}
    first = company.raw("POST", "customer", params={"requestid": "m-1"}, json=body).json()["Customer"]["Id"]
    assert company.raw("POST", "customer", params={"requestid": "m-1"}, json=body).json()["Customer"]["Id"] == first
    control.set_clock(advance_seconds=61)
    forgotten = company.raw("POST", "customer", params={"requestid": "m-1"}, json=body)
    assert forgotten.json()["Fault"]["Error"][0]["code"] == "6240"  # ran again: the name now exists
    control.preferences(company.realm_id, requestid_memory="off")
    body = {"DisplayName": "Memory Two"}
    company.raw("POST", "customer", params={"requestid": "m-2"}, json=body)
    assert company.raw("POST", "customer", params={"requestid": "m-2"}, json=body).status_code == 400


def test_an_invoice_read_and_saved_back_by_python_quickbooks_keeps_its_totals(company):
    created = company.raw("POST", "invoice", json={"CustomerRef": {"value": "1"}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": "1000", "SalesItemLineDetail": {"ItemRef": {"value": "3"}}},
        {"DetailType": "SalesItemLineDetail", "Amount": "290", "SalesItemLineDetail": {
            "ItemRef": {"value": "2"}, "Qty": 2, "UnitPrice": "145"}},
        {"DetailType": "DiscountLineDetail", "Amount": "50", "DiscountLineDetail": {"PercentBased": False}}]}).json()
    before = created["Invoice"]
    invoice = Invoice.get(before["Id"], qb=company.qb)
    invoice.PrivateNote = "round trip"
    after = invoice.save(qb=company.qb)
    assert after.TotalAmt == before["TotalAmt"] and after.SyncToken == "1"
    assert [line.DetailType for line in after.Line] == [line["DetailType"] for line in before["Line"]]
    assert after.TxnTaxDetail.TotalTax == before["TxnTaxDetail"]["TotalTax"] == 82.5


def test_the_same_requestid_in_two_companies_makes_two_objects(emulator):
    from tests.integration.sandbox.conftest import quickbooks

    for name in ("Northwind Books", "Contoso Books"):
        realm_id = emulator.control.create_realm(name)
        qb = quickbooks(emulator, realm_id, emulator.control.tokens(realm_id))
        invoice = Invoice()
        invoice.CustomerRef = {"value": "1"}
        invoice.Line = [_line(100)]
        invoice.save(qb=qb, request_id="posting-42")
        assert len(emulator.control.objects(realm_id, "Invoice")) == 1  # not a replay of the other company's
        assert emulator.control.counters(realm_id)["replays"] == 0


# Sparse updates through python-quickbooks. Intuit's rule for transaction lines is "ALL or NONE": the Line
# list sent replaces every line, and an empty one removes them all (the Payment reference, quoted as the
# "QBO definition" in python-quickbooks' objects/payment.py). An invoice must keep a sales line, so a
# sparse update carrying "Line": [] is refused like a create without lines (2020 Line). python-quickbooks
# sends "Line": [] from a fresh Invoice(), so sparse-update an invoice read with Invoice.get().
def test_a_sparse_update_from_a_fresh_python_quickbooks_invoice_sends_no_lines_and_is_refused(company):
    saved = _invoice(company.qb, _line(100), PrivateNote="kept")
    change = Invoice()
    change.Id, change.SyncToken, change.sparse = saved.Id, "0", True
    change.DueDate = "2030-01-31"
    assert change.to_dict()["Line"] == []  # what python-quickbooks puts on the wire
    with pytest.raises(QuickbooksException) as err:
        change.save(qb=company.qb)
    assert err.value.error_code == 2020 and "Line" in err.value.detail
    unchanged = Invoice.get(saved.Id, qb=company.qb)
    assert unchanged.SyncToken == "0" and unchanged.TotalAmt == 100 and unchanged.DueDate != "2030-01-31"


def test_a_sparse_update_of_an_invoice_read_back_changes_only_what_was_changed(company):
    saved = _invoice(company.qb, _line(100), _line(45), PrivateNote="kept")
    invoice = Invoice.get(saved.Id, qb=company.qb)
    invoice.sparse = True
    invoice.DueDate = "2030-01-31"
    updated = invoice.save(qb=company.qb)
    assert updated.DueDate == "2030-01-31" and updated.SyncToken == "1"
    assert updated.TotalAmt == 145 and updated.PrivateNote == "kept" and updated.DocNumber == saved.DocNumber
    assert [line.Amount for line in updated.Line] == [100, 45, 145]  # two item lines and QBO's subtotal


def test_a_sparse_payment_update_with_no_lines_unapplies_the_payment(company):
    from quickbooks.objects.payment import Payment

    invoice = _invoice(company.qb, _line(100))
    applied = company.emulator.control.record_payment(company.realm_id, invoice.Id, "60")
    assert Invoice.get(invoice.Id, qb=company.qb).Balance == 40
    payment = Payment.get(applied["Id"], qb=company.qb)
    payment.sparse = True
    payment.Line = []  # "To remove all lines, send an empty Lines tag"
    updated = payment.save(qb=company.qb)
    assert updated.Line == [] and updated.UnappliedAmt == 60 and updated.TotalAmt == 60
    assert Invoice.get(invoice.Id, qb=company.qb).Balance == 100
