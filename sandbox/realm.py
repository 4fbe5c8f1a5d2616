"""One QuickBooks company (realm): its objects, deletions, settings, counters and outbox.

Every read and write of a realm's objects happens under ``realm.lock``; the HTTP layer takes it around
one whole operation so a requestid lookup, the write and the remembered response are atomic.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from sandbox.clock import Clock, qbo_time
from sandbox.limits import Limits, Throttle
from sandbox.schema import SPECS

TRANSACTIONS = ("Invoice", "CreditMemo", "Payment")
EventSink = Callable[[str, str, str, str, float], None]  # realm_id, entity, id, operation, timestamp


def new_counters() -> dict[str, Any]:
    """Fresh per-realm counters (the control API's ``/counters`` document)."""
    return {
        "requests": 0, "throttled": 0, "unauthorized": 0, "faults_injected": 0, "replays": 0,
        "token_grants": {"authorization_code": 0, "refresh_token": 0}, "invalid_grant": 0,
        "emails_sent": 0, "by_route": {},
    }


class Realm:
    """A company's data and emulator settings."""

    def __init__(self, realm_id: str, name: str, clock: Clock, limits: Limits, sink: EventSink | None = None):
        self.id = realm_id
        self.name = name
        self.clock = clock
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, dict]] = {name: {} for name in SPECS}
        self.updated_at: dict[str, dict[str, float]] = {name: {} for name in SPECS}
        self.deleted: dict[str, dict[str, tuple[float, dict]]] = {name: {} for name in SPECS}
        self.sequences: dict[str, int] = {}
        self.doc_numbers: dict[str, int] = {}
        self.throttle = Throttle(limits)
        self.counters = new_counters()
        self.requestids: dict[tuple[str, str], tuple[float, int, bytes, str]] = {}
        self.requestid_ttl: float | None = None  # None: forever; 0: not at all; n: seconds
        self.fault_rules: list = []
        self.outbox: list[dict] = []
        self.voided: set[tuple[str, str]] = set()
        self.by_customer: dict[str, set[tuple[str, str]]] = {}  # customer id -> its transactions
        self._txn_customer: dict[tuple[str, str], str] = {}
        self.settings: dict[str, Any] = {"default_tax_code": None, "email_user": "root"}
        self.sink = sink
        self.version = 0  # bumped on every change; the snapshot writer watches it
        self._count_lock = threading.Lock()

    def count(self, name: str, by: int = 1, route: str | None = None) -> None:
        """Add to a counter (thread-safe: tests compare exact counts after concurrent calls)."""
        with self._count_lock:
            if route is not None:
                routes = self.counters["by_route"]
                routes[route] = routes.get(route, 0) + by
            self.counters[name] += by

    def counter_snapshot(self) -> dict[str, Any]:
        """A consistent copy of the counters."""
        with self._count_lock:
            return copy.deepcopy(self.counters)

    def count_grant(self, kind: str | None) -> None:
        """Count a token grant by type, or an invalid_grant when ``kind`` is None."""
        with self._count_lock:
            if kind is None:
                self.counters["invalid_grant"] += 1
            else:
                self.counters["token_grants"][kind] += 1

    # -- time -------------------------------------------------------------------------------------
    def stamp(self) -> tuple[float, str]:
        """The current instant as a timestamp and as QuickBooks' MetaData string."""
        now = self.clock.now()
        return now.timestamp(), qbo_time(now)

    # -- objects ----------------------------------------------------------------------------------
    def get(self, entity: str, ident: str) -> dict | None:
        """The stored object, or ``None`` (callers must not mutate it outside a write)."""
        return self.objects[entity].get(str(ident))

    def all(self, entity: str) -> list[dict]:
        """Every live object of an entity, in Id order."""
        return [self.objects[entity][k] for k in sorted(self.objects[entity], key=_id_key)]

    def next_id(self, entity: str) -> str:
        """A new numeric Id for ``entity`` (QuickBooks numbers each list on its own)."""
        value = self.sequences.get(entity, 0) + 1
        self.sequences[entity] = value
        return str(value)

    def insert(self, entity: str, obj: dict, ident: str | None = None, emit: bool = True) -> dict:
        """Store a new object with Id, SyncToken "0" and MetaData; returns it."""
        ts, text = self.stamp()
        obj["Id"] = ident or self.next_id(entity)
        obj["SyncToken"] = "0"
        obj["domain"] = "QBO"
        obj["sparse"] = False
        obj["MetaData"] = {"CreateTime": text, "LastUpdatedTime": text}
        self.objects[entity][obj["Id"]] = obj
        self.updated_at[entity][obj["Id"]] = ts
        self.changed(entity, obj["Id"], "Create", ts, emit)
        return obj

    def touch(self, entity: str, obj: dict, operation: str = "Update", emit: bool = True, bump: bool = True) -> dict:
        """Record a change to a stored object: SyncToken + 1, LastUpdatedTime now, webhook event."""
        ts, text = self.stamp()
        if bump:
            obj["SyncToken"] = str(int(obj.get("SyncToken") or 0) + 1)
        obj.setdefault("MetaData", {})["LastUpdatedTime"] = text
        obj["sparse"] = False
        self.objects[entity][obj["Id"]] = obj
        self.updated_at[entity][obj["Id"]] = ts
        self.changed(entity, obj["Id"], operation, ts, emit)
        return obj

    def remove(self, entity: str, ident: str) -> dict:
        """Delete an object; CDC reports it as ``status: Deleted`` from now on."""
        ts, text = self.stamp()
        self.objects[entity].pop(ident, None)
        self.updated_at[entity].pop(ident, None)
        record = {"Id": ident, "status": "Deleted", "domain": "QBO", "MetaData": {"LastUpdatedTime": text}}
        self.deleted[entity][ident] = (ts, record)
        self.changed(entity, ident, "Delete", ts, True)
        return {"status": "Deleted", "domain": "QBO", "Id": ident}

    def changed(self, entity: str, ident: str, operation: str, ts: float, emit: bool = True) -> None:
        """Note a change for the snapshot writer and, unless told not to, for webhooks."""
        self.version += 1
        if entity in TRANSACTIONS:
            self._index(entity, ident)
        if emit and self.sink is not None:
            self.sink(self.id, entity, ident, operation, ts)

    def _index(self, entity: str, ident: str) -> None:
        key = (entity, ident)
        obj = self.objects[entity].get(ident)
        customer = ((obj or {}).get("CustomerRef") or {}).get("value")
        previous = self._txn_customer.pop(key, None)
        if previous is not None:
            self.by_customer.get(previous, set()).discard(key)
        if customer is not None:
            self._txn_customer[key] = customer
            self.by_customer.setdefault(customer, set()).add(key)

    def reindex(self) -> None:
        """Rebuild the customer index (after loading a snapshot)."""
        self.by_customer.clear()
        self._txn_customer.clear()
        for entity in TRANSACTIONS:
            for ident in self.objects[entity]:
                self._index(entity, ident)

    # -- doc numbers ------------------------------------------------------------------------------
    def next_doc_number(self, entity: str) -> str:
        """Last number + 1, as QuickBooks fills DocNumber when custom numbers are off."""
        value = self.doc_numbers.get(entity, 1000) + 1
        self.doc_numbers[entity] = value
        return str(value)

    def saw_doc_number(self, entity: str, doc_number: str) -> None:
        """A DocNumber given by hand moves the sequence on when it is a larger number."""
        if doc_number.isdigit() and int(doc_number) > self.doc_numbers.get(entity, 1000):
            self.doc_numbers[entity] = int(doc_number)

    # -- preferences ------------------------------------------------------------------------------
    def preference(self, *path: str, default: Any = None) -> Any:
        """A value from the Preferences object (``preference("SalesFormsPrefs", "CustomTxnNumbers")``)."""
        node: Any = self.get("Preferences", "1") or {}
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return node

    def home_currency(self) -> str:
        """The company's home currency code."""
        return self.preference("CurrencyPrefs", "HomeCurrency", "value", default="USD")

    # -- requestid memory -------------------------------------------------------------------------
    def recall(self, key: tuple[str, str], now: float) -> tuple[int, bytes, str] | None:
        """The remembered response of the first committed write with this requestid, if still kept."""
        if self.requestid_ttl == 0:
            return None
        found = self.requestids.get(key)
        if found is None:
            return None
        stored_at, status, body, ctype = found
        if self.requestid_ttl is not None and now - stored_at > self.requestid_ttl:
            del self.requestids[key]
            return None
        return status, body, ctype

    def remember(self, key: tuple[str, str], now: float, status: int, body: bytes, ctype: str) -> None:
        """Keep a committed response for replay."""
        if self.requestid_ttl != 0:
            self.requestids[key] = (now, status, body, ctype)

    def copy_of(self, entity: str, ident: str) -> dict | None:
        """A deep copy of a stored object, safe to edit before validation succeeds."""
        obj = self.get(entity, ident)
        return copy.deepcopy(obj) if obj is not None else None


def _id_key(ident: str) -> tuple[int, str]:
    return (int(ident), "") if ident.isdigit() else (1 << 62, ident)
