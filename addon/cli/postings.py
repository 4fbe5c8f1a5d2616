"""``autobill postings list|show|approve|reject|retry|edit``: review postings without the web app."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation

import click

from addon import bootstrap
from addon.errors import InvalidInput


def _container():
    from addon import migrate

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    return container


@click.group("postings")
def postings_group() -> None:
    """Invoices on their way into QuickBooks: list them, and approve, reject, retry or edit held ones."""


def _row(p) -> str:
    invoice = f" invoice {p.qbo_doc_number or p.qbo_invoice_id}" if p.qbo_invoice_id else ""
    reason = f"  ({p.state_reason})" if p.state_reason else ""
    return (f"{p.id:>6}  {p.state:<15} {p.invoice_date}  {p.customer_name or p.customer_id:<24} "
            f"{p.total:>12,.2f} {p.currency}{invoice}  {p.trigger}{reason}")


@postings_group.command("list")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--state", "states", multiple=True, help="only these states (repeatable), e.g. --state held")
@click.option("--limit", default=100, show_default=True, help="newest first, at most this many")
def list_command(company_id: str, states: tuple[str, ...], limit: int) -> None:
    """List a company's postings, newest first."""
    from addon.models.postings import PostingState
    from addon.postings.store import list_postings

    known = {s.value for s in PostingState}
    unknown = [s for s in states if s not in known]
    if unknown:
        raise InvalidInput(f"unknown state {unknown[0]!r}; known: {', '.join(sorted(known))}")
    container = _container()
    container.companies.get(company_id)
    with container.unit_of_work() as session:
        rows = list_postings(session, company_id, states=states, limit=limit)
    if not rows:
        click.echo("no postings" + (f" in state {', '.join(states)}" if states else ""))
    for p in rows:
        click.echo(_row(p))


@postings_group.command("show")
@click.option("--company", "company_id", required=True, help="company id")
@click.argument("posting_id", type=int)
def show_command(company_id: str, posting_id: int) -> None:
    """Show one posting: its lines with their explanations, and why it is where it is."""
    from addon.postings.store import get_posting, posting_draft, reasons_of

    container = _container()
    with container.unit_of_work() as session:
        p = get_posting(session, company_id, posting_id)
    draft = posting_draft(p)
    click.echo(_row(p))
    click.echo(f"  key {p.key} ({p.key_text}); rule {p.rule_id} v{p.rule_version}; send mode {p.send_mode}")
    for reason in reasons_of(p):
        click.echo(f"  held because: {reason}")
    for n, line in enumerate(draft.lines, 1):
        click.echo(f"  {n}. {line.description}: {line.quantity} x {line.rate} = {line.amount} [{line.tax_code}]")
        click.echo(f"     {line.explanation.text()}")
    click.echo(f"  total {draft.total} {draft.currency}" + (f", tax expected {draft.tax_total}"
                                                             if draft.tax_total is not None else ""))


def _ids(posting_ids: tuple[int, ...], all_held: bool, container, company_id: str) -> list[int]:
    if all_held:
        from addon.postings.store import list_postings

        with container.unit_of_work() as session:
            return [p.id for p in list_postings(session, company_id, states=["held"], limit=10_000)]
    if not posting_ids:
        raise InvalidInput("name the postings to act on (or --all-held)")
    return list(posting_ids)


def _report(results) -> None:
    failed = 0
    for result in results:
        click.echo(result.message)
        failed += not result.ok
    if failed:
        sys.exit(1)


@postings_group.command("approve")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--as", "who", required=True, help="the approving user's email or id (bookkeeper or admin)")
@click.option("--all-held", is_flag=True, help="approve every held posting of the company")
@click.argument("posting_ids", type=int, nargs=-1)
def approve_command(company_id: str, who: str, all_held: bool, posting_ids: tuple[int, ...]) -> None:
    """Approve held postings: they are created and sent as their rule says."""
    from addon.postings.review import approve

    container = _container()
    _report(approve(container, company_id, _ids(posting_ids, all_held, container, company_id), who))


@postings_group.command("reject")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--as", "who", required=True, help="the rejecting user's email or id (bookkeeper or admin)")
@click.option("--reason", default="", help="why, for the audit trail")
@click.argument("posting_ids", type=int, nargs=-1, required=True)
def reject_command(company_id: str, who: str, reason: str, posting_ids: tuple[int, ...]) -> None:
    """Reject postings in review: nothing is sent, and an unsent invoice is voided in QuickBooks."""
    from addon.postings.review import decline

    _report(decline(_container(), company_id, posting_ids, who, reason=reason))


@postings_group.command("retry")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--as", "who", required=True, help="the user's email or id (bookkeeper or admin)")
@click.argument("posting_ids", type=int, nargs=-1, required=True)
def retry_command(company_id: str, who: str, posting_ids: tuple[int, ...]) -> None:
    """Try failed or rejected postings again (after fixing what QuickBooks refused)."""
    from addon.postings.review import retry

    _report(retry(_container(), company_id, posting_ids, who))


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a number like 12.50, not {text!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a number like 12.50, not {text!r}")
    return value


def parse_sets(sets: tuple[str, ...]):
    """``LINE.FIELD=VALUE`` options as line edits (fields: quantity, rate, description)."""
    from addon.postings.edits import LineEdit

    by_line: dict[int, dict] = {}
    for item in sets:
        target, sep, value = item.partition("=")
        number, dot, name = target.partition(".")
        if not sep or not dot or not number.strip().isdigit() or name not in ("quantity", "rate", "description"):
            raise InvalidInput(f"--set takes LINE.FIELD=VALUE with FIELD quantity, rate or description, not {item!r}")
        field = by_line.setdefault(int(number), {})
        field[name] = value if name == "description" else _decimal(value, f"line {number} {name}")
    return tuple(LineEdit(number, **fields) for number, fields in sorted(by_line.items()))


@postings_group.command("edit")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--as", "who", required=True, help="the user's email or id (bookkeeper or admin)")
@click.option("--set", "sets", multiple=True, help="LINE.FIELD=VALUE, e.g. --set 1.rate=1450.00 (repeatable)")
@click.option("--memo", default=None, help="new customer memo")
@click.option("--bill-to", "bill_to", multiple=True, help="email recipients (repeatable; replaces them)")
@click.option("--no-approve", is_flag=True, help="keep it held after the edit")
@click.argument("posting_id", type=int)
def edit_command(company_id: str, who: str, sets: tuple[str, ...], memo: str | None, bill_to: tuple[str, ...],
                 no_approve: bool, posting_id: int) -> None:
    """Edit a held posting (re-verified and audited), then approve it."""
    from addon.postings.edits import DraftEdit, edit

    change = DraftEdit(lines=parse_sets(sets), memo=memo, bill_to=bill_to or None)
    _report([edit(_container(), company_id, posting_id, who, change, approve=not no_approve)])


def register(cli: click.Group) -> None:
    cli.add_command(postings_group)
