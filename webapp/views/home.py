"""The landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """The landing page: what autobill is and where to go next."""
    settings = current_app.config["CONTAINER"].settings
    return render_template("index.html", demo=settings.demo_mode, sandbox_url=settings.sandbox_url)


@bp.get("/health")
def health():
    """Liveness for load balancers and ``autobill run``."""
    return jsonify({"ok": True})
