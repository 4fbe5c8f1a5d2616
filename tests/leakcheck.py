"""A pytest plugin: no token the emulator issued may appear in any log record of the whole run.

Every log record of autobill, the libraries it uses and the emulator is kept (at DEBUG) while
the suite runs; each ``emulator`` fixture hands over the tokens and codes it issued when it
stops. At the end of the session the records are searched for those strings. Emulator tokens
are url-safe runs of letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import logging
import re

import pytest

# Loggers raised to DEBUG: autobill's and those of every library on its path to QuickBooks. Records of
# any other logger are searched too, at that logger's own level. requests-oauthlib is not raised: it
# prints whole tokens at DEBUG, and autobill never uses it (python-quickbooks is handed autobill's own
# session), but the emulator's tests of the stock python-quickbooks setup do.
WATCHED = ("addon", "webapp", "rules", "connectors", "sandbox", "quickbooks", "intuitlib", "urllib3", "requests",
           "rq", "werkzeug", "flask")
_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")
_records: list[str] = []
_tokens: set[str] = set()
_from_workers: list[str] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _records.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted cannot leak either
            pass


def remember(tokens) -> None:
    """Tokens (and codes) an emulator issued: none may show up in a log record."""
    _tokens.update(t for t in tokens if t)


def leaked() -> list[str]:
    """Tokens found in the records kept so far."""
    found = set()
    for text in _records:
        for run in _RUN.findall(text):
            if run in _tokens:
                found.add(run)
            elif "eyJ" in run or "AB11" in run:
                found.update(t for t in _tokens if t in run)
    return sorted(found)


def pytest_sessionstart(session) -> None:
    handler = _Keep(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    for name in WATCHED:
        logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist: collect what each worker found."""
    _from_workers.extend(getattr(node, "workeroutput", {}).get("leaked_tokens", []))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    found = leaked()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports
        workeroutput["leaked_tokens"] = [t[:6] for t in found]
        return
    found = [t[:6] for t in found] + _from_workers
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        message = (f"SECRET LEAK: {len(found)} token(s) issued by the emulator appear in log records "
                   f"(starting {', '.join(sorted(set(found))[:5])}...)")
        terminal = session.config.pluginmanager.get_plugin("terminalreporter")
        if terminal:
            terminal.write_line(message, red=True)
        else:
            print(message)
