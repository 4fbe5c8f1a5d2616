"""A fake of Intuit's OAuth service that rotates refresh tokens the way Intuit does."""

from __future__ import annotations

import itertools
import threading

from addon.companies import Identity
from addon.ledger.faults import InvalidGrant
from addon.oauth import OAuthClient, TokenGrant


class FakeOAuth(OAuthClient):
    """Issues numbered tokens; a refresh token works once (no grace), then ``invalid_grant``."""

    def __init__(self):
        self._n = itertools.count(1)
        self._lock = threading.Lock()
        self.live_refresh: set[str] = set()
        self.refreshes = 0
        self.revoked: list[str] = []
        self.expires_in = 3600

    def issue(self) -> TokenGrant:
        """A fresh pair, as after connecting."""
        with self._lock:
            n = next(self._n)
            self.live_refresh.add(f"RT-{n}")
            return TokenGrant(f"AT-{n}", f"RT-{n}", self.expires_in, 8_640_000)

    def authorization_url(self, purpose, state):
        return f"https://fake.intuit.example/authorize?purpose={purpose}&state={state}"

    def exchange_code(self, code):
        return self.issue()

    def refresh(self, refresh_token):
        with self._lock:
            self.refreshes += 1
            if refresh_token not in self.live_refresh:
                raise InvalidGrant("Intuit no longer accepts this company's authorization (refresh)",
                                   qbo_code="invalid_grant")
            self.live_refresh.discard(refresh_token)
        return self.issue()

    def revoke(self, token):
        with self._lock:
            self.revoked.append(token)
            self.live_refresh.discard(token)

    def user_info(self, access_token):
        return Identity(sub="intuit-sub-1", email="owner@northwind.example", name="Nora Owner")
