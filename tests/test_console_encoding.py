"""A Windows console or a file in Windows-1252: what it cannot encode is written in plain
characters, never a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.history_support import Holder, receipt_xml, source_csv


def accuse(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        env={
            **os.environ,
            "COLUMNS": "120",
            "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite"),
            "PYTHONIOENCODING": "cp1252",
        },
    )


def test_cp1252_output_falls_back_to_plain_characters(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    holders = [Holder("A-1", "Wałęsa", "Łukasz"), Holder("B-2", "Martin", "Paul")]
    source.write_text(source_csv(holders), encoding="utf-8")
    for number in ("1", "2"):  # A-1 refused twice: flagged ⚑ by suivi
        receipt = tmp_path / f"r{number}.xml"
        receipt.write_text(receipt_xml({"A-1": "N1"}, ["B-2"], traitement=number), encoding="utf-8")
        result = accuse(tmp_path, "analyse", receipt.name, "-s", "source.csv", "--sans-sortie")
        assert result.returncode == 1, result.stderr.decode("cp1252")
        text = result.stdout.decode("cp1252")  # every byte is Windows-1252
        assert "Walesa Lukasz" in text  # Ł and ł are not in Windows-1252
        assert "+--" in text  # Rich's plain table borders

    result = accuse(tmp_path, "suivi")
    assert result.returncode == 0, result.stderr.decode("cp1252")
    text = result.stdout.decode("cp1252")
    assert "Échéance" in text  # what Windows-1252 has stays as it is
    assert "2 !" in text  # the repeated-deposit flag
    assert "! 1 passage a été refusé à 2 dépôts ou plus" in text

    result = accuse(tmp_path, "reexporter", "--help")
    assert result.returncode == 0, result.stderr.decode("cp1252")
    assert "classeur -> xlsx" in result.stdout.decode("cp1252")


def test_an_error_on_a_cp1252_stderr_is_still_one_sentence(tmp_path: Path) -> None:
    receipt = tmp_path / "Ł-recu.xml"
    receipt.write_bytes(b"pas du xml")
    result = accuse(tmp_path, "analyse", receipt.name)
    assert result.returncode == 2
    message = result.stderr.decode("cp1252")
    assert message.startswith("Erreur : L-recu.xml : ")
    assert "Traceback" not in message
