"""A small run of the benchmark: it works end to end (its figures are not judged here)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    not hasattr(os, "wait4"), reason="le banc d'essai mesure via wait4 (POSIX)"
)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_main", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_smoke(tmp_path: Path, capsys) -> None:
    assert (
        _bench().main(["--passages", "300", "--repetitions", "1", "--sortie", str(tmp_path)]) == 0
    )
    report = json.loads((tmp_path / "resultats.json").read_text("utf-8"))
    assert report["machine"]["coeurs"] >= 1
    (size,) = report["tailles"]
    assert size["passages"] == 300
    cases = size["cas"]
    assert set(cases) >= {
        "plancher_xlsx",
        "plancher_flux",
        "recu_seul",
        "source_xlsx",
        "source_csv",
        "source_flux",
        "sortie_xlsx",
        "reexport_xlsx",
        "reexport_xml",
    }
    for case in cases.values():
        assert case["secondes"] > 0 and case["rss_mo"] > 0
    assert cases["source_xlsx"]["ratio_plancher"] > 0
    # The timed commands really ran: their outputs are there.
    folder = tmp_path / "jeu-300"
    assert (folder / "sortie" / "rapport.html").is_file()
    assert (folder / "reexport.xml").is_file()
    assert "plancher_xlsx" in capsys.readouterr().out
