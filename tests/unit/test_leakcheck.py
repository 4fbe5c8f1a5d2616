"""The secret-leak plugin (tests/leakcheck.py) fails a session whose child processes logged a token.

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
# Shaped like the emulator's refresh tokens and access tokens; one per place a child process can write.
IN_FILE = "AB11F1" + "7" * 10 + "kTqWzXbYvUaSrPoN"
IN_WATCHED = "AB11W2" + "8" * 10 + "mLkJhGfDsAqWeRtY"
IN_STDERR = "eyJS3x" + "x" * 40


def test_the_check_finds_a_token_alone_or_glued_inside_a_longer_run_and_nothing_else():
    lines = [f"refresh_token={IN_FILE}&grant_type=refresh_token", f"Bearer-{IN_STDERR}-tail", "nothing here"]
    assert leakcheck.leaks_in(lines, {IN_FILE, IN_STDERR, IN_WATCHED}) == sorted([IN_FILE, IN_STDERR])
    assert leakcheck.leaks_in(["a job id 0123456789abcdef0123456789abcdef"], {IN_FILE}) == []
    assert leakcheck.leaks_in([IN_FILE[:-1]], {IN_FILE}) == []


INNER = '''
import subprocess
import sys

from tests import leakcheck


def child(code, **kwargs):
    subprocess.run([sys.executable, "-c", code], check=True, **kwargs)


def test_a_child_process_writes_its_log_file_under_tmp_path(tmp_path):
    leakcheck.remember([{in_file!r}])
    with (tmp_path / "worker.log").open("w") as log:
        child("print('refreshed with ' + {file_text!r})", stdout=log)


def test_a_child_process_writes_a_file_the_test_watches(tmp_path_factory):
    leakcheck.remember([{in_watched!r}])
    target = tmp_path_factory.mktemp("elsewhere") / "scheduler.txt"
    leakcheck.watch(target)
    child(f"open({{str(target)!r}}, 'w').write({watched_text!r})")


def test_a_child_process_without_a_log_file_writes_to_the_captured_stderr():
    leakcheck.remember([{in_stderr!r}])
    child("import sys; sys.stderr.write('grant ' + {stderr_text!r})")
'''


@pytest.fixture
def inner(pytester, monkeypatch):
    """Runs an inner session whose three children write the given texts; its result."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def run(file_text: str, watched_text: str, stderr_text: str):
        pytester.makepyfile(test_inner=INNER.format(in_file=IN_FILE, in_watched=IN_WATCHED, in_stderr=IN_STDERR,
                                                    file_text=file_text, watched_text=watched_text,
                                                    stderr_text=stderr_text))
        return pytester.runpytest_subprocess("-p", "tests.leakcheck", "-p", "no:cacheprovider", "-q")

    return run


def test_a_session_fails_when_child_processes_logged_issued_tokens_in_a_file_a_watched_file_or_stderr(inner):
    result = inner(IN_FILE, IN_WATCHED, IN_STDERR)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    [line] = [line for line in result.stdout.lines if line.startswith("SECRET LEAK")]
    assert line.startswith("SECRET LEAK: 3 token(s) issued by the emulator appear")
    assert all(token[:6] in line for token in (IN_FILE, IN_WATCHED, IN_STDERR))
    assert IN_FILE not in line  # the report names a token by its first characters only
    result.stdout.fnmatch_lines(["3 passed*"])


def test_a_session_whose_children_logged_no_issued_token_passes(inner):
    result = inner("quiet", "nothing to see", "no secrets here")
    assert result.ret == pytest.ExitCode.OK
    assert "SECRET LEAK" not in result.stdout.str()
