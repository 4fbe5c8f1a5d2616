"""The emulator's own exceptions (QuickBooks faults live in ``sandbox.faults``)."""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth error answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str = ""):
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class ControlError(Exception):
    """A bad control-API request, answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message
