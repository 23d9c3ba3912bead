"""`accuse suivi` in an 80-column terminal: who, which family, how many deposits, the flag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.history_support import Holder, receipt_xml, source_csv


def accuse(cwd: Path, columns: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": str(columns), "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite")},
    )


def test_suivi_fits_80_columns_without_losing_a_column(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    holders = [Holder("202301-1234", "Lefebvre-Dumoulin", "Marie-Charlotte", issued="01/09/2026")]
    source.write_text(source_csv(holders), encoding="utf-8")
    for number in ("1", "2"):
        receipt = tmp_path / f"r{number}.xml"
        receipt.write_text(receipt_xml({"202301-1234": "N2"}, [], traitement=number), "utf-8")
        result = accuse(tmp_path, 80, "analyse", receipt.name, "-s", "source.csv", "--sans-sortie")
        assert result.returncode == 1, result.stderr

    result = accuse(tmp_path, 80, "suivi")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "idTechnique" in line)
    for column in ("Échéance", "idTechnique", "Titulaire", "Famille", "Dépôts"):
        assert column in header
    row = next(line for line in lines if "202301-1234" in line)
    assert "2 ⚑" in row  # refused at two deposits, flagged
    assert "Lefebvre" in row and "Titulaire" in row  # neither column squeezed to nothing
    assert "Marie" in result.stdout
    assert "Dates du 1er et du dernier refus" in result.stdout  # where the dropped dates are

    wide = accuse(tmp_path, 160, "suivi").stdout
    assert "1er refus" in wide and "Dernier refus" in wide
