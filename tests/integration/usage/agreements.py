"""Agreements the usage tests bill: Northwind IT's support by the hour, with a 10-hour threshold."""

from __future__ import annotations

import json

from rules import load_agreement

NORTHWIND = "agr-northwind-support"


def northwind(company_id: str, *, threshold_hours: str = "10", rules: list | None = None, default_rate="145.00",
              group_by: str = "person"):
    """Support at 145.00 an hour (Ana 160.00), per-entry rounding to 0.25 h, billed monthly and at
    every ``threshold_hours`` unbilled hours."""
    return load_agreement(json.dumps({
        "id": NORTHWIND, "company_id": company_id, "customer_id": "58", "customer_name": "Northwind IT",
        "currency": "USD", "timezone": "America/New_York", "start": "2026-01-01", "cycle": "monthly",
        "components": [{
            "type": "time_and_materials", "id": "support", "item": "Support hours", "default_rate": default_rate,
            "rates": {"person": {"Ana": "160.00"}}, "rounding": {"increment": "0.25", "mode": "up"},
            "group_by": group_by, "threshold_hours": threshold_hours,
        }],
        "rules": rules if rules is not None else [
            {"id": "month-end", "when": {"kind": "period_closed"}, "how": {"send_mode": "auto_send"}},
            {"id": "ten-hours", "when": {"kind": "threshold_crossed"}, "how": {"send_mode": "auto_send"}},
        ],
    }))
