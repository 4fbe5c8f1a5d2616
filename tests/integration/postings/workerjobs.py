"""Job functions for the worker tests: RQ imports them by name in the worker that runs them."""

from __future__ import annotations

import signal
import time


def sleep_for(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def deaf_to_the_alarm(seconds: float) -> str:
    """A job the job timeout's alarm cannot stop, as one stuck inside C code would be."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)
    return "outlived its timeout"
