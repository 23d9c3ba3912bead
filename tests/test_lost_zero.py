"""A birth place code Excel stored as a number (1053 for 01053): diagnosed, the likely code
proposed, in the terminal and the worksheet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl

from tests.history_support import receipt_xml

N3 = "Aucun titulaire ne correspond aux critères de reconciliation"


def test_lost_leading_zeros_are_diagnosed_with_the_likely_code(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        [
            "Id Technique",
            "Nom de naissance",
            "Prénom",
            "Sexe",
            "Année de naissance",
            "Code Insee",
            "Code postal naissance",
            "Commune de naissance",
        ]
    )
    sheet.append(["A-1", "Martin", "Paul", "M", 1990, 1053, None, "Bourg-en-Bresse"])
    sheet.append(["B-2", "Durand", "Lise", "F", 1991, None, 1000, "Bourg-en-Bresse"])
    book.save(tmp_path / "titulaires.xlsx")
    receipt = receipt_xml({"A-1": "N1", "B-2": "N1"}, [], traitement="1").replace(
        "Aucun titulaire ne correspond aux critères obligatoires", N3
    )
    (tmp_path / "recu.xml").write_text(receipt, encoding="utf-8")

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            "recu.xml",
            "-s",
            "titulaires.xlsx",
            "--sortie",
            "sortie",
            "--sans-historique",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 1, result.stderr
    out = " ".join(result.stdout.split())
    assert (
        "Le code INSEE de naissance « 1053 » n'a que 4 chiffres : le tableur a sans doute effacé "
        "son zéro initial. Code probable : 01053 (Bourg-en-Bresse)." in out
    )
    assert (
        "Le code postal de naissance « 1000 » n'a que 4 chiffres : le tableur a sans doute "
        "effacé son zéro initial. Code probable : 01000 (code INSEE de « Bourg-en-Bresse » : "
        "01053)." in out
    )
    worksheet = openpyxl.load_workbook(tmp_path / "sortie" / "corrections.xlsx")["À corriger"]
    cells = " ".join(str(c.value) for row in worksheet.iter_rows() for c in row if c.value)
    assert "Code probable : 01053 (Bourg-en-Bresse)" in cells
    assert "Code probable : 01000" in cells
