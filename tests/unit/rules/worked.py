"""Reads the bookkeeper-readable worked examples in tests/fixtures/rules/ into engine inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rules import (
    Agreement,
    DepositBalance,
    Event,
    EventKind,
    FeePeriod,
    History,
    RolloverGrant,
    UsageConsumed,
    UsageRecord,
    event_from_dict,
    load_agreement,
)
from rules.calendar import day_starts
from rules.codec import decode

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "rules"


@dataclass
class Example:
    title: str
    working: str
    agreement: Agreement
    rule_id: str
    event: Event
    today: date
    usage: tuple[UsageRecord, ...]
    history: History
    expect: dict[str, Any]


def _event(data: dict[str, Any], agreement: Agreement) -> Event:
    if "boundary" in data:
        boundary = date.fromisoformat(data["boundary"])
        return Event(EventKind.PERIOD_CLOSED, "autobill", f"{agreement.id}@{boundary}",
                     day_starts(boundary, agreement.timezone), attributes={"boundary": boundary.isoformat()},
                     company_id=agreement.company_id, agreement_id=agreement.id)
    return event_from_dict({"source": "test", "lines": [], "attributes": {}, **data})


def _history(data: dict[str, Any]) -> History:
    return History(
        billed_usage=decode(tuple[UsageConsumed, ...], data.get("billed_usage", [])),
        blocks={k: Decimal(v) for k, v in data.get("blocks", {}).items()},
        rollover=decode(tuple[RolloverGrant, ...], data.get("rollover", [])),
        deposits=decode(tuple[DepositBalance, ...], data.get("deposits", [])),
        carried={k: Decimal(v) for k, v in data.get("carried", {}).items()},
        credits_carried={k: Decimal(v) for k, v in data.get("credits_carried", {}).items()},
        fee_periods=decode(tuple[FeePeriod, ...], data.get("fee_periods", [])),
        previous_totals={k: Decimal(v) for k, v in data.get("previous_totals", {}).items()},
        billed_on={tuple(k.split(":", 1)): v for k, v in data.get("billed_on", {}).items()},
        invoice_numbers=dict(data.get("invoice_numbers", {})),
    )


def examples() -> list[Example]:
    """Every worked example of every fixture file."""
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text(), parse_float=Decimal)
        agreement = load_agreement((ROOT / doc["agreement_file"]).read_text())
        for item in doc["examples"]:
            out.append(Example(
                title=item["title"], working=item["working"], agreement=agreement, rule_id=item["rule"],
                event=_event(item["event"], agreement), today=date.fromisoformat(item["today"]),
                usage=decode(tuple[UsageRecord, ...], item.get("usage", [])),
                history=_history(item.get("history", {})), expect=item["expect"]))
    return out
