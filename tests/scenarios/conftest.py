"""Fixtures of the scenarios."""

from tests.scenarios.books import books  # noqa: F401 - one company's books, end to end
from tests.scenarios.usage_harness import week  # noqa: F401 - the usage scenarios' harness
