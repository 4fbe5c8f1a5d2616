"""The Accounting API under ``/v3/company/<realm>/``: auth, limits, injected faults, requestid, routing.

Order per request, as QuickBooks behaves: a bad or expired bearer token is a 401 (lower-case body);
a token for another company a 403; over a limit the XML 429; then base latency and injected faults;
then the operation. Writes with ``?requestid=`` replay the first committed response for the same
realm, operation and id (faults are not remembered, so a retry after one can succeed).
"""

from __future__ import annotations

import time

from sandbox import batch, cdc, chaos, faults, jsonio, operations, pdf, query
from sandbox.clock import qbo_time
from sandbox.httpserver import Request, Response
from sandbox.schema import BY_PATH

JSON = "application/json;charset=UTF-8"
VOID_ENTITIES = ("invoice", "payment")


def _tid(world) -> list[tuple[str, str]]:
    return [("intuit_tid", f"1-{world.random.getrandbits(64):016x}")]


def _fault(fault: faults.QBOFault, realm_or_world) -> Response:
    return Response(fault.status, faults.fault_body(fault, realm_or_world.clock.now()), JSON)


def route_of(parts: list[str]) -> str:
    """The route name faults and counters use (``invoice``, ``invoice/send``, ``query`` ...)."""
    if not parts:
        return ""
    if len(parts) >= 3 and parts[2] in ("send", "pdf"):
        return f"{parts[0]}/{parts[2]}"
    return parts[0]


def handle(world, req: Request) -> Response:
    """Serve one ``/v3/company/...`` request."""
    pieces = req.path.split("/")
    if len(pieces) < 5 or pieces[1] != "v3" or pieces[2] != "company" or not pieces[3]:
        return _fault(faults.unsupported(req.path, req.base_url + req.path), world)
    realm_id, parts = pieces[3], [p for p in pieces[4:] if p]
    parts = [p.lower() if i != 1 else p for i, p in enumerate(parts)]
    auth = req.header("Authorization")
    grant, why = (None, "Token invalid")
    if auth[:7].lower() == "bearer ":
        grant, why = world.tokens.grant_for_access(auth[7:].strip())
    realm = world.realms.get(realm_id)
    if grant is None:
        with world.lock:
            world.counters["unauthorized"] += 1
        if realm is not None:
            realm.count("unauthorized")
        return Response(401, faults.unauthorized_body(world.clock.now(), why), JSON,
                        [("WWW-Authenticate", 'Bearer realm="Intuit", error="invalid_token"')] + _tid(world))
    if realm is None or grant.realm_id != realm_id:
        return Response(403, faults.forbidden_body(world.clock.now()), JSON, _tid(world))
    route = route_of(parts)
    operation = req.arg("operation")
    body = None
    cost, is_batch = 1, route == "batch" and req.method == "POST"
    if is_batch:
        try:
            body = jsonio.loads(req.body)
            items = batch.items_of(body)
            cost = len(items) if realm.throttle.limits.batch_items_count else 1
        except (ValueError, faults.QBOFault):
            cost = 1
    if not realm.throttle.admit(world.clock.timestamp(), cost, is_batch):
        realm.count("throttled")
        return Response(429, faults.throttled_body(world.clock.now()), "application/xml", _tid(world))
    try:
        rule, extra = chaos.pick([realm.fault_rules, world.fault_rules], req.method, route, operation, world.random)
        delay = world.latency_ms / 1000.0 + extra
        if delay > 0:
            time.sleep(delay)
        realm.count("requests", route=f"{req.method} {route}")
        if rule is not None and rule.mode == "error":
            realm.count("faults_injected")
            response = chaos.error_response(rule, world.clock.now())
        elif rule is not None and rule.mode == "drop":
            realm.count("faults_injected")
            return Response(drop=True)
        else:
            response = _serve(world, realm, req, parts, route, body)
            if rule is not None and rule.mode == "commit_then_drop":
                realm.count("faults_injected")
                return Response(drop=True)
            if rule is not None and rule.mode == "commit_then_truncate":
                realm.count("faults_injected")
                response.body = response.body[: len(response.body) // 2]
        response.headers.extend(_tid(world))
        return response
    finally:
        realm.throttle.release()


def _serve(world, realm, req: Request, parts: list[str], route: str, body) -> Response:
    try:
        if req.method == "POST" and route not in ("query",) and not route.endswith("/pdf"):
            return _write(world, realm, req, parts, route, body)
        if req.method in ("GET", "POST") and route == "query":
            sql = req.arg("query") if req.method == "GET" else req.body.decode("utf-8", "replace")
            if not sql or not sql.strip():
                raise faults.query_parse("the query is empty")
            parsed = query.parse(sql)
            with realm.lock:
                return _ok(realm, {"QueryResponse": query.run(parsed, realm.all(parsed.entity.name))})
        if req.method == "GET" and route == "cdc":
            with realm.lock:
                return _ok(realm, cdc.capture(realm, req.arg("entities"), req.arg("changedSince")))
        if req.method == "GET":
            return _read(realm, req, parts, route)
        raise faults.unsupported(req.path, req.base_url + req.path)
    except faults.QBOFault as fault:
        return _fault(fault, realm)


def _ok(realm, payload: dict) -> Response:
    payload["time"] = qbo_time(realm.clock.now(), millis=True)
    return Response(200, jsonio.dumps(payload), JSON)


def _read(realm, req: Request, parts: list[str], route: str) -> Response:
    if route == "preferences" and len(parts) == 1:
        with realm.lock:
            return _ok(realm, {"Preferences": operations.read(realm, BY_PATH["preferences"], "1")})
    spec = BY_PATH.get(parts[0])
    if spec is None or len(parts) not in (2, 3):
        raise faults.unsupported(req.path, req.base_url + req.path)
    with realm.lock:
        obj = operations.read(realm, spec, parts[1])
        if route.endswith("/pdf"):
            if spec.name not in ("Invoice", "CreditMemo"):
                raise faults.unsupported(req.path, req.base_url + req.path)
            company = (realm.get("CompanyInfo", "1") or {}).get("CompanyName", realm.name)
            return Response(200, pdf.render(company, spec.name, obj), "application/pdf")
        if len(parts) == 3:
            raise faults.unsupported(req.path, req.base_url + req.path)
        return _ok(realm, {spec.name: obj})


def _write(world, realm, req: Request, parts: list[str], route: str, body) -> Response:
    rid = req.arg("requestid")
    if rid is not None and len(rid) > (36 if route == "batch" else 50):
        raise faults.business(f"You cannot enter more than {36 if route == 'batch' else 50} characters in the "
                              f"request_id field", "requestid")
    key = (f"{req.method} {'/'.join(parts)}?operation={req.arg('operation') or ''}&include={req.arg('include') or ''}", rid)
    with realm.lock:
        if rid:
            remembered = realm.recall(key, world.clock.timestamp())
            if remembered is not None:
                realm.count("replays")
                return Response(remembered[0], remembered[1], remembered[2])
        response = _perform(realm, req, parts, route, body)
        if rid and response.status == 200:
            realm.remember(key, world.clock.timestamp(), response.status, response.body, response.content_type)
        return response


def _perform(realm, req: Request, parts: list[str], route: str, body) -> Response:
    try:
        if route == "batch":
            items = batch.items_of(body if body is not None else _parse(req))
            return _ok(realm, {"BatchItemResponse": batch.run(realm, items)})
        if route.endswith("/send"):
            spec = BY_PATH.get(parts[0])
            if spec is None:
                raise faults.unsupported(req.path, req.base_url + req.path)
            return _ok(realm, {spec.name: operations.send(realm, spec, parts[1], req.arg("sendTo"))})
        if len(parts) == 2 and parts[0] == "companyinfo":
            parts = parts[:1]
        spec = BY_PATH.get(parts[0])
        if spec is None or len(parts) != 1:
            raise faults.unsupported(req.path, req.base_url + req.path)
        payload = _parse(req)
        if spec.name in ("Preferences", "CompanyInfo") and isinstance(payload, dict) and not payload.get("Id"):
            payload["Id"] = "1"  # one per company; python-quickbooks may omit it
        operation = (req.arg("operation") or "").lower()
        include = (req.arg("include") or "").lower()
        if operation == "delete":
            result = operations.delete(realm, spec, payload)
        elif operation == "void" or (operation == "update" and include == "void" and spec.path in VOID_ENTITIES):
            result = operations.void(realm, spec, payload)
        elif operation in ("", "update", "create"):
            result = operations.save(realm, spec, payload, {"allow_duplicate": "allowduplicatedocnum" in include})
        else:
            raise faults.unsupported(req.path + f"?operation={operation}", req.base_url + req.path)
        return _ok(realm, {spec.name: result})
    except faults.QBOFault as fault:
        return _fault(fault, realm)


def _parse(req: Request):
    if not req.body.strip():
        raise faults.invalid_property("failed to parse json object; the request body is empty")
    try:
        return jsonio.loads(req.body)
    except (ValueError, UnicodeDecodeError):
        raise faults.invalid_property("failed to parse json object; a property specified is unsupported or invalid") \
            from None
