"""The emulator's few HTML pages: Intuit's consent screen stand-in and the control API's index."""

from __future__ import annotations

from html import escape

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}"
          "label{display:block;margin:.8rem 0 .2rem}input,select{width:100%;padding:.4rem}"
          "button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.err{color:#b00}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{background:#f4f4f4}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def authorize(fields: dict, app_name: str, realms: list, needs_realm: bool, error: str = "") -> str:
    """The consent form: pick or create a company, say who you are, connect or cancel."""
    hidden = "".join(f"<input type='hidden' name='{escape(k)}' value='{escape(fields.get(k) or '')}'>"
                     for k in ("client_id", "redirect_uri", "scope", "state", "response_type"))
    options = "".join(f"<option value='{escape(r.id)}'>{escape(r.name)} ({escape(r.id)})</option>" for r in realms)
    company = ""
    if needs_realm:
        company = (f"<label for='realm_id'>Company</label><select id='realm_id' name='realm_id'>"
                   f"<option value=''>(create a new company)</option>{options}</select>"
                   "<label for='company_name'>or a new company's name (seeded with demo data)</label>"
                   "<input id='company_name' name='company_name' placeholder='My IT Company'>")
    problem = f"<p class='err'>{escape(error)}</p>" if error else ""
    body = (f"<h1>Connect to QuickBooks (local emulator)</h1><p><b>{escape(app_name)}</b> wants access: "
            f"<code>{escape(fields.get('scope') or '')}</code></p>{problem}"
            f"<form method='post' action='/oauth2/authorize'>{hidden}{company}"
            "<label for='email'>Signed in as</label>"
            f"<input id='email' name='email' value='{escape(fields.get('email') or 'owner@demo.example')}'>"
            "<button type='submit' name='action' value='allow'>Connect</button>"
            "<button type='submit' name='action' value='deny'>Cancel</button></form>")
    return _page("Connect to QuickBooks", body)


def problem(title: str, message: str) -> str:
    """An error page for requests that cannot be redirected back (unknown app, bad redirect URI)."""
    return _page(title, f"<h1>{escape(title)}</h1><p class='err'>{escape(message)}</p>")


def index(base_url: str, realms: list, client_id: str) -> str:
    """The control API's index: realms, their counters and links."""
    rows = "".join(
        f"<tr><td>{escape(r.name)}</td><td><code>{escape(r.id)}</code></td>"
        f"<td>{len(r.objects['Invoice'])}</td><td>{r.counters['requests']}</td>"
        f"<td><a href='/_sandbox/realms/{escape(r.id)}'>data</a> · "
        f"<a href='/_sandbox/realms/{escape(r.id)}/counters'>counters</a> · "
        f"<a href='/_sandbox/realms/{escape(r.id)}/outbox'>outbox</a></td></tr>" for r in realms)
    body = (f"<h1>QuickBooks Online emulator</h1><p>Base URL <code>{escape(base_url)}</code> · demo client id "
            f"<code>{escape(client_id)}</code> · <a href='/.well-known/openid_configuration'>discovery</a> · "
            f"<a href='/_sandbox/webhooks'>webhook deliveries</a> · see docs/sandbox.md for the control API.</p>"
            f"<table><tr><th>company</th><th>realmId</th><th>invoices</th><th>API requests</th><th></th></tr>"
            f"{rows}</table>")
    return _page("QuickBooks emulator", body)
