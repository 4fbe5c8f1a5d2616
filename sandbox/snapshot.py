"""An optional JSON snapshot of the whole emulator, so the demo survives a restart.

Written atomically (temporary file, then rename) a second after changes settle and when the emulator
stops; read at start-up. Apps, realms (objects, deletions, numbering, settings, outbox, limits) and
grants and tokens are kept, so tokens autobill stored keep working. Remembered requestid responses,
counters, injected faults and webhook queues are not.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from sandbox import jsonio
from sandbox.limits import Limits
from sandbox.realm import Realm
from sandbox.tokens import App, AuthCode, Grant

FORMAT = 1


def dump(world) -> dict:
    """The world as JSON-ready data."""
    with world.lock:
        realms = []
        for realm in list(world.realms.values()):
            with realm.lock:
                realms.append({
                    "id": realm.id, "name": realm.name, "objects": realm.objects, "updated_at": realm.updated_at,
                    "deleted": {e: {i: list(v) for i, v in d.items()} for e, d in realm.deleted.items()},
                    "sequences": realm.sequences, "doc_numbers": realm.doc_numbers, "settings": realm.settings,
                    "outbox": realm.outbox, "voided": sorted(list(v) for v in realm.voided),
                    "limits": realm.throttle.limits.to_dict(), "requestid_ttl": realm.requestid_ttl,
                })
        store = world.tokens
        return {
            "format": FORMAT,
            "apps": [{k: v for k, v in asdict(a).items() if k != "counters"} for a in world.apps.values()],
            "realms": realms,
            "grants": [asdict(g) for g in store.grants.values()],
            "codes": [asdict(c) for c in store.codes.values()],
            "access": store.access, "refresh": store.refresh, "issued": store.issued,
        }


def save(world, path: Path) -> None:
    """Write the snapshot to ``path`` atomically."""
    data = jsonio.dumps(dump(world))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sandbox-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(world, path: Path) -> bool:
    """Restore ``world`` from ``path``; False when there is no snapshot there."""
    if not path.exists():
        return False
    data = jsonio.loads(path.read_bytes())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not an emulator snapshot this version can read")
    with world.lock:
        for app in data["apps"]:
            world.apps[app["client_id"]] = App(**app)
        for item in data["realms"]:
            realm = Realm(item["id"], item["name"], world.clock, Limits.from_dict(item["limits"]), world._emit)
            realm.objects.update(item["objects"])
            realm.updated_at.update({e: {i: float(t) for i, t in d.items()} for e, d in item["updated_at"].items()})
            realm.deleted.update({e: {i: (float(v[0]), v[1]) for i, v in d.items()} for e, d in item["deleted"].items()})
            realm.sequences, realm.doc_numbers = item["sequences"], item["doc_numbers"]
            realm.settings.update(item["settings"])
            realm.outbox = item["outbox"]
            realm.voided = {tuple(v) for v in item["voided"]}
            ttl = item["requestid_ttl"]
            realm.requestid_ttl = None if ttl is None else float(ttl)
            realm.reindex()
            world.realms[realm.id] = realm
        store = world.tokens
        for grant in data["grants"]:
            grant["refresh_expires_at"] = float(grant["refresh_expires_at"])
            grant["created_at"] = float(grant["created_at"])
            store.grants[grant["id"]] = Grant(**grant)
        for code in data["codes"]:
            code["expires_at"] = float(code["expires_at"])
            store.codes[code["code"]] = AuthCode(**code)
        store.access = {t: (v[0], float(v[1])) for t, v in data["access"].items()}
        store.refresh = {t: (v[0], None if v[1] is None else float(v[1])) for t, v in data["refresh"].items()}
        store.issued = list(data["issued"])
    return True
