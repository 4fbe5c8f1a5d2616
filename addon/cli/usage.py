"""``autobill usage list|show``: the usage ledger for people (what is unbilled, billed, needs mapping)."""

from __future__ import annotations

import click

from addon import bootstrap
from addon.errors import NotFound


@click.group("usage")
def usage_group() -> None:
    """Time entries, expenses and SLA breaches in the usage ledger."""


def _container(company_id: str):
    from addon import migrate

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    container.companies.get(company_id)  # NotFound names an unknown company
    return container


def _amount(line) -> str:
    if line.hours is not None:
        return f"{line.hours.normalize():f} h"
    if line.amount is not None:
        return f"{line.amount:f}"
    return f"x{(line.quantity or 1):f}"


@usage_group.command("list")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--needs-mapping", is_flag=True, help="only usage whose project maps to no agreement yet")
@click.option("--agreement", "agreement_id", help="only one agreement's usage")
@click.option("--limit", type=click.IntRange(1, 10_000), default=500, show_default=True)
def list_command(company_id: str, needs_mapping: bool, agreement_id: str | None, limit: int) -> None:
    """List current usage, newest first, with where each record stands."""
    from addon.usage import list_usage

    container = _container(company_id)
    with container.unit_of_work() as session:
        lines = list_usage(session, company_id, needs_mapping=needs_mapping, agreement_id=agreement_id, limit=limit)
    if not lines:
        click.echo("nothing needs mapping" if needs_mapping else "no usage recorded")
    for line in lines:
        where = line.agreement_id or "needs mapping"
        keys = f"  keys {', '.join(line.mapping_keys)}" if line.agreement_id is None and line.mapping_keys else ""
        click.echo(f"{line.date}  {line.source}:{line.source_id} v{line.version}  {line.kind}  {_amount(line)}  "
                   f"{line.person or '-'}  {where}  {line.status}{keys}")


@usage_group.command("show")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--source", required=True, help="the tool the record came from (toggl, harvest, ...)")
@click.option("--id", "source_id", required=True, help="the record's id at the source")
def show_command(company_id: str, source: str, source_id: str) -> None:
    """Every version of one usage record and the postings that billed them."""
    from sqlalchemy import select

    from addon.models.usage import UsageConsumption, UsageVersion

    container = _container(company_id)
    with container.unit_of_work() as session:
        versions = session.scalars(select(UsageVersion).where(
            UsageVersion.company_id == company_id, UsageVersion.source == source,
            UsageVersion.source_id == source_id).order_by(UsageVersion.version)).all()
        billed = session.scalars(select(UsageConsumption).where(
            UsageConsumption.company_id == company_id, UsageConsumption.source == source,
            UsageConsumption.source_id == source_id).order_by(UsageConsumption.version)).all()
    if not versions:
        raise NotFound(f"no usage record {source}:{source_id} in company {company_id}")
    for v in versions:
        state = "deleted" if v.deleted else _amount(v)
        click.echo(f"v{v.version}  {v.date}  {state}  {v.agreement_id or 'needs mapping'}  "
                   f"changed {v.changed_at.isoformat()}  received {v.received_at.isoformat()}")
    for c in billed:
        click.echo(f"billed v{c.version} for {c.agreement_id} by posting {c.posting_key}"
                   f"{' (credited: deleted)' if c.deleted else ''}")


def register(cli: click.Group) -> None:
    cli.add_command(usage_group)
