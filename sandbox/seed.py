"""Company data a new realm starts with.

``empty``: what a brand-new QuickBooks company has before anyone types anything: CompanyInfo,
Preferences, a small chart of accounts, the standard terms and the US pseudo tax codes TAX and NON.
``demo``: that plus an IT services business: a sales tax rate and code, three service items and three
customers with emails and terms, and two classes.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox import names
from sandbox.company import company_info, default_preferences
from sandbox.sales import today

ACCOUNTS = (
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Checking", "Bank", "Checking"),
    ("Services", "Income", "ServiceFeeIncome"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Discounts given", "Income", "DiscountsRefundsGiven"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
)
TERMS = (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30))
DEMO_TAX_RATE = Decimal("8.25")
DEMO_ITEMS = (
    ("Managed services", "Monthly managed IT services", Decimal("1500.00"), "Service", "Services", False),
    ("Consulting hours", "Consulting, per hour", Decimal("145.00"), "Service", "Services", False),
    ("Hardware", "Hardware, resold at cost plus margin", Decimal("0"), "NonInventory",
     "Sales of Product Income", True),
)
DEMO_CUSTOMERS = (
    ("Northwind IT", "billing@northwind.example", "Net 30", "100 Harbor Way", "Seattle", "WA", "98101"),
    ("Contoso Ltd", "accounts@contoso.example", "Net 15", "1 Contoso Plaza", "Redmond", "WA", "98052"),
    ("Fabrikam Inc", "ap@fabrikam.example", "Due on receipt", "77 Fabrikam Rd", "Portland", "OR", "97201"),
)
SEEDS = ("demo", "empty")


def seed_company(realm, seed: str, owner_email: str = "owner@demo.example") -> None:
    """Fill a new realm with the ``seed`` data set (no webhooks fire for it)."""
    if seed not in SEEDS:
        raise ValueError(f"seed must be one of {', '.join(SEEDS)}, not {seed!r}")
    with realm.lock:
        realm.insert("CompanyInfo", company_info(realm.name, owner_email, today(realm).isoformat()), "1", emit=False)
        preferences = default_preferences()
        realm.insert("Preferences", preferences, "1", emit=False)
        accounts = {}
        for name, kind, subtype in ACCOUNTS:
            obj = names.prepare_account(realm, {"Name": name, "AccountType": kind, "AccountSubType": subtype}, None)
            accounts[name] = realm.insert("Account", obj, emit=False)
        terms = {}
        for name, days in TERMS:
            terms[name] = realm.insert("Term", names.prepare_term(realm, {"Name": name, "DueDays": days}, None),
                                       emit=False)
        preferences["SalesFormsPrefs"]["DefaultTerms"] = {"value": terms["Net 30"]["Id"]}
        realm.insert("TaxCode", {"Name": "TAX", "Description": "TAX", "Taxable": True, "TaxGroup": False,
                                 "Active": True}, "TAX", emit=False)
        realm.insert("TaxCode", {"Name": "NON", "Description": "NON", "Taxable": False, "TaxGroup": False,
                                 "Active": True}, "NON", emit=False)
        if seed == "demo":
            _demo(realm, accounts, terms)


def _demo(realm, accounts: dict, terms: dict) -> None:
    rate = realm.insert("TaxRate", {"Name": "Demo Sales Tax", "Description": "Sales tax", "RateValue": DEMO_TAX_RATE,
                                    "Active": True, "SpecialTaxType": "NONE", "DisplayType": "ReadOnly",
                                    "AgencyRef": {"value": "1"}}, emit=False)
    code = realm.insert("TaxCode", {
        "Name": "Demo Sales Tax", "Description": "Demo Sales Tax", "Taxable": True, "TaxGroup": True, "Active": True,
        "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": rate["Id"], "name": rate["Name"]},
                                                "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]},
        "PurchaseTaxRateList": {"TaxRateDetail": []}}, emit=False)
    realm.settings["default_tax_code"] = code["Id"]
    for name, description, price, kind, account, taxable in DEMO_ITEMS:
        ref = {"value": accounts[account]["Id"], "name": account}
        obj = names.prepare_item(realm, {"Name": name, "Description": description, "UnitPrice": price,
                                         "Type": kind, "IncomeAccountRef": ref, "Taxable": taxable}, None)
        realm.insert("Item", obj, emit=False)
    for name, email, term, street, city, state, postal in DEMO_CUSTOMERS:
        address = {"Line1": street, "City": city, "CountrySubDivisionCode": state, "PostalCode": postal,
                   "Country": "US"}
        obj = names.prepare_customer(realm, {
            "DisplayName": name, "CompanyName": name, "PrimaryEmailAddr": {"Address": email},
            "SalesTermRef": {"value": terms[term]["Id"]}, "BillAddr": address, "ShipAddr": dict(address)}, None)
        realm.insert("Customer", obj, emit=False)
    for name in ("Managed IT", "Projects"):
        realm.insert("Class", names.prepare_class(realm, {"Name": name}, None), emit=False)
