"""A receipt given with a source that is not its file: refused before anything is written or
recorded, unless --forcer; a partial match stays a warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES
from tests.history_support import Holder, receipt_xml, source_csv


def accuse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite")},
    )


def test_a_source_holding_none_of_the_passages_is_refused(tmp_path: Path) -> None:
    args = [str(FIXTURES / "recu-reel-pix.xml"), "-s", str(FIXTURES / "source-plat.xlsx")]
    result = accuse(tmp_path, "analyse", *args, "--sortie", "sortie")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Erreur : recu-reel-pix.xml : cet accusé ne correspond pas à source-plat.xlsx : aucun de "
        "ses 5 passages n'y figure (identifiants techniques introuvables). Vérifiez les deux "
        "fichiers, ou relancez avec --forcer pour analyser quand même."
    ]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no history

    forced = accuse(tmp_path, "analyse", *args, "--sortie", "sortie", "--forcer")
    assert forced.returncode == 1, forced.stderr
    assert "Refus introuvables dans la source (3)" in forced.stdout
    assert (tmp_path / "sortie" / "corrections.xlsx").is_file()
    assert (tmp_path / "h.sqlite").is_file()


def test_a_flux_with_another_idflux_is_refused(tmp_path: Path) -> None:
    flux = (FIXTURES / "flux.xml").read_text(encoding="utf-8")
    other = tmp_path / "autre-flux.xml"
    other.write_text(flux.replace("b4093df2-13f5", "c4093df2-13f5"), encoding="utf-8")
    result = accuse(tmp_path, "analyse", str(FIXTURES / "recu.xml"), "-s", str(other))
    assert result.returncode == 2
    assert (
        "cet accusé porte sur le flux b4093df2-13f5-4b7f-ba7e-3140cfd9000f, mais " in result.stderr
    )
    assert "autre-flux.xml est le flux c4093df2-13f5-4b7f-ba7e-3140cfd9000f" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autre-flux.xml"]


def test_a_partial_match_is_only_a_warning(tmp_path: Path) -> None:
    receipt = tmp_path / "recu.xml"
    receipt.write_text(
        receipt_xml({"A-1": "N1", "Z-9": "N1"}, ["B-2"], traitement="7"), encoding="utf-8"
    )
    source = tmp_path / "source.csv"
    source.write_text(source_csv([Holder("A-1", "Lefebvre", "Léa")]), encoding="utf-8")
    result = accuse(tmp_path, "analyse", str(receipt), "-s", str(source), "--sans-sortie")
    assert result.returncode == 1, result.stderr
    assert "Refus introuvables dans la source (1) : Z-9" in result.stdout
    assert (tmp_path / "h.sqlite").is_file()
