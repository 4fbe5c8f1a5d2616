"""Webhooks out: batched per realm and app, signed, retried on QuickBooks' schedule.

Intuit "Webhooks" and "Webhooks best practices": a notification carries ids only, in the classic
``{"eventNotifications": [...]}`` form or (2025) as a CloudEvents array; ``intuit-signature`` is the
base64 HMAC-SHA256 of the raw body keyed with the app's verifier token; the endpoint must answer 200
within 3 s, or the same notification is retried after 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h and
then every 6 h; later events for that realm wait until the first is acknowledged. The schedule is
multiplied by ``webhook_retry_factor`` and runs on the emulator's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import logging
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sandbox import jsonio
from sandbox.schema import WEBHOOK_ENTITIES

log = logging.getLogger("sandbox.webhooks")
RETRY_SCHEDULE = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
PAST_TENSE = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided",
              "Emailed": "emailed", "Merge": "merged"}


def sign(verifier_token: str, body: bytes) -> str:
    """The ``intuit-signature`` header value for ``body``."""
    return base64.b64encode(hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()).decode()


def classic_body(realm_id: str, events: list[tuple]) -> bytes:
    """``{"eventNotifications": [...]}`` for one realm's events."""
    entities = [{"name": e, "id": i, "operation": op,
                 "lastUpdated": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") +
                 f"{int(ts * 1000) % 1000:03d}Z"} for e, i, op, ts in events]
    return jsonio.dumps({"eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": entities}}]})


def cloudevents_body(realm_id: str, events: list[tuple]) -> bytes:
    """The CloudEvents array for one realm's events."""
    source = "intuit." + base64.b64encode(hashlib.sha256(realm_id.encode()).digest()).decode()
    out = []
    for entity, ident, operation, ts in events:
        moment = datetime.fromtimestamp(ts, UTC)
        out.append({"specversion": "1.0", "id": str(uuid.uuid4()), "source": source,
                    "type": f"qbo.{entity.lower()}.{PAST_TENSE.get(operation, operation.lower())}.v1",
                    "datacontenttype": "application/json",
                    "time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z",
                    "intuitentityid": ident, "intuitaccountid": realm_id, "data": {}})
    return jsonio.dumps(out)


def _post(url: str, body: bytes, signature: str, timeout: float) -> int:
    """POST a notification; headers in lower case as Intuit sends them. Returns the status."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        for name, value in (("content-type", "application/json"), ("intuit-signature", signature),
                            ("user-agent", "Intuit-Webhooks (QuickBooks emulator)"), ("content-length", str(len(body)))):
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class _Channel:
    """The events waiting for one (app, realm) and the notification being delivered."""

    def __init__(self, client_id: str, realm_id: str):
        self.client_id, self.realm_id = client_id, realm_id
        self.pending: list[tuple] = []
        self.delivery: dict | None = None
        self.due: float | None = None
        self.busy = False


class WebhookSender:
    """Collects change events and delivers them from one background thread (plus a few POST workers)."""

    def __init__(self, world):
        self.world = world
        self.cond = threading.Condition()
        self.channels: dict[tuple[str, str], _Channel] = {}
        self.deliveries: deque[dict] = deque(maxlen=2000)
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-webhook")
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, name="sandbox-webhooks", daemon=True)
        world.sink = self.emit
        world.clock.on_change(self._wake)

    def start(self) -> None:
        """Start the delivery thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop delivering (events still queued are dropped)."""
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def log(self) -> list[dict]:
        """Every delivery so far, newest last, with its attempts."""
        with self.cond:
            return [dict(d, attempts=list(d["attempts"])) for d in self.deliveries]

    def emit(self, realm_id: str, entity: str, ident: str, operation: str, ts: float) -> None:
        """Queue one change for every app connected to the realm that has a webhook URL."""
        if entity not in WEBHOOK_ENTITIES:
            return
        apps = [self.world.apps.get(c) for c in self.world.tokens.connected(realm_id)]
        apps = [a for a in apps if a is not None and a.webhook_url]
        if not apps:
            return
        now = self.world.clock.timestamp()
        with self.cond:
            for app in apps:
                key = (app.client_id, realm_id)
                channel = self.channels.get(key) or self.channels.setdefault(key, _Channel(*key))
                channel.pending.append((entity, ident, operation, ts))
                if channel.delivery is None and channel.due is None:
                    channel.due = now + float(self.world.options["webhook_batch_seconds"])
            self.cond.notify_all()

    def _wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self.cond:
                if self.stopped:
                    return
                now = self.world.clock.timestamp()
                ready = [c for c in self.channels.values() if not c.busy and c.due is not None and c.due <= now]
                if not ready:
                    waits = [c.due - now for c in self.channels.values() if not c.busy and c.due is not None]
                    self.cond.wait(timeout=min([0.5] + waits))
                    continue
                for channel in ready:
                    if channel.delivery is None:
                        channel.delivery = self._new_delivery(channel)
                    channel.busy, channel.due = True, None
            for channel in ready:
                try:
                    self.pool.submit(self._attempt, channel)
                except RuntimeError:  # pool shut down while stopping
                    return

    def _new_delivery(self, channel: _Channel) -> dict:
        app = self.world.apps[channel.client_id]
        events, channel.pending = channel.pending, []
        maker = cloudevents_body if app.webhook_format == "cloudevents" else classic_body
        body = maker(channel.realm_id, events)
        record = {"id": str(len(self.deliveries) + 1), "client_id": app.client_id, "realmId": channel.realm_id,
                  "url": app.webhook_url, "format": app.webhook_format, "body": body.decode("utf-8"),
                  "signature": sign(app.verifier_token or "", body), "attempts": [], "delivered": False,
                  "gave_up": False, "next_attempt_at": None}
        self.deliveries.append(record)
        return record

    def _attempt(self, channel: _Channel) -> None:
        record = channel.delivery
        status, error = None, None
        try:
            status = _post(record["url"], record["body"].encode("utf-8"), record["signature"],
                           float(self.world.options["webhook_timeout_seconds"]))
        except Exception as exc:  # noqa: BLE001 - any failure to deliver is a failed attempt
            error = f"{type(exc).__name__}: {exc}"
        now = self.world.clock.timestamp()
        ok = status is not None and 200 <= status < 300
        with self.cond:
            record["attempts"].append({"at": datetime.fromtimestamp(now, UTC).isoformat(), "status": status,
                                       "error": None if ok else (error or f"HTTP {status}")})
            tries = len(record["attempts"])
            limit = self.world.options["webhook_max_attempts"]
            if ok or (limit is not None and tries >= limit):
                record["delivered"], record["gave_up"] = ok, not ok
                record["next_attempt_at"] = None
                channel.delivery = None
                if channel.pending:
                    channel.due = now
            else:
                delay = RETRY_SCHEDULE[min(tries - 1, len(RETRY_SCHEDULE) - 1)]
                channel.due = now + delay * float(self.world.options["webhook_retry_factor"])
                record["next_attempt_at"] = datetime.fromtimestamp(channel.due, UTC).isoformat()
            channel.busy = False
            self.cond.notify_all()
        if not ok:
            log.info("webhook to %s failed (attempt %d): %s", record["url"], tries, error or status)
