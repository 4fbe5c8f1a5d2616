"""The secret-leak plugin (tests/leakcheck.py) fails a session whose child process logged a token.

The inner sessions run in a subprocess (``runpytest_subprocess``): the plugin keeps its findings in
module state, and a token planted in-process would fail this very session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import leakcheck

pytest_plugins = ["pytester"]

ROOT = Path(__file__).parents[2]
TOKEN = "AB11" + "7" * 10 + "kTqWzXbYvUaSrPoNmLkJ"
ACCESS = "eyJ" + "x" * 40


def test_the_check_finds_a_token_alone_or_glued_inside_a_longer_run_and_nothing_else():
    lines = [f"refresh_token={TOKEN}&grant_type=refresh_token", f"Bearer-{ACCESS}-tail", "nothing here"]
    assert leakcheck.leaks_in(lines, {TOKEN, ACCESS, "AB11neverissuedneverissued"}) == sorted([TOKEN, ACCESS])
    assert leakcheck.leaks_in(["a job id 0123456789abcdef0123456789abcdef"], {TOKEN}) == []
    assert leakcheck.leaks_in([TOKEN[:-1]], {TOKEN}) == []


INNER = '''
import subprocess
import sys

from tests import leakcheck

TOKEN = {token!r}


def child(code, **kwargs):
    subprocess.run([sys.executable, "-c", code], check=True, **kwargs)


def test_a_child_process_writes_its_log_file(tmp_path):
    leakcheck.remember([TOKEN])
    with (tmp_path / "worker.log").open("w") as log:
        child(f"print('refreshed with {{TOKEN}}')" if {leak_file} else "print('refreshed')", stdout=log)


def test_a_child_process_writes_a_log_file_outside_tmp_path(tmp_path_factory):
    target = tmp_path_factory.mktemp("elsewhere") / "scheduler.txt"
    leakcheck.watch(target)
    target.write_text(TOKEN if {leak_watched} else "quiet")


def test_a_child_process_without_a_log_file_writes_to_the_captured_stderr():
    child(f"import sys; sys.stderr.write('grant {{TOKEN}}')" if {leak_stderr} else "pass")
'''


def _run(pytester, **leaks):
    pytester.makepyfile(test_inner=INNER.format(token=TOKEN, leak_file=leaks.get("file", False),
                                                leak_watched=leaks.get("watched", False),
                                                leak_stderr=leaks.get("stderr", False)))
    return pytester.runpytest_subprocess("-p", "tests.leakcheck", "-p", "no:cacheprovider", "-q")


@pytest.fixture
def pythonpath(monkeypatch):
    """The inner session imports tests.leakcheck from this checkout."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


@pytest.mark.parametrize("where", ["file", "watched", "stderr"])
def test_a_session_fails_when_a_child_process_logged_an_issued_token(pytester, pythonpath, where):
    result = _run(pytester, **{where: True})
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"SECRET LEAK: 1 token(s) issued by the emulator appear*(starting {TOKEN[:6]}...)",
                                 "3 passed*"])


def test_a_session_whose_children_logged_no_token_passes(pytester, pythonpath):
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert "SECRET LEAK" not in result.stdout.str()
