"""``autobill endpoints create|list|configure``: one ingest URL per company and source."""

from __future__ import annotations

import json
import sys

import click

import connectors
from addon.cli._common import AS_HELP, COMPANY_HELP, actor, container
from addon.errors import InvalidInput

SETTING_HELP = "an endpoint setting NAME=VALUE (VALUE read as JSON when it is JSON), repeatable"
STDIN_HELP = ("with both --secret-stdin and --api-token-stdin, the first line of standard input is the "
              "secret and the rest the API credentials")


@click.group("endpoints")
def endpoints_group() -> None:
    """Ingest endpoints: the URLs sources post their webhooks to."""


def _settings(pairs: tuple[str, ...]) -> dict:
    settings = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--setting takes NAME=VALUE, not {pair!r}")
        try:
            settings[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            settings[name.strip()] = raw
    return settings


def _credentials(text: str):
    """API credentials as given: a JSON object (Salesforce's token and instance URL) or a plain token."""
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInput("the API credentials look like JSON but are not valid JSON") from None
    return text


def _stdin(secret: bool, api_token: bool) -> tuple[str | None, object]:
    if not secret and not api_token:
        return None, None
    if sys.stdin.isatty():
        click.echo("paste " + " then ".join(w for w, on in (("the signing secret", secret),
                                                            ("the API credentials", api_token)) if on)
                   + ", then Ctrl-D:", err=True)
    text = sys.stdin.read()
    first, _, rest = text.partition("\n")
    if secret and not first.strip():
        raise InvalidInput("no secret on standard input")
    if secret and api_token:
        if not rest.strip():
            raise InvalidInput("no API credentials on standard input after the secret's line")
        return first.strip(), _credentials(rest)
    if secret:
        return text.strip(), None
    if not text.strip():
        raise InvalidInput("no API credentials on standard input")
    return None, _credentials(text)


@endpoints_group.command("create")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--source", required=True, help="hubspot, pipedrive, salesforce, stripe, generic, jira, asana, ...")
@click.option("--secret-stdin", "secret_stdin", is_flag=True, help="read the signing secret the source issues")
@click.option("--api-token-stdin", "token_stdin", is_flag=True,
              help="read the API credentials enrichment uses (a token, or a JSON object). " + STDIN_HELP)
@click.option("--setting", "settings", multiple=True, help=SETTING_HELP)
@click.option("--as", "who", default=None, help=AS_HELP)
def create_command(company_id: str, source: str, secret_stdin: bool, token_stdin: bool, settings: tuple[str, ...],
                   who: str | None) -> None:
    """Create an endpoint; print its URL (and, for generic, the signing secret, shown this once)."""
    made = container()
    who = actor(made, company_id, who)
    secret, credentials = _stdin(secret_stdin, token_stdin)
    created = made.endpoints.create(company_id, source, secret=secret, api_credentials=credentials,
                                    settings=_settings(settings), actor=who)
    click.echo(f"endpoint {created.endpoint.id} ({source})")
    if source in connectors.POLLED:
        click.echo(f"polled   autobill asks {source} for changes every "
                   f"{made.settings.harvest_poll_interval:g} s; there is no URL to register")
        return
    click.echo(f"url      {created.url}")
    if created.generated_secret:
        click.echo(f"secret   {created.generated_secret}")
        click.echo("         (shown once: store it with the sender; create a new endpoint to change it)")
    if created.endpoint.status == "awaiting_handshake":
        click.echo("status   awaiting the handshake: register the webhook with the source now")


@endpoints_group.command("list")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
def list_command(company_id: str) -> None:
    """List the company's endpoints with their URLs and refused requests."""
    made = container()
    made.companies.get(company_id)
    found = made.endpoints.list(company_id)
    if not found:
        click.echo("no endpoints yet: autobill endpoints create --company C --source S")
    for e in found:
        refused = f", {e.rejected_count} refused (last: {e.last_rejected_reason})" if e.rejected_count else ""
        click.echo(f"{e.id}  {e.source:10}  {e.status}  {made.endpoints.url(company_id, e.id)}{refused}")


@endpoints_group.command("configure")
@click.option("--company", "company_id", required=True, help=COMPANY_HELP)
@click.option("--endpoint", "endpoint_id", required=True, help="endpoint id (see `autobill endpoints list`)")
@click.option("--secret-stdin", "secret_stdin", is_flag=True, help="replace the signing secret")
@click.option("--api-token-stdin", "token_stdin", is_flag=True, help="replace the API credentials. " + STDIN_HELP)
@click.option("--setting", "settings", multiple=True, help=SETTING_HELP + "; NAME=null removes one")
@click.option("--as", "who", default=None, help=AS_HELP)
def configure_command(company_id: str, endpoint_id: str, secret_stdin: bool, token_stdin: bool,
                      settings: tuple[str, ...], who: str | None) -> None:
    """Change an endpoint's settings, signing secret or API credentials."""
    made = container()
    who = actor(made, company_id, who)
    secret, credentials = _stdin(secret_stdin, token_stdin)
    info = made.endpoints.configure(company_id, endpoint_id, settings=_settings(settings), secret=secret,
                                    api_credentials=credentials, actor=who)
    click.echo(f"endpoint {info.id} ({info.source}) settings {json.dumps(dict(info.settings), sort_keys=True)}")


def register(cli: click.Group) -> None:
    cli.add_command(endpoints_group)
