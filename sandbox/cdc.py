"""Change data capture: what changed in a company since an instant.

Intuit "Change data capture operation": ``GET /cdc?entities=Invoice,Payment&changedSince=<ISO>``
looks back at most 30 days and answers at most 1000 objects; deleted objects come back as
``{"Id", "status": "Deleted", "domain"}``. A ``changedSince`` without an offset is read in the
company's time zone (US Pacific, as sandbox companies are).
"""

from __future__ import annotations

from sandbox import faults
from sandbox.clock import parse_instant
from sandbox.schema import BY_LOWER_NAME

MAX_OBJECTS = 1000
LOOKBACK_SECONDS = 30 * 24 * 3600


def capture(realm, entities: str | None, changed_since: str | None) -> dict:
    """The ``CDCResponse`` list for one request."""
    if not entities:
        raise faults.required("entities")
    if not changed_since:
        raise faults.required("changedSince")
    try:
        since = parse_instant(changed_since).timestamp()
    except ValueError:
        raise faults.invalid_property(f"changedSince: {changed_since!r} is not a date-time") from None
    now = realm.clock.timestamp()
    if since < now - LOOKBACK_SECONDS:
        raise faults.business("changedSince cannot be more than 30 days in the past", "changedSince")
    specs = []
    for name in entities.split(","):
        spec = BY_LOWER_NAME.get(name.strip().lower())
        if spec is None:
            raise faults.invalid_property(f"entities: {name.strip()!r} is not a QuickBooks entity")
        specs.append(spec)
    budget = MAX_OBJECTS
    responses = []
    with realm.lock:
        for spec in specs:
            changed = [(ts, realm.objects[spec.name][i]) for i, ts in realm.updated_at[spec.name].items() if ts >= since]
            changed += [(ts, record) for ts, record in realm.deleted[spec.name].values() if ts >= since]
            changed.sort(key=lambda pair: pair[0])
            chosen = [obj for _, obj in changed[:budget]]
            budget -= len(chosen)
            entry: dict = {"startPosition": 1, "maxResults": len(chosen)}
            if chosen:
                entry = {spec.name: chosen, **entry}
            responses.append(entry)
    return {"CDCResponse": [{"QueryResponse": responses}]}
