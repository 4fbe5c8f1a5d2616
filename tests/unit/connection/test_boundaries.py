"""Only the QuickBooks adapter imports python-quickbooks or intuitlib."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
IMPORT = re.compile(r"^\s*(from|import)\s+(quickbooks|intuitlib)\b", re.M)


def test_only_addon_quickbooks_imports_python_quickbooks_or_intuitlib():
    offenders = []
    for package in ("addon", "webapp", "rules", "connectors", "sandbox"):
        for path in (ROOT / package).rglob("*.py"):
            if path.is_relative_to(ROOT / "addon" / "quickbooks"):
                continue
            if IMPORT.search(path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    assert IMPORT.search((ROOT / "addon" / "quickbooks" / "client.py").read_text())
