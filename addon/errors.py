"""The errors of the application core: each has a code, a message a bookkeeper understands,
and whether retrying can help."""

from __future__ import annotations


class AutobillError(Exception):
    """Base of every error autobill raises on purpose."""

    code = "autobill_error"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable


class ConfigError(AutobillError):
    """A setting is missing or malformed; start-up stops with this one line."""

    code = "config"


class NotFound(AutobillError):
    """The thing asked for does not exist (or belongs to another company)."""

    code = "not_found"


class InvalidInput(AutobillError):
    """Input that autobill refuses, with the reason."""

    code = "invalid_input"


class Forbidden(AutobillError):
    """The user has no role that allows this for this company."""

    code = "forbidden"
