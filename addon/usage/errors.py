"""The usage ledger's errors: each has a code, a message a bookkeeper understands, and whether
retrying can help."""

from __future__ import annotations

from addon.errors import AutobillError


class UsageError(AutobillError):
    """Base of the usage ledger's errors."""

    code = "usage_error"


class NotUsage(UsageError):
    """An event that carries no usage (not time logged, expense logged or SLA breached)."""

    code = "not_usage"


class UsageAlreadyBilled(UsageError):
    """A posting tried to consume a usage version another posting of the agreement already billed.

    Retryable: the caller's draft was made from a stale view; drafting again (with the history that
    now includes the other posting) bills only what is left.
    """

    code = "usage_already_billed"
    retryable = True


class UnknownUsage(UsageError):
    """A consumption names a usage version the ledger does not hold for this company."""

    code = "unknown_usage"
