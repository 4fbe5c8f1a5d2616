"""``autobill companies connect --emulator``: the browser's part of the connect flow, done headless.

It runs the same code flow as the web app (authorize URL with state, callback with code and
realmId, ``ConnectFlow.finish_connect``) and only plays the person in front of the emulator's
consent form: it reads the form's hidden fields and submits it with a company and an email.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import requests

from addon.connect import Connected, ConnectFlow
from addon.errors import ConfigError, InvalidInput
from addon.oauth import CONNECT


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def connect_with_emulator(container, *, company_name: str | None = None, realm_id: str | None = None,
                          email: str = "owner@demo.example", timeout: float = 30.0) -> Connected:
    """Connect a company of the emulator that ``container`` is configured for."""
    flow = ConnectFlow(container)
    try:
        url, state = flow.start(CONNECT)
        page = requests.get(url, timeout=timeout)
    except requests.RequestException:
        raise ConfigError(f"the QuickBooks emulator does not answer at {container.settings.sandbox_url}: "
                          "start it with `autobill run` (or `autobill sandbox`)") from None
    form = _Form()
    form.feed(page.text)
    if page.status_code != 200 or form.action is None or "state" not in form.fields:
        raise ConfigError(f"{urlparse(url).netloc} did not show the emulator's consent form (HTTP {page.status_code})")
    answer = {**form.fields, "realm_id": realm_id or "", "email": email, "action": "allow",
              "company_name": "" if realm_id else (company_name or "Demo IT Services")}
    reply = requests.post(urljoin(url, form.action), data=answer, allow_redirects=False, timeout=timeout)
    location = reply.headers.get("Location", "")
    if reply.status_code != 302 or not location:
        raise InvalidInput(f"the emulator refused the connection (HTTP {reply.status_code})")
    query = parse_qs(urlparse(location).query)
    if query.get("state", [""])[0] != state:
        raise InvalidInput("the emulator answered with a different state: refusing the connection")
    if "error" in query:
        raise InvalidInput(f"the emulator refused the connection: {query['error'][0]}")
    return flow.finish_connect(query.get("code", [""])[0], query.get("realmId", [""])[0])
