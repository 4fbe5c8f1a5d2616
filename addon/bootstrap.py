"""The composition root: one place that wires settings, database, Redis and adapters.

Nothing is created at import time; ``build`` makes a ``Container`` whose parts are made on first
use, so a CLI command that needs only the settings never opens a connection.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from functools import cached_property

from addon.config import Settings, load_settings

# Modules that register tick tasks, jobs or CLI hooks when imported. Each feature adds itself.
FEATURE_MODULES: list[str] = ["addon.connection_setup", "addon.intake_setup", "addon.usage_setup",
                              "addon.postings_setup"]

QUEUES = ("tick", "events", "postings", "default")


class Container:
    """Lazily built application services for one process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._realms: dict[str, str] = {}  # company id -> QuickBooks realm id (never changes)
        for name in FEATURE_MODULES:
            importlib.import_module(name)

    @cached_property
    def database(self):
        """The SQL database (SQLite file in the state folder unless DATABASE_URL says otherwise)."""
        from addon.db import Database, default_database_url

        return Database(self.settings.database_url or default_database_url(self.settings.state_path))

    def unit_of_work(self) -> AbstractContextManager:
        """A session whose work commits together at the end of the block, or not at all."""
        return self.database.unit_of_work()

    session_scope = unit_of_work

    @cached_property
    def vault(self):
        """Encrypts and decrypts stored secrets with the configured keys."""
        from addon.vault import Vault

        return Vault(self.settings.encryption_keys)

    @cached_property
    def audit(self):
        """The per-company audit chains."""
        from addon.audit import AuditChain

        return AuditChain(self.database)

    @cached_property
    def companies(self):
        """Companies, users and roles."""
        from addon.companies import Companies

        return Companies(self.database, self.audit)

    @cached_property
    def redis(self):
        """The Redis connection RQ, locks and budgets share."""
        from redis import Redis

        return Redis.from_url(self.settings.redis_url)

    @cached_property
    def budget(self):
        """The per-company QuickBooks request budget shared through Redis."""
        from addon.budget import BudgetLimits, CompanyBudget

        return CompanyBudget(self.redis, BudgetLimits.from_settings(self.settings))

    @cached_property
    def endpoints(self):
        """Ingest endpoints and their secrets."""
        from addon.endpoints import Endpoints

        return Endpoints(self.database, self.vault, self.audit, self.settings.web_url,
                         cache_seconds=self.settings.endpoint_cache)

    @cached_property
    def mappings(self):
        """Customer, item, project and milestone mappings."""
        from addon.mappings import Mappings

        return Mappings(self)

    @cached_property
    def agreements(self):
        """Agreements and their versioned rules."""
        from addon.agreements import Agreements

        return Agreements(self)

    @cached_property
    def oauth(self):
        """Intuit's OAuth service (the emulator's in demo mode)."""
        from addon.quickbooks.oauth import IntuitOAuth

        client_id, secret = self.settings.qbo_client_credentials
        return IntuitOAuth(client_id, secret, self.settings.qbo_callback_url, self.settings.qbo_discovery,
                           timeout=self.settings.qbo_request_timeout)

    @cached_property
    def tokens(self):
        """Companies' tokens: encrypted store and single-flight refresh."""
        from addon.tokens import TokenKeeper, TokenStore

        return TokenKeeper(TokenStore(self.database, self.vault), self.oauth, self.redis, self.audit,
                           refresh_margin=self.settings.token_refresh_margin,
                           lock_timeout=self.settings.qbo_request_timeout + 30,
                           lock_wait=self.settings.qbo_request_timeout + 10)

    @cached_property
    def _http(self):
        from addon.quickbooks.client import BearerSession

        return BearerSession()

    def ledger(self, company_id: str):
        """The ``LedgerGateway`` of one company (a new, cheap object; HTTP connections are pooled)."""
        from addon.quickbooks.gateway import QuickBooksLedgerGateway

        realm_id = self._realms.get(company_id)
        if realm_id is None:
            # A company is one QuickBooks company: its realm never changes (unique on environment and
            # realm), so one read per process serves every later job of that company.
            realm_id = self._realms.setdefault(company_id, self.companies.get(company_id).realm_id)
        return QuickBooksLedgerGateway(
            company_id, realm_id, self.tokens, self.budget, api_url=self.settings.qbo_api_url,
            minor_version=self.settings.qbo_minor_version, timeout=self.settings.qbo_request_timeout,
            session=self._http)

    def queue(self, name: str):
        """The RQ queue called ``name`` on this container's Redis."""
        from rq import Queue

        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
        return Queue(name, connection=self.redis, default_timeout=int(self.settings.job_timeout))


_CONTAINER: Container | None = None


def build(settings: Settings | None = None) -> Container:
    """A new container for ``settings`` (default: from the environment).

    In demo mode the SECRET_KEY and encryption keys come from the state folder (made once).
    """
    from addon.demosecrets import with_demo_secrets

    return Container(with_demo_secrets(settings or load_settings()))


def current() -> Container:
    """This process's container, built on first use (RQ jobs take ids, not services)."""
    global _CONTAINER
    if _CONTAINER is None:
        _CONTAINER = build()
    return _CONTAINER


def set_current(container: Container | None) -> None:
    """Install ``container`` as this process's (tests and the worker start-up use it)."""
    global _CONTAINER
    _CONTAINER = container
