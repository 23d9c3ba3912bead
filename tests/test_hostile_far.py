"""A filled cell far from the data, in every spreadsheet kind (issue 14): calamine allocates a
sheet's whole rectangle before giving a row, so one far cell makes it ask for gigabytes (ods:
abort of the Rust runtime; xls: a gigabyte for a 6 KB file). Each is refused before calamine
sees the file, by every command that reads a spreadsheet; cells within reach are read as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.hostile.make_corpus import far_cell_ods, far_cell_xls, far_cell_xlsx
from tests.hostile.rss import measured
from tests.test_hostile import check_refused, run, state

FAR = "très loin de toutes les données"
Maker = Callable[[Path, int, int], Path]

# (maker, suffix, row, column from 0, reference told)
FAR_CELLS: list[tuple[str, int, int, str]] = [
    ("ods", 1_048_575, 16_383, "XFD1048576"),
    ("ods", 9_997, 9_998, "NTO"),  # ~100 M cells: the Rust runtime aborts
    ("ods", 1_048_575, 0, "la ligne 1048576"),
    ("ods", 5, 300, "KO"),
    ("xls", 65_535, 255, "IV65536"),
    ("xls", 65_535, 0, "la ligne 65536"),
    ("xls", 10, 240, "IG11"),
]


def _make(kind: str, path: Path, row: int, column: int) -> Path:
    return (far_cell_ods if kind == "ods" else far_cell_xls)(path, row, column)


@pytest.mark.parametrize(("kind", "row", "column", "reference"), FAR_CELLS)
@pytest.mark.parametrize("command", ["analyse", "verifier", "generer"])
def test_far_cell_is_refused_by_every_command(
    tmp_path: Path, kind: str, row: int, column: int, reference: str, command: str
) -> None:
    source = _make(kind, tmp_path / f"loin.{kind}", row, column)
    work = tmp_path / "travail"
    work.mkdir()
    before = state([source])
    args: tuple[object, ...] = {
        "analyse": ("analyse", FIXTURES / "recu.xml", "-s", source),
        "verifier": ("verifier", source),
        "generer": ("generer", source, "-o", work / "flux.xml"),
    }[command]
    result = run(work, *args)
    check_refused(result, work, source.name, reference, FAR)
    assert state([source]) == before


def test_a_cell_repeated_far_across_is_refused(tmp_path: Path) -> None:
    # Not far itself: its own repetition carries it past the columns allowed.
    source = far_cell_ods(tmp_path / "repete.ods", 30, 2, repeated=1_000_000)
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "verifier", source)
    check_refused(result, work, "repete.ods", FAR)


def test_far_ods_cell_refused_in_bounded_memory(tmp_path: Path) -> None:
    source = far_cell_ods(tmp_path / "loin.ods", 9_997, 9_998)
    status, peak, _, stderr = measured(
        [sys.executable, "-m", "accuse", "verifier", source], cwd=tmp_path
    )
    assert status == 2, stderr.decode()
    assert peak < 300, peak  # MB: the 100 M-cell rectangle is never built


@pytest.mark.parametrize("kind", ["ods", "xls"])
def test_cells_within_reach_are_read(tmp_path: Path, kind: str) -> None:
    """Column HZ (234) and a row within reach of the data: read as usual, not refused."""
    source = _make(kind, tmp_path / f"bord.{kind}", 900, 233)
    result = run(tmp_path, "analyse", FIXTURES / "recu.xml", "-s", source, "--sans-sortie")
    assert result.returncode == 1, result.stderr.decode()
    plain = far_cell_ods(tmp_path / "simple.ods", None, 0)
    result = run(tmp_path, "analyse", FIXTURES / "recu.xml", "-s", plain, "--sans-sortie")
    assert result.returncode == 1, result.stderr.decode()


def test_a_far_cell_worksheet_in_the_output_folder_is_kept_aside(tmp_path: Path) -> None:
    """A hostile corrections.xlsx already in the output folder: never handed to calamine
    (folder naming, the pair check, carrying corrections); kept aside, a new pair written."""
    out = tmp_path / "sortie"
    out.mkdir()
    far_cell_xlsx(out / "corrections.xlsx", 1_048_575, 16_383)
    result = run(
        tmp_path, "analyse", FIXTURES / "recu.xml", "-s", FIXTURES / "source.csv", "-o", out
    )
    assert result.returncode == 1, result.stderr.decode()
    assert "gardé tel quel" in " ".join(result.stdout.decode().split())
    assert (out / "rapport.html").exists()
