"""``autobill db upgrade|downgrade|current``: the database schema."""

from __future__ import annotations

import click

from addon import bootstrap


@click.group("db")
def db_group() -> None:
    """Create and migrate autobill's database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="revision to upgrade to")
def upgrade_command(revision: str) -> None:
    """Apply migrations (the run and release commands do this too)."""
    from addon import migrate

    database = bootstrap.current().database
    migrate.upgrade(database, revision)
    click.echo(f"database at {migrate.current(database) or 'base'}")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    from addon import migrate

    database = bootstrap.current().database
    migrate.downgrade(database, revision)
    click.echo(f"database at {migrate.current(database) or 'base'}")


@db_group.command("current")
def current_command() -> None:
    """Print the revision the database is at and the newest one the code knows."""
    from addon import migrate

    database = bootstrap.current().database
    now, heads = migrate.current(database), migrate.heads(database)
    state = "up to date" if now in heads else "behind: run `autobill db upgrade`"
    click.echo(f"database at {now or 'base'}; code at {', '.join(heads)} ({state})")


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
