"""Settings of the test suite itself (documented in the README's settings table)."""

from __future__ import annotations

import os

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL the suite uses; each test session works in its own schema there."""
    return os.environ.get("AUTOBILL_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
