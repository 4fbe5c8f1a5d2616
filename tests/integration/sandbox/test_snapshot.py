"""The JSON snapshot: what a demo restart keeps."""

from __future__ import annotations

import requests

from sandbox import start_emulator


def test_a_restart_keeps_companies_apps_tokens_and_numbering(tmp_path, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    path = tmp_path / "sandbox.json"
    first = start_emulator(0, snapshot_path=path, seed_demo=True)
    try:
        realm_id = first.demo_realm_id
        first.control.register_app(first.client_id, first.client_secret, webhook_url="http://127.0.0.1:9/hooks",
                                   verifier_token="v")
        tokens = first.control.tokens(realm_id)
        first.control.create_invoice(realm_id, customer="Northwind IT", lines=[{"amount": "100"}])
        first.control.preferences(realm_id, requestid_memory="off")
    finally:
        first.stop()
    second = start_emulator(0, snapshot_path=path, seed_demo=True)
    try:
        assert second.demo_realm_id == realm_id and list(second.world.realms) == [realm_id]
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
        invoice = requests.post(f"{second.api_url}/company/{realm_id}/invoice", headers=headers, timeout=10, json={
            "CustomerRef": {"value": "1"},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}]}).json()["Invoice"]
        assert invoice["DocNumber"] == "1002" and invoice["Id"] == "2"
        app = second.world.apps[second.client_id]
        assert app.webhook_url == "http://127.0.0.1:9/hooks" and app.verifier_token == "v"
        assert second.world.realms[realm_id].requestid_ttl == 0
        refreshed = requests.post(f"{second.url}/oauth2/v1/tokens/bearer", auth=(second.client_id, second.client_secret),
                                  data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                                  timeout=10)
        assert refreshed.status_code == 200
        assert second.world.realms[realm_id].get("Customer", "1")["Balance"] == 105
    finally:
        second.stop()
