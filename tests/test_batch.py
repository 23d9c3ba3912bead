"""A batch: several receipts (or a folder) for one source with `accuse analyse`, and a folder
of receipts downloaded over months recorded in date order with `accuse suivi --importer`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.history_support import Holder, receipt_xml, source_csv

JAN = "Accusé de traitement_flux.xml_20250110.xml"
FEB = "Accusé de traitement_flux.xml_20250210.xml"
MAR = "Accusé de traitement_flux.xml_20250310.xml"


def accuse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "300", "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite")},
    )


def deposits(folder: Path) -> None:
    folder.mkdir()
    # Saved in another order than their dates; a stray file sits among them.
    (folder / MAR).write_text(receipt_xml({}, ["A-1", "B-2"], traitement="3"), "utf-8")
    (folder / JAN).write_text(receipt_xml({"A-1": "N1", "B-2": "N1"}, [], traitement="1"), "utf-8")
    (folder / FEB).write_text(receipt_xml({"A-1": "N2"}, ["B-2"], traitement="2"), "utf-8")
    (folder / "notes.xml").write_text("<notes/>", "utf-8")


def test_analyse_a_folder_of_receipts_for_one_source(tmp_path: Path) -> None:
    deposits(tmp_path / "recus")
    holders = [Holder("A-1", "Lefebvre", "Léa"), Holder("B-2", "Martin", "Paul")]
    (tmp_path / "source.csv").write_text(source_csv(holders), "utf-8")
    result = accuse(tmp_path, "analyse", "recus", "-s", "source.csv")
    assert result.returncode == 2, result.stderr  # notes.xml is no receipt
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("notes.xml : ignoré — ")
    assert (
        lines[1] == f"{JAN} : 2 refusés sur 2, 2 à corriger → {tmp_path / 'accuse-flux-20250110'}"
    )
    assert lines[2] == f"{FEB} : 1 refusé sur 2, 1 à corriger → {tmp_path / 'accuse-flux-20250210'}"
    assert (
        lines[3]
        == f"{MAR} : 2 passages acceptés, aucun refus → {tmp_path / 'accuse-flux-20250310'}"
    )
    assert lines[-1].startswith(
        "3 accusés analysés, 1 ignoré (voir ci-dessus) : 3 passages refusés dont 3 à corriger."
    )
    for folder in ("accuse-flux-20250110", "accuse-flux-20250210", "accuse-flux-20250310"):
        assert (tmp_path / folder / "corrections.xlsx").is_file()
    tracking = json.loads(accuse(tmp_path, "suivi", "-f", "json").stdout)
    assert tracking["encore_refuses"] == []  # March accepted both
    assert len(tracking["accuses"]) == 3


def test_several_receipts_given_one_by_one_in_json(tmp_path: Path) -> None:
    deposits(tmp_path / "recus")
    result = accuse(
        tmp_path, "analyse", f"recus/{FEB}", f"recus/{JAN}", "--sans-sortie", "-f", "json"
    )
    assert result.returncode == 1, result.stderr
    documents = json.loads(result.stdout)
    assert [d["accuse"]["idTraitement"] for d in documents] == ["1", "2"]  # oldest first


def test_suivi_imports_a_folder_in_date_order(tmp_path: Path) -> None:
    deposits(tmp_path / "recus")
    result = accuse(tmp_path, "suivi", "--importer", "recus")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("notes.xml : ignoré — ")
    assert lines[1:4] == [
        f"{JAN} (10/01/2025) : enregistré (2 refusés, 0 accepté)",
        f"{FEB} (10/02/2025) : enregistré (1 refusé, 1 accepté)",
        f"{MAR} (10/03/2025) : enregistré (0 refusé, 2 acceptés)",
    ]
    assert lines[4] == "Import : 3 accusés enregistrés, 1 fichier ignoré."
    assert "Aucun passage n'est encore refusé" in result.stdout
    again = accuse(tmp_path, "suivi", "--importer", f"recus/{JAN}")
    assert f"{JAN} (10/01/2025) : déjà dans l'historique" in again.stdout
