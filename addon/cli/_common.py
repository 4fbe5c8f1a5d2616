"""What the intake commands share: a container with an up-to-date schema, and who is acting."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from addon import bootstrap
from addon.models.companies import Role, User

COMPANY_HELP = "company id (see `autobill companies list`)"
AS_HELP = ("who is making the change, recorded in the audit: a user id or email (a known user needs the "
           "bookkeeper role), or a name")


def container():
    """This process's container, its schema brought up to date in demo mode (checked in production)."""
    from addon import migrate

    made = bootstrap.current()
    migrate.ensure_schema(made.database, demo_mode=made.settings.demo_mode)
    return made


def actor(made, company_id: str, who: str | None) -> str:
    """The audit actor for ``--as``: ``user:<id>`` for a known user with a role that may change the
    company's configuration (else ``Forbidden``), ``cli:<name>`` for a name autobill does not know.

    Emails match in any case. Four eyes (``addon.postings.foureyes``) later ties a ``cli:<name>`` to the
    user that name turns out to be, and treats a bare ``cli`` as nobody known."""
    made.companies.get(company_id)
    if not who or not who.strip():
        return "cli"
    who = who.strip()
    with made.unit_of_work() as session:
        user = session.execute(select(User).where(or_(User.id == who, func.lower(User.email) == who.lower()))
                               .order_by(User.created_at)).scalars().first()
    if user is None:
        return f"cli:{who}"
    made.companies.require_role(user.id, company_id, Role.BOOKKEEPER)
    return f"user:{user.id}"
