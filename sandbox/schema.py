"""What the emulator knows about each entity: accepted fields, read-only fields, references, filters.

Field names come from Intuit's API reference pages (developer.intuit.com/app/developer/qbo/docs/api/
accounting/all-entities/<entity>) and from what python-quickbooks 0.9.12 sends, which must all be
accepted. ``filterable`` is the reference's list of attributes a query may put in WHERE; anything else
is answered with the query Fault 4001 "property '...' is not queryable".
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMMON = frozenset({"Id", "SyncToken", "sparse", "domain", "MetaData", "status"})
META = frozenset({"MetaData.CreateTime", "MetaData.LastUpdatedTime"})


@dataclass(frozen=True)
class EntitySpec:
    """The API surface of one QuickBooks entity."""

    name: str
    fields: frozenset[str]
    readonly: frozenset[str] = frozenset()
    filterable: frozenset[str] = frozenset()
    refs: dict[str, str] = field(default_factory=dict)
    creatable: bool = True
    deletable: bool = False
    transaction: bool = False
    name_field: str | None = None
    max_lengths: dict[str, int] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The URL segment (``invoice``)."""
        return self.name.lower()

    def filter_field(self, name: str) -> str | None:
        """The canonical spelling of a filterable field, matched without regard to case."""
        return _lower_map(self.filterable).get(name.lower())


_LOWER_CACHE: dict[frozenset, dict[str, str]] = {}


def _lower_map(names: frozenset[str]) -> dict[str, str]:
    cached = _LOWER_CACHE.get(names)
    if cached is None:
        cached = _LOWER_CACHE[names] = {n.lower(): n for n in names}
    return cached


def _spec(name: str, fields: str, *, readonly: str = "", filterable: str = "", **kwargs) -> EntitySpec:
    return EntitySpec(name, frozenset(fields.split()) | COMMON, frozenset(readonly.split()),
                      frozenset(filterable.split()) | META, **kwargs)


_SALES_FIELDS = (
    "Line CustomerRef CurrencyRef DocNumber TxnDate DueDate ShipDate TrackingNum PrivateNote CustomerMemo "
    "BillEmail BillEmailCc BillEmailBcc BillAddr ShipAddr ShipFromAddr FreeFormAddress SalesTermRef "
    "ClassRef DepartmentRef ShipMethodRef TxnTaxDetail ApplyTaxAfterDiscount GlobalTaxCalculation "
    "EmailStatus PrintStatus ExchangeRate CustomField LinkedTxn TxnSource TransactionLocationType "
    "ProjectRef TaxExemptionRef RecurDataRef DepositToAccountRef "
    "TotalAmt Balance HomeBalance HomeTotalAmt"
)
_SALES_REFS = {"CustomerRef": "Customer", "SalesTermRef": "Term", "ClassRef": "Class",
               "DepositToAccountRef": "Account"}

SPECS: dict[str, EntitySpec] = {s.name: s for s in (
    _spec("Customer",
          "Title GivenName MiddleName FamilyName Suffix FullyQualifiedName CompanyName DisplayName "
          "PrintOnCheckName Notes Active IsProject Job BillWithParent Taxable Balance BalanceWithJobs "
          "PreferredDeliveryMethod ResaleNum Level OpenBalanceDate PrimaryTaxIdentifier BillAddr ShipAddr "
          "PrimaryPhone AlternatePhone Mobile Fax PrimaryEmailAddr WebAddr DefaultTaxCodeRef SalesTermRef "
          "PaymentMethodRef ParentRef ARAccountRef CurrencyRef TaxExemptionReasonId GSTIN BusinessNumber "
          "GSTRegistrationType CustomerTypeRef SecondaryTaxIdentifier ClientEntityId Source",
          readonly="Balance BalanceWithJobs FullyQualifiedName Level",
          filterable="Id DisplayName GivenName MiddleName FamilyName CompanyName PrimaryEmailAddr Active "
                     "Balance FullyQualifiedName Job ParentRef PrintOnCheckName",
          refs={"SalesTermRef": "Term", "ParentRef": "Customer", "DefaultTaxCodeRef": "TaxCode"},
          name_field="DisplayName",
          max_lengths={"DisplayName": 500, "GivenName": 100, "FamilyName": 100, "CompanyName": 100,
                       "Notes": 2000}),
    _spec("Item",
          "Name Description Active SubItem ParentRef Level FullyQualifiedName Taxable SalesTaxIncluded "
          "UnitPrice Type IncomeAccountRef PurchaseDesc PurchaseTaxIncluded PurchaseCost ExpenseAccountRef "
          "AssetAccountRef TrackQtyOnHand QtyOnHand InvStartDate SalesTaxCodeRef PurchaseTaxCodeRef "
          "AbatementRate ReverseChargeRate ServiceType ItemCategoryType Sku ClassRef PrefVendorRef "
          "UQCDisplayText UQCId Source",
          readonly="FullyQualifiedName Level",
          filterable="Id Name Active Type Sku FullyQualifiedName",
          refs={"IncomeAccountRef": "Account", "ExpenseAccountRef": "Account", "AssetAccountRef": "Account",
                "ParentRef": "Item", "SalesTaxCodeRef": "TaxCode", "ClassRef": "Class"},
          name_field="Name", max_lengths={"Name": 100, "Description": 4000, "Sku": 100},
          required=("Name",)),
    _spec("Invoice", _SALES_FIELDS + " AllowIPNPayment AllowOnlinePayment AllowOnlineCreditCardPayment "
          "AllowOnlineACHPayment Deposit InvoiceLink DeliveryInfo EInvoiceStatus",
          readonly="TotalAmt Balance HomeBalance HomeTotalAmt InvoiceLink DeliveryInfo EInvoiceStatus "
                   "RecurDataRef TaxExemptionRef LinkedTxn",
          filterable="Id DocNumber TxnDate DueDate CustomerRef TotalAmt Balance",
          refs=_SALES_REFS, deletable=True, transaction=True,
          max_lengths={"DocNumber": 21, "PrivateNote": 4000, "TrackingNum": 31}),
    _spec("CreditMemo", _SALES_FIELDS + " RemainingCredit PaymentMethodRef InvoiceRef",
          readonly="TotalAmt Balance HomeBalance HomeTotalAmt RemainingCredit LinkedTxn",
          filterable="Id DocNumber TxnDate CustomerRef TotalAmt",
          refs=_SALES_REFS, deletable=True, transaction=True,
          max_lengths={"DocNumber": 21, "PrivateNote": 4000}),
    _spec("Payment",
          "Line CustomerRef CurrencyRef TotalAmt UnappliedAmt ExchangeRate TxnDate TxnSource PrivateNote "
          "TxnStatus CreditCardPayment ARAccountRef PaymentMethodRef DepositToAccountRef PaymentRefNum "
          "TaxExemptionRef ProcessPayment TransactionLocationType ProjectRef",
          readonly="UnappliedAmt TxnStatus",
          filterable="Id TxnDate CustomerRef TotalAmt PaymentRefNum",
          refs={"CustomerRef": "Customer", "DepositToAccountRef": "Account", "ARAccountRef": "Account"},
          deletable=True, transaction=True, max_lengths={"PrivateNote": 4000, "PaymentRefNum": 21}),
    _spec("Term",
          "Name Active Type DiscountPercent DueDays DiscountDays DayOfMonthDue DueNextMonthDays "
          "DiscountDayOfMonth",
          readonly="Type", filterable="Id Name Active", name_field="Name", max_lengths={"Name": 31},
          required=("Name",)),
    _spec("TaxCode", "Name Description Taxable TaxGroup Active SalesTaxRateList PurchaseTaxRateList Hidden",
          filterable="Id Name Active Taxable", creatable=False, name_field="Name"),
    _spec("TaxRate",
          "Name Description RateValue SpecialTaxType Active DisplayType EffectiveTaxRate AgencyRef "
          "TaxReturnLineRef",
          filterable="Id Name Active", creatable=False, name_field="Name"),
    _spec("Account",
          "Name SubAccount ParentRef Description FullyQualifiedName Active Classification AccountType "
          "AccountSubType AcctNum CurrentBalance CurrentBalanceWithSubAccounts CurrencyRef TaxCodeRef "
          "TxnLocationType AccountAlias",
          readonly="FullyQualifiedName CurrentBalance CurrentBalanceWithSubAccounts Classification",
          filterable="Id Name SubAccount ParentRef FullyQualifiedName Active Classification AccountType "
                     "AccountSubType CurrentBalance",
          refs={"ParentRef": "Account"}, name_field="Name", max_lengths={"Name": 100},
          required=("Name",)),
    _spec("Class", "Name SubClass ParentRef FullyQualifiedName Active",
          readonly="FullyQualifiedName", filterable="Id Name Active FullyQualifiedName",
          refs={"ParentRef": "Class"}, name_field="Name", max_lengths={"Name": 100}, required=("Name",)),
    _spec("CompanyInfo",
          "CompanyName LegalName CompanyAddr CustomerCommunicationAddr LegalAddr CustomerCommunicationEmailAddr "
          "PrimaryPhone CompanyStartDate FiscalYearStartMonth Country Email WebAddr SupportedLanguages NameValue",
          filterable="Id", creatable=False),
    _spec("Preferences",
          "AccountingInfoPrefs ProductAndServicesPrefs SalesFormsPrefs EmailMessagesPrefs VendorAndPurchasesPrefs "
          "TimeTrackingPrefs TaxPrefs CurrencyPrefs ReportPrefs OtherPrefs",
          filterable="", creatable=False),
)}

BY_PATH: dict[str, EntitySpec] = {s.path: s for s in SPECS.values()}
BY_LOWER_NAME: dict[str, EntitySpec] = {s.name.lower(): s for s in SPECS.values()}
# Entities whose webhooks QuickBooks sends for the operations the emulator performs.
WEBHOOK_ENTITIES = frozenset(SPECS) - {"CompanyInfo", "Preferences", "TaxCode", "TaxRate"}
