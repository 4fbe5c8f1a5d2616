"""``autobill audit verify|export``: a company's audit chain."""

from __future__ import annotations

import sys

import click

from addon import bootstrap


@click.group("audit")
def audit_group() -> None:
    """The per-company audit chain."""


def _container():
    from addon import migrate

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    return container


@audit_group.command("verify")
@click.option("--company", "company_id", required=True, help="company id (see `autobill companies list`)")
def verify_command(company_id: str) -> None:
    """Check that the company's chain is whole: no record changed, removed or reordered."""
    container = _container()
    container.companies.get(company_id)
    report = container.audit.verify(company_id)
    if report.ok:
        click.echo(f"{company_id}: audit chain intact, {report.records} record(s)")
        return
    click.echo(f"{company_id}: audit chain BROKEN at record {report.broken_at}: {report.problem}", err=True)
    raise SystemExit(1)


@audit_group.command("export")
@click.option("--company", "company_id", required=True, help="company id (see `autobill companies list`)")
@click.option("--output", "output", default="-", show_default=True, help="CSV file to write, - for stdout")
def export_command(company_id: str, output: str) -> None:
    """Write the company's audit chain as CSV."""
    container = _container()
    container.companies.get(company_id)
    if output == "-":
        container.audit.export_csv(company_id, sys.stdout)
        return
    with open(output, "w", newline="", encoding="utf-8") as fh:
        count = container.audit.export_csv(company_id, fh)
    click.echo(f"wrote {count} record(s) to {output}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(audit_group)
