"""``autobill inbox list|show``, ``autobill events list`` and ``autobill replay``: what came in and what it became."""

from __future__ import annotations

import json

import click

from addon import inbox
from addon.cli._common import AS_HELP, COMPANY_HELP, actor, container
from addon.models.events import EventStatus
from addon.models.inbox import DeliveryStatus


@click.group("inbox")
def inbox_group() -> None:
    """Deliveries received at the company's endpoints."""


@inbox_group.command("list")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--status", default=None, type=click.Choice([s.value for s in DeliveryStatus]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_command(company_id: str, status: str | None, limit: int) -> None:
    """The newest deliveries: when, from where, what became of them and why."""
    made = container()
    made.companies.get(company_id)
    found = inbox.deliveries(made, company_id, status=status, limit=limit)
    if not found:
        click.echo("the inbox is empty")
    for d in found:
        why = f"  {d.reason}" if d.reason else ""
        click.echo(f"{d.id}  {d.received_at:%Y-%m-%d %H:%M:%S}  {d.source:10}  {d.status:11}  "
                   f"{d.events_count} event(s){why}")


@inbox_group.command("show")
@click.argument("delivery_id")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
def show_command(delivery_id: str, company_id: str) -> None:
    """One delivery: its status, headers and body (as text)."""
    made = container()
    d = inbox.delivery(made, company_id, delivery_id)
    click.echo(f"{d.id}  {d.source}  {d.status}  received {d.received_at.isoformat()}  key {d.dedupe_key}")
    if d.reason:
        click.echo(f"reason: {d.reason}")
    for name, value in sorted(json.loads(d.headers).items()):
        click.echo(f"{name}: {value}")
    click.echo("")
    click.echo(d.body.decode("utf-8", "replace"))


@click.group("events")
def events_group() -> None:
    """Events read from deliveries or raised by tick and the usage ledger."""


@events_group.command("list")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--status", default=None, type=click.Choice([s.value for s in EventStatus]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def events_list_command(company_id: str, status: str | None, limit: int) -> None:
    """The newest events: kind, what they are about, where they stand and why."""
    made = container()
    made.companies.get(company_id)
    found = inbox.events(made, company_id, status=status, limit=limit)
    if not found:
        click.echo("no events yet")
    for e in found:
        customer = f"  customer {e.qbo_customer_id}" if e.qbo_customer_id else ""
        why = f"  {e.reason}" if e.reason else ""
        click.echo(f"{e.id}  {e.created_at:%Y-%m-%d %H:%M:%S}  {e.kind:20}  {e.source}:{e.source_object_id}  "
                   f"{e.status}{customer}{why}")


@events_group.command("backfill")
@click.argument("file", type=click.File("rb"))
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--endpoint", "endpoint_id", default=None, help="the generic endpoint (when the company has several)")
@click.option("--as", "who", required=True, help=AS_HELP)
def backfill_command(file, company_id: str, endpoint_id: str | None, who: str) -> None:
    """Import past events from a JSON-lines FILE (docs/connectors/generic.md); bad lines are reported."""
    made = container()
    report = inbox.backfill(made, company_id, file, endpoint_id=endpoint_id, actor=actor(made, company_id, who))
    for number, reason in report.refused:
        click.echo(f"line {number}: {reason}", err=True)
    click.echo(f"stored {report.stored} new, {report.repeated} already stored, {len(report.refused)} refused")
    if report.refused:
        raise SystemExit(1)


@click.command("replay")
@click.argument("item_id")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--as", "who", default=None, help=AS_HELP)
def replay_command(item_id: str, company_id: str, who: str | None) -> None:
    """Run a delivery (dl_...) or an event (ev_...) again, here and now; processing is idempotent."""
    made = container()
    rows = inbox.replay(made, company_id, item_id, actor=actor(made, company_id, who))
    if not item_id.startswith("ev_"):
        d = inbox.delivery(made, company_id, item_id)
        click.echo(f"{d.id}  {d.status}  {d.events_count} event(s)" + (f"  {d.reason}" if d.reason else ""))
    for e in rows:
        click.echo(f"{e.id}  {e.kind}  {e.status}" + (f"  {e.reason}" if e.reason else ""))


def register(cli: click.Group) -> None:
    cli.add_command(inbox_group)
    cli.add_command(events_group)
    cli.add_command(replay_command)
