"""The one vendor API client (``connectors.api_client``), against a fake session: no network."""

import pytest
import requests

from connectors.api_client import JsonApi, RateLimited, enrich_each, stored_token
from connectors.errors import EnrichmentError

TOKEN = "pat-very-secret"


class FakeSession:
    """Answers every request with one scripted response (or raises), and records what was asked."""

    def __init__(self, status=200, body=b"{}", headers=None, raises=None):
        self.status, self.body, self.headers, self.raises = status, body, headers or {}, raises
        self.calls = []
        self.closed = False

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        if self.raises:
            raise self.raises
        response = requests.Response()
        response.status_code, response._content = self.status, self.body
        response.headers.update(self.headers)
        return response

    def close(self):
        self.closed = True


def api(session, **kwargs):
    return JsonApi("https://api.example.com/v2", headers={"Authorization": f"Bearer {TOKEN}"}, vendor="Acme",
                   session=session, **kwargs)


def test_requests_carry_a_timeout_and_do_not_follow_redirects():
    session = FakeSession(body=b'{"ok": true}')
    assert api(session).get("/things/1", params={"q": "x"}) == {"ok": True}
    [(method, url, kwargs)] = session.calls
    assert (method, url) == ("GET", "https://api.example.com/v2/things/1")
    assert kwargs["timeout"] == (5.0, 10.0) and kwargs["allow_redirects"] is False


def test_a_redirect_is_an_error_naming_vendor_path_and_status_but_not_the_token():
    with pytest.raises(EnrichmentError, match=r"Acme GET /v2/things/1 answered 302 \(HTTP 302 Found\)") as caught:
        api(FakeSession(status=302, headers={"Location": "https://evil.example/"})).get("/things/1?token=x")
    assert TOKEN not in caught.value.message and "token=x" not in caught.value.message
    assert caught.value.status == 302


def test_a_429_is_rate_limited_with_the_wait_the_vendor_asked_for():
    with pytest.raises(RateLimited, match=r"Acme GET /v2/things is rate limiting requests \(HTTP 429\); it asked to wait 7 s") as caught:
        api(FakeSession(status=429, headers={"Retry-After": "7"})).get("/things")
    assert caught.value.retry_after == 7 and caught.value.retryable


def test_a_404_is_none_only_when_the_caller_allows_a_missing_record():
    assert api(FakeSession(status=404)).get("/things/9", missing_ok=True) is None
    with pytest.raises(EnrichmentError, match="HTTP 404 Not Found"):
        api(FakeSession(status=404)).get("/things/9")


def test_timeouts_and_unreachable_hosts_are_enrichment_errors():
    with pytest.raises(EnrichmentError, match="Acme GET /v2/x timed out after 5 s"):
        api(FakeSession(raises=requests.ConnectTimeout("boom"))).get("/x")
    with pytest.raises(EnrichmentError, match="timed out after 2.5 s"):
        api(FakeSession(raises=requests.ReadTimeout("boom")), timeout="2.5").get("/x")
    with pytest.raises(EnrichmentError, match=r"could not reach Acme GET /v2/x \(ConnectionError\)"):
        api(FakeSession(raises=requests.ConnectionError("boom"))).get("/x")


def test_links_and_paths_that_leave_the_apis_host_are_refused_before_any_request():
    session = FakeSession()
    with pytest.raises(EnrichmentError, match="another host"):
        api(session).follow("https://evil.example/v2/things?page=2")
    hostonly = JsonApi("https://api.example.com", headers={}, vendor="Acme", session=session)
    with pytest.raises(EnrichmentError, match="would leave the API's host"):
        hostonly.get("@evil.example/things")
    assert session.calls == []
    assert api(session).follow("https://api.example.com/v2/things?page=2") == {}


def test_an_answer_that_is_not_json_is_an_enrichment_error():
    with pytest.raises(EnrichmentError, match="answered 200 with a body that is not JSON"):
        api(FakeSession(body=b"<html>")).get("/x")


def test_stored_tokens_come_from_a_string_or_the_first_key_set_and_are_never_blank():
    assert stored_token(" t ", ("token",), "none") == "t"
    assert stored_token({"token": "", "access_token": "a"}, ("token", "access_token"), "none") == "a"
    for missing in (None, "", "  ", {"other": "x"}, 5):
        with pytest.raises(EnrichmentError, match="none stored"):
            stored_token(missing, ("token",), "none stored")


def test_enrich_each_names_the_event_when_an_answer_has_an_unexpected_shape_and_closes_its_own_session(monkeypatch):
    monkeypatch.setattr(requests, "Session", FakeSession)
    client = api(None)
    own = client._session
    with pytest.raises(EnrichmentError, match="Acme answered deal 7 in an unexpected shape \\(KeyError\\)"):
        enrich_each(client, [7], lambda event: {}["missing"], lambda event: f"deal {event}")
    given = FakeSession()
    assert enrich_each(api(given), [1, 2], lambda event: event * 2, str) == [2, 4] and not given.closed
    assert isinstance(own, FakeSession) and own.closed
