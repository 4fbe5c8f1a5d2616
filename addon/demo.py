"""What ``autobill run`` prepares before it starts serving, in demo and production mode.

Features append steps to ``PREPARE_STEPS``; each takes the container and returns lines of
"what to try next" for the banner.
"""

from __future__ import annotations

from collections.abc import Callable

PrepareStep = Callable[[object], list[str]]
PREPARE_STEPS: list[PrepareStep] = []


def prepare(container: object) -> list[str]:
    """Run every prepare step in order and collect their hints."""
    hints: list[str] = []
    for step in PREPARE_STEPS:
        hints.extend(step(container))
    return hints
