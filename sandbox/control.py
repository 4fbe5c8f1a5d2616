"""The control API under ``/_sandbox/``: drive the emulator from tests, scripts and the demo.

JSON in, JSON out; a bad request is ``{"error": "<what was wrong>"}`` with 400 (404 for unknown
realms). Documented route by route in docs/sandbox.md.
"""

from __future__ import annotations

from decimal import Decimal

from sandbox import actions, chaos, company, jsonio, pages
from sandbox.clock import parse_instant, qbo_time
from sandbox.errors import ControlError
from sandbox.httpserver import Request, Response, html_response, json_response
from sandbox.limits import Limits
from sandbox.schema import BY_LOWER_NAME
from sandbox.seed import SEEDS
from sandbox.world import parse_memory

PREFERENCE_KEYS = {"custom_txn_numbers", "multi_currency", "home_currency", "requestid_memory", "Preferences"}


def _body(req: Request) -> dict:
    if not req.body.strip():
        return {}
    try:
        value = jsonio.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ControlError(400, "the body must be a JSON object")
    return value


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ControlError(400, f"{name} must be a number")
    return float(value)


def handle(emulator, req: Request) -> Response:
    """Serve one control-API request."""
    parts = [p for p in req.path.split("/") if p][1:]
    try:
        if req.method == "GET" and not parts:
            world = emulator.world
            return html_response(pages.index(emulator.url, list(world.realms.values()), emulator.client_id))
        return json_response(_route(emulator, req, parts))
    except ControlError as err:
        return json_response({"error": err.message}, err.status)
    except ValueError as err:
        return json_response({"error": str(err)}, 400)


def _route(emulator, req: Request, parts: list[str]):  # noqa: C901 - a flat routing table reads best
    world, method = emulator.world, req.method
    head = parts[0]
    if head == "realms" and len(parts) == 1:
        if method == "GET":
            return {"realms": [{"realmId": r.id, "name": r.name} for r in world.realms.values()]}
        if method == "POST":
            body = _body(req)
            seed = body.get("seed", "demo")
            if seed not in SEEDS:
                raise ControlError(400, f"seed must be one of {', '.join(SEEDS)}")
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ControlError(400, "name is required")
            realm = world.create_realm(name, seed, str(body.get("email") or "owner@demo.example"))
            return {"realmId": realm.id, "name": realm.name}
    if head == "realms" and len(parts) >= 2:
        realm = world.realms.get(parts[1])
        if realm is None:
            raise ControlError(404, f"no realm {parts[1]}")
        return _realm_route(emulator, realm, req, parts[2:])
    if head == "apps":
        if method == "GET":
            return {"apps": [a.public() for a in world.apps.values()]}
        if method == "POST":
            return _register_app(world, _body(req))
    if head == "tokens" and len(parts) == 1 and method == "GET":
        store = world.tokens
        return {"tokens": list(store.issued), "access_tokens": list(store.access),
                "refresh_tokens": list(store.refresh), "codes": list(store.codes)}
    if head == "tokens" and parts[1:] == ["expire"] and method == "POST":
        return {"expired": world.tokens.expire_access_tokens()}
    if head == "clock":
        if method == "POST":
            body = _body(req)
            if "now" in body:
                world.clock.set(parse_instant(str(body["now"])))
            elif "advance_seconds" in body:
                world.clock.advance(_number(body["advance_seconds"], "advance_seconds"))
            else:
                raise ControlError(400, 'send {"now": "<ISO instant>"} or {"advance_seconds": n}')
        now = world.clock.now()
        return {"now": now.isoformat(), "qbo": qbo_time(now)}
    if head == "latency" and method in ("GET", "POST"):
        if method == "POST":
            ms = _number(_body(req).get("ms"), "ms")
            if ms < 0:
                raise ControlError(400, "ms must be a non-negative number")
            world.latency_ms = ms
        return {"ms": world.latency_ms}
    if head == "limits" and method == "POST":
        limits = Limits.from_dict(_body(req), world.default_limits)
        world.default_limits = limits
        for realm in world.realms.values():
            realm.throttle.limits = Limits.from_dict({}, limits)
        return {"limits": limits.to_dict()}
    if head == "faults":
        return _faults(world.fault_rules, req)
    if head == "webhooks" and method == "GET":
        return {"deliveries": emulator.webhooks.log()}
    if head == "counters" and method == "GET":
        return {**world.counters, "apps": {a.client_id: a.counters for a in world.apps.values()}}
    if head == "snapshot" and method == "POST":
        return {"saved": emulator.save_snapshot()}
    raise ControlError(404, f"unknown control route {method} /_sandbox/{'/'.join(parts)}")


def _realm_route(emulator, realm, req: Request, rest: list[str]):
    world, method = emulator.world, req.method
    if not rest and method == "GET":
        with realm.lock:
            return {"realmId": realm.id, "name": realm.name,
                    "objects": {name: len(objs) for name, objs in realm.objects.items()},
                    "limits": realm.throttle.limits.to_dict(), "settings": dict(realm.settings)}
    what = rest[0] if rest else ""
    if what == "tokens" and method == "POST":
        body = _body(req)
        app = world.apps.get(str(body.get("client_id") or emulator.client_id))
        if app is None:
            raise ControlError(400, f"client_id {body.get('client_id')!r} is not a registered app")
        scopes = body.get("scope", "com.intuit.quickbooks.accounting openid email")
        tokens = world.tokens.grant_directly(app, realm.id, str(body.get("email") or "owner@demo.example"),
                                             str(scopes).split())
        return {**tokens, "realmId": realm.id}
    if what == "counters" and method == "GET":
        return {**realm.counter_snapshot(), "concurrent_peak": realm.throttle.peak, "in_flight": realm.throttle.in_flight}
    if what == "limits":
        if method == "POST":
            realm.throttle.limits = Limits.from_dict(_body(req), realm.throttle.limits)
        return {"limits": realm.throttle.limits.to_dict()}
    if what == "faults":
        return _faults(realm.fault_rules, req)
    if what == "preferences" and method == "POST":
        return _preferences(realm, _body(req))
    if what == "outbox" and method == "GET":
        with realm.lock:
            return {"outbox": list(realm.outbox)}
    if what == "objects" and len(rest) == 2 and method == "GET":
        spec = BY_LOWER_NAME.get(rest[1].lower())
        if spec is None:
            raise ControlError(404, f"unknown entity {rest[1]}")
        with realm.lock:
            return {spec.name: realm.all(spec.name)}
    if what == "actions" and method == "POST":
        return actions.run(realm, rest[1:], _body(req))
    raise ControlError(404, f"unknown control route {method} .../{'/'.join(rest)}")


def _faults(rules: list, req: Request):
    if req.method == "POST":
        rules.append(chaos.parse_rule(_body(req)))
    elif req.method == "DELETE":
        rules.clear()
    return {"faults": [r.public() for r in rules]}


def _register_app(world, body: dict) -> dict:
    client_id, secret = body.get("client_id"), body.get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise ControlError(400, "client_id and client_secret are required")
    settings = {}
    if "redirect_uris" in body:
        uris = body["redirect_uris"]
        if uris is not None and (not isinstance(uris, list) or not all(isinstance(u, str) for u in uris)):
            raise ControlError(400, "redirect_uris must be a list of URLs or null")
        settings["redirect_uris"] = uris
    for key in ("webhook_url", "verifier_token"):
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                raise ControlError(400, f"{key} must be a string or null")
            settings[key] = body[key]
    if "webhook_format" in body:
        if body["webhook_format"] not in ("classic", "cloudevents"):
            raise ControlError(400, "webhook_format must be classic or cloudevents")
        settings["webhook_format"] = body["webhook_format"]
    return world.register_app(client_id, secret, **settings).public()


def _preferences(realm, body: dict) -> dict:
    unknown = set(body) - PREFERENCE_KEYS
    if unknown:
        raise ControlError(400, f"unknown preference(s): {', '.join(sorted(unknown))}; known: "
                                f"{', '.join(sorted(PREFERENCE_KEYS))}")
    changes: dict = {}
    if "custom_txn_numbers" in body:
        changes.setdefault("SalesFormsPrefs", {})["CustomTxnNumbers"] = body["custom_txn_numbers"]
    if "multi_currency" in body:
        changes.setdefault("CurrencyPrefs", {})["MultiCurrencyEnabled"] = body["multi_currency"]
    if "home_currency" in body:
        changes.setdefault("CurrencyPrefs", {})["HomeCurrency"] = {"value": body["home_currency"]}
    for section, values in (body.get("Preferences") or {}).items():
        changes.setdefault(section, {}).update(values)
    with realm.lock:
        if "requestid_memory" in body:
            realm.requestid_ttl = parse_memory(body["requestid_memory"])
        if changes:
            from sandbox.faults import QBOFault

            try:
                merged = company.merge_preferences(realm.get("Preferences", "1"), changes)
            except QBOFault as fault:
                raise ControlError(400, fault.detail) from None
            realm.touch("Preferences", merged)
        memory = realm.requestid_ttl
        return {"Preferences": realm.get("Preferences", "1"),
                "requestid_memory": "forever" if memory is None else ("off" if memory == 0 else {"seconds": memory})}

