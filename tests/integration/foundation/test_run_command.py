"""`autobill run` (what `make run` calls) brings everything up on embedded defaults and stops it all."""

import os
import signal
import subprocess
import sys
import time

import requests

from tests.conftest import free_port


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_run_brings_up_the_emulator_web_app_workers_and_scheduler_and_stops_them(redis_url, tmp_path):
    web, sandbox = free_port(), free_port()
    env = {**os.environ, "AUTOBILL_STATE_DIR": str(tmp_path / "state"), "AUTOBILL_WEB_PORT": str(web),
           "AUTOBILL_SANDBOX_PORT": str(sandbox), "REDIS_URL": redis_url, "AUTOBILL_WORKERS": "1"}
    env.pop("QBO_CLIENT_ID", None)
    out = (tmp_path / "run.out").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "addon", "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert _wait_for(lambda: "Press Ctrl-C to stop." in (tmp_path / "run.out").read_text()), \
            (tmp_path / "run.out").read_text()
        banner = (tmp_path / "run.out").read_text()
        assert f"http://127.0.0.1:{web}/" in banner and "demo mode" in banner
        assert requests.get(f"http://127.0.0.1:{web}/health", timeout=5).json() == {"ok": True}
        assert "autobill" in requests.get(f"http://127.0.0.1:{web}/", timeout=5).text
        discovery = requests.get(f"http://127.0.0.1:{sandbox}/.well-known/openid_configuration", timeout=5).json()
        assert discovery["token_endpoint"].startswith(f"http://127.0.0.1:{sandbox}/")
        logs = tmp_path / "state" / "logs"
        assert _wait_for(lambda: "starting" in (logs / "scheduler.log").read_text())
        assert (tmp_path / "state" / "autobill.sqlite3").exists()
        assert "Traceback" not in banner
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        out.close()
    assert "Stopping autobill" in (tmp_path / "run.out").read_text()
    for port in (web, sandbox):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            raise AssertionError(f"something still answers on port {port} after autobill run stopped")
        except requests.ConnectionError:
            pass
