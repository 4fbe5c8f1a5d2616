"""Templates for line descriptions, the customer memo, the private note and the document number.

Jinja2's immutable sandbox with ``StrictUndefined``: a template is checked when it is saved (its
names, no imports or includes, no underscore attributes, then a render against a sample) and a
refusal says which. Rendered text must fit QuickBooks' limits
(https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice).

The sample carries the agreement's own data (so ``agreement.attributes.site`` is checked against the
attributes the agreement defines) and an event whose attributes are only known when an event
arrives: at saving any event attribute may be used; when drafting, one the event lacks raises
``TemplateDataMissing``, which the engine turns into a hold (the default text is written).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rules.errors import InvalidTemplate, TemplateDataMissing

LIMITS = {"description": 4000, "private_note": 4000, "memo": 1000, "doc_number": 21, "name": 100}
# Top-level names each kind of template may use.
INVOICE_NAMES = frozenset({"agreement", "period", "event", "invoice", "rule", "today"})
LINE_NAMES = INVOICE_NAMES | {"line", "default"}
MAX_LOOP = 1000


def _bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_LOOP:
        raise SecurityError(f"range() of more than {MAX_LOOP} items is not allowed")
    return result


def _money(value: Any) -> str:
    if isinstance(value, _RuntimeValue):
        return ""
    return format(Decimal(value), ",.2f") if value is not None and value != "" else ""


class _RuntimeValue(ChainableUndefined):
    """An event attribute while a template is saved: only known when an event arrives, so anything
    may be done with it (it renders as nothing, and reading, calling or computing with it gives itself)."""

    __slots__ = ()

    def _anything(self, *args: Any, **kwargs: Any) -> _RuntimeValue:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __div__ = __rdiv__ = _anything
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _anything
    __pos__ = __neg__ = __call__ = __getitem__ = __pow__ = __rpow__ = _anything
    __lt__ = __le__ = __gt__ = __ge__ = _anything

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


class _RuntimeAttributes(dict):
    """The sample event's attributes: every name is there, as a ``_RuntimeValue``."""

    def __missing__(self, key: str) -> _RuntimeValue:
        return _RuntimeValue(name=key)


class _MissingEventAttribute(UndefinedError):
    """Raised when a template uses an event attribute the event lacks (``args[0]`` is its name)."""


class EventAttributes(dict):
    """An event's attributes as templates see them when drafting: a missing one fails with
    ``_MissingEventAttribute`` (turned into ``TemplateDataMissing``) rather than a bare unknown name.
    Nested mappings are wrapped too; ``is defined`` still lets a template test for one."""

    def __init__(self, values: Mapping[str, Any] = (), path: str = ""):
        super().__init__({k: EventAttributes(v, f"{path}{k}.") if isinstance(v, Mapping) else v
                          for k, v in dict(values).items()})
        self._path = path

    def __missing__(self, key: str) -> StrictUndefined:
        return StrictUndefined(hint=f"{self._path}{key}", name=key, exc=_MissingEventAttribute)


class AgreementAttributes(dict):
    """An agreement's attributes as templates see them: a missing one is refused, naming those it has."""

    def __missing__(self, key: str) -> StrictUndefined:
        known = ", ".join(sorted(self)) or "none"
        return StrictUndefined(hint=f"the agreement has no attribute {key!r} (its attributes: {known})", name=key)


def agreement_variables(agreement: Any) -> dict[str, Any]:
    """An agreement as template data (``agreement.id``, ``agreement.attributes.site``, ...)."""
    return {"id": agreement.id, "name": agreement.name, "customer_id": agreement.customer_id,
            "customer_name": agreement.customer_name, "po_number": agreement.po_number,
            "currency": agreement.currency, "start": agreement.start, "end": agreement.end,
            "cycle": agreement.cycle.label, "attributes": AgreementAttributes(agreement.attributes)}


class _Environment(ImmutableSandboxedEnvironment):
    # Repetition and powers are checked so a template cannot build a huge string or number.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``*`` and ``**`` with size limits."""
        if operator == "**":
            if isinstance(right, int | float | Decimal) and abs(right) > 100:
                raise SecurityError("powers above 100 are not allowed")
            return left ** right
        sequence, count = (left, right) if isinstance(left, str | list | tuple) else (right, left)
        if isinstance(sequence, str | list | tuple) and isinstance(count, int) and len(sequence) * count > 10_000:
            raise SecurityError("repeating text beyond 10,000 characters is not allowed")
        return left * right

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Nothing private, on top of the sandbox's own checks."""
        # Only plain data is ever passed in; anything private or a callable's innards is refused.
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.globals.clear()
_ENV.globals["range"] = _bounded_range
_ENV.filters["money"] = _money


@lru_cache(maxsize=4096)
def _compiled(source: str):
    return _ENV.from_string(source)


def check(field: str, source: str, *, names: frozenset[str] = INVOICE_NAMES) -> None:
    """Refuse ``source`` unless it parses, uses only ``names`` and stays inside the sandbox."""
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(field, f"cannot be read: {exc.message} (line {exc.lineno})") from None
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise InvalidTemplate(field, f"may not import, include or extend other templates "
                                     f"({type(node).__name__.lower()} at line {node.lineno})")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("_"):
            raise InvalidTemplate(field, f"reaches outside the sandbox: attribute {name!r} is not allowed")
    for node in tree.find_all(nodes.Filter):
        if node.name == "attr":
            raise InvalidTemplate(field, "reaches outside the sandbox: the attr filter is not allowed")
    for node in tree.find_all(nodes.Name):
        if node.name == "self":
            raise InvalidTemplate(field, "reaches outside the sandbox: 'self' is not allowed")
    unknown = sorted(meta.find_undeclared_variables(tree) - names - set(_ENV.globals))
    if unknown:
        raise InvalidTemplate(field, f"names an unknown variable {unknown[0]!r} "
                                     f"(known: {', '.join(sorted(names))})")


def render(field: str, source: str, context: Mapping[str, Any], *, limit: int | None = None) -> str:
    """``source`` rendered with ``context``; a sandbox escape, unknown name or overlong result is refused."""
    try:
        text = _compiled(source).render(context)
    except _MissingEventAttribute as exc:
        raise TemplateDataMissing(field, f"uses the event attribute {exc.args[0]!r}, which this event does not "
                                         "carry") from None
    except SecurityError as exc:
        raise InvalidTemplate(field, f"reaches outside the sandbox: {exc}") from None
    except UndefinedError as exc:
        raise InvalidTemplate(field, f"names an unknown variable: {exc.message}") from None
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(field, f"cannot be read: {exc.message} (line {exc.lineno})") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise InvalidTemplate(field, f"fails on this data: {exc}") from None
    text = text.strip()
    maximum = limit if limit is not None else LIMITS.get(field.rsplit(".", 1)[-1])
    if maximum is not None and len(text) > maximum:
        raise InvalidTemplate(field, f"renders {len(text)} characters; QuickBooks allows {maximum}")
    return text


def validate(field: str, source: str, *, line: bool = False, agreement: Any = None) -> None:
    """Check ``source`` statically, then render it against the sample (what saving does): the
    ``agreement``'s own data when given, and an event whose attributes may be anything."""
    names = LINE_NAMES if line else INVOICE_NAMES
    check(field, source, names=names)
    render(field, source, sample_context(line=line, agreement=agreement))


def sample_context(*, line: bool = False, agreement: Any = None) -> dict[str, Any]:
    """The sample every template is rendered against when saved (documented in docs/rules.md):
    ``agreement``'s data (else a sample agreement without attributes) and a sample event whose
    attributes are only known at run time."""
    context = dict(SAMPLE_LINE if line else SAMPLE_INVOICE)
    context["agreement"] = (agreement_variables(agreement) if agreement is not None else
                            {**context["agreement"], "attributes": AgreementAttributes()})
    context["event"] = {**context["event"], "attributes": _RuntimeAttributes()}
    return context


_PERIOD = {"start": date(2026, 11, 1), "end": date(2026, 11, 30), "label": "2026-11-01 to 2026-11-30",
           "index": 10, "partial": False}
SAMPLE_INVOICE: dict[str, Any] = {
    "agreement": {"id": "agr-northwind", "name": "Northwind managed services", "customer_id": "58",
                  "customer_name": "Northwind IT", "po_number": "PO-2291", "currency": "USD",
                  "start": date(2026, 1, 1), "end": None, "cycle": "monthly", "attributes": {}},
    "period": _PERIOD,
    "event": {"kind": "period_closed", "source": "autobill", "source_object_id": "agr-northwind@2026-12-01",
              "amount": None, "currency": None, "occurred_at": "2026-12-01T00:00:00+00:00",
              "attributes": {}, "period_start": date(2026, 11, 1), "lines": [],
              "source_customer": {"id": "company-77", "name": "Northwind IT", "email": "ap@northwind.example"},
              "period_end": date(2026, 11, 30)},
    "invoice": {"date": date(2026, 12, 1), "due_date": date(2026, 12, 31), "terms": "Net 30",
                "total": Decimal("5125.00"), "currency": "USD", "key": "ab1sample", "lines": 3},
    "rule": {"id": "monthly", "version": 1},
    "today": date(2026, 12, 1),
}
SAMPLE_LINE: dict[str, Any] = {
    **SAMPLE_INVOICE,
    "default": "Overage: 7.5 h at 150.00 (2026-11-01 to 2026-11-30)",
    "line": {"kind": "overage", "component": "support", "item": "Support", "quantity": Decimal("7.5"),
             "rate": Decimal("150.00"), "amount": Decimal("1125.00"), "hours": Decimal("7.5"),
             "task": "Firewall upgrade", "person": "Ana", "role": "engineer", "project": None,
             "date": date(2026, 11, 3), "name": "Overage", "period": _PERIOD},
}
