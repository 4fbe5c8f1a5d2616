"""Server-side totals of sales forms (Invoice, CreditMemo): lines, SubTotalLine, discount and tax.

Rules follow Intuit's Invoice reference and its samples: Amount must equal Qty x UnitPrice when both
are given (6070 otherwise); QuickBooks adds a SubTotalLine after the item lines; one discount line,
percent-based or fixed, applies to the subtotal; tax comes from each line's TaxCodeRef ("TAX" uses the
transaction's tax code, "NON" none, a numeric code its own rates) and is computed before the discount
unless ApplyTaxAfterDiscount is true. Every amount is rounded half-up to cents once.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sandbox import faults
from sandbox.jsonio import money
from sandbox.values import boolean, decimal, iso_date, ref_id, resolve, text

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


def compute_lines(realm, obj: dict) -> tuple[list[dict], Decimal, Decimal, dict]:
    """Normalized lines, the item subtotal, the discount and the TxnTaxDetail of a sales form."""
    raw_lines = obj.get("Line")
    if raw_lines is None:
        raise faults.required("Line")
    if not isinstance(raw_lines, list):
        raise faults.invalid_property("Line: expected a list of lines")
    lines: list[dict] = []
    subtotal = ZERO
    taxable: dict[str, Decimal] = defaultdict(lambda: ZERO)
    discount_raw = None
    for raw in raw_lines:
        if not isinstance(raw, dict):
            raise faults.invalid_property("Line: expected line objects")
        kind = raw.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue  # QuickBooks computes the subtotal line itself
        if kind == "SalesItemLineDetail":
            line, tax_key = _sales_line(realm, raw)
            subtotal += line["Amount"]
            if tax_key is not None:
                taxable[tax_key] += line["Amount"]
        elif kind == "DescriptionOnly":
            line = _description_line(raw)
        elif kind == "DiscountLineDetail":
            if discount_raw is not None:
                raise faults.business("Only one discount line is allowed per transaction", "Line")
            discount_raw = raw
            continue
        elif kind == "GroupLineDetail":
            raise faults.business("Group lines (bundles) are not supported by this emulator", "Line")
        elif kind in (None, ""):
            raise faults.required("Line.DetailType")
        else:
            raise faults.invalid_property(f"Line.DetailType: {kind!r} is not a sales line type")
        line["Id"] = str(len(lines) + 1)
        line["LineNum"] = len(lines) + 1
        lines.append(line)
    if not any(line["DetailType"] == "SalesItemLineDetail" for line in lines):
        raise faults.required("Line")
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    discount = ZERO
    if discount_raw is not None:
        discount_line = _discount_line(realm, discount_raw, subtotal)
        discount = discount_line["Amount"]
        lines.append(discount_line)
    after_discount = boolean(obj.get("ApplyTaxAfterDiscount"), "ApplyTaxAfterDiscount", False)
    tax_detail = _tax(realm, obj, taxable, subtotal, discount if after_discount else ZERO)
    return lines, subtotal, discount, tax_detail


def _sales_line(realm, raw: dict) -> tuple[dict, str | None]:
    detail_in = raw.get("SalesItemLineDetail") or {}
    if not isinstance(detail_in, dict):
        raise faults.invalid_property("Line.SalesItemLineDetail: expected an object")
    amount = decimal(raw.get("Amount"), "Line.Amount")
    qty = decimal(detail_in.get("Qty"), "Line.SalesItemLineDetail.Qty")
    price = decimal(detail_in.get("UnitPrice"), "Line.SalesItemLineDetail.UnitPrice")
    # python-quickbooks sends Qty 0 and UnitPrice 0 beside the Amount it means: zeros are "not given".
    if qty is not None and qty == 0:
        qty = None
    if price is not None and price == 0 and qty is None:
        price = None
    if amount is None:
        if qty is None or price is None:
            raise faults.required("Line.Amount")
        amount = qty * price
    elif qty is not None and price is not None and money(qty * price) != money(amount):
        raise faults.QBOFault("6070", "A business validation error has occurred while processing your request",
                              f"Business Validation Error: Amount is not equal to UnitPrice * Qty. "
                              f"Supplied value:{amount}", "Line.Amount")
    detail: dict = {}
    item = resolve(realm, "Item", detail_in.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef")
    item_obj = realm.get("Item", item["value"]) if item else None
    if item:
        detail["ItemRef"] = item
        if item_obj.get("IncomeAccountRef"):
            detail["ItemAccountRef"] = item_obj["IncomeAccountRef"]
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    service_date = iso_date(detail_in.get("ServiceDate"), "Line.SalesItemLineDetail.ServiceDate")
    if service_date:
        detail["ServiceDate"] = service_date
    klass = resolve(realm, "Class", detail_in.get("ClassRef"), "Line.SalesItemLineDetail.ClassRef")
    if klass:
        detail["ClassRef"] = klass
    code = ref_id(detail_in.get("TaxCodeRef"), "Line.SalesItemLineDetail.TaxCodeRef")
    if code is None:
        code = "TAX" if item_obj is not None and item_obj.get("Taxable") and realm.get("TaxCode", "TAX") else "NON"
    tax_key = _line_tax_key(realm, code)
    detail["TaxCodeRef"] = {"value": code}
    line = {"Amount": money(amount), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    description = text(raw.get("Description"), "Line.Description")
    if description:
        if len(description) > 4000:
            raise faults.string_length("Line.Description", 4000, len(description))
        line["Description"] = description
    return line, tax_key


def _line_tax_key(realm, code: str) -> str | None:
    if code == "NON":
        return None
    if code == "TAX":
        return "TAX"
    tax_code = realm.get("TaxCode", code)
    if tax_code is None or tax_code.get("Active") is False:
        raise faults.invalid_reference("TaxCode", code, "Line.SalesItemLineDetail.TaxCodeRef")
    return code if tax_code.get("Taxable", True) else None


def _description_line(raw: dict) -> dict:
    line: dict = {"DetailType": "DescriptionOnly", "DescriptionLineDetail": {}}
    description = text(raw.get("Description"), "Line.Description")
    if description:
        line["Description"] = description
    detail = raw.get("DescriptionLineDetail")
    if isinstance(detail, dict):
        service_date = iso_date(detail.get("ServiceDate"), "Line.DescriptionLineDetail.ServiceDate")
        if service_date:
            line["DescriptionLineDetail"]["ServiceDate"] = service_date
    return line


def _discount_line(realm, raw: dict, subtotal: Decimal) -> dict:
    detail_in = raw.get("DiscountLineDetail") or {}
    if not isinstance(detail_in, dict):
        raise faults.invalid_property("Line.DiscountLineDetail: expected an object")
    percent_based = boolean(detail_in.get("PercentBased"), "Line.DiscountLineDetail.PercentBased", False)
    detail: dict = {"PercentBased": percent_based}
    if percent_based:
        percent = decimal(detail_in.get("DiscountPercent"), "Line.DiscountLineDetail.DiscountPercent")
        if percent is None:
            raise faults.required("Line.DiscountLineDetail.DiscountPercent")
        detail["DiscountPercent"] = percent
        amount = money(subtotal * percent / HUNDRED)
    else:
        amount = decimal(raw.get("Amount"), "Line.Amount")
        if amount is None:
            raise faults.required("Line.Amount")
        amount = money(amount)
    if amount < 0 or amount > subtotal:
        raise faults.business("The discount must be between zero and the subtotal", "Line.Amount")
    account = resolve(realm, "Account", detail_in.get("DiscountAccountRef"), "Line.DiscountLineDetail.DiscountAccountRef")
    if account is None:
        default = next((a for a in realm.objects["Account"].values() if a.get("Name") == "Discounts given"), None)
        account = {"value": default["Id"], "name": default["Name"]} if default else None
    if account:
        detail["DiscountAccountRef"] = account
    return {"Amount": amount, "DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}


def _tax(realm, obj: dict, taxable: dict[str, Decimal], subtotal: Decimal, discount: Decimal) -> dict:
    txn_detail = obj.get("TxnTaxDetail") if isinstance(obj.get("TxnTaxDetail"), dict) else {}
    txn_code = ref_id(txn_detail.get("TxnTaxCodeRef"), "TxnTaxDetail.TxnTaxCodeRef")
    if txn_code is not None:
        resolve(realm, "TaxCode", txn_detail["TxnTaxCodeRef"], "TxnTaxDetail.TxnTaxCodeRef")
    elif "TAX" in taxable:
        txn_code = realm.settings.get("default_tax_code")
    tax_lines: list[dict] = []
    total = ZERO
    for key, amount in taxable.items():
        code_id = txn_code if key == "TAX" else key
        if code_id is None or amount == 0:
            continue
        base = money(amount - discount * amount / subtotal) if discount and subtotal else amount
        for rate_id, rate in _rates(realm, code_id):
            tax = money(base * rate / HUNDRED)
            total += tax
            tax_lines.append({"Amount": tax, "DetailType": "TaxLineDetail",
                              "TaxLineDetail": {"TaxRateRef": {"value": rate_id}, "PercentBased": True,
                                                "TaxPercent": rate, "NetAmountTaxable": base}})
    detail: dict = {}
    if txn_code is not None:
        detail["TxnTaxCodeRef"] = {"value": txn_code}
    detail["TotalTax"] = total
    if tax_lines:
        detail["TaxLine"] = tax_lines
    return detail


def _rates(realm, code_id: str) -> list[tuple[str, Decimal]]:
    code = realm.get("TaxCode", code_id) or {}
    details = ((code.get("SalesTaxRateList") or {}).get("TaxRateDetail")) or []
    found = []
    for entry in details:
        rate_id = ref_id(entry.get("TaxRateRef"), "TaxRateRef")
        rate = realm.get("TaxRate", rate_id) if rate_id else None
        if rate is not None and rate.get("Active", True):
            found.append((rate_id, Decimal(str(rate.get("RateValue", 0)))))
    return found
