"""Intuit's OAuth 2.0 / OpenID Connect endpoints, on the emulator.

The discovery document carries the six keys intuitlib's ``AuthClient`` reads, so intuitlib takes its
URL as ``environment`` (intuitlib/utils.py ``get_discovery_doc``). Token requests are form bodies with
HTTP Basic client auth (client_secret_post is accepted too); revoke takes JSON ``{"token"}``; userinfo
answers the person who consented (https://developer.intuit.com/app/developer/qbo/docs/develop/
authentication-and-authorization/oauth-2.0).
"""

from __future__ import annotations

import base64
import binascii
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox import chaos, jsonio, pages
from sandbox.errors import OAuthError
from sandbox.httpserver import Request, Response, html_response, json_response, redirect
from sandbox.tokens import has_accounting

NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def discovery(base: str) -> dict:
    """The OpenID configuration document for an emulator at ``base``."""
    return {
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
        "jwks_uri": f"{base}/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone",
                             "com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def redirect_allowed(app, uri: str) -> bool:
    """True when ``uri`` is registered for the app (any loopback URI when none are registered)."""
    if not uri:
        return False
    if app.redirect_uris is None:
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")
    return uri in app.redirect_uris


def _back(uri: str, params: dict) -> Response:
    joiner = "&" if urlsplit(uri).query else "?"
    return redirect(uri + joiner + urlencode({k: v for k, v in params.items() if v is not None}))


def handle(emulator, req: Request) -> Response:
    """Serve the OAuth and OpenID routes (``None`` routes fall through to a 404)."""
    world = emulator.world
    name = {"/oauth2/v1/tokens/bearer": "token", "/oauth2/v1/tokens/revoke": "revoke",
            "/v1/openid_connect/userinfo": "userinfo", "/oauth2/authorize": "authorize"}.get(req.path)
    rule, extra = chaos.pick([world.fault_rules], req.method, name or "", None, world.random) if name else (None, 0.0)
    delay = world.latency_ms / 1000.0 + extra
    if delay > 0 and name != "authorize":
        time.sleep(delay)
    if rule is not None and rule.mode in ("error", "drop"):
        return Response(drop=True) if rule.mode == "drop" else json_response({"error": "server_error"}, rule.status or 500)
    try:
        response = _route(emulator, req, name)
    except OAuthError as err:
        headers = [("WWW-Authenticate", 'Basic realm="Intuit"')] if err.status == 401 else []
        response = json_response({"error": err.error}, err.status, NO_STORE + headers)
    if rule is not None and rule.mode == "commit_then_drop":
        return Response(drop=True)
    return response


def _route(emulator, req: Request, name: str | None) -> Response:
    world = emulator.world
    if req.path.rstrip("/") == "/.well-known/openid_configuration":
        return json_response(discovery(emulator.base_url(req)))
    if req.path == "/op/v1/jwks":
        return json_response({"keys": []})
    if name == "authorize" and req.method == "GET":
        return _authorize_page(world, {k: v[0] for k, v in req.query.items()})
    if name == "authorize" and req.method == "POST":
        return _authorize_submit(world, {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()})
    if name == "token" and req.method == "POST":
        return _token(world, req)
    if name == "revoke" and req.method == "POST":
        return _revoke(world, req)
    if name == "userinfo" and req.method == "GET":
        return _userinfo(world, req)
    return json_response({"error": "not_found"}, 404)


def _authorize_page(world, fields: dict, error: str = "", status: int = 200) -> Response:
    app = world.apps.get(fields.get("client_id") or "")
    if app is None:
        return html_response(pages.problem("Unknown app", "client_id is not registered with this emulator"), 400)
    if not redirect_allowed(app, fields.get("redirect_uri") or ""):
        return html_response(pages.problem("Bad redirect URI", "redirect_uri is not registered for this app"), 400)
    if (fields.get("response_type") or "code") != "code":
        return _back(fields["redirect_uri"], {"error": "unsupported_response_type", "state": fields.get("state")})
    scopes = (fields.get("scope") or "").split()
    if not scopes:
        return _back(fields["redirect_uri"], {"error": "invalid_scope", "state": fields.get("state")})
    realms = sorted(world.realms.values(), key=lambda r: r.name.lower())
    page = pages.authorize(fields, app.client_id, realms, has_accounting(scopes), error)
    return html_response(page, status)


def _authorize_submit(world, fields: dict) -> Response:
    page = _authorize_page(world, fields)
    if page.status != 200:
        return page
    uri, state = fields["redirect_uri"], fields.get("state")
    if fields.get("action") == "deny":
        return _back(uri, {"error": "access_denied", "state": state})
    scopes = fields["scope"].split()
    email = (fields.get("email") or "owner@demo.example").strip()
    if "@" not in email:
        return _authorize_page(world, fields, "Enter the email address you sign in with.", 400)
    realm_id = None
    if has_accounting(scopes):
        realm_id = (fields.get("realm_id") or "").strip()
        if realm_id and realm_id not in world.realms:
            return _authorize_page(world, fields, "That company does not exist.", 400)
        if not realm_id:
            company = (fields.get("company_name") or "").strip()
            if not company:
                return _authorize_page(world, fields, "Pick a company or name a new one.", 400)
            realm_id = world.create_realm(company, "demo", email).id
    code = world.tokens.new_code(fields["client_id"], uri, realm_id, scopes, email)
    return _back(uri, {"code": code, "state": state, "realmId": realm_id})


def _client(world, req: Request, form: dict):
    client_id, secret = form.get("client_id"), form.get("client_secret")
    auth = req.header("Authorization")
    if auth[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(401, "invalid_client") from None
    app = world.apps.get(client_id or "")
    if app is None or app.client_secret != secret:
        raise OAuthError(401, "invalid_client")
    return app


def _token(world, req: Request) -> Response:
    form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
    app = _client(world, req, form)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        if not form.get("code") or not form.get("redirect_uri"):
            raise OAuthError(400, "invalid_request", "code and redirect_uri are required")
        body = world.tokens.exchange_code(app, form["code"], form["redirect_uri"])
    elif grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise OAuthError(400, "invalid_request", "refresh_token is required")
        body = world.tokens.refresh_grant(app, form["refresh_token"])
    else:
        raise OAuthError(400, "unsupported_grant_type")
    return json_response(body, 200, NO_STORE + [("intuit_tid", f"1-{world.random.getrandbits(64):016x}")])


def _revoke(world, req: Request) -> Response:
    app = _client(world, req, {})
    token = None
    try:
        payload = jsonio.loads(req.body) if req.body.strip() else {}
        token = payload.get("token") if isinstance(payload, dict) else None
    except ValueError:
        token = parse_qs(req.body.decode("utf-8", "replace")).get("token", [None])[0]
    if not isinstance(token, str) or not token:
        raise OAuthError(400, "invalid_request", "token is required")
    world.tokens.revoke(app, token)
    return Response(200, b"", "application/json")


def _userinfo(world, req: Request) -> Response:
    auth = req.header("Authorization")
    grant, _ = world.tokens.grant_for_access(auth[7:].strip()) if auth[:7].lower() == "bearer " else (None, "")
    if grant is None:
        return json_response({"error": "invalid_token"}, 401, [("WWW-Authenticate", 'Bearer error="invalid_token"')])
    if "openid" not in grant.scopes:
        return json_response({"error": "insufficient_scope"}, 403)
    return json_response(dict(grant.user))
