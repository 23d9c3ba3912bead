"""The public API (`import accuse`): cheap to import, typed results, no hidden config, no fork."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import accuse
from tests.conftest import FIXTURES, ROOT, write

# Modules whose presence after `import accuse` would mean the façade is not lazy.
HEAVY = ("pandas", "numpy", "lxml", "sqlalchemy", "xlsxwriter", "jinja2", "python_calamine")


def _modules_after(code: str) -> set[str]:
    """sys.modules of a fresh interpreter after ``code``, as a set of names."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in HEAVY or m.startswith(("accuse.pipeline", "accuse.read"))
    )


def test_import_accuse_loads_nothing_heavy() -> None:
    modules = _modules_after("import accuse")
    assert "accuse" in modules
    assert _heavy(modules) == []


def test_accuse_help_loads_neither_pandas_nor_the_pipeline() -> None:
    code = (
        "import sys\nsys.argv = ['accuse', '--help']\nfrom accuse.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    modules = _modules_after(code)
    assert "accuse.cli.app" in modules, "the help really ran"
    assert _heavy(modules) == []


def test_the_lazy_check_sees_a_heavy_import() -> None:
    """The check above can fail: using one public name loads the pipeline."""
    modules = _modules_after("import accuse\naccuse.Analysis")
    assert "accuse.pipeline.analysis" in _heavy(modules)


def test_every_public_name_resolves() -> None:
    for name in accuse.__all__:
        assert getattr(accuse, name) is not None, name
    assert set(accuse.__all__) <= set(dir(accuse))
    with pytest.raises(AttributeError):
        accuse.nothing_of_that_name  # noqa: B018
    assert (ROOT / "accuse" / "py.typed").is_file()


def test_analyse_returns_the_typed_analysis() -> None:
    analysis = accuse.analyse(FIXTURES / "recu.xml", str(FIXTURES / "source-plat.xlsx"))
    assert isinstance(analysis, accuse.Analysis)
    assert isinstance(analysis.catalogue, accuse.Catalogue)
    assert all(isinstance(r, accuse.RejectedRow) for r in analysis.rejected)
    assert {r.idTechnique: r.row.position for r in analysis.rejected if r.row} == {
        "202301-1": 2,
        "1960012": 6,
        "1960020": 8,
        "1960034": 13,
        "1960049": 18,
        "1960059": 21,
        "1960071": 25,
    }


def test_the_users_catalogue_is_read_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = write(tmp_path / "perso.toml", '[[famille]]\ncode = "DOUBLON"\ntitre = "Perso"\n')
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(own))
    shipped = accuse.analyse(FIXTURES / "recu.xml")
    assert {r.classification.entry.titre for r in shipped.rejected if r.code == "DOUBLON"} != {
        "Perso"
    }
    assert accuse.load_catalogue().get("DOUBLON").titre != "Perso"
    assert accuse.load_catalogue(user=True).get("DOUBLON").titre == "Perso"
    assert accuse.load_catalogue(own).get("DOUBLON").titre == "Perso"
    personal = accuse.analyse(FIXTURES / "recu.xml", catalogue=accuse.load_catalogue(user=True))
    assert {r.classification.entry.titre for r in personal.rejected if r.code == "DOUBLON"} == {
        "Perso"
    }


def test_write_outputs_does_not_fork_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    import accuse.parallel

    def no_fork(method: str) -> object:
        raise AssertionError(f"a {method} child was started")

    monkeypatch.setattr(accuse.parallel.multiprocessing, "get_context", no_fork)
    analysis = accuse.analyse(FIXTURES / "recu.xml", FIXTURES / "source.csv")
    written = accuse.write_outputs(analysis, tmp_path / "sortie")
    assert [p.name for p in written] == ["corrections.xlsx", "rapport.html"]
    assert all(p.is_file() for p in written)
    if sys.platform.startswith("linux"):
        with pytest.raises(AssertionError, match="fork child"):
            accuse.write_outputs(analysis, tmp_path / "autre", parallel=True)
    assert multiprocessing.get_context is not None


def test_history_is_read_where_the_caller_says(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        accuse.read_history("")
    location = tmp_path / "mon-historique.sqlite"
    empty = accuse.read_history(location)
    assert isinstance(empty, accuse.History) and empty.receipts == []
    analysis = accuse.analyse(FIXTURES / "recu.xml", FIXTURES / "source.csv")
    outcome = accuse.record(analysis, location)
    assert isinstance(outcome, accuse.RecordOutcome) and outcome.new
    history = accuse.read_history(location)
    assert [r.receipt_name for r in history.receipts] == ["recu.xml"]
    statuses = [e.status for e in history.events]
    assert statuses.count("KO") == 7 and statuses.count("OK") == 17
    assert len(accuse.read_history(location, every_passage=False).events) == 7
    tracking = accuse.track(history)
    assert isinstance(tracking, accuse.Tracking)
    assert len(tracking.still_rejected) == 6  # the DOUBLON is already held by the portal
    # The conftest's ACCUSE_HISTORIQUE (the default) was never touched.
    assert not (tmp_path / "historique.sqlite").exists()
    assert accuse.user_history_location() == str(tmp_path / "historique.sqlite")
