"""``autobill sandbox``: run the local QuickBooks Online emulator until stopped.

The emulator package is imported inside the command (nothing in ``addon`` imports it at import time).
With ``--snapshot`` its state is read at start and written as it changes and on exit, so the demo
company and the tokens autobill stored survive a restart; without a snapshot to read, a company is
seeded (``--seed demo`` by default).
"""

from __future__ import annotations

import os
import signal
import threading

import click

DEFAULT_PORT = 5055


@click.command("sandbox")
@click.option("--port", type=int, default=lambda: int(os.environ.get("AUTOBILL_SANDBOX_PORT") or DEFAULT_PORT),
              show_default=f"$AUTOBILL_SANDBOX_PORT or {DEFAULT_PORT}", help="port to listen on (0: any free port)")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--snapshot", "snapshot", type=click.Path(dir_okay=False), default=None,
              help="JSON file the emulator state is loaded from and saved to")
@click.option("--client-id", default="autobill-demo-client", show_default=True, help="the demo app's client id")
@click.option("--client-secret", default="autobill-demo-secret", show_default=True,
              help="the demo app's client secret")
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True,
              help="data of the company created when there is no snapshot to load")
@click.option("--webhook-url", default=None, help="where the demo app's webhooks are sent")
@click.option("--webhook-verifier", default=None, help="the demo app's webhook verifier token")
@click.option("--webhook-format", type=click.Choice(["classic", "cloudevents"]), default="classic",
              show_default=True, help="the demo app's webhook payload format")
def sandbox_command(port: int, host: str, snapshot: str | None, client_id: str, client_secret: str, seed: str,
                    webhook_url: str | None, webhook_verifier: str | None, webhook_format: str) -> None:
    """Run the QuickBooks Online emulator (for the demo and for trying autobill without Intuit)."""
    from sandbox import Emulator

    try:
        emulator = Emulator(port, host=host, client_id=client_id, client_secret=client_secret,
                            snapshot_path=snapshot, seed_demo=seed == "demo", webhook_url=webhook_url,
                            webhook_verifier=webhook_verifier, webhook_format=webhook_format)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise click.ClickException(f"cannot start the emulator: {exc}") from None
    if seed == "empty" and not emulator.world.realms:
        emulator.demo_realm_id = emulator.world.create_realm("Demo IT Services", "empty").id
    emulator.start()
    click.echo(f"QuickBooks Online emulator listening on {emulator.url}")
    click.echo(f"  client id:      {client_id}")
    click.echo(f"  client secret:  {client_secret}")
    click.echo(f"  discovery URL:  {emulator.discovery_url}")
    click.echo(f"  API base URL:   {emulator.api_url}")
    if emulator.demo_realm_id:
        click.echo(f"  company:        {emulator.world.realms[emulator.demo_realm_id].name} "
                   f"(realmId {emulator.demo_realm_id})")
    click.echo(f"  control panel:  {emulator.url}/_sandbox/")
    if snapshot:
        click.echo(f"  snapshot:       {snapshot}")
    click.echo("Press Ctrl-C to stop.", err=False)
    stopped = threading.Event()

    def _stop(*_args) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        emulator.stop()
        click.echo("QuickBooks Online emulator stopped.")


def register(cli: click.Group) -> None:
    """Add ``autobill sandbox`` to the CLI."""
    cli.add_command(sandbox_command)
