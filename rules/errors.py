"""The rules engine's errors: one flat module, each with a code, a message a bookkeeper understands,
and whether retrying can help.

The engine is pure, so running it again on the same inputs gives the same error; ``retryable`` says
whether a retry *after the inputs can change by themselves* (an event enriched later) may help.
"""

from __future__ import annotations


class RulesError(Exception):
    """Base of every error the rules engine raises on purpose."""

    code = "rules_error"
    retryable = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidAgreement(RulesError, ValueError):
    """An agreement or rule (JSON form or constructor) is refused; ``path`` names the field."""

    code = "invalid_agreement"

    def __init__(self, path: str, reason: str):
        self.path = path or "(document)"
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def under(self, prefix: str) -> InvalidAgreement:
        """The same refusal with ``prefix`` in front of its path (``agreements[2].`` + ``fee``)."""
        if not prefix:
            return self
        path = prefix if self.path == "(document)" else (
            f"{prefix}{self.path}" if self.path.startswith("[") else f"{prefix}.{self.path}")
        return type(self)(path, self.reason)


class InvalidTemplate(InvalidAgreement):
    """A description, memo, note or document-number template is refused; ``path`` names it."""

    code = "invalid_template"


class TemplateDataMissing(InvalidTemplate):
    """A template names an event attribute the event does not carry. Event attributes are only known
    when an event arrives, so saving allows any; the engine then holds the draft with this reason
    and writes the default text instead of failing."""

    code = "template_data_missing"


class EventIncomplete(RulesError):
    """The event lacks what the rule needs (an amount, lines, a date); the source may still send it."""

    code = "event_incomplete"
    retryable = True


class CurrencyMismatch(RulesError):
    """Usage or an event is priced in another currency than the agreement bills in."""

    code = "currency_mismatch"


class InvalidInput(RulesError):
    """An argument the engine cannot work with (a naive datetime, an inconsistent history)."""

    code = "invalid_input"


ERRORS: tuple[type[RulesError], ...] = (
    RulesError, InvalidAgreement, InvalidTemplate, TemplateDataMissing, EventIncomplete, CurrencyMismatch,
    InvalidInput,
)
