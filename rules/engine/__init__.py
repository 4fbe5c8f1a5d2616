"""The engine: events, due periods, thresholds, agreement starts and the dry run, all pure."""

from rules.engine.conditions import condition_holds, conditions_hold
from rules.engine.drafting import draft_for_event, rule_applies, rules_for_event
from rules.engine.dryrun import (
    CustomerDiff,
    DryRun,
    DryRunInput,
    Flag,
    LineChange,
    LineSummary,
    customer_diff,
    dry_run,
)
from rules.engine.schedule import DuePeriod, due_drafts, due_events, due_periods, period_event
from rules.engine.start import StartedAgreement, start_agreement
from rules.engine.thresholds import crossing_object_id, threshold_event

__all__ = [
    "CustomerDiff", "DryRun", "DryRunInput", "DuePeriod", "Flag", "LineChange", "LineSummary", "StartedAgreement",
    "condition_holds", "conditions_hold", "customer_diff", "draft_for_event", "dry_run", "due_drafts",
    "due_events", "due_periods", "period_event", "rule_applies", "rules_for_event", "start_agreement",
    "threshold_event", "crossing_object_id",
]
