"""Named settings of one company (JSON values), such as how an unknown customer is handled."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from addon.models.mappings import CompanySetting


def read(session: Session, company_id: str, name: str, default: Any = None) -> Any:
    """The company's value of setting ``name``, or ``default`` when it was never set."""
    row = session.get(CompanySetting, (company_id, name))
    return default if row is None else json.loads(row.value)


def write(session: Session, company_id: str, name: str, value: Any, *, actor: str, now: datetime) -> Any:
    """Set the company's ``name`` to ``value``; returns the value it had (None if unset)."""
    row = session.get(CompanySetting, (company_id, name))
    before = None if row is None else json.loads(row.value)
    if row is None:
        session.add(CompanySetting(company_id=company_id, name=name, value=json.dumps(value), updated_at=now,
                                   updated_by=actor))
    else:
        row.value, row.updated_at, row.updated_by = json.dumps(value), now, actor
    session.flush()
    return before
