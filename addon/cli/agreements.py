"""``autobill agreements import|list|export|versions``: a company's agreements and versioned rules."""

from __future__ import annotations

from pathlib import Path

import click

from addon.cli._common import AS_HELP, COMPANY_HELP, actor, container


@click.group("agreements")
def agreements_group() -> None:
    """Agreements and rules, in the JSON form of docs/rules.md."""


@agreements_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--as", "who", required=True, help=AS_HELP)
@click.option("--reassign", is_flag=True, help="import a file that names another company (the examples in docs/)")
def import_command(file: Path, company_id: str, who: str, reassign: bool) -> None:
    """Create or update the agreements in FILE; a changed rule becomes a new version."""
    made = container()
    report = made.agreements.import_document(company_id, file.read_bytes(), actor=actor(made, company_id, who),
                                             reassign=reassign)
    for state in ("created", "updated", "unchanged"):
        for agreement_id in getattr(report, state):
            click.echo(f"{state:9}  {agreement_id}")
    for change in report.rules:
        where = change.scope or "company rules"
        if change.change == "retired":
            click.echo(f"rule       {where}: {change.rule_id} retired (no current version)")
        else:
            versions = ", ".join(f"v{n}" for n in change.versions)
            click.echo(f"rule       {where}: {change.rule_id} now {versions}")


@agreements_group.command("list")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
def list_command(company_id: str) -> None:
    """List the company's agreements."""
    made = container()
    made.companies.get(company_id)
    found = made.agreements.list(company_id)
    if not found:
        click.echo("no agreements yet: autobill agreements import FILE --company C --as USER")
    for a in found:
        click.echo(f"{a.id}  customer {a.customer_id}  {a.name}  rev {a.revision}  {a.rules} rule(s)  ({a.origin})")


@agreements_group.command("export")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file to write (default: standard output)")
def export_command(company_id: str, output: Path | None) -> None:
    """Write the company's agreements and company rules as one JSON document (importable again)."""
    made = container()
    made.companies.get(company_id)
    text = made.agreements.export(company_id)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}")


@agreements_group.command("versions")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--agreement", "agreement_id", default=None, help="an agreement's rules (default: company rules)")
@click.option("--rule", "rule_id", default=None, help="only this rule")
def versions_command(company_id: str, agreement_id: str | None, rule_id: str | None) -> None:
    """Every stored version of the rules, with effective dates; current ones are marked *."""
    made = container()
    made.companies.get(company_id)
    if agreement_id:
        made.agreements.agreement(company_id, agreement_id)
    for v in made.agreements.versions(company_id, rule_id, agreement_id=agreement_id):
        window = f"{v.effective_from or '...'} to {v.effective_to or '...'}"
        click.echo(f"{'*' if v.current else ' '} {v.rule_id} v{v.version}  {window}  by {v.created_by} "
                   f"at {v.created_at:%Y-%m-%d %H:%M}")


def register(cli: click.Group) -> None:
    cli.add_command(agreements_group)
