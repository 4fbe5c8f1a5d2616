"""The QuickBooks query language: parse, check against filterable fields, run.

Grammar (Intuit "Query operations and syntax", developer.intuit.com/app/developer/qbo/docs/learn/
explore-the-quickbooks-online-api/data-queries): ``SELECT * | COUNT(*) | f, ... FROM Entity
[WHERE cond AND cond ...] [ORDER BY|ORDERBY f [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS n]``,
conditions ``f op value`` with ``= < > <= >= !=``, ``f IN (v, ...)`` and ``f LIKE '%x%'``; no OR.
STARTPOSITION is 1-based, MAXRESULTS defaults to 100 and is capped at 1000. A parse error is
Fault 4000, a WHERE on a field that is not filterable (PrivateNote, custom fields) is 4001.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import faults
from sandbox.clock import parse_instant
from sandbox.schema import BY_LOWER_NAME, EntitySpec

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:\\.|''|[^'\\])*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
)""", re.X)
_KEYWORDS = {"select", "from", "where", "and", "or", "order", "orderby", "by", "asc", "desc",
             "startposition", "maxresults", "in", "like", "count", "not"}


@dataclass
class Query:
    """A parsed query."""

    entity: EntitySpec
    count: bool = False
    fields: list[str] | None = None
    conditions: list[tuple[str, str, Any]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


class _Tokens:
    """The query's tokens with a cursor; errors name the token and column like QBO's parser."""

    def __init__(self, sql: str):
        self.items: list[tuple[str, str, int]] = []
        pos = 0
        sql = sql.strip().rstrip(";")
        while pos < len(sql):
            match = _TOKEN.match(sql, pos)
            if not match or match.end() == pos:
                bad = sql[pos:].lstrip()[:1]
                raise faults.query_parse(f'Invalid content. Lexical error at line 1, column {pos + 1}.  '
                                         f'Encountered: "{bad}"')
            kind = match.lastgroup
            self.items.append((kind, match.group(kind), match.start(kind) + 1))
            pos = match.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "word" and tok[1].lower() in words:
            self.i += 1
            return True
        return False

    def take(self, kind: str, value: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (value is not None and tok[1].lower() != value):
            self.fail(value or kind)
        self.i += 1
        return tok[1]

    def fail(self, expected: str) -> None:
        tok = self.peek()
        where = f'"{tok[1]}" at line 1, column {tok[2]}' if tok else "<EOF> at end of query"
        raise faults.query_parse(f"Encountered {where}. Was expecting: {expected}")


def parse(sql: str) -> Query:
    """Parse ``sql`` into a ``Query`` (Fault 4000 or 4001 when it cannot be run)."""
    toks = _Tokens(sql)
    toks.take("word", "select")
    count, fields = False, None
    if toks.keyword("count"):
        toks.take("punct", "(")
        toks.take("punct", "*")
        toks.take("punct", ")")
        count = True
    elif (tok := toks.peek()) and tok[1] == "*":
        toks.i += 1
    else:
        fields = [toks.take("word")]
        while (tok := toks.peek()) and tok[1] == ",":
            toks.i += 1
            fields.append(toks.take("word"))
    toks.take("word", "from")
    name = toks.take("word")
    spec = BY_LOWER_NAME.get(name.lower())
    if spec is None:
        raise faults.query_invalid(f"Invalid entity name: {name}")
    query = Query(spec, count=count)
    if fields is not None:
        query.fields = [_field(spec, f, filterable=False) for f in fields]
    if toks.keyword("where"):
        query.conditions.append(_condition(toks, spec))
        while toks.keyword("and"):
            query.conditions.append(_condition(toks, spec))
        if (tok := toks.peek()) and tok[1].lower() == "or":
            toks.fail("AND (OR is not supported)")
    if toks.keyword("orderby") or (toks.keyword("order") and toks.take("word", "by")):
        while True:
            name = _field(spec, toks.take("word"))
            descending = toks.keyword("desc")
            if not descending:
                toks.keyword("asc")
            query.order.append((name, descending))
            if (tok := toks.peek()) and tok[1] == ",":
                toks.i += 1
                continue
            break
    if toks.keyword("startposition"):
        query.start = max(1, int(toks.take("number")))
    if toks.keyword("maxresults"):
        query.max_results = min(MAX_RESULTS, max(0, int(toks.take("number"))))
    if toks.peek() is not None:
        toks.fail("<EOF>")
    return query


def _field(spec: EntitySpec, name: str, filterable: bool = True) -> str:
    if name.lower() in _KEYWORDS:
        raise faults.query_parse(f'Encountered "{name}". Was expecting: a property name')
    canonical = spec.filter_field(name)
    if canonical is not None:
        return canonical
    if not filterable:
        return next((f for f in spec.fields if f.lower() == name.lower()), name)
    raise faults.query_invalid(f"property '{name}' is not queryable")


def _literal(toks: _Tokens) -> Any:
    tok = toks.peek()
    if tok is None:
        toks.fail("a value")
    toks.i += 1
    kind, raw = tok[0], tok[1]
    if kind == "string":
        return raw[1:-1].replace("\\'", "'").replace("''", "'").replace("\\\\", "\\")
    if kind == "number":
        return Decimal(raw)
    if kind == "word" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    toks.i -= 1
    toks.fail("a quoted value")


NUMERIC = {"TotalAmt", "Balance", "CurrentBalance", "UnitPrice"}


def _checked(name: str, literal: Any) -> Any:
    """Refuse a literal that can never compare with the field (QuickBooks checks these up front)."""
    if name.startswith("MetaData."):
        try:
            parse_instant(str(literal))
        except ValueError:
            raise faults.query_invalid(f"{literal!r} is not a valid date-time for {name}") from None
    elif name in NUMERIC:
        try:
            Decimal(str(literal))
        except InvalidOperation:
            raise faults.query_invalid(f"{literal!r} is not a valid number for {name}") from None
    return literal


def _condition(toks: _Tokens, spec: EntitySpec) -> tuple[str, str, Any]:
    name = _field(spec, toks.take("word"))
    if toks.keyword("in"):
        toks.take("punct", "(")
        values = [_literal(toks)]
        while (tok := toks.peek()) and tok[1] == ",":
            toks.i += 1
            values.append(_literal(toks))
        toks.take("punct", ")")
        return name, "in", [_checked(name, v) for v in values]
    if toks.keyword("like"):
        pattern = _literal(toks)
        if not isinstance(pattern, str):
            toks.fail("a quoted pattern")
        regex = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.I | re.S)
        return name, "like", regex
    tok = toks.peek()
    if tok is None or tok[0] != "op":
        toks.fail("an operator")
    toks.i += 1
    op = "!=" if tok[1] == "<>" else tok[1]
    return name, op, _checked(name, _literal(toks))


def _value(obj: dict, name: str) -> Any:
    node: Any = obj
    for part in name.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if isinstance(node, dict):
        node = node.get("value", node.get("Address"))
    return node


def _coerce(stored: Any, literal: Any, name: str) -> tuple[Any, Any]:
    if stored is None:
        return None, literal
    if name.startswith("MetaData."):
        try:
            return parse_instant(str(stored)), parse_instant(str(literal))
        except ValueError:
            raise faults.query_invalid(f"{literal!r} is not a date-time for {name}") from None
    if isinstance(stored, bool):
        if isinstance(literal, str) and literal.lower() in ("true", "false"):
            return stored, literal.lower() == "true"
        return stored, literal
    if isinstance(stored, (Decimal, int)) or (name == "Id" and str(stored).isdigit()):
        try:
            return Decimal(str(stored)), Decimal(str(literal))
        except InvalidOperation:
            return str(stored), str(literal)
    return str(stored), literal if isinstance(literal, str) else str(literal)


def _matches(obj: dict, condition: tuple[str, str, Any]) -> bool:
    name, op, literal = condition
    stored = _value(obj, name)
    if op == "like":
        return stored is not None and bool(literal.match(str(stored)))
    if op == "in":
        return any(_compare(stored, "=", item, name) for item in literal)
    return _compare(stored, op, literal, name)


def _compare(stored: Any, op: str, literal: Any, name: str) -> bool:
    left, right = _coerce(stored, literal, name)
    if left is None:
        return False
    try:
        if op == "=":
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right
        if op == ">":
            return left > right
        if op == "<=":
            return left <= right
        return left >= right
    except TypeError:
        return False


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (Decimal, int)):
        return (1, Decimal(value))
    text = str(value)
    if text.isdigit():
        return (1, Decimal(text))
    return (2, text.lower())


def run(query: Query, objects: list[dict]) -> dict:
    """Evaluate ``query`` over ``objects`` and return the ``QueryResponse`` object."""
    found = [o for o in objects if all(_matches(o, c) for c in query.conditions)]
    if query.count:
        return {"totalCount": len(found)}
    for name, descending in reversed(query.order):
        found.sort(key=lambda o, n=name: _sort_key(_value(o, n)), reverse=descending)
    page = found[query.start - 1: query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields is not None:
        page = [{**{f: o[f] for f in query.fields if f in o}, "Id": o["Id"], "domain": "QBO", "sparse": True}
                for o in page]
    return {query.entity.name: page, "startPosition": query.start, "maxResults": len(page)}
