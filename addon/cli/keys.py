"""``autobill keys generate|rotate``: the vault's encryption keys."""

from __future__ import annotations

import click

from addon import bootstrap


@click.group("keys")
def keys_group() -> None:
    """Encryption keys for stored secrets."""


@keys_group.command("generate")
def generate_command() -> None:
    """Print a new Fernet key to put first in AUTOBILL_ENCRYPTION_KEYS."""
    from addon.vault import generate_key

    click.echo(generate_key())


@keys_group.command("rotate")
def rotate_command() -> None:
    """Re-encrypt every stored secret under the first configured key (safe while autobill runs)."""
    from addon import migrate
    from addon.keyrotation import rotate_all

    container = bootstrap.current()
    migrate.ensure_schema(container.database, demo_mode=container.settings.demo_mode)
    report = rotate_all(container.database, container.vault, container.audit)
    click.echo(f"re-encrypted {report.rotated} stored secret(s) under the newest key; "
               f"{report.already_current} already were; {len(report.per_company)} company(ies) audited")


def register(cli: click.Group) -> None:
    cli.add_command(keys_group)
