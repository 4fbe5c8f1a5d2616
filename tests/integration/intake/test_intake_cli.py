"""From the command line: import the example agreements, create an endpoint, send it a signed generic
delivery, and see the stored delivery and event; replay; endpoints with secrets from standard input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rq import SimpleWorker

from addon import bootstrap
from addon.models.inbox import Endpoint
from connectors import generic
from tests.integration.connection.test_cli import run
from webapp import create_app

DOCS = Path(__file__).parents[3] / "docs" / "agreements"
DELIVERY = {"id": "zap-1", "events": [{"kind": "time_logged", "source_object_id": "entry-1",
                                       "occurred_at": "2026-01-12T17:00:00Z",
                                       "attributes": {"hours": "37.5", "project": "site"}}]}


def _line(out: str, prefix: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(prefix)).split(None, 1)[1]


def test_import_create_send_and_see_the_stored_event_then_replay_it(cli_company, capsys):
    for path in sorted(DOCS.glob("*.json")):
        code, _, err = run(capsys, "agreements", "import", str(path), "--company", cli_company.id, "--as", "ann",
                           "--reassign")
        assert (code, err) == (0, "")
    code, out, _ = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "generic", "--as", "ann")
    assert code == 0
    url, secret = _line(out, "url"), _line(out, "secret")
    assert url.startswith("https://autobill.example/hooks/generic/") and secret.startswith("abs_")
    code, out, _ = run(capsys, "endpoints", "list", "--company", cli_company.id)
    assert url in out and secret not in out

    container = bootstrap.current()
    raw = json.dumps(DELIVERY).encode()
    answer = create_app(container).test_client().post(urlsplit(url).path, data=raw, headers={
        "Content-Type": "application/json", "Autobill-Signature": generic.signature_header(raw, secret)})
    assert answer.status_code == 200
    worker = SimpleWorker([container.queue("events")], connection=container.redis)
    worker.subscribe = worker.unsubscribe = lambda: None
    worker.work(burst=True)
    capsys.readouterr()  # the worker's own log lines

    code, out, _ = run(capsys, "inbox", "list", "--company", cli_company.id)
    delivery_id = out.split()[0]
    assert "generic" in out and "processed" in out and "1 event(s)" in out
    code, out, _ = run(capsys, "events", "list", "--company", cli_company.id)
    assert "time_logged" in out and "generic:entry-1" in out and "needs mapping" in out  # the usage ledger took it
    code, out, err = run(capsys, "inbox", "show", delivery_id, "--company", cli_company.id)
    assert err == ""
    assert '"zap-1"' in out and "autobill-signature:" in out
    code, out, _ = run(capsys, "replay", delivery_id, "--company", cli_company.id, "--as", "ann")
    assert code == 0 and out.splitlines()[0] == f"{delivery_id}  processed  1 event(s)"
    assert "time_logged  done  usage generic:entry-1 version 1 already recorded from this event" in out
    code, out, _ = run(capsys, "events", "list", "--company", cli_company.id)
    assert len(out.splitlines()) == 1  # replaying stored nothing twice
    code, _, err = run(capsys, "replay", "dl_nope", "--company", cli_company.id)
    assert code == 2 and "no delivery 'dl_nope'" in err
    actions = [r.action for r in container.audit.records(cli_company.id)]
    assert "endpoint.created" in actions and "delivery.replayed" in actions


def test_endpoints_take_the_vendors_secret_and_api_credentials_from_standard_input(
        cli_company, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('whsec_test_secret\n{"access_token": "sk", "instance_url": '
                                                 '"https://northwind.my.salesforce.com"}\n'))
    code, out, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "stripe",
                         "--secret-stdin", "--api-token-stdin", "--setting", "tolerance_seconds=600")
    assert (code, err) == (0, "") and "secret" not in out and "whsec" not in out
    endpoint_id = out.split()[1]
    container = bootstrap.current()
    with container.unit_of_work() as session:
        row = session.get(Endpoint, endpoint_id)
    assert container.vault.decrypt(row.secret) == "whsec_test_secret"
    assert json.loads(container.vault.decrypt(row.api_credentials))["access_token"] == "sk"
    assert json.loads(row.settings) == {"tolerance_seconds": 600}
    code, _, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "hubspot")
    assert code == 2 and err == "autobill: hubspot endpoints need the signing secret hubspot issues (--secret-stdin)\n"
    code, _, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "salesforce")
    assert code == 2 and "organization_id" in err
    code, _, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", "zendesk")
    assert code == 2 and "no source called 'zendesk'" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("pat-na1-new-token\n"))
    code, out, _ = run(capsys, "endpoints", "configure", "--company", cli_company.id, "--endpoint", endpoint_id,
                       "--api-token-stdin", "--setting", "tolerance_seconds=null")
    assert code == 0 and out.endswith("settings {}\n")
    with container.unit_of_work() as session:
        assert json.loads(container.vault.decrypt(session.get(Endpoint, endpoint_id).api_credentials)) == \
            "pat-na1-new-token"
    details = [r.details for r in container.audit.records(cli_company.id)]
    assert not any("whsec" in d or "pat-na1" in d for d in details)


@pytest.mark.parametrize("source", ["generic", "asana"])
def test_a_secret_autobill_makes_or_a_handshake_brings_cannot_be_passed_in(cli_company, capsys, monkeypatch,
                                                                           source):
    monkeypatch.setattr("sys.stdin", io.StringIO("my-own-secret\n"))
    code, _, err = run(capsys, "endpoints", "create", "--company", cli_company.id, "--source", source, "--secret-stdin")
    assert code == 2 and "do not pass one" in err
