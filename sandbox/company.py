"""CompanyInfo and Preferences: one of each per company, read and updated, never created or deleted.

Preference updates merge section by section (a sparse or full update of ``SalesFormsPrefs`` changes
only the keys sent), so the control API and python-quickbooks can flip one switch at a time.
"""

from __future__ import annotations

import copy

from sandbox import faults
from sandbox.values import boolean

DEFAULT_PREFERENCES = {
    "AccountingInfoPrefs": {"TrackDepartments": False, "DepartmentTerminology": "Location",
                            "ClassTrackingPerTxn": False, "ClassTrackingPerTxnLine": True,
                            "CustomerTerminology": "Customers", "FirstMonthOfFiscalYear": "January",
                            "UseAccountNumbers": False, "TaxYearMonth": "January"},
    "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityWithPriceAndRate": True,
                                "QuantityOnHand": True},
    "SalesFormsPrefs": {"CustomTxnNumbers": False, "AllowDeposit": True, "AllowDiscount": True,
                        "AllowEstimates": True, "AllowShipping": False, "AllowServiceDate": True,
                        "ETransactionEnabledStatus": "NotApplicable", "AutoApplyCredit": True,
                        "AutoApplyPayments": True, "UsingProgressInvoicing": False, "IPNSupportEnabled": False,
                        "DefaultCustomerMessage": "Thank you for your business."},
    "EmailMessagesPrefs": {"InvoiceMessage": {"Subject": "Invoice [Invoice No.] from [Company Name]",
                                              "Message": "Here's your invoice! We appreciate your prompt payment."}},
    "VendorAndPurchasesPrefs": {"TrackingByCustomer": True, "BillableExpenseTracking": True},
    "TimeTrackingPrefs": {"UseServices": True, "BillCustomers": True, "ShowBillRateToAll": False,
                          "WorkWeekStartDate": "Monday", "MarkTimeEntriesBillable": True},
    "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
    "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
    "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
    "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage",
                                  "Value": "Thank you for your business."}]},
}


def default_preferences() -> dict:
    """A fresh Preferences object as a new US company has it."""
    return copy.deepcopy(DEFAULT_PREFERENCES)


def company_info(name: str, email: str, start_date: str) -> dict:
    """A fresh CompanyInfo object."""
    return {
        "CompanyName": name, "LegalName": name, "Country": "US", "SupportedLanguages": "en",
        "FiscalYearStartMonth": "January", "CompanyStartDate": start_date,
        "CompanyAddr": {"Line1": "2500 Garcia Ave", "City": "Mountain View", "CountrySubDivisionCode": "CA",
                        "PostalCode": "94043", "Country": "US"},
        "Email": {"Address": email}, "CustomerCommunicationEmailAddr": {"Address": email},
        "PrimaryPhone": {}, "WebAddr": {},
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IndustryType", "Value": "IT services"},
                      {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"}, {"Name": "OfferingSku",
                                                                               "Value": "QuickBooks Online Plus"}],
    }


def merge_preferences(stored: dict, fields: dict) -> dict:
    """``stored`` with each section of ``fields`` merged in; unknown sections were refused earlier."""
    merged = copy.deepcopy(stored)
    for section, values in fields.items():
        if section in ("Id", "SyncToken", "sparse"):
            continue
        if not isinstance(values, dict):
            raise faults.invalid_property(f"{section}: expected an object")
        merged.setdefault(section, {}).update(copy.deepcopy(values))
    sales = merged.get("SalesFormsPrefs", {})
    sales["CustomTxnNumbers"] = boolean(sales.get("CustomTxnNumbers"), "SalesFormsPrefs.CustomTxnNumbers", False)
    currency = merged.get("CurrencyPrefs", {})
    currency["MultiCurrencyEnabled"] = boolean(currency.get("MultiCurrencyEnabled"),
                                               "CurrencyPrefs.MultiCurrencyEnabled", False)
    home = currency.get("HomeCurrency")
    if not isinstance(home, dict) or not isinstance(home.get("value"), str) or len(home["value"]) != 3:
        raise faults.invalid_property("CurrencyPrefs.HomeCurrency: expected {\"value\": \"<ISO code>\"}")
    return merged


def merge_company_info(stored: dict, fields: dict, sparse: bool) -> dict:
    """CompanyInfo after an update; a full update keeps what it does not mention (QuickBooks needs it)."""
    merged = copy.deepcopy(stored)
    for key, value in fields.items():
        if key in ("Id", "SyncToken", "sparse"):
            continue
        merged[key] = copy.deepcopy(value)
    if not merged.get("CompanyName"):
        raise faults.required("CompanyName")
    return merged
