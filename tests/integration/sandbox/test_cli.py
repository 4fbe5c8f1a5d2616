"""``autobill sandbox`` as a person runs it: a process that prints where it is and keeps its state."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests


def _start(snapshot: Path, *flags: str) -> tuple[subprocess.Popen, str, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "addon", "sandbox", "--port", "0", "--snapshot", str(snapshot),
                             *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            url = re.search(r"listening on (\S+)", "".join(lines)).group(1)
            return proc, url, lines
    proc.kill()
    raise AssertionError("the emulator did not start: " + "".join(lines))


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=15)
    return out


def test_the_command_prints_the_demo_credentials_and_keeps_its_state_across_a_restart(tmp_path):
    snapshot = tmp_path / "sandbox.json"
    proc, url, lines = _start(snapshot)
    try:
        banner = "".join(lines)
        assert "autobill-demo-client" in banner and "autobill-demo-secret" in banner
        realm_id = re.search(r"realmId (\d+)", banner).group(1)
        tokens = requests.post(f"{url}/_sandbox/realms/{realm_id}/tokens", json={"client_id": "autobill-demo-client"},
                               timeout=10).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
        created = requests.post(f"{url}/v3/company/{realm_id}/customer", json={"DisplayName": "Kept Across Restarts"},
                                headers=headers, timeout=10).json()["Customer"]
    finally:
        assert "stopped" in _stop(proc)
    assert snapshot.exists()
    proc, url, lines = _start(snapshot)
    try:
        again = requests.get(f"{url}/v3/company/{realm_id}/customer/{created['Id']}", headers=headers, timeout=10)
        assert again.status_code == 200 and again.json()["Customer"]["DisplayName"] == "Kept Across Restarts"
    finally:
        _stop(proc)


def test_a_port_in_use_is_one_line_not_a_traceback(emulator):
    done = subprocess.run([sys.executable, "-m", "addon", "sandbox", "--port", str(emulator.port)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "cannot listen" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_the_demo_apps_client_id_and_secret_can_be_set_by_flags(tmp_path, monkeypatch):
    from tests.integration.sandbox.conftest import REDIRECT_URI

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    proc, url, lines = _start(tmp_path / "sandbox.json", "--client-id", "northwind-app",
                              "--client-secret", "northwind-secret")
    try:
        banner = "".join(lines)
        assert "northwind-app" in banner and "northwind-secret" in banner and "autobill-demo" not in banner
        realm_id = re.search(r"realmId (\d+)", banner).group(1)
        tokens = requests.post(f"{url}/_sandbox/realms/{realm_id}/tokens", json={}, timeout=10).json()
        from intuitlib.client import AuthClient

        client = AuthClient("northwind-app", "northwind-secret", REDIRECT_URI,
                            environment=f"{url}/.well-known/openid_configuration")
        client.refresh(refresh_token=tokens["refresh_token"])  # intuitlib authenticates with the flags' pair
        assert client.access_token and client.refresh_token != tokens["refresh_token"]
        token_url = f"{url}/oauth2/v1/tokens/bearer"
        for pair in (("autobill-demo-client", "autobill-demo-secret"), ("northwind-app", "wrong")):
            refused = requests.post(token_url, auth=pair, timeout=10,
                                    data={"grant_type": "refresh_token", "refresh_token": client.refresh_token})
            assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}
    finally:
        _stop(proc)
