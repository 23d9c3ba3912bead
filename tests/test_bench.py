"""A small run of the benchmark: it works end to end (its figures are not judged here)."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import sys
from pathlib import Path

import pytest
from lxml import etree

from accuse.history.store import load
from accuse.history.tracking import track
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not hasattr(os, "wait4"), reason="le banc d'essai mesure via wait4 (POSIX)"
)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_main", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_bench_smoke(tmp_path: Path, capsys) -> None:
    assert (
        _bench().main(
            [
                *("--passages", "300", "--repetitions", "1", "--sortie", str(tmp_path)),
                *("--lot-passages", "500"),
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "resultats.json").read_text("utf-8"))
    assert report["machine"]["coeurs"] >= 1
    (size,) = report["tailles"]
    assert size["passages"] == 300
    cases = size["cas"]
    assert set(cases) == {
        "plancher_xlsx",
        "plancher_modele",
        "plancher_feuille",
        "plancher_feuille_modele",
        "plancher_flux",
        "defaut_xlsx",
        "defaut_modele",
        "texte_xlsx",
        "json_xlsx",
        "source_csv",
        "source_flux",
        "recu_seul",
        "reexport_xlsx",
        "reexport_xml",
        "verifier_xlsx",
        "verifier_modele",
        "generer_xlsx",
        "generer_modele",
        "suivi_historique",
        "lot_12_accuses",
        "pair_pandas",
    }
    measured = {name for name, case in cases.items() if "secondes" in case}
    # Every command of this wave exists: none is told "indisponible".
    assert measured == set(cases)
    for name in measured:
        assert cases[name]["secondes"] > 0 and cases[name]["rss_mo"] > 0
    assert cases["defaut_xlsx"]["plancher"] == "plancher_xlsx"
    assert cases["defaut_xlsx"]["ratio_plancher"] > 0 and cases["defaut_xlsx"]["ratio_rss"] > 0
    assert set(report["versions"]) >= {"python-calamine", "lxml"}
    # The timed commands really ran as a user's: outputs written, history recorded.
    folder = tmp_path / "jeu-300"
    assert (folder / "defaut" / "rapport.html").is_file()
    assert (folder / "defaut" / "corrections.xlsx").is_file()
    assert (folder / "historique-defaut.sqlite").is_file()
    assert (folder / "historique-suivi.sqlite").is_file()
    assert (folder / "reexport.xml").is_file()
    assert (folder / "pair.xlsx").is_file()
    assert "plancher_xlsx" in capsys.readouterr().out
    # The batch: twelve distinct monthly receipts of its own size (not copies of the set's),
    # mostly the same holders from one month to the next, recorded whole by the timed command.
    assert report["lot"] == {"accuses": 12, "passages_par_accuse": 500}
    months = sorted((folder / "lot-500").glob("*.xml"))
    assert [p.name[-12:-4] for p in months] == [f"2026{m:02d}15" for m in range(1, 13)]
    ids = [set(etree.parse(str(p)).xpath("//idTechnique/text()")) for p in months]
    assert all(len(month) == 500 for month in ids)
    assert all(len(a & b) >= 400 for a, b in itertools.pairwise(ids))
    recorded = load(folder / "historique-lot.sqlite").receipts
    assert len(recorded) == 12
    assert all(r.accepted_count + r.rejected_count == 500 for r in recorded)
    assert all(45 <= r.rejected_count <= 55 for r in recorded)  # about 10 % each month
    tracking = track(folder / "historique-lot.sqlite")
    assert tracking.resolved and tracking.repeated  # corrected, and refused again


def test_a_history_of_an_earlier_format_is_made_again(tmp_path: Path) -> None:
    """suivi's big history is kept from one run to the next, unless an earlier accuse wrote
    it: suivi would read that one as it stands, without the indexes of today's format."""
    import subprocess

    from accuse.history.store import SCHEMA_VERSION

    bench = _bench()
    store = tmp_path / "historique.sqlite"
    assert not bench.store_is_current(store)
    subprocess.run(
        [
            *(sys.executable, "-m", "accuse", "analyse", str(ROOT / "fixtures" / "recu.xml")),
            *("--sans-sortie", "--historique", str(store)),
        ],
        capture_output=True,
        check=False,
    )
    assert bench.store_is_current(store)
    import sqlite3

    with sqlite3.connect(store) as con:
        con.execute("DELETE FROM schema_version WHERE version = ?", (SCHEMA_VERSION,))
    con.close()
    assert not bench.store_is_current(store)
