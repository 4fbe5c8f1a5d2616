"""Four eyes: a credit needs an approver other than the person who last changed the rule that drafted it.

Rule versions record who stored them the way the audit records actors: ``user:<id>`` for a known
user (the web app, or the CLI's ``--as`` naming a user by id or email), ``cli:<name>`` for a name the
CLI did not know, ``cli`` for none, and autobill's own actors (``worker``, ``demo``) for rules it wrote.
Comparing those strings with the approver's ``user:<id>`` lets anyone approve a ``cli:`` author's credit,
so the author is resolved to people first:

- ``user:<id>``: that user; an approver who is that user, or shares their email, is refused.
- ``cli:<name>``: the users the name names now (id, or email in any case), since a person may sign in
  after importing; if it names nobody, an approver the name could plausibly be (the name is their id,
  email, email's local part or display name) is refused and anyone else may approve.
- anything else (no name, autobill itself, a user since deleted, no stored version): nobody can be told
  apart from the author, so nobody may approve the credit until a known user stores a new version.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from addon.models.companies import User

UNKNOWN = ("nobody known last changed its rule (recorded as {who!r}), so no approver can be shown to be a "
           "second person: a known user must store a new version of the rule (`autobill agreements import "
           "--as <their email>`), then someone else approves")
SAME = "it needs an approver other than the person who last changed its rule ({who})"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def author_users(session: Session, recorded: str | None) -> list[User] | None:
    """The users a stored author names (possibly none, for an unknown ``cli:<name>``); None: not a person."""
    if not recorded:
        return None
    kind, _, name = recorded.partition(":")
    name = name.strip()
    if kind == "user" and name:
        user = session.get(User, name)
        return [user] if user is not None else None
    if kind == "cli" and name:
        return list(session.execute(select(User).where(
            or_(User.id == name, func.lower(User.email) == name.lower()))).scalars())
    return None


def _could_be(user: User, name: str) -> bool:
    wanted = _norm(name)
    email = _norm(user.email)
    return wanted in {_norm(user.id), email, email.partition("@")[0], _norm(user.name)} - {""}


def four_eyes_refusal(session: Session, posting, approver, recorded: str | None) -> str | None:
    """Why ``approver`` (a ``Reviewer``) may not approve ``posting``'s credit, or None when they may."""
    users = author_users(session, recorded)
    if users is None:
        return UNKNOWN.format(who=recorded or "no one")
    me = session.get(User, approver.user_id)
    my_email = _norm(me.email if me is not None else approver.email)
    if users:
        if any(u.id == approver.user_id or (my_email and _norm(u.email) == my_email) for u in users):
            return SAME.format(who=recorded)
        return None
    name = recorded.partition(":")[2]
    if me is None or _could_be(me, name):
        return SAME.format(who=recorded)
    return None
