from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def readme() -> str:
    return (ROOT / "README.md").read_text()
