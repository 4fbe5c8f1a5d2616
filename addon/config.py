"""Settings, read once from the environment.

Every setting autobill reads is declared in ``SETTINGS`` with its default and a one-line
description; the README's settings table is checked against this list by a test. Demo mode is
when no QuickBooks client id is configured: the local emulator stands in for Intuit and keys are
generated once into the state folder. In production mode a missing or malformed setting stops
start-up with one line naming it (``ConfigError``).
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addon.errors import ConfigError

# Intuit's environments as intuitlib names them; anything else must be a discovery-document URL.
# https://github.com/intuit/oauth-pythonclient/blob/master/intuitlib/utils.py (get_discovery_doc)
INTUIT_ENVIRONMENTS = ("sandbox", "production")
INTUIT_API_BASE = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
    "production": "https://quickbooks.api.intuit.com/v3",
}
DEMO_CLIENT_ID = "autobill-demo-client"
DEMO_CLIENT_SECRET = "autobill-demo-secret"
DEMO_WEBHOOK_VERIFIER = "autobill-demo-verifier"


def _int(value: str) -> int:
    return int(value)


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be at least 1, got {number}")
    return number


def _float(value: str) -> float:
    return float(value)


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _str(value: str) -> str:
    return value.strip()


def _keys(value: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in value.split(",") if k.strip())
    for n, key in enumerate(keys, 1):
        # Never echo the key itself: the message ends up on a terminal or in a log.
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"key {n} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes; "
                             "make one with `autobill keys generate`)")
    return keys


@dataclass(frozen=True)
class Setting:
    """One environment variable: its attribute name, default, parser and meaning."""

    env: str
    attr: str
    default: Any
    parse: Callable[[str], Any]
    doc: str
    secret: bool = False
    time_constant: bool = False  # seconds; multiplied by AUTOBILL_TIME_SCALE


SETTINGS: tuple[Setting, ...] = (
    # Where things live
    Setting("DATABASE_URL", "database_url", None, _str,
            "SQLAlchemy URL of autobill's database (default: SQLite file in the state folder)"),
    Setting("REDIS_URL", "redis_url", "redis://127.0.0.1:6379/0", _str, "Redis for the RQ queues, locks and budgets"),
    Setting("AUTOBILL_STATE_DIR", "state_dir", ".autobill", _str,
            "git-ignored folder for the demo's SQLite file, generated keys, emulator snapshot and logs"),
    Setting("AUTOBILL_PUBLIC_URL", "public_url", None, _str,
            "URL people and senders reach the web app at (default http://127.0.0.1:<web port>)"),
    Setting("AUTOBILL_WEB_PORT", "web_port", 5000, _int, "port of the web app started by `autobill run`"),
    Setting("AUTOBILL_SANDBOX_PORT", "sandbox_port", 5055, _int, "port of the QuickBooks emulator in demo mode"),
    Setting("AUTOBILL_WORKERS", "workers", 2, _int, "RQ worker processes started by `autobill run`"),
    # Secrets
    Setting("SECRET_KEY", "secret_key", None, _str, "Flask session signing key (generated in demo mode)", secret=True),
    Setting("AUTOBILL_ENCRYPTION_KEYS", "encryption_keys", (), _keys,
            "comma-separated Fernet keys, newest first; the first encrypts, all decrypt (generated in demo mode)",
            secret=True),
    # QuickBooks app
    Setting("QBO_CLIENT_ID", "qbo_client_id", None, _str,
            "your Intuit app's client id; unset means demo mode against the local emulator"),
    Setting("QBO_CLIENT_SECRET", "qbo_client_secret", None, _str, "your Intuit app's client secret", secret=True),
    Setting("QBO_REDIRECT_URI", "qbo_redirect_uri", None, _str,
            "OAuth redirect URI registered with Intuit (default <public url>/qbo/callback)"),
    Setting("QBO_ENVIRONMENT", "qbo_environment", "sandbox", _str,
            "`sandbox`, `production`, or a discovery-document URL"),
    Setting("QBO_API_BASE_URL", "qbo_api_base_url", None, _str,
            "Accounting API base ending in /v3 (default follows QBO_ENVIRONMENT)"),
    Setting("QBO_WEBHOOK_VERIFIER_TOKEN", "qbo_webhook_verifier_token", None, _str,
            "verifier token of your app's QuickBooks webhooks", secret=True),
    Setting("QBO_MINOR_VERSION", "qbo_minor_version", 75, _int, "minorversion sent on every Accounting API call"),
    # Time constants (seconds), all scaled by AUTOBILL_TIME_SCALE
    Setting("AUTOBILL_TIME_SCALE", "time_scale", 1.0, _float,
            "multiplier applied to every time constant below (tests set it small)"),
    Setting("AUTOBILL_TICK_SECONDS", "tick_seconds", 60, _float, "how often the scheduler runs tick", time_constant=True),
    Setting("AUTOBILL_JOB_TIMEOUT", "job_timeout", 180, _float, "RQ job timeout", time_constant=True),
    Setting("AUTOBILL_WORKER_MAINTENANCE_INTERVAL", "worker_maintenance_interval", 60, _float,
            "how often a worker reclaims jobs of dead workers", time_constant=True),
    Setting("AUTOBILL_JOB_MONITORING_INTERVAL", "job_monitoring_interval", 30, _float,
            "how often a worker's heartbeat extends its job's lease", time_constant=True),
    # Postings (issue 7): retries, leases, fairness and the scheduler's billing
    Setting("AUTOBILL_POSTING_MAX_ATTEMPTS", "posting_max_attempts", 8, _int,
            "transient failures of one posting step before it lands in the failed list"),
    Setting("AUTOBILL_POSTING_RETRY_BASE", "posting_retry_base", 10, _float,
            "first retry delay of a posting after a transient failure; doubles each time, with jitter",
            time_constant=True),
    Setting("AUTOBILL_POSTING_RETRY_MAX", "posting_retry_max", 900, _float,
            "longest delay between two retries of a posting", time_constant=True),
    Setting("AUTOBILL_POSTING_CONCURRENCY", "posting_concurrency", 4, _int,
            "posting jobs of one company queued or running at once (keep it below the worker count)"),
    Setting("AUTOBILL_POSTING_SWEEP_GRACE", "posting_sweep_grace", 120, _float,
            "a posting left unfinished this long without a live job is enqueued again by tick",
            time_constant=True),
    Setting("AUTOBILL_BACKLOG_PERIODS", "backlog_periods", 2, _int,
            "more periods than this due at once for an agreement are held for review as a backlog"),
    Setting("AUTOBILL_THRESHOLD_SWEEP_MINUTES", "threshold_sweep_minutes", 15, _int,
            "how often (in minutes, on tick) unbilled time is checked against thresholds as a safety net"),
    # QuickBooks budget per company, shared by every process (Intuit: 500/min, 10/s, 10 concurrent)
    Setting("QBO_REQUESTS_PER_MINUTE", "qbo_requests_per_minute", 480, _positive_int,
            "requests autobill lets through per company per minute window (QuickBooks allows 500)"),
    Setting("QBO_REQUESTS_PER_SECOND", "qbo_requests_per_second", 10, _positive_int,
            "requests autobill lets through per company per second window (QuickBooks allows 10)"),
    Setting("QBO_MAX_IN_FLIGHT", "qbo_max_in_flight", 10, _positive_int,
            "requests in flight at once per company, across all workers (QuickBooks allows 10)"),
    Setting("QBO_REQUEST_TIMEOUT", "qbo_request_timeout", 60, _float,
            "seconds one QuickBooks or Intuit OAuth request may take (not scaled)"),
    Setting("QBO_WINDOW_GUARD", "qbo_window_guard", 0.25, _float,
            "how late after admission a request may reach QuickBooks without tipping a window over (not scaled)"),
    Setting("AUTOBILL_QBO_MINUTE_WINDOW", "qbo_minute_window", 60, _float,
            "length of the per-minute request window", time_constant=True),
    Setting("AUTOBILL_QBO_SECOND_WINDOW", "qbo_second_window", 1, _float,
            "length of the per-second request window", time_constant=True),
    Setting("AUTOBILL_QBO_THROTTLE_BACKOFF", "qbo_throttle_backoff", 60, _float,
            "pause for a company after QuickBooks answers 429 (Intuit advises 60 s)", time_constant=True),
    Setting("AUTOBILL_QBO_MAX_WAIT", "qbo_max_wait", 10, _float,
            "longest a call waits for the company's budget before its job is deferred", time_constant=True),
    Setting("AUTOBILL_TOKEN_REFRESH_MARGIN", "token_refresh_margin", 300, _float,
            "refresh an access token this long before it expires", time_constant=True),
    Setting("AUTOBILL_KEEPALIVE_IDLE", "keepalive_idle", 30 * 86400, _float,
            "refresh a company's tokens when they have not been refreshed for this long (30 days)",
            time_constant=True),
    # Intake: the inbox, events and their retries
    Setting("AUTOBILL_SWEEP_GRACE", "sweep_grace", 60, _float,
            "how long a stored delivery or event may wait in its queue before the sweeper enqueues it again",
            time_constant=True),
    Setting("AUTOBILL_RETRY_BASE", "retry_base", 30, _float,
            "first pause before an event whose enrichment or handler failed is tried again (doubles each time)",
            time_constant=True),
    Setting("AUTOBILL_RETRY_MAX", "retry_max", 3600, _float, "longest pause between two tries of one event",
            time_constant=True),
    Setting("AUTOBILL_RETRY_LIMIT", "retry_limit", 20, _int,
            "tries before an event is marked failed (`autobill replay` runs it again)"),
    Setting("AUTOBILL_IDLE_RETRY", "idle_retry", 3600, _float,
            "how often an event that no handler takes yet is offered again", time_constant=True),
    Setting("AUTOBILL_CUSTOMER_CLAIM_TIMEOUT", "customer_claim_timeout", 300, _float,
            "how long one worker may hold the right to find or create a QuickBooks customer before another takes over",
            time_constant=True),
    Setting("AUTOBILL_ENDPOINT_CACHE", "endpoint_cache", 5, _float,
            "how long a web process remembers an endpoint it looked up (changes elsewhere show after this)",
            time_constant=True),
    Setting("AUTOBILL_CUSTOMER_WAIT", "customer_wait", 5, _float,
            "how soon an event waiting for another worker's customer lookup is tried again", time_constant=True),
    Setting("AUTOBILL_ITEM_MISS_CACHE", "item_miss_cache", 3600, _float,
            "how long a product that QuickBooks has no item for (by SKU or name) is not looked up again",
            time_constant=True),
    # Polled sources (Harvest): per account, however many schedulers tick
    Setting("AUTOBILL_HARVEST_POLL_INTERVAL", "harvest_poll_interval", 300, _float,
            "how often each Harvest account is polled for changed time entries", time_constant=True),
    Setting("AUTOBILL_HARVEST_MAX_WAIT", "harvest_max_wait", 15, _float,
            "longest Harvest rate-limit pause (Retry-After) waited out inside one poll; longer ones end the "
            "poll until then", time_constant=True),
    Setting("AUTOBILL_POLL_RETRY", "poll_retry", 300, _float,
            "pause before polling an account again after its poll failed", time_constant=True),
)

_BY_ATTR = {s.attr: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Everything autobill reads from its environment, parsed and checked."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            setting = _BY_ATTR[name]
        except KeyError:
            raise AttributeError(name) from None
        value = self.values.get(name, setting.default)
        if setting.time_constant and value is not None:
            return value * self.values.get("time_scale", 1.0)
        return value

    @property
    def demo_mode(self) -> bool:
        """True when no Intuit app is configured and the local emulator stands in."""
        return not self.values.get("qbo_client_id")

    @property
    def state_path(self) -> Path:
        return Path(self.values.get("state_dir", ".autobill")).resolve()

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def qbo_client_credentials(self) -> tuple[str, str]:
        """The Intuit app's client id and secret (the emulator's demo client in demo mode)."""
        if self.demo_mode:
            return DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        return self.values["qbo_client_id"], self.values["qbo_client_secret"]

    @property
    def qbo_discovery(self) -> str:
        """What intuitlib takes as ``environment``: a name it knows or a discovery-document URL."""
        if self.demo_mode:
            return f"{self.sandbox_url}/.well-known/openid_configuration"
        return self.qbo_environment

    @property
    def qbo_api_url(self) -> str:
        """The Accounting API base, ending in /v3."""
        if self.demo_mode:
            return f"{self.sandbox_url}/v3"
        return (self.values.get("qbo_api_base_url") or INTUIT_API_BASE[self.qbo_environment]).rstrip("/")

    @property
    def qbo_environment_label(self) -> str:
        """The environment a company belongs to (part of its identity with the realm id)."""
        return "emulator" if self.demo_mode else self.qbo_environment

    @property
    def qbo_callback_url(self) -> str:
        """The OAuth redirect URI registered with Intuit."""
        return self.values.get("qbo_redirect_uri") or f"{self.web_url}/qbo/callback"

    @property
    def web_url(self) -> str:
        return (self.values.get("public_url") or f"http://127.0.0.1:{self.web_port}").rstrip("/")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (tests use it to scale time constants)."""
        unknown = set(changes) - set(_BY_ATTR)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, values={**self.values, **changes})

    def __repr__(self) -> str:  # never show secrets
        shown = {k: ("***" if _BY_ATTR[k].secret and v else v) for k, v in self.values.items()}
        return f"Settings({shown})"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse every declared setting from ``environ`` (default ``os.environ``)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.env} is malformed: {exc}") from None
    settings = Settings(values)
    if not settings.demo_mode:
        _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    for env, attr in (
        ("QBO_CLIENT_SECRET", "qbo_client_secret"),
        ("QBO_REDIRECT_URI", "qbo_redirect_uri"),
        ("QBO_WEBHOOK_VERIFIER_TOKEN", "qbo_webhook_verifier_token"),
        ("DATABASE_URL", "database_url"),
        ("REDIS_URL", "redis_url"),
        ("SECRET_KEY", "secret_key"),
        ("AUTOBILL_ENCRYPTION_KEYS", "encryption_keys"),
    ):
        if not settings.values.get(attr):
            raise ConfigError(f"{env} is required when QBO_CLIENT_ID is set")
    env = settings.qbo_environment
    if env not in INTUIT_ENVIRONMENTS and not env.startswith(("https://", "http://")):
        raise ConfigError("QBO_ENVIRONMENT must be sandbox, production or a discovery-document URL")
    if env not in INTUIT_ENVIRONMENTS and not settings.values.get("qbo_api_base_url"):
        raise ConfigError("QBO_API_BASE_URL is required when QBO_ENVIRONMENT is a discovery-document URL")
    if not settings.qbo_redirect_uri.startswith(("https://", "http://")):
        raise ConfigError("QBO_REDIRECT_URI must be an http(s) URL")
    base = settings.values.get("qbo_api_base_url")
    # python-quickbooks appends /company/<realm>/... to it; Intuit's base is https://quickbooks.api.intuit.com/v3.
    if base and (not base.startswith(("https://", "http://")) or not base.rstrip("/").endswith("/v3")):
        raise ConfigError("QBO_API_BASE_URL must be an http(s) URL ending in /v3")
    if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL is malformed: expected redis://, rediss:// or unix://")
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(settings.database_url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL is malformed: expected a URL such as postgresql+psycopg://user@host/db") from None
