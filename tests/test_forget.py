"""`accuse suivi --oublier`: a receipt taken out of the history, only once the user said yes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.history_support import Deposit, Holder


def accuse(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def recorded(store: Path) -> list[str]:
    result = accuse("suivi", "--historique", str(store), "--recus", "--format", "json")
    assert result.returncode == 0, result.stderr
    return [r["accuse"] for r in json.loads(result.stdout)["accuses"]]


def test_a_receipt_is_forgotten_after_confirmation(tmp_path: Path) -> None:
    store = tmp_path / "historique.sqlite"
    holders = [Holder("A-1", "Lefebvre", "Léa"), Holder("B-2", "Martin", "Paul")]
    for deposit in (
        Deposit("essai", {"A-1": "N1", "B-2": "N1"}, holders=holders),
        Deposit("vrai", {"B-2": "N1"}, ["A-1"], holders=holders),
    ):
        receipt, source = deposit.write(tmp_path)
        assert source is not None
        result = accuse(
            "analyse", str(receipt), "-s", str(source), "--sans-sortie", "--historique", str(store)
        )
        assert result.returncode == 1, result.stderr
    assert recorded(store) == ["essai.xml", "vrai.xml"]

    # Anything but "oui" keeps the history as it was.
    result = accuse(
        "suivi", "--historique", str(store), "--oublier", str(tmp_path / "essai.xml"), stdin="non\n"
    )
    assert result.returncode == 1
    assert "Retirer l'accusé « essai.xml »" in result.stdout
    assert "Rien n'a été retiré" in result.stdout
    assert recorded(store) == ["essai.xml", "vrai.xml"]

    # The receipt file itself designates it (recognised by its bytes).
    result = accuse(
        "suivi", "--historique", str(store), "--oublier", str(tmp_path / "essai.xml"), stdin="oui\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Retiré de l'historique : l'accusé « essai.xml »" in result.stdout
    assert recorded(store) == ["vrai.xml"]
    tracking = json.loads(accuse("suivi", "--historique", str(store), "-f", "json").stdout)
    assert [p["idTechnique"] for p in tracking["encore_refuses"]] == ["B-2"]
    assert tracking["encore_refuses"][0]["depots_refuses"] == 1  # the test run is gone

    # By the name `suivi --recus` shows, without a question for a script.
    result = accuse("suivi", "--historique", str(store), "--oublier", "vrai.xml", "--oui")
    assert result.returncode == 0, result.stderr
    assert recorded(store) == []


def test_an_unknown_receipt_is_one_french_sentence(tmp_path: Path) -> None:
    store = tmp_path / "historique.sqlite"
    receipt, _ = Deposit("r1", {"A-1": "N1"}).write(tmp_path)
    assert (
        accuse("analyse", str(receipt), "--sans-sortie", "--historique", str(store)).returncode == 1
    )
    result = accuse("suivi", "--historique", str(store), "--oublier", "autre.xml", "--oui")
    assert result.returncode == 2
    assert "aucun accusé « autre.xml » dans l'historique" in result.stderr
    assert "accuse suivi --recus" in result.stderr
    assert recorded(store) == ["r1.xml"]
