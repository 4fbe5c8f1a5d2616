"""One module per source. Every connector module has the same small surface:

- ``verify(raw_body, headers, secret, *, url=None, method="POST", now=None, settings=None)``
  raises ``connectors.errors.VerificationError`` when the request is not authentic;
- ``delivery_key(raw_body, headers) -> str``: the sender's delivery id (dedupe key);
- ``events(raw_body, headers, *, settings=None) -> list[rules.Event]``: empty when the
  delivery does not concern billing;
- ``ignored_reason(raw_body, headers, *, settings=None) -> str | None``: why ``events`` is empty;
- optionally ``reply(raw_body, headers) -> (status, headers, body) | None`` for handshakes,
  pings and acknowledgements;
- optionally ``enrich(events, *, credentials, base_url=None, session=None, settings=None)
  -> list[rules.Event]`` for sources whose payloads carry only ids: fetches what billing needs
  (amounts, line items, the customer) from the source's API with the company's stored
  credentials (a str or a dict, as the connector documents) and returns the completed events;
  raises ``connectors.errors.EnrichmentError`` (retryable) on failure. Where the API shows that an
  event should not bill (Asana: the task is not completed after all), ``enrich`` drops it and
  returns a ``connectors.base.Enriched``: still a list of the kept events, plus ``.dropped``, a list
  of ``DroppedEvent(event, reason)``. ``connectors.base.dropped_reasons(result)`` reads them from any
  ``enrich`` result (empty for a plain list); the caller records each reason as it would an
  ``ignored_reason``.
- optionally ``handshake_secret(raw_body, headers) -> str | None`` for senders that hand over their
  signing secret in a handshake (Asana's ``X-Hook-Secret``): the secret of a handshake request, or
  ``None`` for ordinary deliveries. The front door accepts a handshake only while the endpoint awaits
  one: it stores this secret in the vault, then sends ``reply``'s answer; otherwise it refuses.
- optionally ``check_settings(settings)``: raises a ``ConnectorError`` when the connector's own
  endpoint settings (Jira, Asana and ClickUp custom fields) are not of the documented form;
  ``endpoints create|configure`` call it, so a bad setting is refused when it is saved.

Sources without webhooks offer a polling client instead (``connectors.harvest.poll``), which
``tick`` calls with a stored cursor.

Usage events (time logged, expense logged, SLA breached) carry their fields in
``Event.attributes`` as ``rules.usage.USAGE_ATTRIBUTES`` lists; ``rules.usage_from_event``
turns them into ``UsageRecord``s.

Connectors import only ``rules``; they do no I/O except optional enrichment and polling
clients, whose base URLs are settings.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from connectors.errors import UnknownConnector

REQUIRED = ("verify", "delivery_key", "events", "ignored_reason")
_NOT_CONNECTORS = {"base", "errors"}
# Sources without webhooks: tick polls their API (``connectors.harvest.poll``); not in ``names()``.
POLLED = ("harvest",)


def names() -> list[str]:
    """Every connector's name, sorted."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_CONNECTORS or info.name.startswith("_") or info.ispkg:
            continue
        found.append(info.name)
    return sorted(n for n in found if _is_connector(importlib.import_module(f"{__name__}.{n}")))


def sources() -> list[str]:
    """Every source autobill takes signals from: the webhook connectors and the polled sources, sorted."""
    return sorted({*names(), *POLLED})


def _is_connector(module: ModuleType) -> bool:
    return all(callable(getattr(module, attr, None)) for attr in REQUIRED)


def get(name: str) -> ModuleType:
    """The connector module called ``name`` (``connectors.get("hubspot")``)."""
    if not name.isidentifier() or name in _NOT_CONNECTORS or name.startswith("_"):
        raise UnknownConnector(f"no connector called {name!r}")
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise UnknownConnector(f"no connector called {name!r}") from None
    if not _is_connector(module):
        raise UnknownConnector(f"no connector called {name!r}")
    return module
