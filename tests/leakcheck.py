"""A pytest plugin: no token the emulator issued may appear in anything the suite logged.

Searched at the end of the session, for every token and code string any ``emulator`` fixture issued
(handed over with ``remember`` when it stops):

- every log record of this process (autobill, the libraries on its path and the emulator, at DEBUG);
- what each test printed: the captured stdout, stderr and log of every phase, which also holds what
  child processes without a log file of their own wrote (multiprocessing race workers inherit the
  captured descriptors);
- the log files of child processes: files a test names with ``watch`` (the RQ worker processes of
  ``tests/integration/postings/stack.py``) and every ``*.log``, ``*.out`` and ``*.err`` file under the
  test's ``tmp_path`` (``autobill run``'s output and the logs of the processes it starts), read when
  the test's teardown is over and its processes have stopped.

Emulator tokens are url-safe runs of letters, digits, ``-`` and ``_``, so only such runs of 20 or more
characters are kept from captured output and files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

# Loggers raised to DEBUG: autobill's and those of every library on its path to QuickBooks. Records of
# any other logger are searched too, at that logger's own level. requests-oauthlib is not raised: it
# prints whole tokens at DEBUG, and autobill never uses it (python-quickbooks is handed autobill's own
# session), but the emulator's tests of the stock python-quickbooks setup do.
WATCHED = ("addon", "webapp", "rules", "connectors", "sandbox", "quickbooks", "intuitlib", "urllib3", "requests",
           "rq", "werkzeug", "flask")
LOG_SUFFIXES = (".log", ".out", ".err")
_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")
# Prefixes of the emulator's tokens (JWT-like access tokens, AB11 refresh tokens and codes), looked for
# inside longer runs too, where a token is glued to other url-safe characters.
_PREFIXES = ("eyJ", "AB11")
_records: list[str] = []
_runs: set[str] = set()
_tokens: set[str] = set()
_watched: set[Path] = set()
_from_workers: list[str] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _records.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted cannot leak either
            pass


def remember(tokens) -> None:
    """Tokens (and codes) an emulator issued: none may show up in anything logged."""
    _tokens.update(t for t in tokens if t)


def watch(path) -> None:
    """A file a child process logs to, wherever it is: read when the current test is over."""
    _watched.add(Path(path))


def runs_in(text: str) -> set[str]:
    """The url-safe runs of ``text`` a token could be (or hide in)."""
    return set(_RUN.findall(text))


def leaks_in(texts: Iterable[str], tokens: Iterable[str]) -> list[str]:
    """The ``tokens`` that appear in ``texts`` (log lines, captured output, file contents), sorted."""
    runs: set[str] = set()
    for text in texts:
        runs |= runs_in(text)
    return _leaks(runs, set(tokens))


def _leaks(runs: set[str], tokens: set[str]) -> list[str]:
    found = runs & tokens
    for run in runs - found:
        if any(prefix in run for prefix in _PREFIXES):
            found.update(t for t in tokens if t in run)
    return sorted(found)


def leaked() -> list[str]:
    """Tokens found so far in this process's records, the tests' captured output and the files read."""
    runs = set(_runs)
    for text in _records:
        runs |= runs_in(text)
    return _leaks(runs, _tokens)


def _keep_file(path: Path) -> None:
    try:
        _runs.update(runs_in(path.read_text(errors="replace")))
    except OSError:
        pass  # gone or unreadable: nothing in it was kept anywhere


def _log_files(root: Path) -> list[Path]:
    try:
        return [p for p in root.rglob("*") if p.suffix in LOG_SUFFIXES and p.is_file()]
    except OSError:
        return []


def pytest_sessionstart(session) -> None:
    handler = _Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    for name in WATCHED:
        logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the test's fixtures are torn down (its child processes stopped), read their log files."""
    funcargs = getattr(item, "funcargs", None) or {}
    tmp_path = funcargs.get("tmp_path")
    yield
    files = set(_watched)
    _watched.clear()
    if isinstance(tmp_path, Path):
        files.update(_log_files(tmp_path))
    for path in sorted(files):
        _keep_file(path)


def pytest_runtest_logreport(report) -> None:
    """Keep what the test printed (captured stdout, stderr and log of each phase), pass or fail."""
    for title, content in getattr(report, "sections", ()):
        if title.startswith("Captured"):
            _runs.update(runs_in(content))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist: collect what each worker found."""
    _from_workers.extend(getattr(node, "workeroutput", {}).get("leaked_tokens", []))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    for path in sorted(_watched):  # watched outside any test (a session fixture's process)
        _keep_file(path)
    _watched.clear()
    found = leaked()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["leaked_tokens"] = [t[:6] for t in found]
        return
    found = [t[:6] for t in found] + _from_workers
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        message = (f"SECRET LEAK: {len(found)} token(s) issued by the emulator appear in log records, "
                   f"captured output or child processes' log files (starting {', '.join(sorted(set(found))[:5])}...)")
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal:
            terminal.write("\n")  # the progress line may still be open
            terminal.write_line(message, red=True)
        else:
            print(message)
