"""Fixtures of the scenarios."""

from tests.scenarios.usage_harness import week  # noqa: F401 - the usage scenarios' harness
