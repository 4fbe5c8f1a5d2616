"""The QuickBooks adapter: the only code that imports python-quickbooks or intuitlib."""

from addon.quickbooks.gateway import QuickBooksLedgerGateway
from addon.quickbooks.oauth import IntuitOAuth

__all__ = ["IntuitOAuth", "QuickBooksLedgerGateway"]
