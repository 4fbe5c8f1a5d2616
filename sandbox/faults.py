"""Errors the way QuickBooks Online sends them.

Business and validation errors are HTTP 400 with ``{"Fault":{"Error":[...],"type":...},"time":...}``
and a string ``code`` (https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes).
A bad or expired token gets a 401 whose JSON is lower-case (``fault.error[]``), and throttling a 429
whose body is XML even when JSON was asked for. Every fault carries a ``code``: python-quickbooks
crashes on one without it.
"""

from __future__ import annotations

from datetime import datetime
from xml.sax.saxutils import escape

from sandbox import jsonio
from sandbox.clock import qbo_time


class QBOFault(Exception):
    """One QuickBooks error, raised anywhere below the HTTP layer and rendered as a Fault body."""

    def __init__(self, code: str, message: str, detail: str = "", element: str = "", *,
                 status: int = 400, kind: str = "ValidationFault"):
        super().__init__(f"{code} {message}: {detail}")
        self.code = str(code)
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.kind = kind

    def error(self) -> dict:
        """The ``Error[]`` entry QuickBooks puts in a Fault."""
        return {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}

    def fault(self) -> dict:
        """The ``Fault`` object (also used per item in batch responses)."""
        return {"Error": [self.error()], "type": self.kind}


def fault_body(fault: QBOFault, now: datetime) -> bytes:
    """A complete 400-style JSON body for ``fault``."""
    return jsonio.dumps({"Fault": fault.fault(), "time": qbo_time(now, millis=True)})


def object_not_found(entity: str, ident: str) -> QBOFault:
    """610: the object does not exist (or was deleted)."""
    return QBOFault("610", "Object Not Found",
                    f"Object Not Found : Something you're trying to use has been made inactive. "
                    f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {ident})")


def required(param: str) -> QBOFault:
    """2020: a required field is missing."""
    return QBOFault("2020", "Required param missing, need to supply the required value for the API",
                    f"Required parameter {param} is missing in the request", param)


def invalid_property(detail: str) -> QBOFault:
    """2010: malformed JSON, an unknown property or a value of the wrong type."""
    return QBOFault("2010", "Request has invalid or unsupported property",
                    f"Property Name:{detail} specified is unsupported or invalid")


def string_length(field: str, maximum: int, supplied: int) -> QBOFault:
    """2050: a string longer than QuickBooks stores."""
    return QBOFault("2050", "String length is either shorter or longer than supported by specification",
                    f"String length specified does not match the supported length. Min:0 wanted, "
                    f"Max:{maximum} allowed, supplied length:{supplied}", field)


def invalid_reference(entity: str, ident: str, field: str) -> QBOFault:
    """2500: a reference to an object that does not exist or is inactive."""
    return QBOFault("2500", "Invalid Reference Id",
                    f"Invalid Reference Id : Something you're trying to use has been made inactive. "
                    f"Check the fields with accounts, customers, items, vendors or employees. "
                    f"({entity} {ident} in {field})", field)


def stale(user: str = "root") -> QBOFault:
    """5010: the SyncToken sent is not the object's current one."""
    return QBOFault("5010", "Stale Object Error",
                    f"Stale Object Error : You and {user} were working on this at the same time. "
                    f"{user} finished before you did, so your work was not saved.")


def business(reason: str, element: str = "") -> QBOFault:
    """6000: a business rule refused the request."""
    return QBOFault("6000", "A business validation error has occurred while processing your request",
                    f"Business Validation Error: {reason}", element)


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QBOFault:
    """6140: a custom DocNumber another transaction already uses."""
    return QBOFault("6140", "Duplicate Document Number Error",
                    f"Duplicate Document Number Error : You must specify a different number. This number "
                    f"has already been used. DocNumber={doc_number} is assigned to TxnType={txn_type} "
                    f"with TxnId={txn_id}")


def duplicate_name(what: str = "customer, vendor or employee") -> QBOFault:
    """6240: a name another object of the list already uses."""
    return QBOFault("6240", "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Another {what} is already using this name. "
                    f"Please use a different name.")


def unsupported(path: str, full_url: str = "") -> QBOFault:
    """500 (as a 400 Fault): an entity or operation the API does not have."""
    return QBOFault("500", "Unsupported Operation",
                    f"Operation Could not find resource for relative : {path} of full path: "
                    f"{full_url or path} is not supported.")


def operation_unsupported(operation: str, entity: str, hint: str = "") -> QBOFault:
    """500 (as a 400 Fault): an operation the entity does not have (create a TaxCode, delete a Customer).

    QBO's words for ``POST taxrate``, as reported in github.com/intuit/QuickBooks-V3-PHP-SDK/issues/106:
    ``<Error code="500" element="Operation"><Message>Unsupported Operation</Message><Detail>Operation Create
    is not supported.</Detail></Error>`` (tax codes and rates are made through the TaxService endpoint).
    """
    return QBOFault("500", "Unsupported Operation", f"Operation {operation} is not supported.{hint}", "Operation")


def query_parse(detail: str) -> QBOFault:
    """4000: the query does not parse."""
    return QBOFault("4000", "Error parsing query", f"QueryParserError: {detail}")


def query_invalid(detail: str) -> QBOFault:
    """4001: the query parses but asks for something not allowed (e.g. a non-filterable property)."""
    return QBOFault("4001", "Invalid query", f"QueryValidationError: {detail}")


def system_error(detail: str = "An unexpected error occurred") -> QBOFault:
    """10000: QuickBooks' generic server-side failure."""
    return QBOFault("10000", "An application error has occurred while processing your request",
                    f"System Failure Error: {detail}", status=500, kind="SystemFault")


def _lower_case_body(now: datetime, message: str, detail, code: str, kind: str) -> bytes:
    return jsonio.dumps({
        "warnings": None, "intuitObject": None,
        "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": None}], "type": kind},
        "report": None, "queryResponse": None, "batchItemResponse": [], "attachableResponse": [],
        "syncErrorResponse": None, "requestId": None, "time": int(now.timestamp() * 1000),
        "status": None, "cdcresponse": [],
    })


def unauthorized_body(now: datetime, detail: str = "Token expired") -> bytes:
    """The 401 body in QuickBooks' lower-case form (a real one: python-quickbooks issue #250)."""
    return _lower_case_body(now, "message=AuthenticationFailed; errorCode=003200; statusCode=401", detail,
                            "3200", "AUTHENTICATION")


def forbidden_body(now: datetime) -> bytes:
    """The 403 body for a token that is good but not for this company (node-quickbooks issue #154)."""
    return _lower_case_body(now, "message=AuthorizationFailed; errorCode=003100; statusCode=403", None,
                            "3100", "SERVICE")


def throttled_body(now: datetime) -> bytes:
    """The 429 body: XML with a ThrottleExceeded fault (code 3001), whatever Accept said."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{escape(qbo_time(now, millis=True))}">'
        '<Fault type="SERVICE"><Error code="3001">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail>"
        "</Error></Fault></IntuitResponse>"
    ).encode()
