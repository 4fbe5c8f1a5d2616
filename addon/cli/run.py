"""``autobill run``: the whole thing on one machine, on embedded defaults.

Starts (or finds) Redis, the QuickBooks emulator in demo mode, runs the prepare steps
(migrations, demo company), then the web app, RQ workers and the scheduler, and prints what to
open. Children log into the state folder; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import click

from addon import bootstrap, demo
from addon.config import load_settings
from addon.errors import ConfigError
from addon.localservices import Children, ensure_redis, wait_for_http


def _child_env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env["AUTOBILL_STATE_DIR"] = str(settings.state_path)
    env["REDIS_URL"] = settings.redis_url
    env.setdefault("PYTHONUNBUFFERED", "1")
    if settings.demo_mode:
        # The emulator speaks plain http on loopback; oauthlib refuses http unless told.
        env["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    return env


@click.command("run")
@click.option("--no-web", is_flag=True, help="do not start the web app")
def run_command(no_web: bool) -> None:
    """Run autobill: web app, workers, scheduler (and the emulator in demo mode)."""
    settings = load_settings()
    _stop_on_signals()
    state = settings.state_path
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    os.environ.update(_child_env(settings))
    children = Children(logs)
    py = sys.executable
    try:
        children.adopt("redis", ensure_redis(settings.redis_url, state, logs))
        if settings.demo_mode:
            children.start("sandbox", [py, "-m", "addon", "sandbox", "--port", str(settings.sandbox_port),
                                       "--snapshot", str(state / "sandbox.json")], env=_child_env(settings))
            if not wait_for_http(f"{settings.sandbox_url}/.well-known/openid_configuration"):
                raise ConfigError(f"the QuickBooks emulator did not start; see {logs / 'sandbox.log'}")
        container = bootstrap.build(settings)
        bootstrap.set_current(container)
        hints = demo.prepare(container)
        env = _child_env(settings)
        if not no_web:
            children.start("web", [py, "-m", "gunicorn", "--workers", "2", "--bind",
                                   f"127.0.0.1:{settings.web_port}", "--access-logfile", "-",
                                   # The path only: a query string can carry an OAuth code or a signature.
                                   "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s',
                                   "webapp.wsgi:app"], env=env)
        for n in range(settings.workers):
            children.start(f"worker-{n + 1}", [py, "-m", "addon", "worker"], env=env)
        children.start("scheduler", [py, "-m", "addon", "scheduler"], env=env)
        if not no_web and not wait_for_http(f"{settings.web_url}/health"):
            raise ConfigError(f"the web app did not start; see {logs / 'web.log'}")
        _banner(settings, hints, logs)
        while True:
            dead = children.first_dead()
            if dead:
                raise ConfigError(f"the {dead} process stopped; see {logs / (dead + '.log')}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nStopping autobill ...")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not leave children behind
        children.stop()


def _stop_on_signals() -> None:
    # SIGTERM (a supervisor, `timeout`) and SIGHUP (terminal closed) stop the children too,
    # through the same path as Ctrl-C.
    def _interrupt(signum, frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


def command_prefix() -> str:
    """How a person at this terminal runs autobill: bare when on PATH, else the venv's path."""
    here = Path(sys.executable).parent / "autobill"
    on_path = shutil.which("autobill")
    if on_path and Path(on_path).resolve() == here.resolve():
        return "autobill"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


def _banner(settings, hints: list[str], logs) -> None:
    mode = "demo mode (local QuickBooks emulator)" if settings.demo_mode else "production mode"
    click.echo("")
    click.echo(f"autobill is running in {mode}.")
    click.echo(f"  Open the web app:        {settings.web_url}/")
    if settings.demo_mode:
        click.echo(f"  QuickBooks emulator:     {settings.sandbox_url}/_sandbox/")
    click.echo(f"  Logs:                    {logs}")
    click.echo("Try next:")
    prefix = command_prefix()
    for line in hints or ["autobill tick --at 2026-12-01T00:00:00Z   # run the scheduler's tick by hand"]:
        if line.startswith("autobill "):
            line = prefix + line[len("autobill"):]
        click.echo(f"  {line}")
    click.echo("Press Ctrl-C to stop.")


def register(cli: click.Group) -> None:
    cli.add_command(run_command)
