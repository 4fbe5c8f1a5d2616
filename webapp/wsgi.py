"""WSGI entry point for gunicorn: ``gunicorn webapp.wsgi:app``.

A missing or malformed setting stops the web process with one line naming it, not a traceback.
"""

import sys

from addon.errors import ConfigError
from webapp import create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"autobill: {exc.message}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None
