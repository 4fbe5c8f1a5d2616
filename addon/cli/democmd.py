"""``autobill demo send``: a signed deal-won delivery to the demo company, and what became of it."""

from __future__ import annotations

import click

from addon import bootstrap


@click.group("demo")
def demo_group() -> None:
    """Try autobill in demo mode (after `make run`)."""


@demo_group.command("send")
@click.option("--deal", "deal_id", default=None, help="the won deal's id (default: a new one each time)")
@click.option("--amount", default="4200.00", show_default=True, help="the deal's amount in USD")
@click.option("--wait", default=30.0, show_default=True, help="seconds to wait for the invoice to be sent")
def send_command(deal_id: str | None, amount: str, wait: float) -> None:
    """Sign a deal-won delivery now, POST it to the demo endpoint, and wait for its invoice."""
    from addon import migrate
    from addon.demoseed import demo_company, send_demo_delivery, wait_for_posting

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    sent = send_demo_delivery(container, deal_id=deal_id, amount=amount)
    click.echo(f"POST {sent.url} -> HTTP {sent.status} (deal {sent.deal_id})")
    if sent.status >= 300:
        raise click.ClickException(f"the endpoint refused the delivery (HTTP {sent.status})")
    posting = wait_for_posting(container, sent.deal_id, timeout=wait)
    if posting is None:
        raise click.ClickException(f"no invoice yet after {wait:.0f} s: are the workers running (`make run`)?")
    number = posting.qbo_doc_number or posting.qbo_invoice_id or "-"
    click.echo(f"posting {posting.id}: {posting.state}, invoice {number}, {posting.total:,.2f} {posting.currency}"
               + (f" ({posting.state_reason})" if posting.state_reason else ""))
    realm = demo_company(container).realm_id
    click.echo(f"the email: {container.settings.sandbox_url}/_sandbox/realms/{realm}/outbox")


def register(cli: click.Group) -> None:
    cli.add_command(demo_group)
