"""Who is signed in, what they may do for a company, and CSRF tokens for every form.

The session holds only the user's id (Flask's signed cookie); roles are read from the database
on every request, so a revoked role takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlparse

from flask import current_app, request, session, url_for

from addon.errors import Forbidden
from addon.models.companies import Role


class NeedsSignIn(Exception):
    """Raised by a page that needs a signed-in user; answered with Sign in with Intuit."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def container():
    """The application container of this app."""
    return current_app.config["CONTAINER"]


def user_id() -> str | None:
    """The signed-in user's id, if any."""
    return session.get("user_id")


def sign_in(new_user_id: str) -> None:
    """Start a fresh session for ``new_user_id`` (a new session defeats fixation)."""
    session.clear()
    session["user_id"] = new_user_id


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the companies page (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("companies.index")


def require_role(company_id: str, needed: Role) -> Role:
    """The signed-in user's role for the company, if it allows ``needed``; otherwise 403 (or sign in)."""
    if user_id() is None:
        raise NeedsSignIn(request.full_path.rstrip("?"))
    role = container().companies.role_of(user_id(), company_id)
    if role is None or not role.allows(needed):
        raise Forbidden(f"you need the {needed.value} role for this company")
    return role


def csrf_token() -> str:
    """The session's CSRF token, put in every form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse a POST whose form does not carry the session's CSRF token."""
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        raise Forbidden("the form expired or did not come from autobill; reload the page and try again")
