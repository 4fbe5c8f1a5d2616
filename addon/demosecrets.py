"""Demo mode's generated secrets: made once into the (git-ignored) state folder, then reused.

A restart must decrypt what the last run stored, so the Flask key and the Fernet key are written
to ``<state>/secrets.json`` (mode 0600) the first time and read back afterwards.
"""

from __future__ import annotations

import json
import os
import secrets

from addon.config import Settings
from addon.vault import generate_key

FILE_NAME = "secrets.json"


def _load_or_create(path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return json.loads(path.read_text())
    fresh = {"secret_key": secrets.token_urlsafe(32), "encryption_keys": [generate_key()]}
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(fresh, fh)
    try:
        # link() is atomic and refuses an existing name: of two processes starting at once, one wins
        # and both read the winner's keys.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return json.loads(path.read_text())


def with_demo_secrets(settings: Settings) -> Settings:
    """``settings`` with SECRET_KEY and encryption keys filled in from the state folder in demo mode."""
    if not settings.demo_mode or (settings.secret_key and settings.encryption_keys):
        return settings
    stored = _load_or_create(settings.state_path / FILE_NAME)
    changes = {}
    if not settings.secret_key:
        changes["secret_key"] = stored["secret_key"]
    if not settings.encryption_keys:
        changes["encryption_keys"] = tuple(stored["encryption_keys"])
    return settings.replace(**changes)
