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
