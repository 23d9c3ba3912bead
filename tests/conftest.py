"""Shared test helpers: paths to the committed fixtures and to ../shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared" / "cdc"


@pytest.fixture
def shared() -> Path:
    """../shared/cdc, or a skip when this checkout has no shared folder beside it."""
    if not SHARED.is_dir():
        pytest.skip("../shared/cdc est absent : test des fichiers officiels ignoré")
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
