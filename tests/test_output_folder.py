"""The default output folder: short and readable, the same for the same receipt, never shared
by two receipts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

PORTAL = "Accusé de traitement_flux.xml_20250110.xml"


def analyse(cwd: Path, receipt: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            receipt,
            "-s",
            str(FIXTURES / "source-plat.xlsx"),
            "--sans-historique",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def folders(cwd: Path) -> list[str]:
    return sorted(p.name for p in cwd.iterdir() if p.is_dir())


def test_a_portal_receipt_gets_a_short_folder_of_its_own(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "recu.xml", tmp_path / PORTAL)
    result = analyse(tmp_path, PORTAL)
    assert result.returncode == 1, result.stderr
    assert folders(tmp_path) == ["accuse-flux-20250110"]
    assert f"Écrit : {tmp_path / 'accuse-flux-20250110' / 'corrections.xlsx'}" in result.stdout

    # Another receipt for the same file and day (the browser saved it as " (1)"): its own folder.
    second = "Accusé de traitement_flux.xml_20250110 (1).xml"
    text = (FIXTURES / "recu.xml").read_text(encoding="utf-8")
    (tmp_path / second).write_text(text.replace("54169", "54200"), encoding="utf-8")
    assert analyse(tmp_path, second).returncode == 1
    assert folders(tmp_path) == ["accuse-flux-20250110", "accuse-flux-20250110-2"]

    # The same receipt again goes back to its own folder.
    assert analyse(tmp_path, PORTAL).returncode == 1
    assert analyse(tmp_path, second).returncode == 1
    assert folders(tmp_path) == ["accuse-flux-20250110", "accuse-flux-20250110-2"]


def test_the_deposited_name_cannot_escape_or_break_the_folder_name(tmp_path: Path) -> None:
    text = (FIXTURES / "recu.xml").read_text(encoding="utf-8")
    name = "Accusé de traitement_x_20250311.xml"
    hostile = text.replace("<nomFichier>flux.xml<", '<nomFichier>..\\..\\a:b*"c|d.xml<')
    (tmp_path / name).write_text(hostile, encoding="utf-8")
    assert analyse(tmp_path, name).returncode == 1
    assert folders(tmp_path) == ["accuse-a-b-c-d-20250311"]
