"""Name lists, credit memos and the tax lists through python-quickbooks: update, stale SyncToken, delete,
read and query, and what QuickBooks refuses (creating or updating a TaxCode or TaxRate)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.base import Ref
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.item import Item
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.taxrate import TaxRate
from quickbooks.objects.term import Term
from quickbooks.objects.trackingclass import Class

from sandbox.control_client import ControlAPIError
from tests.integration.sandbox.test_sales import _line

# (python-quickbooks class, its name in the demo company, a writable field, a new value for it)
NAME_LISTS = [
    (Term, "Net 15", "DueDays", 20),
    (Account, "Services", "Description", "Managed IT and consulting income"),
    (Class, "Projects", "Active", False),
    (Item, "Consulting hours", "UnitPrice", 150.0),
]


def _named(cls, name, qb):
    [found] = cls.filter(Name=name, qb=qb)
    return found


@pytest.mark.parametrize("cls, name, field, value", NAME_LISTS, ids=[c[0].__name__ for c in NAME_LISTS])
def test_a_name_list_entry_is_updated_and_an_old_copy_gets_5010(company, cls, name, field, value):
    stored = _named(cls, name, company.qb)
    assert stored.SyncToken == "0" and getattr(stored, field) != value
    setattr(stored, field, value)
    saved = stored.save(qb=company.qb)
    assert saved.SyncToken == "1" and getattr(saved, field) == value
    assert getattr(cls.get(stored.Id, qb=company.qb), field) == value and saved.Name == name
    # python-quickbooks keeps SyncToken "0" on the object it saved: saving it again is a stale write.
    stored.Name = f"{name} (old copy)"
    with pytest.raises(QuickbooksException) as err:
        stored.save(qb=company.qb)
    assert err.value.error_code == 5010
    assert cls.get(stored.Id, qb=company.qb).Name == name


def _credit_memo(qb, amount) -> CreditMemo:
    memo = CreditMemo()
    memo.CustomerRef = Ref()
    memo.CustomerRef.value = "1"
    memo.Line = [_line(amount)]
    return memo.save(qb=qb)


def test_a_deleted_credit_memo_is_gone_and_gives_the_customer_balance_back(company):
    before = Customer.get(1, qb=company.qb).Balance
    memo = _credit_memo(company.qb, 40)
    assert Customer.get(1, qb=company.qb).Balance == before - 40  # an unused credit lowers what is owed
    answer = memo.delete(qb=company.qb)
    assert answer["CreditMemo"] == {"status": "Deleted", "domain": "QBO", "Id": memo.Id}
    with pytest.raises(ObjectNotFoundException):
        CreditMemo.get(memo.Id, qb=company.qb)
    assert Customer.get(1, qb=company.qb).Balance == before


def test_a_stale_credit_memo_is_not_deleted(company):
    memo = _credit_memo(company.qb, 40)
    memo.PrivateNote = "edited"
    memo.save(qb=company.qb)  # SyncToken is 1 now; the object python-quickbooks holds still says 0
    with pytest.raises(QuickbooksException) as err:
        memo.delete(qb=company.qb)
    assert err.value.error_code == 5010
    assert CreditMemo.get(memo.Id, qb=company.qb).PrivateNote == "edited"


def test_tax_codes_and_rates_are_read_and_queried(company):
    code = TaxCode.get(1, qb=company.qb)
    assert code.Name == "Demo Sales Tax" and code.Taxable and code.TaxGroup
    [detail] = code.SalesTaxRateList.TaxRateDetail
    rate = TaxRate.get(detail.TaxRateRef.value, qb=company.qb)
    assert rate.Name == "Demo Sales Tax" and Decimal(str(rate.RateValue)) == Decimal("8.25")
    assert {c.Id for c in TaxCode.filter(Active=True, qb=company.qb)} == {"TAX", "NON", "1"}
    assert [c.Id for c in TaxCode.filter(Taxable=False, qb=company.qb)] == ["NON"]
    assert [r.Id for r in TaxRate.where("Name LIKE '%Sales%'", qb=company.qb)] == [rate.Id]
    assert TaxRate.count(qb=company.qb) == 1


@pytest.mark.parametrize("entity, body", [
    ("taxrate", {"Name": "County tax", "RateValue": "1.5", "AgencyRef": {"value": "1"}}),
    ("taxcode", {"Name": "County", "Taxable": True}),
])
def test_creating_a_tax_code_or_rate_is_refused_as_quickbooks_does(company, entity, body):
    # QuickBooks makes them through the TaxService endpoint; the entity endpoint answers "Unsupported
    # Operation" (github.com/intuit/QuickBooks-V3-PHP-SDK/issues/106 shows QBO's answer for taxrate).
    answer = company.raw("POST", entity, json=body)
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"] == [{"Message": "Unsupported Operation", "code": "500",
                                                "Detail": "Operation Create is not supported.",
                                                "element": "Operation"}]
    assert len(company.emulator.control.objects(company.realm_id, "TaxRate")) == 1


def test_updating_a_tax_rate_through_the_api_is_refused(company):
    rate = company.emulator.control.objects(company.realm_id, "TaxRate")[0]
    answer = company.raw("POST", "taxrate", json={"Id": rate["Id"], "SyncToken": rate["SyncToken"], "sparse": True,
                                                  "RateValue": "9"})
    assert answer.json()["Fault"]["Error"][0]["Detail"] == "Operation Update is not supported."
    assert company.raw("GET", f"taxrate/{rate['Id']}").json()["TaxRate"]["RateValue"] == 8.25


def test_a_person_changing_the_tax_rate_taxes_new_invoices_at_it_and_leaves_old_ones(company):
    control = company.emulator.control
    lines = [{"item": "Hardware", "amount": "1000.00"}]  # Hardware is taxable
    before = control.create_invoice(company.realm_id, customer="Northwind IT", lines=lines)
    assert before["TxnTaxDetail"]["TotalTax"] == 82.5
    rate = control.set_tax_rate(company.realm_id, "8.875")
    assert rate["RateValue"] == 8.875 and rate["SyncToken"] == "1"
    after = control.create_invoice(company.realm_id, customer="Northwind IT", lines=lines)
    assert after["TxnTaxDetail"]["TotalTax"] == 88.75 and after["TotalAmt"] == 1088.75
    assert company.raw("GET", f"invoice/{before['Id']}").json()["Invoice"]["TxnTaxDetail"]["TotalTax"] == 82.5


@pytest.mark.parametrize("body, status", [({"rate": "-1"}, 400), ({"rate": "abc"}, 400), ({"rate": "101"}, 400),
                                          ({}, 400), ({"rate": "5", "name": "x"}, 400)])
def test_a_bad_tax_rate_change_is_a_400_and_changes_nothing(company, body, status):
    rate_id = company.emulator.control.objects(company.realm_id, "TaxRate")[0]["Id"]
    with pytest.raises(ControlAPIError) as err:
        company.emulator.control.request("POST", f"/realms/{company.realm_id}/actions/tax_rates/{rate_id}/edit", body)
    assert err.value.status == status and err.value.body["error"]
    assert company.emulator.control.objects(company.realm_id, "TaxRate")[0]["RateValue"] == 8.25


def test_changing_a_tax_rate_that_does_not_exist_is_a_404(company):
    with pytest.raises(ControlAPIError) as err:
        company.emulator.control.set_tax_rate(company.realm_id, "5", tax_rate="99")
    assert err.value.status == 404
