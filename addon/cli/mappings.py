"""``autobill mappings set|list|policy``: customers, items, projects and milestones, per company."""

from __future__ import annotations

import click

from addon.cli._common import AS_HELP, COMPANY_HELP, actor, container
from addon.models.mappings import MappingKind

KINDS = click.Choice([k.value for k in MappingKind])


@click.group("mappings")
def mappings_group() -> None:
    """What sources know, mapped to QuickBooks customers and items or to agreements."""


@mappings_group.command("set")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--kind", required=True, type=KINDS, help="customer, item, project or milestone")
@click.option("--source", required=True, help="the source: hubspot, stripe, toggl, ...")
@click.option("--key", required=True,
              help="the source's id: customer id, product id/SKU/name, mapping key (project:toggl:42), object id")
@click.option("--target", required=True,
              help="QuickBooks customer or item Id; agreement id for project and milestone")
@click.option("--detail", default=None, help="the agreement's milestone id (milestone mappings)")
@click.option("--as", "who", required=True, help=AS_HELP)
def set_command(company_id: str, kind: str, source: str, key: str, target: str, detail: str | None,
                who: str) -> None:
    """Map one thing a source knows; events that waited for it go on."""
    made = container()
    mapping = made.mappings.set(company_id, kind, source, key, target, detail=detail,
                                actor=actor(made, company_id, who))
    click.echo(f"{mapping.kind} {mapping.source} {mapping.key} -> {mapping.target}"
               + (f" ({mapping.detail})" if mapping.detail else ""))


@mappings_group.command("list")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--kind", default=None, type=KINDS, help="only this kind")
def list_command(company_id: str, kind: str | None) -> None:
    """List the company's mappings."""
    made = container()
    made.companies.get(company_id)
    found = made.mappings.list(company_id, kind)
    if not found:
        click.echo("no mappings yet")
    for m in found:
        detail = f" ({m.detail})" if m.detail else ""
        click.echo(f"{m.kind:9}  {m.source:10}  {m.key}  ->  {m.target}{detail}  [{m.how}, {m.updated_by}]")


@mappings_group.command("policy")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--customers", "value", default=None,
              type=click.Choice(["match_or_create", "match_or_hold", "hold"]),
              help="what happens to a source customer no mapping names (default match_or_create)")
@click.option("--as", "who", default=None, help=AS_HELP)
def policy_command(company_id: str, value: str | None, who: str | None) -> None:
    """Show or set how unknown customers are handled: matched or created in QuickBooks, or held for a person."""
    from addon import customers

    made = container()
    if value is None:
        made.companies.get(company_id)
        with made.unit_of_work() as session:
            click.echo(f"customers: {customers.policy(session, company_id).value}")
        return
    chosen = customers.set_policy(made, company_id, value, actor=actor(made, company_id, who))
    click.echo(f"customers: {chosen.value}")


def register(cli: click.Group) -> None:
    cli.add_command(mappings_group)
