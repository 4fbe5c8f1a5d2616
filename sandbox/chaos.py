"""Injected faults and latency: per-route rules set through the control API.

A rule ``{"route": "POST invoice", "status": 500, "probability": 0.1, "latency_ms": 0,
"mode": "error" | "commit_then_drop" | "commit_then_truncate" | "drop" | "latency", "times": n}`` matches requests by method and
route name (``invoice``, ``invoice/send``, ``invoice/pdf``, ``query``, ``batch``, ``cdc``, ``token``,
``revoke``, ``userinfo``; ``*`` for any; ``POST invoice?operation=void`` narrows to one operation).
``commit_then_drop`` performs the request and then closes the connection without answering: the
reply lost in transit that requestid exists for. ``commit_then_truncate`` performs it and answers
with the first half of the body, framed as complete (a proxy or a cut stream that still ended
cleanly): a success the client cannot read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sandbox import faults, jsonio
from sandbox.clock import qbo_time
from sandbox.httpserver import Response, json_response

MODES = ("error", "commit_then_drop", "commit_then_truncate", "drop", "latency")


@dataclass
class FaultRule:
    """One injected behaviour."""

    route: str
    method: str
    name: str
    operation: str | None
    status: int | None
    probability: float
    latency_ms: float
    mode: str
    times: int | None
    code: str | None = None
    detail: str | None = None

    def matches(self, method: str, name: str, operation: str | None) -> bool:
        """True when this rule applies to a request."""
        return (self.method in ("*", method) and self.name in ("*", name)
                and (self.operation is None or self.operation == (operation or "")))

    def public(self) -> dict:
        """The rule as the control API lists it."""
        return {k: v for k, v in asdict(self).items() if k not in ("method", "name", "operation")}


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{name} must be a number")
    return float(value)


def parse_rule(body: dict) -> FaultRule:
    """A rule from a control-API body; ``ValueError`` names the bad value."""
    if not isinstance(body, dict):
        raise ValueError("a fault rule is a JSON object")
    unknown = set(body) - {"route", "status", "probability", "latency_ms", "mode", "times", "code", "detail"}
    if unknown:
        raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    route = body.get("route")
    if not isinstance(route, str) or not route.strip():
        raise ValueError('route is required, e.g. "POST invoice" or "* *"')
    parts = route.split()
    method, target = (parts[0].upper(), parts[1]) if len(parts) == 2 else ("*", parts[0])
    name, _, operation = target.lower().partition("?operation=")
    mode = body.get("mode", "error")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    status = body.get("status", 500 if mode == "error" else None)
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error status (400-599)")
    probability = _number(body.get("probability", 1.0), "probability")
    if not 0 <= probability <= 1:
        raise ValueError("probability must be a number from 0 to 1")
    latency = _number(body.get("latency_ms", 0), "latency_ms")
    if latency < 0:
        raise ValueError("latency_ms must be a non-negative number")
    times = body.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError("times must be a positive integer or null")
    code = body.get("code")
    return FaultRule(route.strip(), method, name.strip("/"), operation or None, status, float(probability),
                     float(latency), mode, times, str(code) if code is not None else None, body.get("detail"))


def pick(groups: list[list[FaultRule]], method: str, name: str, operation: str | None,
         rng) -> tuple[FaultRule | None, float]:
    """The rule that fires for this request (if any) and the extra latency in seconds.

    ``groups`` are the rule lists to consult (the realm's, then the global ones); a rule whose
    ``times`` runs out is removed from its own list.
    """
    fired, latency = None, 0.0
    for rules in groups:
        for rule in list(rules):
            if not rule.matches(method, name, operation):
                continue
            if rule.probability < 1 and rng.random() >= rule.probability:
                continue
            latency += rule.latency_ms / 1000.0
            if rule.mode == "latency" or fired is not None:
                continue
            fired = rule
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0 and rule in rules:
                    rules.remove(rule)
    return fired, latency


def error_response(rule: FaultRule, now: datetime) -> Response:
    """The body QuickBooks (or the gateway in front of it) sends with ``rule.status``."""
    status = rule.status or 500
    if status == 429:
        return Response(429, faults.throttled_body(now), "application/xml")
    if status == 401:
        return Response(401, faults.unauthorized_body(now), "application/json;charset=UTF-8",
                        [("WWW-Authenticate", 'Bearer realm="Intuit", error="invalid_token"')])
    if status in (502, 503, 504):
        title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"}
        page = f"<html><head><title>{title[status]}</title></head><body><center><h1>{title[status]}</h1></center></body></html>"
        return Response(status, page.encode(), "text/html")
    if status == 400:
        fault = faults.QBOFault(rule.code or "6000",
                                "A business validation error has occurred while processing your request",
                                rule.detail or "Business Validation Error: injected by the emulator")
    else:
        fault = faults.QBOFault(rule.code or "10000", "An application error has occurred while processing your request",
                                rule.detail or "System Failure Error: injected by the emulator", kind="SystemFault")
    body = {"Fault": fault.fault(), "time": qbo_time(now, millis=True)}
    return json_response(body, status) if status != 200 else Response(status, jsonio.dumps(body))
