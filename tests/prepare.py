"""Run by ``make test`` before pytest: make sure the machine has what the suite needs.

Installs redis-server (and Chromium when browser tests exist) with apt when missing and we are
root; otherwise says in one line what to install. With CI=true a PostgreSQL that does not answer
stops the run here, so its tests are never silently skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _apt_install(*packages: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    if subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet).returncode == 0:
        return True
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    return subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet).returncode == 0


def _need(binary: str, package: str) -> None:
    if shutil.which(binary):
        return
    print(f"Installing {package} with apt ...", flush=True)
    if not _apt_install(package) or not shutil.which(binary):
        sys.exit(f"The tests need {binary}: install it with `sudo apt install {package}`.")


def _postgres_answers(url: str) -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False


def main() -> None:
    _need("redis-server", "redis-server")
    if any((ROOT / "tests" / "e2e").glob("test_*.py")) and not Path("/usr/bin/chromium").exists():
        _need("chromium", "chromium")
    from tests.settings import postgres_url

    url = postgres_url()
    if os.environ.get("CI") == "true" and not _postgres_answers(url):
        sys.exit(f"CI=true and PostgreSQL does not answer at {url} (set AUTOBILL_TEST_POSTGRES_URL).")


if __name__ == "__main__":
    main()
