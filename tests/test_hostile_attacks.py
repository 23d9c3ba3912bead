"""Hostile and faulty inputs of issue 14, run through the real command in a subprocess:
files that are not files, sheets that ask for absurd memory, memory bounded by design.

Each refusal follows the contract of tests/test_hostile.py (exit 2, one French sentence naming
the file, nothing written, inputs unchanged); each memory case measures the child's own peak
RSS (wait4), never a time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.hostile.make_corpus import far_cell_xlsx, separators_csv, wide_flux, wide_receipt
from tests.hostile.rss import measured
from tests.test_hostile import check_refused, run, state

NOT_A_FILE = "pas un fichier ordinaire"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "entrees" / "tube.xml"
    path.parent.mkdir()
    os.mkfifo(path)
    return path


def _specials(fifo: Path) -> list[Path]:
    return [fifo, Path("/dev/zero"), Path("/dev/urandom"), Path("/dev/stdin")]


def _refused_not_a_file(tmp_path: Path, special: Path, *args: object) -> None:
    work = tmp_path / "travail"
    work.mkdir(exist_ok=True)
    # stdin is a pipe that never ends: reading it, like reading the FIFO, would hang.
    result = run(work, *args, stdin=subprocess.PIPE)
    check_refused(result, work, special.name, NOT_A_FILE)


@pytest.mark.parametrize("index", range(4))
def test_special_file_as_receipt(tmp_path: Path, fifo: Path, index: int) -> None:
    special = _specials(fifo)[index]
    _refused_not_a_file(tmp_path, special, "analyse", special, "-s", FIXTURES / "source.csv")


@pytest.mark.parametrize("index", range(4))
def test_special_file_as_source(tmp_path: Path, fifo: Path, index: int) -> None:
    special = _specials(fifo)[index]
    _refused_not_a_file(tmp_path, special, "analyse", FIXTURES / "recu.xml", "-s", special)


@pytest.mark.parametrize("index", range(4))
def test_special_file_as_worksheet(tmp_path: Path, fifo: Path, index: int) -> None:
    special = _specials(fifo)[index]
    _refused_not_a_file(tmp_path, special, "reexporter", special)


@pytest.mark.parametrize("index", range(4))
def test_special_file_as_catalogue(tmp_path: Path, fifo: Path, index: int) -> None:
    special = _specials(fifo)[index]
    receipt = FIXTURES / "recu.xml"
    _refused_not_a_file(tmp_path, special, "analyse", receipt, "--catalogue", special)


def test_special_file_named_by_the_catalogue_variable(tmp_path: Path, fifo: Path) -> None:
    work = tmp_path / "travail"
    work.mkdir()
    env = {**os.environ, "ACCUSE_CATALOGUE": str(fifo)}
    result = subprocess.run(
        [sys.executable, "-m", "accuse", "analyse", FIXTURES / "recu.xml", "--sans-historique"],
        cwd=work,
        env=env,
        capture_output=True,
        timeout=120,
    )
    check_refused(result, work, fifo.name, NOT_A_FILE)


# --- sheets whose farthest cell would make calamine ask for absurd memory --------------------


FAR_CELLS = [
    ("xfd1048576.xlsx", 1_048_575, 16_383, "XFD1048576"),
    ("colonne-ia.xlsx", 3, 234, "IA4"),
    ("ligne-lointaine.xlsx", 999_999, 0, "A1000000"),
]


@pytest.mark.parametrize(("name", "row", "column", "reference"), FAR_CELLS)
def test_far_cell_source_is_refused(
    tmp_path: Path, name: str, row: int, column: int, reference: str
) -> None:
    source = far_cell_xlsx(tmp_path / name, row, column)
    work = tmp_path / "travail"
    work.mkdir()
    before = state([source])
    result = run(work, "analyse", FIXTURES / "recu.xml", "-s", source)
    check_refused(result, work, name, reference, "très loin de toutes les données")
    assert state([source]) == before


def test_far_cell_worksheet_is_refused(tmp_path: Path) -> None:
    worksheet = far_cell_xlsx(tmp_path / "corrections.xlsx", 1_048_575, 16_383)
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "reexporter", worksheet, "-o", work / "sortie.csv")
    check_refused(result, work, "corrections.xlsx", "XFD1048576")


def test_cells_at_the_edge_are_read(tmp_path: Path) -> None:
    """Column HZ (234) and a row within reach of the data: read as usual, not refused."""
    source = far_cell_xlsx(tmp_path / "bord.xlsx", 900, 233)
    result = run(tmp_path, "analyse", FIXTURES / "recu.xml", "-s", source, "--sans-sortie")
    assert result.returncode == 1, result.stderr.decode()


# --- memory bounded by design: peak RSS at most a constant plus about 3 x the file ------------


_BASE_MB = 120  # Python, lxml, calamine and accuse loaded, the small receipt and source read


def _peak_mb(cwd: Path, *args: object) -> tuple[int, int, bytes]:
    """(exit status, peak RSS in MB, stderr) of `accuse ARGS`."""
    env = {**os.environ, "ACCUSE_HISTORIQUE": str(cwd / "h.sqlite"), "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "accuse", *args, "--sans-sortie", "--sans-historique"]
    status, peak, _, stderr = measured(command, cwd=cwd, env=env)
    return status, peak, stderr


def _receipt_case(folder: Path, megabytes: int, deep: bool) -> list[object]:
    return ["analyse", wide_receipt(folder / "recu-large.xml", megabytes, deep)]


def _flux_case(folder: Path, megabytes: int, inside: bool) -> list[object]:
    flux = wide_flux(folder / "flux-large.xml", megabytes, inside)
    return ["analyse", FIXTURES / "recu.xml", "-s", flux]


def _csv_case(folder: Path, megabytes: int, _: bool) -> list[object]:
    return ["analyse", FIXTURES / "recu.xml", "-s", separators_csv(folder / "large.csv", megabytes)]


MEMORY_CASES: list[tuple[str, Callable[[Path, int, bool], list[object]], int, bool]] = [
    ("accusé, millions d'éléments inconnus", _receipt_case, 40, False),
    ("accusé, éléments inconnus dans un idTechnique", _receipt_case, 10, True),
    ("flux, millions d'éléments inconnus", _flux_case, 40, False),
    ("flux, éléments inconnus dans un passage", _flux_case, 10, True),
    ("csv fait de séparateurs", _csv_case, 40, False),
]


@pytest.mark.parametrize(("label", "make", "megabytes", "variant"), MEMORY_CASES)
def test_memory_is_bounded_by_design(
    tmp_path: Path,
    label: str,
    make: Callable[[Path, int, bool], list[object]],
    megabytes: int,
    variant: bool,
) -> None:
    args = make(tmp_path, megabytes, variant)
    status, peak, stderr = _peak_mb(tmp_path, *args)
    assert status in (0, 1, 2) and b"Traceback" not in stderr, stderr.decode()
    assert peak <= _BASE_MB + 3 * megabytes, f"{label}: {peak} Mo"
    shutil.rmtree(tmp_path, ignore_errors=True)


# --- ambiguous receipts: never summarised falsely ---------------------------------------------


_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<rapport><nomFichier>f.xml</nomFichier>'
_KO = (
    "<PassagesKO><passage><idTechnique>1960020</idTechnique><messageErreur>Aucun titulaire ne "
    "correspond aux critères obligatoires</messageErreur></passage></PassagesKO>"
    "<PassagesOK><idTechnique>1960012</idTechnique></PassagesOK>"
)


def test_empty_errors_beside_passages_reads_the_passages(tmp_path: Path) -> None:
    receipt = tmp_path / "recu-ambigu.xml"
    receipt.write_text(_HEAD + "<erreurs/>" + _KO + "</rapport>", encoding="utf-8")
    result = run(tmp_path, "analyse", receipt, "--format", "json", "--sans-sortie")
    assert result.returncode == 1, result.stderr.decode()
    document = json.loads(result.stdout)
    assert (document["totaux"]["ok"], document["totaux"]["ko"]) == (1, 1)
    assert [k["idTechnique"] for k in document["ko"]] == ["1960020"]


def test_errors_and_passages_together_are_refused(tmp_path: Path) -> None:
    receipt = tmp_path / "recu-deux-formes.xml"
    errors = "<erreurs><erreur><type>XSD</type><message>m</message></erreur></erreurs>"
    receipt.write_text(_HEAD + errors + _KO + "</rapport>", encoding="utf-8")
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "analyse", receipt)
    check_refused(result, work, receipt.name, "à la fois des erreurs de fichier entier")


def test_id_formulas_never_computed_are_told(tmp_path: Path) -> None:
    """Ids computed by formulas in a file a program wrote: their stored value is 0."""
    import xlsxwriter

    source = tmp_path / "formules-non-calculees.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Titulaires")
    sheet.write_row(0, 0, ["Id Technique", "Nom de naissance"])
    for row in range(1, 6):
        sheet.write_formula(row, 0, f'="19600"&{row}')  # no value given: 0 is stored
        sheet.write_string(row, 1, "Martin")
    book.close()
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "analyse", FIXTURES / "recu.xml", "-s", source)
    check_refused(result, work, source.name, "ne contient que des 0 (5 lignes)", "jamais")
