"""Retry delays: exponential with jitter, bounded, so many postings failing together do not retry together."""

from __future__ import annotations

import random


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before try ``attempt + 1`` after ``attempt`` failures (1, 2, ...): half of
    ``base * 2**(attempt-1)`` (at most ``cap``) plus a random part up to the other half."""
    if attempt < 1:
        raise ValueError(f"attempt counts failures from 1, got {attempt}")
    step = min(cap, base * 2 ** min(attempt - 1, 30))
    return step / 2 + (rng or random).uniform(0, step / 2)
