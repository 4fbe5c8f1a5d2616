"""A thin client of the control API, for tests and scripts (``emulator.control``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ControlAPIError(Exception):
    """The control API answered with an error status."""

    def __init__(self, status: int, body: Any):
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """Calls ``/_sandbox/...`` on one emulator; every method returns the decoded JSON answer."""

    def __init__(self, base_url: str, client_id: str):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Any control call: ``request("POST", "/realms", {"name": "x"})``."""
        data = None if body is None else json.dumps(body, default=str).encode()
        req = urllib.request.Request(f"{self.base_url}/_sandbox{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            raise ControlAPIError(exc.code, payload) from None
        return json.loads(raw) if raw else None

    # realms and tokens
    def create_realm(self, name: str = "Test Company", seed: str = "demo") -> str:
        """A new company; returns its realm id."""
        return self.request("POST", "/realms", {"name": name, "seed": seed})["realmId"]

    def tokens(self, realm_id: str, client_id: str | None = None, **extra: Any) -> dict:
        """Tokens for ``client_id`` (default: the demo app) on ``realm_id``, like the token endpoint's."""
        return self.request("POST", f"/realms/{realm_id}/tokens", {"client_id": client_id or self.client_id, **extra})

    def issued_tokens(self) -> list[str]:
        """Every token and code string the emulator has issued."""
        return self.request("GET", "/tokens")["tokens"]

    def expire_tokens(self) -> int:
        """Expire every access token now; returns how many were live."""
        return self.request("POST", "/tokens/expire")["expired"]

    def counters(self, realm_id: str) -> dict:
        """The realm's counters (requests, throttled, concurrent_peak, token_grants, invalid_grant ...)."""
        return self.request("GET", f"/realms/{realm_id}/counters")

    # time, latency, limits, faults
    def set_clock(self, now: str | None = None, advance_seconds: float | None = None) -> dict:
        """Set the emulator's clock to ``now`` (ISO) or move it by ``advance_seconds``."""
        body = {"now": now} if now is not None else {"advance_seconds": advance_seconds}
        return self.request("POST", "/clock", body)

    def latency(self, ms: float) -> dict:
        """Base latency for every API and OAuth call."""
        return self.request("POST", "/latency", {"ms": ms})

    def limits(self, realm_id: str | None = None, **limits: Any) -> dict:
        """Set one realm's limits, or (without a realm) the default for all realms."""
        path = f"/realms/{realm_id}/limits" if realm_id else "/limits"
        return self.request("POST", path, limits)

    def fault(self, realm_id: str | None, route: str, **rule: Any) -> dict:
        """Inject a fault on ``route`` (``"POST invoice"``) for a realm, or globally with ``None``."""
        path = f"/realms/{realm_id}/faults" if realm_id else "/faults"
        return self.request("POST", path, {"route": route, **rule})

    def clear_faults(self, realm_id: str | None = None) -> dict:
        """Remove injected faults."""
        return self.request("DELETE", f"/realms/{realm_id}/faults" if realm_id else "/faults")

    # company settings and apps
    def preferences(self, realm_id: str, **prefs: Any) -> dict:
        """custom_txn_numbers, multi_currency, home_currency, requestid_memory, Preferences={...}."""
        return self.request("POST", f"/realms/{realm_id}/preferences", prefs)

    def register_app(self, client_id: str, client_secret: str, **settings: Any) -> dict:
        """Register or update an app (redirect_uris, webhook_url, verifier_token, webhook_format)."""
        return self.request("POST", "/apps", {"client_id": client_id, "client_secret": client_secret, **settings})

    # a person in QuickBooks
    def record_payment(self, realm_id: str, invoice_id: str, amount: Any = None, **extra: Any) -> dict:
        """Receive a payment against an invoice (default: its whole balance)."""
        body = {"invoice_id": invoice_id, **extra}
        if amount is not None:
            body["amount"] = str(amount)
        return self.request("POST", f"/realms/{realm_id}/actions/payments", body)["Payment"]

    def create_invoice(self, realm_id: str, **invoice: Any) -> dict:
        """Type an invoice in by hand (see docs/sandbox.md for the fields)."""
        return self.request("POST", f"/realms/{realm_id}/actions/invoices", invoice)["Invoice"]

    def edit_invoice(self, realm_id: str, invoice_id: str, **changes: Any) -> dict:
        """Change some fields of an invoice."""
        return self.request("POST", f"/realms/{realm_id}/actions/invoices/{invoice_id}/edit", changes)["Invoice"]

    def void_invoice(self, realm_id: str, invoice_id: str) -> dict:
        """Void an invoice."""
        return self.request("POST", f"/realms/{realm_id}/actions/invoices/{invoice_id}/void", {})["Invoice"]

    def delete_invoice(self, realm_id: str, invoice_id: str) -> dict:
        """Delete an invoice."""
        return self.request("POST", f"/realms/{realm_id}/actions/invoices/{invoice_id}/delete", {})["Invoice"]

    def set_tax_rate(self, realm_id: str, rate: Any, tax_rate: str = "Demo Sales Tax") -> dict:
        """Change a TaxRate's percentage (``tax_rate``: its Id or Name); answers the TaxRate."""
        ident = next((r["Id"] for r in self.objects(realm_id, "TaxRate") if tax_rate in (r["Id"], r["Name"])),
                     tax_rate)
        return self.request("POST", f"/realms/{realm_id}/actions/tax_rates/{ident}/edit",
                            {"rate": str(rate)})["TaxRate"]

    def outbox(self, realm_id: str) -> list[dict]:
        """Mails sent for the realm."""
        return self.request("GET", f"/realms/{realm_id}/outbox")["outbox"]

    def objects(self, realm_id: str, entity: str) -> list[dict]:
        """Every stored object of an entity."""
        return self.request("GET", f"/realms/{realm_id}/objects/{entity}")[entity]

    def webhook_deliveries(self) -> list[dict]:
        """Webhook notifications sent so far, with their attempts."""
        return self.request("GET", "/webhooks")["deliveries"]
