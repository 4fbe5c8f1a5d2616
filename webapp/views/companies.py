"""Companies: the list, a company's page, its time zone, members, audit export and disconnect.

Every route checks the signed-in user's role for that company first.
"""

from __future__ import annotations

import io

from flask import Blueprint, Response, redirect, render_template, request, url_for

from addon.connect import ConnectFlow
from addon.models.companies import Role
from webapp.auth import check_csrf, container, require_role, user_id

bp = Blueprint("companies", __name__)


@bp.before_request
def _csrf():
    if request.method == "POST":
        check_csrf()


@bp.get("/companies")
def index():
    """The companies the signed-in user has a role for, and Connect to QuickBooks."""
    mine = container().companies.list(user_id=user_id()) if user_id() else []
    return render_template("companies.html", companies=mine, signed_in=bool(user_id()))


@bp.get("/companies/<company_id>")
def show(company_id: str):
    """A company's page: connection status, time zone, members, recent audit records."""
    role = require_role(company_id, Role.VIEWER)
    c = container()
    company = c.companies.get(company_id)
    members = c.companies.members(company_id) if role.allows(Role.ADMIN) else []
    audit = c.audit.records(company_id, newest_first=True, limit=20) if role.allows(Role.BOOKKEEPER) else []
    return render_template("company.html", company=company, role=role, members=members, audit=audit,
                           Role=Role)


@bp.post("/companies/<company_id>/timezone")
def set_timezone(company_id: str):
    """Change the time zone the company's periods are computed in (admins)."""
    require_role(company_id, Role.ADMIN)
    container().companies.set_timezone(company_id, request.form.get("timezone", "").strip(),
                                       actor=f"user:{user_id()}")
    return redirect(url_for("companies.show", company_id=company_id))


@bp.post("/companies/<company_id>/members")
def grant(company_id: str):
    """Give someone who has signed in once a role for this company (admins)."""
    require_role(company_id, Role.ADMIN)
    role = request.form.get("role", "")
    if role not in {r.value for r in Role}:
        role = Role.VIEWER.value
    container().companies.grant(company_id, request.form.get("email", "").strip(), Role(role),
                                actor=f"user:{user_id()}")
    return redirect(url_for("companies.show", company_id=company_id))


@bp.post("/companies/<company_id>/disconnect")
def disconnect(company_id: str):
    """Disconnect from QuickBooks: revoke at Intuit and wipe the tokens (admins)."""
    require_role(company_id, Role.ADMIN)
    ConnectFlow(container()).disconnect(company_id, actor=f"user:{user_id()}")
    return redirect(url_for("companies.show", company_id=company_id))


@bp.get("/companies/<company_id>/reconnect")
def reconnect(company_id: str):
    """Reconnect: the same Connect to QuickBooks flow, for admins of this company."""
    require_role(company_id, Role.ADMIN)
    return redirect(url_for("qbo.connect"))


@bp.get("/companies/<company_id>/audit.csv")
def audit_csv(company_id: str):
    """The company's audit chain as CSV (bookkeepers and admins)."""
    require_role(company_id, Role.BOOKKEEPER)
    out = io.StringIO()
    container().audit.export_csv(company_id, out)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=audit-{company_id}.csv"})
