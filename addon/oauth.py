"""The OAuth port: what autobill needs from Intuit's OAuth 2.0 / OpenID Connect service.

The adapter is ``addon.quickbooks.oauth.IntuitOAuth`` (intuitlib). Failures come back as ledger
faults: ``InvalidGrant`` for a refresh token Intuit no longer accepts, ``Transient`` for 5xx
and network trouble, ``Rejected`` for anything else (a misconfigured app).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

from addon.companies import Identity

CONNECT = "connect"  # accounting + openid email profile: connects a company and signs the user in
SIGN_IN = "sign_in"  # openid email profile only: Sign in with Intuit (the Launch URL)


@dataclass(frozen=True)
class TokenGrant:
    """Tokens from Intuit's token endpoint, with their lifetimes in seconds."""

    access_token: str
    refresh_token: str
    expires_in: int = 3600
    refresh_expires_in: int | None = None

    def __repr__(self) -> str:  # never show tokens
        return f"TokenGrant(expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"

    def access_expires_at(self, now: datetime) -> datetime:
        """When the access token stops working."""
        return now + timedelta(seconds=self.expires_in)

    def refresh_expires_at(self, now: datetime) -> datetime | None:
        """When the refresh token dies if unused (100 days at Intuit)."""
        return None if self.refresh_expires_in is None else now + timedelta(seconds=self.refresh_expires_in)


class OAuthClient(ABC):
    """Authorization-code flow, refresh, revoke and userinfo against Intuit."""

    @abstractmethod
    def authorization_url(self, purpose: str, state: str) -> str:
        """Where to send the browser to connect a company (``CONNECT``) or sign in (``SIGN_IN``)."""

    @abstractmethod
    def exchange_code(self, code: str) -> TokenGrant:
        """Trade an authorization code for tokens."""

    @abstractmethod
    def refresh(self, refresh_token: str) -> TokenGrant:
        """New tokens for a refresh token (Intuit may rotate the refresh token)."""

    @abstractmethod
    def revoke(self, token: str) -> None:
        """Revoke a refresh (or access) token at Intuit."""

    @abstractmethod
    def user_info(self, access_token: str) -> Identity:
        """The signed-in person (OpenID userinfo)."""
