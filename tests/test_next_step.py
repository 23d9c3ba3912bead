"""The summary ends with the next step; the report names the worksheet and flags passages the
history saw refused at an earlier deposit, with their legal deadline."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.history_support import Holder, receipt_xml, source_csv

JANUARY = "Accusé de traitement_flux.xml_20250110.xml"
FEBRUARY = "Accusé de traitement_flux.xml_20250210.xml"


def analyse(cwd: Path, receipt: str, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", "analyse", receipt, "-s", "source.csv", *more],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300", "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite")},
    )


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_next_step_and_earlier_refusals(tmp_path: Path) -> None:
    holders = [
        Holder("A-1", "Lefebvre", "Léa", issued=dt.date(2024, 11, 30)),
        Holder("B-2", "Martin", "Paul", issued=dt.date(2025, 1, 5)),
    ]
    (tmp_path / "source.csv").write_text(source_csv(holders), encoding="utf-8")
    (tmp_path / JANUARY).write_text(receipt_xml({"A-1": "N1"}, ["B-2"], traitement="1"), "utf-8")
    (tmp_path / FEBRUARY).write_text(receipt_xml({"A-1": "N2"}, ["B-2"], traitement="2"), "utf-8")

    first = analyse(tmp_path, JANUARY)
    assert first.returncode == 1, first.stderr
    worksheet = tmp_path / "accuse-flux-20250110" / "corrections.xlsx"
    assert first.stdout.rstrip().splitlines()[-1] == (
        "Étape suivante : corrigez les lignes de l'onglet « À corriger » de "
        f'{worksheet}, enregistrez, puis lancez : accuse reexporter "{worksheet}"'
    )
    page = text_of((worksheet.parent / "rapport.html").read_text(encoding="utf-8"))
    assert "Et maintenant ? Ouvrez corrections.xlsx , écrit à côté de ce rapport" in page
    assert "lancez accuse reexporter corrections.xlsx" in page
    assert "Déjà refusés à un dépôt précédent" not in page  # nothing earlier yet

    second = analyse(tmp_path, FEBRUARY)
    assert second.returncode == 1, second.stderr
    assert (
        "1 passage de cet accusé avait déjà été refusé à un dépôt précédent (échéance légale "
        "dépassée pour 1) : voir accuse suivi et le rapport." in second.stdout
    )
    page = text_of((tmp_path / "accuse-flux-20250210" / "rapport.html").read_text(encoding="utf-8"))
    assert "Déjà refusés à un dépôt précédent (1)" in page
    # idTechnique, holder, earlier deposits, first refusal (the receipt's date), deadline.
    assert "A-1 Lefebvre Léa 1 10/01/2025 28/02/2025 (dépassée)" in page

    # Without a worksheet, the next step says how to get one.
    third = analyse(tmp_path, FEBRUARY, "--sans-sortie")
    assert third.stdout.rstrip().splitlines()[-1] == (
        "Étape suivante : relancez sans --sans-sortie pour obtenir la feuille de corrections "
        "(corrections.xlsx)."
    )
