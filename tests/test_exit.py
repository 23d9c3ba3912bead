"""The command leaves at once after flushing (os._exit, no interpreter teardown): what it
printed is whole, its exit code right, its files and history complete, by either entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, func, select

from accuse.history.store import passages, resolve_location
from tests.conftest import FIXTURES

ENTRY_POINTS = {
    "module": [sys.executable, "-m", "accuse"],
    "script": [sys.executable, "-c", "from accuse.cli.app import entry; entry()"],
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_json_through_a_pipe_is_whole_and_the_code_right(entry: str, tmp_path: Path) -> None:
    history = tmp_path / "historique.sqlite"
    completed = subprocess.run(
        [
            *ENTRY_POINTS[entry],
            "analyse",
            str(FIXTURES / "recu.xml"),
            "--source",
            str(FIXTURES / "source-plat.xlsx"),
            "--format",
            "json",
            "--sortie",
            str(tmp_path / "sortie"),
            "--historique",
            str(history),
        ],
        capture_output=True,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr.decode()
    document = json.loads(completed.stdout)  # the whole document, to its last brace
    assert document["fichiers_ecrits"][-1].endswith("rapport.html")
    assert completed.stdout.endswith(b"}\n") or completed.stdout.endswith(b"}")
    assert "Historique : accusé enregistré" in completed.stderr.decode()
    # The files are whole and the history holds every passage.
    sheet = load_workbook(tmp_path / "sortie" / "corrections.xlsx", read_only=True)
    assert sheet.sheetnames
    page = (tmp_path / "sortie" / "rapport.html").read_text("utf-8")
    assert "</html>" in page[-200:]  # then only the pair's fingerprint comment
    engine = create_engine(resolve_location(str(history)).url)
    try:
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(passages)).scalar_one()
    finally:
        engine.dispose()
    assert count == 24


@pytest.mark.parametrize(("args", "code"), [([], 1), (["--help"], 0), (["absent.xml"], 2)])
def test_exit_codes(args: list[str], code: int, tmp_path: Path) -> None:
    command = ["analyse", *(args or [str(FIXTURES / "recu.xml"), "--sans-sortie"])]
    completed = subprocess.run(
        [*ENTRY_POINTS["module"], *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == code, completed.stderr
    assert completed.stdout.strip() or completed.stderr.strip()
