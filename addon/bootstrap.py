"""The composition root: one place that wires settings, database, Redis and adapters.

Nothing is created at import time; ``build`` makes a ``Container`` whose parts are made on first
use, so a CLI command that needs only the settings never opens a connection.
"""

from __future__ import annotations

import importlib
from functools import cached_property

from addon.config import Settings, load_settings

# Modules that register tick tasks, jobs or CLI hooks when imported. Each feature adds itself.
FEATURE_MODULES: list[str] = []

QUEUES = ("tick", "events", "postings", "default")


class Container:
    """Lazily built application services for one process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        for name in FEATURE_MODULES:
            importlib.import_module(name)

    @cached_property
    def redis(self):
        """The Redis connection RQ, locks and budgets share."""
        from redis import Redis

        return Redis.from_url(self.settings.redis_url)

    def queue(self, name: str):
        """The RQ queue called ``name`` on this container's Redis."""
        from rq import Queue

        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r}; known: {', '.join(QUEUES)}")
        return Queue(name, connection=self.redis, default_timeout=int(self.settings.job_timeout))


_CONTAINER: Container | None = None


def build(settings: Settings | None = None) -> Container:
    """A new container for ``settings`` (default: from the environment)."""
    return Container(settings or load_settings())


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
