"""The ledger's fault vocabulary: what went wrong in QuickBooks, in words the rest of autobill uses.

Every gateway operation raises only these. ``retryable`` says whether trying again (later, or
after re-reading for ``StaleObject``) can help. Messages are QuickBooks' own business text or
ours, never a token or a request header. Codes: https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
"""

from __future__ import annotations

from addon.errors import AutobillError


class LedgerFault(AutobillError):
    """Base of every fault a ``LedgerGateway`` raises."""

    code = "ledger"
    retryable = False

    def __init__(self, message: str, *, qbo_code: str | None = None, intuit_tid: str | None = None,
                 element: str | None = None):
        super().__init__(message)
        self.qbo_code = qbo_code
        self.intuit_tid = intuit_tid
        self.element = element

    def as_details(self) -> dict:
        """The fault as audit details."""
        return {"fault": self.code, "qbo_code": self.qbo_code, "message": self.message,
                "intuit_tid": self.intuit_tid, "retryable": self.retryable}


class ObjectNotFound(LedgerFault):
    """The object does not exist in QuickBooks, or was made inactive or deleted (610)."""

    code = "not_found"


class StaleObject(LedgerFault):
    """Someone changed the object since it was read (5010): read it again, then retry."""

    code = "stale_object"
    retryable = True


class DuplicateDocNumber(LedgerFault):
    """Another transaction already uses this document number (6140)."""

    code = "duplicate_doc_number"


class Rejected(LedgerFault):
    """QuickBooks refused the request as invalid (2xxx validation, 6000 business rules, others)."""

    code = "rejected"


class OperationRefused(Rejected):
    """QuickBooks refused this operation for this connection (HTTP 403, 3100 AuthorizationFailed).

    Intuit: "The URL exists, but it's restricted"; the token is good (a lost grant is a 401), so the
    company stays connected and only this request is refused, as any rejection is: not retried.
    https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
    """

    code = "operation_refused"


class AuthLost(LedgerFault):
    """The company's authorization is gone: it needs an admin to reconnect it."""

    code = "auth_lost"


class InvalidGrant(AuthLost):
    """Intuit refused the refresh token (``invalid_grant``): expired, revoked or superseded."""

    code = "invalid_grant"


class Throttled(LedgerFault):
    """Over the company's request budget, or QuickBooks said 429: try again after ``retry_after`` seconds."""

    code = "throttled"
    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Transient(LedgerFault):
    """A 5xx, a timeout or a broken connection: retrying later can help.

    ``outcome_unknown`` is True when the request may have reached QuickBooks (a write may have
    happened): resolve by reading before writing again.
    """

    code = "transient"
    retryable = True

    def __init__(self, message: str, *, outcome_unknown: bool = True, **kwargs):
        super().__init__(message, **kwargs)
        self.outcome_unknown = outcome_unknown


def fault_for_code(code: str | int | None, message: str, detail: str = "", *, intuit_tid: str | None = None,
                   element: str | None = None) -> LedgerFault:
    """The fault for a QuickBooks ``Fault.Error[].code``."""
    text = f"{message}: {detail}" if detail and detail != message else message
    kwargs = {"qbo_code": None if code is None else str(code), "intuit_tid": intuit_tid, "element": element}
    try:
        number = int(code) if code is not None else 0
    except (TypeError, ValueError):
        number = 0
    if number == 610:
        return ObjectNotFound(text, **kwargs)
    if number == 5010:
        return StaleObject(text, **kwargs)
    if number == 6140:
        return DuplicateDocNumber(text, **kwargs)
    if number == 3001:  # ThrottleExceeded, when it arrives as a JSON fault
        return Throttled(text, retry_after=60.0, **kwargs)
    if number == 3100:  # AuthorizationFailed: this operation is not allowed to this connection
        return OperationRefused(text, **kwargs)
    if 0 < number < 500 or number == 3200:  # authentication failures: the token is not accepted
        return AuthLost(text, **kwargs)
    return Rejected(text, **kwargs)
