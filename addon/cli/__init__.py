"""The ``autobill`` command.

Each module in this package that defines ``register(cli)`` adds its commands; modules are found
by name, so features add commands without touching this file. Errors a person can act on are
printed as one line; anything else is one line too, with the traceback kept in the state
folder's log, never on the terminal.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import traceback
from pathlib import Path

import click

from addon.errors import AutobillError


@click.group()
@click.version_option(package_name="qbo-autobill", prog_name="autobill")
def cli() -> None:
    """autobill: bills IT service businesses automatically in QuickBooks Online."""


def _load_commands() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(cli)


_load_commands()


def _crash_log_path() -> Path:
    from addon.config import SETTINGS

    state = next(s.default for s in SETTINGS if s.attr == "state_dir")
    import os

    return Path(os.environ.get("AUTOBILL_STATE_DIR") or state) / "crash.log"


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        cli.main(args=argv, prog_name="autobill", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AutobillError as exc:
        click.echo(f"autobill: {exc.message}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - never a stack trace on the terminal
        path = _crash_log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as fh:
                fh.write(traceback.format_exc())
            where = f" (details in {path})"
        except OSError:
            where = ""
        logging.getLogger("autobill").debug("unexpected error", exc_info=True)
        click.echo(f"autobill: unexpected error: {type(exc).__name__}: {exc}{where}", err=True)
        sys.exit(1)
