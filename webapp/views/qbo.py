"""Intuit's side of the web app: Connect to QuickBooks, the OAuth callback, Launch and Disconnect URLs.

Every flow binds a random ``state`` to the browser session and the callback must bring it back
(CSRF on the OAuth flow). Connect asks for accounting + OpenID scopes; Sign in with Intuit (the
Launch URL) for OpenID only.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
"""

from __future__ import annotations

import hmac

from flask import Blueprint, redirect, render_template, request, session, url_for

from addon.connect import ConnectFlow
from addon.errors import InvalidInput
from addon.oauth import CONNECT, SIGN_IN
from webapp.auth import NeedsSignIn, check_csrf, container, csrf_token, safe_next, sign_in, user_id

bp = Blueprint("qbo", __name__)


@bp.app_context_processor
def _template_helpers():
    return {"csrf_token": csrf_token, "signed_in_user": user_id}


@bp.app_errorhandler(NeedsSignIn)
def _sign_in_first(exc: NeedsSignIn):
    return redirect(url_for("qbo.signin", next=exc.next_path))


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


def _begin(purpose: str, next_path: str | None, realm_id: str | None = None):
    url, state = ConnectFlow(container()).start(purpose)
    session["oauth"] = {"state": state, "purpose": purpose, "next": next_path, "realm": realm_id}
    return redirect(url)


@bp.get("/qbo/connect")
def connect():
    """Connect to QuickBooks: off to Intuit's consent page."""
    return _begin(CONNECT, None)


@bp.get("/signin")
def signin():
    """Sign in with Intuit, then go back to where the user was."""
    return _begin(SIGN_IN, request.args.get("next"))


@bp.get("/qbo/launch")
def launch():
    """The Launch URL (opened from Intuit's app store): sign in with Intuit, land on that company."""
    return _begin(SIGN_IN, None, request.args.get("realmId"))


@bp.get("/qbo/callback")
def callback():
    """Where Intuit sends the browser back, with a code (or an error) and the state."""
    pending = session.pop("oauth", None)
    state = request.args.get("state", "")
    if not pending or not state or not hmac.compare_digest(state, pending.get("state", "")):
        raise InvalidInput("this sign-in link expired or did not start here; please start again")
    if request.args.get("error"):
        return render_template("qbo_cancelled.html", error=request.args["error"]), 400
    flow = ConnectFlow(container())
    if pending["purpose"] == CONNECT:
        result = flow.finish_connect(request.args.get("code", ""), request.args.get("realmId"))
        sign_in(result.user.id)
        return redirect(url_for("companies.show", company_id=result.company.id))
    user = flow.sign_in(request.args.get("code", ""))
    sign_in(user.id)
    if pending.get("realm"):
        company = container().companies.find(container().settings.qbo_environment_label, pending["realm"])
        if company and container().companies.role_of(user.id, company.id):
            return redirect(url_for("companies.show", company_id=company.id))
    mine = container().companies.list(user_id=user.id)
    if not pending.get("next") and len(mine) == 1:
        return redirect(url_for("companies.show", company_id=mine[0].id))
    return redirect(safe_next(pending.get("next")))


@bp.get("/qbo/disconnect")
def disconnected_at_intuit():
    """The Disconnect URL: Intuit sends people here after they disconnect autobill inside QuickBooks."""
    company = None
    if request.args.get("realmId"):
        company = ConnectFlow(container()).check_disconnected_at_intuit(request.args["realmId"])
    mine = container().companies.list(user_id=user_id()) if user_id() else []
    return render_template("qbo_disconnect.html", company=company, companies=mine)


@bp.post("/signout")
def signout():
    """Sign out of autobill (not of Intuit)."""
    session.clear()
    return redirect(url_for("home.index"))
