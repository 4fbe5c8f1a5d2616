"""The billing brain: pure code from "what happened" to "what to bill".

Imports nothing of autobill's and does no I/O: it takes an event, an agreement, usage so far,
what was billed before and ``today``, and returns drafts with the explanation of every line.
docs/rules.md documents this surface and the JSON form of agreements and rules.
"""

from rules.agreement import Agreement, AgreementSet
from rules.calendar import BillingPeriod, Cadence, CadenceUnit, Schedule
from rules.components import (
    Component,
    Deposit,
    DepositApplication,
    EntryRounding,
    EventLines,
    FixedFee,
    HourBlock,
    HourRounding,
    LineGrouping,
    LineSelection,
    Milestone,
    Milestones,
    OverCap,
    PassThrough,
    Rates,
    Retainer,
    Rollover,
    SlaCredits,
    Tier,
    TieredHours,
    TierMode,
    TimeAndMaterials,
    Timing,
    UsageFilter,
)
from rules.draft import (
    BlockChange,
    CapUse,
    Carried,
    Consumption,
    CreditApplied,
    DepositApplied,
    DepositBilled,
    DraftLine,
    DraftWarning,
    Explanation,
    FeePeriod,
    InvoiceDraft,
    LineKind,
    RolloverDraw,
    RolloverGrant,
    TaxExpectation,
    UsageConsumed,
)
from rules.engine import (
    CustomerDiff,
    DryRun,
    DryRunInput,
    DuePeriod,
    Flag,
    LineChange,
    LineSummary,
    StartedAgreement,
    conditions_hold,
    crossing_object_id,
    customer_diff,
    draft_for_event,
    dry_run,
    due_drafts,
    due_events,
    due_periods,
    period_event,
    rule_applies,
    rules_for_event,
    start_agreement,
    threshold_event,
)
from rules.errors import (
    CurrencyMismatch,
    EventIncomplete,
    InvalidAgreement,
    InvalidInput,
    InvalidTemplate,
    RulesError,
    TemplateDataMissing,
)
from rules.events import Event, EventKind, EventLine, SourceCustomer, event_from_dict, event_to_dict
from rules.history import DepositBalance, History
from rules.jsonform import (
    agreement_to_dict,
    draft_from_dict,
    draft_to_dict,
    dump_agreement,
    dump_agreements,
    dump_draft,
    load_agreement,
    load_agreements,
    load_draft,
    validate_templates,
)
from rules.keys import BusinessKey, agreement_id_for
from rules.money import RoundingPolicy, quantize
from rules.rule import AgreementTemplate, Condition, Conditions, How, Rule, SendMode, What, When
from rules.terms import ItemDefaults, PaymentTerms, TaxTreatment, TermsKind
from rules.usage import UsageKind, UsageRecord, usage_from_event

__all__ = [
    "CustomerDiff", "DryRun", "DryRunInput", "DuePeriod", "Flag", "LineChange", "LineSummary", "StartedAgreement",
    "conditions_hold", "crossing_object_id", "customer_diff", "draft_for_event", "dry_run", "due_drafts", "due_events", "due_periods",
    "period_event", "rule_applies", "rules_for_event", "start_agreement", "threshold_event",
    "Agreement", "AgreementSet", "AgreementTemplate", "BillingPeriod", "BlockChange", "BusinessKey", "CapUse",
    "Cadence", "CadenceUnit", "Carried", "Component", "Condition", "Conditions", "Consumption",
    "CreditApplied", "CurrencyMismatch", "Deposit", "DepositApplication", "DepositApplied",
    "DepositBalance", "DepositBilled", "DraftLine", "DraftWarning", "EntryRounding", "Event",
    "EventIncomplete", "EventKind", "EventLine", "EventLines", "Explanation", "FeePeriod", "FixedFee",
    "History", "HourBlock", "HourRounding", "How", "InvalidAgreement", "InvalidInput", "InvalidTemplate",
    "InvoiceDraft", "ItemDefaults", "LineGrouping", "LineKind", "LineSelection", "Milestone", "Milestones",
    "OverCap", "PassThrough", "PaymentTerms", "Rates", "Retainer", "Rollover", "RolloverDraw",
    "RolloverGrant", "RoundingPolicy", "Rule", "RulesError", "Schedule", "SendMode", "SlaCredits",
    "SourceCustomer", "TaxExpectation", "TaxTreatment", "TemplateDataMissing", "TermsKind", "Tier", "TieredHours", "TierMode",
    "TimeAndMaterials", "Timing", "UsageConsumed", "UsageFilter", "UsageKind", "UsageRecord", "What",
    "When", "agreement_id_for", "agreement_to_dict", "draft_from_dict", "draft_to_dict", "dump_agreement",
    "dump_agreements", "dump_draft", "event_from_dict", "event_to_dict", "load_agreement",
    "load_agreements", "load_draft", "quantize", "usage_from_event", "validate_templates",
]
