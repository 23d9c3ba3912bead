"""`accuse suivi` follows the receipts' own dates, not the order in which they were analysed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.history_support import Holder, receipt_xml, source_csv

OLD = "Accusé de traitement_flux.xml_20250110.xml"
NEW = "Accusé de traitement_flux.xml_20250210.xml"


def accuse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite")},
    )


def test_an_older_receipt_analysed_last_does_not_undo_a_newer_one(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    holders = [Holder("A-1", "Lefebvre", "Léa"), Holder("B-2", "Martin", "Paul")]
    source.write_text(source_csv(holders), encoding="utf-8")
    # January: both refused. February: A-1 accepted, B-2 refused again.
    (tmp_path / OLD).write_text(
        receipt_xml({"A-1": "N1", "B-2": "N1"}, [], traitement="1"), encoding="utf-8"
    )
    (tmp_path / NEW).write_text(
        receipt_xml({"B-2": "N2"}, ["A-1"], traitement="2"), encoding="utf-8"
    )
    for name in (NEW, OLD):  # the newer one first
        result = accuse(tmp_path, "analyse", name, "-s", "source.csv", "--sans-sortie")
        assert result.returncode == 1, result.stderr

    document = json.loads(accuse(tmp_path, "suivi", "-f", "json").stdout)
    assert [p["idTechnique"] for p in document["encore_refuses"]] == ["B-2"]
    b2 = document["encore_refuses"][0]
    assert (b2["premier_refus"], b2["dernier_refus"]) == ("2025-01-10", "2025-02-10")
    assert b2["depots_refuses"] == 2
    assert b2["accuses"] == [OLD, NEW]
    assert [(p["idTechnique"], p["accepte_le"]) for p in document["resolus"]] == [
        ("A-1", "2025-02-10")
    ]
    assert [r["date_accuse"] for r in document["accuses"]] == ["2025-01-10", "2025-02-10"]

    text = accuse(tmp_path, "suivi").stdout
    assert "du 10/01/2025 au 10/02/2025" in text
    row = next(line for line in text.splitlines() if "B-2" in line)
    assert row.index("10/01/2025") < row.index("10/02/2025")  # 1er refus, then Dernier refus
    receipts = accuse(tmp_path, "suivi", "--recus").stdout
    assert receipts.index("20250110") < receipts.index("20250210")
