"""The emulator as a running thing: a world, an HTTP server thread, webhooks and the snapshot writer."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sandbox import api, control, faults, oauth, snapshot
from sandbox.clock import qbo_time
from sandbox.control_client import ControlClient
from sandbox.httpserver import Request, Response, redirect
from sandbox.webhooks import WebhookSender
from sandbox.world import World

log = logging.getLogger("sandbox")
DEMO_COMPANY = "Demo IT Services"


class Emulator:
    """A QuickBooks Online emulator serving on ``url`` from a background thread of this process."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", client_id: str = "autobill-demo-client",
                 client_secret: str = "autobill-demo-secret", redirect_uris: list[str] | None = None,
                 snapshot_path: str | Path | None = None, seed_demo: bool = False, **options):
        from sandbox.httpserver import Server

        self.world = World(options)
        self.client_id, self.client_secret = client_id, client_secret
        self.snapshot_path = Path(snapshot_path) if snapshot_path else None
        self.demo_realm_id: str | None = None
        restored = self.snapshot_path is not None and snapshot.load(self.world, self.snapshot_path)
        options = self.world.options
        settings = {}
        known = client_id in self.world.apps  # restored: keep what was registered unless told otherwise
        if redirect_uris is not None or not known:
            settings["redirect_uris"] = redirect_uris
        if options["webhook_url"] is not None or not known:
            settings.update(webhook_url=options["webhook_url"], verifier_token=options["webhook_verifier"],
                            webhook_format=options["webhook_format"])
        self.world.register_app(client_id, client_secret, **settings)
        if seed_demo and not restored:
            self.demo_realm_id = self.world.create_realm(DEMO_COMPANY, "demo").id
        elif restored and self.world.realms:
            self.demo_realm_id = next(iter(self.world.realms))
        self.webhooks = WebhookSender(self.world)
        self.server = Server((host, port), self.dispatch, self._internal_error)
        bound_host, bound_port = self.server.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.port = bound_port
        self.control = ControlClient(self.url, client_id)
        self._stop = threading.Event()
        self._saved_version = -1
        self._threads: list[threading.Thread] = []

    # -- addresses ----------------------------------------------------------------------------------
    @property
    def discovery_url(self) -> str:
        """What intuitlib takes as ``environment``."""
        return f"{self.url}/.well-known/openid_configuration"

    @property
    def api_url(self) -> str:
        """What python-quickbooks takes as ``api_url_v3``."""
        return f"{self.url}/v3"

    def base_url(self, req: Request) -> str:
        """The URL the client used to reach us (so discovery answers in its terms)."""
        return req.base_url or self.url

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Serve in background threads; returns self."""
        self.webhooks.start()
        serve = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                 name=f"sandbox-http-{self.port}", daemon=True)
        serve.start()
        self._threads.append(serve)
        if self.snapshot_path is not None:
            saver = threading.Thread(target=self._save_loop, name="sandbox-snapshot", daemon=True)
            saver.start()
            self._threads.append(saver)
        return self

    def stop(self) -> None:
        """Stop serving, close connections and threads, and write the snapshot once more."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.server.shutdown()
        self.server.close_all()
        self.server.server_close()
        self.webhooks.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.snapshot_path is not None:
            self.save_snapshot()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def save_snapshot(self) -> bool:
        """Write the snapshot now (False when no snapshot path is configured)."""
        if self.snapshot_path is None:
            return False
        snapshot.save(self.world, self.snapshot_path)
        return True

    def _version(self) -> int:
        return self.world.version + sum(r.version for r in list(self.world.realms.values()))

    def _save_loop(self) -> None:
        while not self._stop.wait(1.0):
            version = self._version()
            if version != self._saved_version:
                try:
                    self.save_snapshot()
                    self._saved_version = version
                except OSError:
                    log.exception("could not write the emulator snapshot to %s", self.snapshot_path)

    # -- routing ------------------------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        """Route one request to the Accounting API, OAuth, or the control API."""
        path = req.path
        if path.startswith("/v3/"):
            return api.handle(self.world, req)
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return control.handle(self, req)
        if path in ("/", ""):
            return redirect("/_sandbox/")
        return oauth.handle(self, req)

    def _internal_error(self) -> Response:
        fault = faults.system_error()
        body = {"Fault": fault.fault(), "time": qbo_time(self.world.clock.now(), millis=True)}
        from sandbox.httpserver import json_response

        return json_response(body, 500)


def start_emulator(port: int = 0, *, client_id: str = "autobill-demo-client",
                   client_secret: str = "autobill-demo-secret", redirect_uris: list[str] | None = None,
                   snapshot_path: str | Path | None = None, seed_demo: bool = False, **options) -> Emulator:
    """Start an emulator on ``port`` (0: a free one) in background threads of this process."""
    host = options.pop("host", "127.0.0.1")
    return Emulator(port, host=host, client_id=client_id, client_secret=client_secret, redirect_uris=redirect_uris,
                    snapshot_path=snapshot_path, seed_demo=seed_demo, **options).start()
