"""Shared test helpers: paths to the committed fixtures and to ../shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# The CDC's official files: ../shared/cdc when it stands beside the checkout, else the copy
# committed in fixtures/cdc (a clean clone on a fresh machine has no ../shared).
SHARED = next(
    (p for p in (ROOT.parent / "shared" / "cdc", FIXTURES / "cdc") if p.is_dir()), FIXTURES / "cdc"
)


@pytest.fixture
def shared() -> Path:
    """The official files (../shared/cdc or their copy in fixtures/cdc); a skip if neither."""
    if not SHARED.is_dir():
        pytest.skip("fichiers officiels absents (../shared/cdc, fixtures/cdc) : test ignoré")
    return SHARED


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(autouse=True)
def _history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every `accuse analyse` records into a history: never the developer's own.
    monkeypatch.setenv("ACCUSE_HISTORIQUE", str(tmp_path / "historique.sqlite"))
    # Codes remembered by generer and reexporter: never in the developer's own config.
    monkeypatch.setenv("ACCUSE_DEPOSANT", str(tmp_path / "config" / "deposant.toml"))
