"""Name lists: Customer, Item, Account, Class and Term.

Each ``prepare_*`` takes the merged fields of a create or update and returns the object to store,
with the values QuickBooks derives (FullyQualifiedName, Classification, Type, defaults) filled in.
Names are unique per list, ignoring case (6240 otherwise); inactive objects keep their names.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox import faults
from sandbox.values import boolean, decimal, resolve, text

CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar", "EUR": "Euro",
                  "GBP": "British Pound Sterling", "AUD": "Australian Dollar"}

CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
    "Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense", "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability", "Income": "Revenue",
    "Other Income": "Revenue",
}
ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Category", "Group", "Bundle")


def currency_ref(realm, value) -> dict:
    """A CurrencyRef checked against the company's multi-currency preference."""
    home = realm.home_currency()
    code = (value or {}).get("value") if isinstance(value, dict) else None
    code = code or home
    if code != home and not realm.preference("CurrencyPrefs", "MultiCurrencyEnabled", default=False):
        raise faults.business(f"Multicurrency is not enabled for this company; currency {code} is not allowed",
                              "CurrencyRef")
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def number_addresses(realm, obj: dict) -> None:
    """Give stored addresses an Id, as QuickBooks does for every PhysicalAddress it keeps."""
    for field in ("BillAddr", "ShipAddr"):
        address = obj.get(field)
        if isinstance(address, dict) and address and "Id" not in address:
            address["Id"] = realm.next_id("PhysicalAddress")


def _unique(realm, entity: str, field: str, name: str, own_id: str | None, what: str) -> None:
    wanted = name.strip().lower()
    for other in realm.objects[entity].values():
        if other.get("Id") != own_id and str(other.get(field, "")).strip().lower() == wanted:
            raise faults.duplicate_name(what)


def _name(obj: dict, field: str = "Name") -> str:
    value = text(obj.get(field), field)
    if not value or not value.strip():
        raise faults.required(field)
    if ":" in value:
        raise faults.business(f"{field} cannot contain a colon (:)", field)
    return value


def _qualified(realm, entity: str, obj: dict, name: str, parent_field: str = "ParentRef") -> str:
    parent = resolve(realm, entity, obj.get(parent_field), parent_field)
    if parent is None:
        obj.pop(parent_field, None)
        return name
    obj[parent_field] = parent
    parent_obj = realm.get(entity, parent["value"])
    return f"{parent_obj.get('FullyQualifiedName') or parent['name']}:{name}"


def prepare_customer(realm, obj: dict, existing: dict | None) -> dict:
    """A Customer: DisplayName derived from the name parts if absent, unique among customers."""
    for field in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "CompanyName", "Notes",
                  "PrintOnCheckName", "DisplayName"):
        if field in obj:
            obj[field] = text(obj[field], field)
            if obj[field] is None:
                del obj[field]
    display = obj.get("DisplayName")
    if not display:
        parts = [obj.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        display = " ".join(p for p in parts if p) or obj.get("CompanyName")
    if not display:
        raise faults.required("DisplayName")
    if ":" in display:
        raise faults.business("DisplayName cannot contain a colon (:)", "DisplayName")
    _unique(realm, "Customer", "DisplayName", display, existing and existing["Id"], "customer, vendor or employee")
    obj["DisplayName"] = display
    obj.setdefault("PrintOnCheckName", display)
    for field in ("PrimaryEmailAddr", "BillAddr", "ShipAddr", "PrimaryPhone", "Mobile", "Fax", "WebAddr"):
        if field in obj and not isinstance(obj[field], dict):
            raise faults.invalid_property(f"{field}: expected an object")
    number_addresses(realm, obj)
    email = obj.get("PrimaryEmailAddr")
    if email is not None:
        text(email.get("Address"), "PrimaryEmailAddr.Address")
    obj["Active"] = boolean(obj.get("Active"), "Active", True)
    obj["Taxable"] = boolean(obj.get("Taxable"), "Taxable", True)
    obj["BillWithParent"] = boolean(obj.get("BillWithParent"), "BillWithParent", False)
    for field, entity in (("SalesTermRef", "Term"), ("DefaultTaxCodeRef", "TaxCode")):
        if field in obj:
            ref = resolve(realm, entity, obj[field], field)
            if ref:
                obj[field] = ref
            else:
                del obj[field]
    obj["FullyQualifiedName"] = _qualified(realm, "Customer", obj, display)
    obj["Job"] = "ParentRef" in obj
    obj["Level"] = obj["FullyQualifiedName"].count(":")
    obj["CurrencyRef"] = currency_ref(realm, obj.get("CurrencyRef"))
    obj["Balance"] = existing.get("Balance", Decimal("0.00")) if existing else Decimal("0.00")
    obj["BalanceWithJobs"] = obj["Balance"]
    obj.setdefault("PreferredDeliveryMethod", "Email" if email else "Print")
    obj["IsProject"] = False
    return obj


def prepare_item(realm, obj: dict, existing: dict | None) -> dict:
    """An Item: unique Name, a known Type, an income account for things that are sold."""
    name = _name(obj)
    _unique(realm, "Item", "Name", name, existing and existing["Id"], "item")
    kind = text(obj.get("Type"), "Type") or "Service"
    if kind not in ITEM_TYPES:
        raise faults.invalid_property(f"Type: {kind!r} is not one of {', '.join(ITEM_TYPES)}")
    obj["Type"] = kind
    for field in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        ref = resolve(realm, "Account", obj.get(field), field)
        if ref:
            obj[field] = ref
        else:
            obj.pop(field, None)
    if kind in ("Service", "NonInventory", "Inventory") and "IncomeAccountRef" not in obj:
        raise faults.required("IncomeAccountRef")
    if "SalesTaxCodeRef" in obj:
        obj["SalesTaxCodeRef"] = resolve(realm, "TaxCode", obj["SalesTaxCodeRef"], "SalesTaxCodeRef")
    for field in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
        if field in obj:
            obj[field] = decimal(obj[field], field)
    obj.setdefault("UnitPrice", Decimal("0"))
    obj["Active"] = boolean(obj.get("Active"), "Active", True)
    obj["Taxable"] = boolean(obj.get("Taxable"), "Taxable", False)
    obj["TrackQtyOnHand"] = boolean(obj.get("TrackQtyOnHand"), "TrackQtyOnHand", False)
    obj["FullyQualifiedName"] = _qualified(realm, "Item", obj, name)
    obj["SubItem"] = "ParentRef" in obj
    return obj


def prepare_account(realm, obj: dict, existing: dict | None) -> dict:
    """An Account: unique Name, an AccountType, and the Classification that type implies."""
    name = _name(obj)
    _unique(realm, "Account", "Name", name, existing and existing["Id"], "account")
    kind = text(obj.get("AccountType"), "AccountType")
    if not kind:
        raise faults.required("AccountType")
    if kind not in CLASSIFICATION:
        raise faults.invalid_property(f"AccountType: {kind!r} is not a QuickBooks account type")
    obj["AccountType"] = kind
    obj["Classification"] = CLASSIFICATION[kind]
    obj["Active"] = boolean(obj.get("Active"), "Active", True)
    obj["FullyQualifiedName"] = _qualified(realm, "Account", obj, name)
    obj["SubAccount"] = "ParentRef" in obj
    obj.setdefault("CurrentBalance", Decimal("0"))
    obj["CurrentBalanceWithSubAccounts"] = obj["CurrentBalance"]
    obj["CurrencyRef"] = currency_ref(realm, obj.get("CurrencyRef"))
    return obj


def prepare_class(realm, obj: dict, existing: dict | None) -> dict:
    """A Class: unique Name, optionally under a parent class."""
    name = _name(obj)
    _unique(realm, "Class", "Name", name, existing and existing["Id"], "class")
    obj["Active"] = boolean(obj.get("Active"), "Active", True)
    obj["FullyQualifiedName"] = _qualified(realm, "Class", obj, name)
    obj["SubClass"] = "ParentRef" in obj
    return obj


def prepare_term(realm, obj: dict, existing: dict | None) -> dict:
    """A Term: unique Name; STANDARD with DueDays, or DATE_DRIVEN with DayOfMonthDue."""
    name = _name(obj)
    _unique(realm, "Term", "Name", name, existing and existing["Id"], "term")
    for field in ("DueDays", "DiscountDays", "DayOfMonthDue", "DueNextMonthDays", "DiscountDayOfMonth"):
        if field in obj:
            value = decimal(obj[field], field)
            if value is None or value != value.to_integral_value() or value < 0:
                raise faults.invalid_property(f"{field}: expected a whole number of days")
            obj[field] = int(value)
    if "DiscountPercent" in obj:
        obj["DiscountPercent"] = decimal(obj["DiscountPercent"], "DiscountPercent")
    obj["Type"] = "DATE_DRIVEN" if "DayOfMonthDue" in obj else "STANDARD"
    if obj["Type"] == "STANDARD":
        obj.setdefault("DueDays", 0)
    obj["Active"] = boolean(obj.get("Active"), "Active", True)
    return obj


PREPARE = {"Customer": prepare_customer, "Item": prepare_item, "Account": prepare_account,
           "Class": prepare_class, "Term": prepare_term}
