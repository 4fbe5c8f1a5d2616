"""The thin Flask app: views validate input, call one addon service, render.

``create_app`` builds an app for a container (default: from the environment); every module in
``webapp.views`` that defines ``bp`` is registered, so features add pages without editing this.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from addon import bootstrap
from addon.errors import AutobillError, Forbidden, InvalidInput, NotFound
from addon.ledger.faults import AuthLost, Throttled, Transient

log = logging.getLogger(__name__)

_STATUS_FOR = {InvalidInput: 400, Forbidden: 403, NotFound: 404, AuthLost: 409, Throttled: 503, Transient: 502}


def create_app(container: bootstrap.Container | None = None) -> Flask:
    """A Flask app wired to ``container``."""
    container = container or bootstrap.current()
    app = Flask(__name__)
    app.config["CONTAINER"] = container
    app.config["SECRET_KEY"] = container.settings.secret_key or "demo-only-not-secret"
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=container.settings.web_url.startswith("https://"))

    from webapp import views

    for info in pkgutil.iter_modules(views.__path__):
        module = importlib.import_module(f"{views.__name__}.{info.name}")
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)

    @app.after_request
    def _no_store(response):
        # Intuit's security review asks for no caching of pages with financial data or tokens.
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.errorhandler(AutobillError)
    def _known(exc: AutobillError):
        status = next((s for cls, s in _STATUS_FOR.items() if isinstance(exc, cls)), 400)
        return _error(status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, "internal_error", "Something went wrong on our side; it has been logged.")

    return app


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/api/", "/hooks/")) or best == "application/json"


def _error(status: int, code: str, message: str):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status
