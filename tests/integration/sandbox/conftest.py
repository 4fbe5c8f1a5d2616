"""Helpers for the emulator's contract tests: python-quickbooks and intuitlib pointed at it by configuration."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

REDIRECT_URI = "http://127.0.0.1:8765/qbo/callback"


def auth_client(emulator, **tokens):
    """An intuitlib AuthClient whose environment is the emulator's discovery document."""
    from intuitlib.client import AuthClient

    return AuthClient(emulator.client_id, emulator.client_secret, REDIRECT_URI,
                      environment=emulator.discovery_url, **tokens)


def quickbooks(emulator, realm_id: str, tokens: dict):
    """A python-quickbooks client on the emulator, unmodified: only ``api_url_v3`` is set."""
    from quickbooks import QuickBooks

    client = auth_client(emulator, access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])
    qb = QuickBooks(auth_client=client, refresh_token=tokens["refresh_token"], company_id=realm_id, minorversion=75)
    qb.api_url_v3 = emulator.api_url
    return qb


@dataclass
class Company:
    """A seeded company with tokens and a python-quickbooks client."""

    emulator: object
    realm_id: str
    tokens: dict
    qb: object

    def raw(self, method: str, path: str, **kwargs) -> requests.Response:
        """A plain HTTP call to ``/v3/company/<realm>/<path>`` with this company's bearer token."""
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}", "Accept": "application/json",
                   **kwargs.pop("headers", {})}
        url = f"{self.emulator.api_url}/company/{self.realm_id}/{path}"
        return requests.request(method, url, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def company(emulator) -> Company:
    """The demo data set in a fresh realm, connected for the demo app."""
    realm_id = emulator.control.create_realm("Demo IT Services", "demo")
    tokens = emulator.control.tokens(realm_id)
    return Company(emulator, realm_id, tokens, quickbooks(emulator, realm_id, tokens))


class WebhookReceiver:
    """A local endpoint that records what the emulator POSTs; it can fail the first N deliveries."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict] = []
        self.fail_next = 0
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    failing = receiver.fail_next > 0
                    receiver.fail_next -= 1 if failing else 0
                    receiver.received.append({"body": body, "headers": dict(self.headers), "failed": failing})
                    receiver.changed.notify_all()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/qbo"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        """The first ``count`` requests received (fails the test after ``timeout`` seconds)."""
        import time

        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook POSTs, got {len(self.received)}")
                self.changed.wait(left)
            return list(self.received[:count])

    def operations(self, wanted: set, timeout: float = 5.0) -> set:
        """(entity id, operation) pairs from classic notifications, once all of ``wanted`` arrived."""
        import json
        import time

        deadline = time.monotonic() + timeout
        while True:
            with self.changed:
                seen = {(e["id"], e["operation"]) for d in self.received if not d["failed"]
                        for n in json.loads(d["body"])["eventNotifications"]
                        for e in n["dataChangeEvent"]["entities"]}
                if wanted <= seen or time.monotonic() > deadline:
                    return seen
                self.changed.wait(0.05)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """A webhook endpoint for the emulator to call."""
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.stop()
