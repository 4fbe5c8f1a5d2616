"""The connectors' errors: one flat module, each with a code and whether a retry can help."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error."""

    code = "connector_error"
    retryable = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class VerificationError(ConnectorError):
    """The request is not authentic: bad or missing signature, wrong secret, stale timestamp.

    Messages name what was wrong (which header, stale by how long) but never a secret or a
    computed signature.
    """

    code = "not_authentic"


class PayloadError(ConnectorError):
    """The body passed authentication but cannot be read (kept in the inbox as unparseable)."""

    code = "unparseable"


class EnrichmentError(ConnectorError):
    """Fetching what billing needs from the source's API failed; retrying may help."""

    code = "enrichment_failed"
    retryable = True


class UnknownConnector(ConnectorError):
    """No connector has that name."""

    code = "unknown_connector"
