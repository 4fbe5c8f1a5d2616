"""OAuth 2.0 and OpenID against the emulator, driven through intuitlib unmodified."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from tests.integration.sandbox.conftest import REDIRECT_URI, auth_client, quickbooks


def _consent(emulator, scopes, state="xyz", **form) -> dict:
    """Open the authorize URL intuitlib builds, submit the form, and return the redirect's parameters."""
    client = auth_client(emulator)
    url = client.get_authorization_url(scopes, state_token=state)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    hidden = dict(re.findall(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page.text))
    answer = requests.post(f"{emulator.url}/oauth2/authorize", data={**hidden, **form}, allow_redirects=False,
                           timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_intuitlib_reads_the_discovery_document_given_as_its_environment(emulator):
    client = auth_client(emulator)
    assert client.auth_endpoint == f"{emulator.url}/oauth2/authorize"
    assert client.token_endpoint == f"{emulator.url}/oauth2/v1/tokens/bearer"
    assert client.revoke_endpoint == f"{emulator.url}/oauth2/v1/tokens/revoke"
    assert client.user_info_url == f"{emulator.url}/v1/openid_connect/userinfo"
    # Intuit's own discovery URLs end with a slash; that form is answered too.
    assert requests.get(emulator.discovery_url + "/", timeout=10).json()["issuer"] == f"{emulator.url}/op/v1"


def test_a_person_picks_a_company_and_the_code_exchanges_for_tokens(emulator):
    realm_id = emulator.control.create_realm("Northwind Books")
    params = _consent(emulator, [Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL], realm_id=realm_id,
                      email="jane.doe@northwind.example")
    assert params["state"] == "xyz" and params["realmId"] == realm_id
    client = auth_client(emulator)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.access_token and client.refresh_token and client.expires_in == 3600
    assert client.x_refresh_token_expires_in > 0
    client.get_user_info()
    assert client.email == "jane.doe@northwind.example" and client.givenName == "Jane"
    assert emulator.control.counters(realm_id)["token_grants"]["authorization_code"] == 1


def test_naming_a_new_company_on_the_consent_page_creates_a_seeded_realm(emulator):
    params = _consent(emulator, [Scopes.ACCOUNTING], company_name="Fresh Start IT")
    realm = emulator.world.realms[params["realmId"]]
    assert realm.name == "Fresh Start IT" and realm.get("Customer", "1")["DisplayName"] == "Northwind IT"


def test_sign_in_with_intuit_needs_no_company_and_redirects_without_a_realm(emulator):
    params = _consent(emulator, [Scopes.OPENID, Scopes.EMAIL, Scopes.PROFILE], email="sam@contoso.example")
    assert "realmId" not in params
    client = auth_client(emulator)
    client.get_bearer_token(params["code"])
    client.get_user_info()
    assert client.email == "sam@contoso.example" and client.emailVerified is True


def test_cancel_on_the_consent_page_redirects_with_access_denied(emulator):
    params = _consent(emulator, [Scopes.ACCOUNTING], action="deny", company_name="Nope")
    assert params == {"error": "access_denied", "state": "xyz"}


def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(emulator):
    emulator.control.register_app("strict-app", "s3cret", redirect_uris=["https://app.example/cb"])
    page = requests.get(f"{emulator.url}/oauth2/authorize", params={
        "client_id": "strict-app", "redirect_uri": "https://evil.example/cb", "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting", "state": "s"}, allow_redirects=False, timeout=10)
    assert page.status_code == 400 and "Location" not in page.headers


def test_an_authorization_code_works_only_once(emulator):
    realm_id = emulator.control.create_realm("Once Inc")
    code = _consent(emulator, [Scopes.ACCOUNTING], realm_id=realm_id)["code"]
    auth_client(emulator).get_bearer_token(code, realm_id=realm_id)
    with pytest.raises(AuthClientError) as err:
        auth_client(emulator).get_bearer_token(code, realm_id=realm_id)
    assert err.value.status_code == 400 and err.value.response.json() == {"error": "invalid_grant"}


@pytest.mark.emulator_options(code_ttl=60)
def test_an_authorization_code_expires(emulator):
    realm_id = emulator.control.create_realm("Slow Co")
    code = _consent(emulator, [Scopes.ACCOUNTING], realm_id=realm_id)["code"]
    emulator.control.set_clock(advance_seconds=61)
    with pytest.raises(AuthClientError) as err:
        auth_client(emulator).get_bearer_token(code, realm_id=realm_id)
    assert err.value.status_code == 400


def test_refresh_rotates_the_refresh_token_and_the_old_one_gets_invalid_grant(emulator):
    realm_id = emulator.control.create_realm("Rotate Ltd")
    first = emulator.control.tokens(realm_id)
    client = auth_client(emulator, refresh_token=first["refresh_token"])
    client.refresh()
    assert client.refresh_token != first["refresh_token"] and client.access_token != first["access_token"]
    stale = auth_client(emulator)
    with pytest.raises(AuthClientError) as err:
        stale.refresh(refresh_token=first["refresh_token"])
    assert err.value.status_code == 400 and err.value.response.json() == {"error": "invalid_grant"}
    counters = emulator.control.counters(realm_id)
    assert counters["token_grants"]["refresh_token"] == 1 and counters["invalid_grant"] == 1


@pytest.mark.emulator_options(refresh_grace_seconds=30)
def test_within_the_grace_period_a_superseded_refresh_token_still_refreshes(emulator):
    realm_id = emulator.control.create_realm("Grace Co")
    first = emulator.control.tokens(realm_id)
    client = auth_client(emulator, refresh_token=first["refresh_token"])
    client.refresh()
    late = auth_client(emulator, refresh_token=first["refresh_token"])
    late.refresh()
    assert late.refresh_token == client.refresh_token
    emulator.control.set_clock(advance_seconds=31)
    with pytest.raises(AuthClientError):
        auth_client(emulator, refresh_token=first["refresh_token"]).refresh()


def test_wrong_client_credentials_are_refused_with_invalid_client(emulator):
    from intuitlib.client import AuthClient

    realm_id = emulator.control.create_realm("Creds Co")
    tokens = emulator.control.tokens(realm_id)
    client = AuthClient(emulator.client_id, "wrong-secret", REDIRECT_URI, environment=emulator.discovery_url)
    with pytest.raises(AuthClientError) as err:
        client.refresh(refresh_token=tokens["refresh_token"])
    assert err.value.status_code == 401 and err.value.response.json() == {"error": "invalid_client"}


@pytest.mark.emulator_options(access_token_ttl=120)
def test_an_expired_access_token_gets_a_401_and_a_refresh_recovers(emulator):
    from quickbooks.exceptions import AuthorizationException
    from quickbooks.objects.customer import Customer

    realm_id = emulator.control.create_realm("Expiry Co")
    tokens = emulator.control.tokens(realm_id)
    assert tokens["expires_in"] == 120
    qb = quickbooks(emulator, realm_id, tokens)
    assert Customer.get(1, qb=qb).DisplayName == "Northwind IT"
    emulator.control.set_clock(advance_seconds=121)
    with pytest.raises(AuthorizationException):
        Customer.get(1, qb=qb)
    qb.auth_client.refresh()
    qb._start_session()
    assert Customer.get(1, qb=qb).DisplayName == "Northwind IT"


def test_expiring_all_access_tokens_forces_every_client_to_refresh(emulator):
    from quickbooks.exceptions import AuthorizationException
    from quickbooks.objects.customer import Customer

    realm_id = emulator.control.create_realm("Expire All")
    qb = quickbooks(emulator, realm_id, emulator.control.tokens(realm_id))
    assert emulator.control.expire_tokens() >= 1
    with pytest.raises(AuthorizationException):
        Customer.get(1, qb=qb)


def test_revoking_the_refresh_token_ends_the_whole_grant(emulator):
    from quickbooks.exceptions import AuthorizationException
    from quickbooks.objects.customer import Customer

    realm_id = emulator.control.create_realm("Revoke Co")
    tokens = emulator.control.tokens(realm_id)
    qb = quickbooks(emulator, realm_id, tokens)
    assert qb.auth_client.revoke(token=tokens["refresh_token"]) is True
    with pytest.raises(AuthorizationException):
        Customer.get(1, qb=qb)
    with pytest.raises(AuthClientError):
        auth_client(emulator, refresh_token=tokens["refresh_token"]).refresh()


def test_a_token_for_one_company_is_refused_by_another(emulator):
    first, second = emulator.control.create_realm("A Co"), emulator.control.create_realm("B Co")
    tokens = emulator.control.tokens(first)
    answer = requests.get(f"{emulator.api_url}/company/{second}/customer/1",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert answer.status_code == 403 and answer.json()["fault"]["error"][0]["code"] == "3100"


def test_every_token_issued_is_listed_for_secret_scanning(emulator):
    realm_id = emulator.control.create_realm("Scan Co")
    tokens = emulator.control.tokens(realm_id)
    client = auth_client(emulator, refresh_token=tokens["refresh_token"])
    client.refresh()
    issued = emulator.control.issued_tokens()
    for token in (tokens["access_token"], tokens["refresh_token"], client.access_token, client.refresh_token):
        assert token in issued
