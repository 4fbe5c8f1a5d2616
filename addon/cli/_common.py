"""What the intake commands share: a container with an up-to-date schema, and who is acting."""

from __future__ import annotations

from sqlalchemy import or_, select

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
    company's configuration (else ``Forbidden``), ``cli:<name>`` for a name autobill does not know."""
    made.companies.get(company_id)
    if not who or not who.strip():
        return "cli"
    who = who.strip()
    with made.unit_of_work() as session:
        user = session.execute(select(User).where(or_(User.id == who, User.email == who))
                               .order_by(User.created_at)).scalars().first()
    if user is None:
        return f"cli:{who}"
    made.companies.require_role(user.id, company_id, Role.BOOKKEEPER)
    return f"user:{user.id}"
