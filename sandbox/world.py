"""Everything one emulator holds: options, clock, apps, token store, realms and global counters."""

from __future__ import annotations

import random
import threading
from typing import Any

from sandbox.clock import Clock
from sandbox.limits import Limits
from sandbox.realm import Realm
from sandbox.seed import seed_company
from sandbox.tokens import App, TokenStore

DEFAULT_OPTIONS: dict[str, Any] = {
    "access_token_ttl": 3600,            # seconds an access token lives (Intuit: 1 hour)
    "refresh_token_ttl": 8640000,        # seconds a refresh token lives unused (Intuit: 100 days, rolling)
    "refresh_grace_seconds": 0,          # how long a superseded refresh token still works
    "code_ttl": 300,                     # seconds an authorization code can be exchanged
    "latency_ms": 0,                     # base latency added to every API and OAuth call
    "limits": None,                      # default per-realm limits (dict), QuickBooks' when None
    "requestid_memory": "forever",       # "forever", "off" or seconds
    "webhook_retry_factor": 1.0,         # multiplies QuickBooks' retry schedule (tests use 0.01)
    "webhook_batch_seconds": 1.0,        # how long events gather before one POST per realm and app
    "webhook_timeout_seconds": 3.0,      # a slower answer is a failed delivery (QuickBooks waits 3 s)
    "webhook_max_attempts": None,        # stop retrying after this many attempts (None: never stop)
    "webhook_url": None,                 # webhook endpoint of the demo app
    "webhook_verifier": None,            # verifier token of the demo app
    "webhook_format": "classic",         # "classic" or "cloudevents" for the demo app
    "random_seed": None,                 # makes realm ids and fault probabilities repeatable
}


def parse_memory(value: Any) -> float | None:
    """The requestid memory setting as seconds (``None`` forever, ``0`` off)."""
    if value in ("forever", None):
        return None
    if value in ("off", "none", False):
        return 0.0
    if isinstance(value, dict) and "seconds" in value:
        value = value["seconds"]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ValueError('requestid memory must be "forever", "off" or a number of seconds')


class World:
    """The state behind one emulator; ``lock`` guards apps, tokens and the realm table."""

    def __init__(self, options: dict[str, Any]):
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown emulator option(s): {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(DEFAULT_OPTIONS))}")
        self.options = {**DEFAULT_OPTIONS, **options}
        if self.options["webhook_format"] not in ("classic", "cloudevents"):
            raise ValueError("webhook_format must be 'classic' or 'cloudevents'")
        self.default_memory = parse_memory(self.options["requestid_memory"])
        self.default_limits = Limits.from_dict(self.options["limits"] or {})
        self.clock = Clock()
        self.random = random.Random(self.options["random_seed"])
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {}
        self.realms: dict[str, Realm] = {}
        self.tokens = TokenStore(self)
        self.counters: dict[str, int] = {"invalid_grant": 0, "unauthorized": 0, "requests": 0}
        self.latency_ms = float(self.options["latency_ms"] or 0)
        self.fault_rules: list = []
        self.sink = None  # set by the webhook sender
        self.version = 0

    def changed(self) -> None:
        """Note a change to apps or tokens for the snapshot writer."""
        self.version += 1

    def register_app(self, client_id: str, client_secret: str, **settings: Any) -> App:
        """Add or update an app (the demo app is registered at start-up)."""
        with self.lock:
            app = self.apps.get(client_id)
            if app is None:
                app = self.apps[client_id] = App(client_id, client_secret)
            app.client_secret = client_secret
            for key, value in settings.items():
                setattr(app, key, value)
            self.changed()
            return app

    def new_realm_id(self) -> str:
        """An unused realm id shaped like QuickBooks' (a long number)."""
        while True:
            candidate = str(self.random.randrange(9130000000000000, 9139999999999999))
            if candidate not in self.realms:
                return candidate

    def create_realm(self, name: str, seed: str = "demo", owner_email: str = "owner@demo.example",
                     realm_id: str | None = None) -> Realm:
        """A new company, seeded with ``demo`` or ``empty`` data."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a company needs a name")
        with self.lock:
            realm = Realm(realm_id or self.new_realm_id(), name.strip(), self.clock,
                          Limits.from_dict({}, self.default_limits), self._emit)
            realm.requestid_ttl = self.default_memory
            seed_company(realm, seed, owner_email)
            self.realms[realm.id] = realm
            self.changed()
            return realm

    def _emit(self, realm_id: str, entity: str, ident: str, operation: str, ts: float) -> None:
        if self.sink is not None:
            self.sink(realm_id, entity, ident, operation, ts)
