"""``autobill companies list|set|grant|connect``: connected QuickBooks companies."""

from __future__ import annotations

import click

from addon import bootstrap


@click.group("companies")
def companies_group() -> None:
    """Connected QuickBooks companies."""


def _container():
    from addon import migrate

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    return container


def _line(company) -> str:
    reason = f" ({company.status_reason})" if company.status_reason else ""
    return (f"{company.id}  {company.name}  realm {company.realm_id} ({company.environment})  "
            f"{company.status}{reason}  tz {company.timezone}")


@companies_group.command("list")
def list_command() -> None:
    """List every company with its status and time zone."""
    companies = _container().companies.list()
    if not companies:
        click.echo("no companies yet: connect one (autobill companies connect --emulator in demo mode)")
    for company in companies:
        click.echo(_line(company))


@companies_group.command("set")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--timezone", required=True, help="IANA time zone name, e.g. America/New_York")
def set_command(company_id: str, timezone: str) -> None:
    """Change a company's settings (its time zone)."""
    company = _container().companies.set_timezone(company_id, timezone, actor="cli")
    click.echo(_line(company))


@companies_group.command("grant")
@click.option("--company", "company_id", required=True, help="company id")
@click.option("--email", required=True, help="email of a user who has signed in once")
@click.option("--role", type=click.Choice(["admin", "bookkeeper", "viewer"]), required=True)
def grant_command(company_id: str, email: str, role: str) -> None:
    """Give a user a role for a company."""
    from addon.models.companies import Role

    user = _container().companies.grant(company_id, email, Role(role), actor="cli")
    click.echo(f"{user.email} is now {role} of {company_id}")


@companies_group.command("connect")
@click.option("--emulator", is_flag=True, help="connect a company of the local QuickBooks emulator, headless")
@click.option("--name", "company_name", default=None, help="name of a new emulator company (default: Demo IT Services)")
@click.option("--realm", "realm_id", default=None, help="realm id of an existing emulator company instead")
@click.option("--email", default="owner@demo.example", show_default=True, help="who signs in at the emulator")
def connect_command(emulator: bool, company_name: str | None, realm_id: str | None, email: str) -> None:
    """Connect a QuickBooks company (without a browser: --emulator)."""
    if not emulator:
        raise click.UsageError("only --emulator works without a browser; open the web app and click "
                               "Connect to QuickBooks for a real company")
    from addon.emulator_connect import connect_with_emulator

    result = connect_with_emulator(_container(), company_name=company_name, realm_id=realm_id, email=email)
    verb = "connected" if result.created else "reconnected"
    click.echo(f"{verb} {_line(result.company)}")
    click.echo(f"admin: {result.user.email} ({result.user.id})" +
               (f"; {result.resumed_jobs} paused job(s) resumed" if result.resumed_jobs else ""))


def register(cli: click.Group) -> None:
    cli.add_command(companies_group)
