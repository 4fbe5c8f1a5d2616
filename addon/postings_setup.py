"""Registers postings with the rest of autobill: the drafting handler for billing events (and its
prepare step, the line items' QuickBooks items), the mapping listeners that wake events waiting for a
milestone, project, item or customer mapping, the history the usage ledger's threshold checks read,
who last changed a rule (four eyes), and the tick tasks (period closes, the threshold safety net, the
posting sweeper).

Listed in ``bootstrap.FEATURE_MODULES``; importing it registers, once per process.
"""

from __future__ import annotations

from sqlalchemy import select

from addon import demo, eventflow, mappings, tick
from addon.models.mappings import MappingKind
from addon.postings import drafting, lineitems, review, routing
from addon.postings.history import history_for
from addon.usage import set_history_provider


def _sweep(ctx) -> dict:
    from addon.clock import utcnow
    from addon.postings.sweeper import sweep_postings

    # Stuck work is judged on the wall clock: the scheduler floors tick instants to the minute.
    return sweep_postings(ctx.container, utcnow())


def _periods(ctx) -> int:
    from addon.postings.schedule import bill_periods

    return bill_periods(ctx.container, ctx.now)


def _thresholds(ctx) -> int:
    from addon.postings.schedule import check_thresholds_everywhere

    every = max(1, int(ctx.container.settings.threshold_sweep_minutes))
    if int(ctx.now.timestamp() // 60) % every:
        return 0
    return check_thresholds_everywhere(ctx.container, ctx.now)


def rule_author(session, posting) -> str | None:
    """Who stored the rule version that drafted ``posting`` (its agreement's rule, else the company rule).

    An agreement a company rule started got its rules from autobill (``worker``): the person behind them
    is whoever stored the company rule's version in use when the agreement started.
    """
    from addon.models.agreements import AgreementRecord, RuleVersionRecord

    for scope in (posting.agreement_id, ""):
        found = session.execute(select(RuleVersionRecord.created_by).where(
            RuleVersionRecord.company_id == posting.company_id, RuleVersionRecord.scope == scope,
            RuleVersionRecord.rule_id == posting.rule_id, RuleVersionRecord.version == posting.rule_version)
        ).scalar_one_or_none()
        if found is None:
            continue
        started = session.get(AgreementRecord, (posting.company_id, posting.agreement_id)) if scope else None
        if found == drafting.ACTOR and started is not None and started.started_by_rule:
            starter = session.execute(select(RuleVersionRecord.created_by).where(
                RuleVersionRecord.company_id == posting.company_id, RuleVersionRecord.scope == "",
                RuleVersionRecord.rule_id == started.started_by_rule,
                RuleVersionRecord.created_at <= started.created_at)
                .order_by(RuleVersionRecord.version.desc()).limit(1)).scalar_one_or_none()
            return starter or found
        return found
    return None


eventflow.register_handler(drafting.KINDS, drafting.handle_event, prepare=lineitems.prepare_event)
for _kind in (MappingKind.MILESTONE, MappingKind.PROJECT, MappingKind.ITEM):
    mappings.on_set(_kind, routing.wake_for_mapping)
mappings.on_set(MappingKind.CUSTOMER, routing.wake_for_customer)
set_history_provider(history_for)
review.set_rule_author_provider(rule_author)
tick.register("billing.periods", _periods)
tick.register("billing.thresholds", _thresholds)
tick.register("postings.sweep", _sweep)


def _prepare_demo(container) -> list[str]:
    from addon.demoseed import prepare_demo

    return prepare_demo(container)


if _prepare_demo not in demo.PREPARE_STEPS:
    demo.PREPARE_STEPS.append(_prepare_demo)
