"""The web app's QuickBooks pages, driven over HTTP with Flask's test client and the real emulator."""

from urllib.parse import urlparse

import pytest
import requests

from addon import bootstrap
from addon.ledger import InvalidGrant
from tests.integration.connection.conftest import _close, emulator_container
from webapp import create_app


@pytest.fixture
def container(tmp_path, sqlite_database_url, redis_url, emulator):
    made = emulator_container(tmp_path, sqlite_database_url, redis_url, emulator)
    bootstrap.set_current(made)
    yield made
    bootstrap.set_current(None)
    _close(made)


@pytest.fixture
def app(container):
    return create_app(container)


def consent(authorize_url: str, *, email: str, company_name: str = "", realm_id: str = "") -> str:
    """Play the person at the emulator's consent page; returns the callback URL it redirects to."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200
    fields = dict(__import__("re").findall(r"name='(\w+)' value='([^']*)'", page.text))
    form = {k: fields[k] for k in ("client_id", "redirect_uri", "scope", "state", "response_type") if k in fields}
    form.update(email=email, realm_id=realm_id, company_name=company_name, action="allow")
    reply = requests.post(f"{authorize_url.split('/oauth2/')[0]}/oauth2/authorize", data=form,
                          allow_redirects=False, timeout=10)
    assert reply.status_code == 302, reply.text
    return reply.headers["Location"]


def through_intuit(client, start: str, **person) -> object:
    """GET ``start`` on autobill, consent at the emulator, come back to the callback; the final response."""
    went = client.get(start)
    assert went.status_code == 302
    callback = urlparse(consent(went.headers["Location"], **person))
    assert callback.path == "/qbo/callback"
    return client.get(f"{callback.path}?{callback.query}")


def _company_id(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_the_connect_flow_end_to_end_lands_the_admin_on_the_new_companys_page(app, container, emulator):
    client = app.test_client()
    company_id = _company_id(through_intuit(client, "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    page = client.get(f"/companies/{company_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Northwind IT" in text and "your role: admin" in text
    assert "Disconnect from QuickBooks" in text and "company.connected" in text
    assert "Northwind IT" in client.get("/companies").get_data(as_text=True)
    assert not any(token in text for token in emulator.control.issued_tokens())
    assert page.headers["Cache-Control"] == "no-store"


def test_a_callback_whose_state_started_in_another_browser_is_refused(app, container, emulator):
    alice, mallory = app.test_client(), app.test_client()
    went = alice.get("/qbo/connect")
    callback = urlparse(consent(went.headers["Location"], email="nora@northwind.example", company_name="Northwind IT"))
    answer = mallory.get(f"{callback.path}?{callback.query}")
    assert answer.status_code == 400 and "did not start here" in answer.get_data(as_text=True)
    assert container.companies.list() == []


def test_cancelling_at_intuit_connects_nothing(app, container, emulator):
    client = app.test_client()
    went = client.get("/qbo/connect")
    page = requests.get(went.headers["Location"], timeout=10)
    fields = dict(__import__("re").findall(r"name='(\w+)' value='([^']*)'", page.text))
    reply = requests.post(f"{emulator.url}/oauth2/authorize", data={**fields, "action": "deny"}, allow_redirects=False,
                          timeout=10)
    callback = urlparse(reply.headers["Location"])
    answer = client.get(f"{callback.path}?{callback.query}")
    assert answer.status_code == 400 and "access denied" in answer.get_data(as_text=True)
    assert container.companies.list() == []


def test_the_launch_url_signs_in_with_intuit_and_lands_on_that_company(app, container, emulator):
    company_id = _company_id(through_intuit(app.test_client(), "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    realm = container.companies.get(company_id).realm_id
    later = app.test_client()
    landed = through_intuit(later, f"/qbo/launch?realmId={realm}", email="nora@northwind.example")
    assert landed.status_code == 302 and landed.headers["Location"].endswith(f"/companies/{company_id}")
    assert later.get(f"/companies/{company_id}").status_code == 200


def test_every_company_route_checks_the_users_role(app, container, emulator):
    company_id = _company_id(through_intuit(app.test_client(), "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    anonymous = app.test_client()
    assert anonymous.get(f"/companies/{company_id}").headers["Location"].startswith("/signin")
    stranger = app.test_client()
    through_intuit(stranger, "/signin", email="sam@contoso.example")
    with stranger.session_transaction() as session:
        token = session.get("csrf") or "x"
    assert stranger.get(f"/companies/{company_id}").status_code == 403
    assert stranger.get(f"/companies/{company_id}/audit.csv").status_code == 403
    refused = stranger.post(f"/companies/{company_id}/disconnect", data={"csrf_token": token})
    assert refused.status_code == 403
    assert container.companies.get(company_id).status == "connected"

    container.companies.grant(company_id, "sam@contoso.example", "viewer", actor="test")
    assert stranger.get(f"/companies/{company_id}").status_code == 200
    assert stranger.get(f"/companies/{company_id}/audit.csv").status_code == 403
    assert stranger.post(f"/companies/{company_id}/timezone",
                         data={"csrf_token": token, "timezone": "Europe/Berlin"}).status_code == 403


def test_the_disconnect_button_needs_the_forms_token_then_revokes_at_intuit(app, container, emulator):
    client = app.test_client()
    company_id = _company_id(through_intuit(client, "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    refresh_token = container.tokens.store.load(company_id).refresh_token
    assert client.post(f"/companies/{company_id}/disconnect", data={}).status_code == 403
    page = client.get(f"/companies/{company_id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(f"/companies/{company_id}/disconnect", data={"csrf_token": token})
    assert done.status_code == 302
    assert container.companies.get(company_id).status == "disconnected"
    with pytest.raises(InvalidGrant):
        container.oauth.refresh(refresh_token)
    assert "Reconnect to QuickBooks" in client.get(f"/companies/{company_id}").get_data(as_text=True)


def test_the_admin_sets_the_time_zone_and_a_bad_one_is_a_clear_400(app, container, emulator):
    client = app.test_client()
    company_id = _company_id(through_intuit(client, "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    page = client.get(f"/companies/{company_id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(f"/companies/{company_id}/timezone",
                       data={"csrf_token": token, "timezone": "America/New_York"}).status_code == 302
    assert container.companies.get(company_id).timezone == "America/New_York"
    bad = client.post(f"/companies/{company_id}/timezone", data={"csrf_token": token, "timezone": "Mars/Base"})
    assert bad.status_code == 400 and "not an IANA time zone" in bad.get_data(as_text=True)


def test_intuits_disconnect_url_disconnects_only_when_intuit_really_refuses_the_grant(app, container, emulator):
    company_id = _company_id(through_intuit(app.test_client(), "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    realm = container.companies.get(company_id).realm_id
    assert app.test_client().get(f"/qbo/disconnect?realmId={realm}").status_code == 200
    assert container.companies.get(company_id).status == "connected"
    container.oauth.revoke(container.tokens.store.load(company_id).refresh_token)  # done inside QuickBooks
    page = app.test_client().get(f"/qbo/disconnect?realmId={realm}")
    assert page.status_code == 200 and "disconnected" in page.get_data(as_text=True)
    assert container.companies.get(company_id).status == "disconnected"
    assert container.audit.records(company_id)[-1].actor == "intuit"


def test_connecting_asks_intuit_for_accounting_and_openid_and_signing_in_for_openid_only(app):
    from urllib.parse import parse_qs

    client = app.test_client()
    connect = parse_qs(urlparse(client.get("/qbo/connect").headers["Location"]).query)
    assert connect["scope"] == ["com.intuit.quickbooks.accounting openid email profile"]
    assert connect["response_type"] == ["code"] and connect["state"][0]
    sign_in = parse_qs(urlparse(client.get("/signin").headers["Location"]).query)
    assert sign_in["scope"] == ["openid email profile"]


def test_the_company_page_tells_the_admin_why_the_company_needs_reconnecting(app, container, emulator):
    from addon.ledger import AuthLost

    client = app.test_client()
    company_id = _company_id(through_intuit(client, "/qbo/connect", email="nora@northwind.example",
                                            company_name="Northwind IT"))
    realm = container.companies.get(company_id).realm_id
    emulator.control.fault(realm, "GET companyinfo", status=401, times=2)  # even the refreshed token is refused
    with pytest.raises(AuthLost):
        container.ledger(company_id).company_info()
    page = client.get(f"/companies/{company_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Needs reconnecting: QuickBooks refused a freshly refreshed access token" in text
    assert "the authorization no longer works" in text and "paused, not lost" in text
    assert "Reconnect to QuickBooks" in text and "Disconnect from QuickBooks" not in text
    assert "connection.lost" in text
    assert not any(token in text for token in emulator.control.issued_tokens())
