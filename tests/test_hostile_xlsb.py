"""Excel's binary workbook (.xlsb) as a source (issue 14).

calamine builds a sheet's whole rectangle, from A1 to its farthest cell with content: a 1.6 KB
.xlsb whose cells are A1 and XFD1048576 makes it ask for 512 GiB when the sheet is opened, and
the Rust runtime aborts the process (exit 134). The sheet's records are read first, and such a
file is refused like the xlsx one. Records calamine would read out of bounds (it panics) are
refused as damage. The files are written by tests/hostile/xlsb.py, proven right here by
python-calamine and LibreOffice reading them back.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import FIXTURES
from tests.hostile import xlsb
from tests.hostile.make_corpus import HEADER, _source_rows, far_cell_xlsb
from tests.hostile.rss import measured
from tests.test_hostile import check_refused, run, state

FAR = "très loin de toutes les données"
DAMAGED = "classeur endommagé"


def _error_formula() -> xlsb.Raw:
    """A BrtFmlaError: #N/A, no flags, an empty formula."""
    return xlsb.Raw(xlsb.FORMULA_ERROR, struct.pack("<I", 0) + b"\x2a" + bytes(10))


# --- the writer itself ----------------------------------------------------------------------


def _every_kind(path: Path) -> Path:
    cells: list[tuple[int, int, xlsb.Value]] = [
        (0, 0, "Id Technique"),
        (0, 1, "Nom"),
        (0, 2, "Nombre"),
        (1, 0, "1960020"),
        (1, 1, "Lefèbvre"),
        (1, 2, 42),
        (2, 0, "1960021"),
        (2, 1, None),  # an empty styled cell
        (2, 2, 2.5),
        (3, 0, True),
    ]
    return xlsb.write_xlsb(path, cells)


def test_the_writer_makes_a_workbook_calamine_reads(tmp_path: Path) -> None:
    path = _every_kind(tmp_path / "tout.xlsb")
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["Titulaires"]
    assert book.get_sheet_by_name("Titulaires").to_python() == [
        ["Id Technique", "Nom", "Nombre"],
        ["1960020", "Lefèbvre", 42],
        ["1960021", "", 2.5],
        [True, "", ""],
    ]
    inline = xlsb.write_xlsb(tmp_path / "texte.xlsb", xlsb.grid([["a", "b"]]), shared=False)
    with zipfile.ZipFile(inline) as archive:
        assert b"\x06" in archive.read("xl/worksheets/sheet1.bin")  # BrtCellSt records
    assert CalamineWorkbook.from_path(str(inline)).get_sheet_by_index(0).to_python() == [["a", "b"]]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent")
def test_the_writer_makes_a_workbook_libreoffice_reads(tmp_path: Path) -> None:
    path = _every_kind(tmp_path / "tout.xlsb")
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",  # 76: UTF-8
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    text = (tmp_path / "tout.csv").read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(text))) == [
        ["Id Technique", "Nom", "Nombre"],
        ["1960020", "Lefèbvre", "42"],
        ["1960021", "", "2.5"],
        ["TRUE", "", ""],
    ]


# --- a normal .xlsb is read like the csv it was made from ----------------------------------


def _whole_source(path: Path) -> Path:
    with (FIXTURES / "source.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return xlsb.write_xlsb(path, xlsb.grid(rows))


def _analysis(cwd: Path, source: Path) -> dict:
    result = run(
        cwd, "analyse", FIXTURES / "recu.xml", "-s", source, "--format", "json", "--sans-sortie"
    )
    assert result.returncode == 1, result.stderr.decode()
    return json.loads(result.stdout)


def test_an_xlsb_source_is_joined_like_its_csv(tmp_path: Path) -> None:
    source = _whole_source(tmp_path / "passages.xlsb")
    from_xlsb = _analysis(tmp_path, source)
    from_csv = _analysis(tmp_path, FIXTURES / "source.csv")
    assert from_xlsb["source"]["type"] == "tableur"
    assert from_xlsb["totaux"] == from_csv["totaux"]
    assert from_xlsb["totaux"]["ko_rapproches"] == 7
    assert [(k["idTechnique"], k["ligne_source"], k["valeurs"]) for k in from_xlsb["ko"]] == [
        (k["idTechnique"], k["ligne_source"], k["valeurs"]) for k in from_csv["ko"]
    ]


# --- far cells ------------------------------------------------------------------------------

# (row, column from 0, value, reference told)
FAR_CELLS: list[tuple[int, int, xlsb.Value, str]] = [
    (1_048_575, 16_383, "loin", "XFD1048576"),  # calamine: 512 GiB, abort
    (5, 16_383, "loin", "XFD6"),
    (5, 300, 3.5, "KO6"),
    (1_048_575, 0, "loin", "A1048576"),
    (5, 2**31, True, "la cellule "),  # past Excel's columns: 192 GB asked
    (1_048_575, 16_383, "", "XFD1048576"),  # an empty text is still a value for calamine
    (1_048_575, 16_383, 7, "XFD1048576"),
]


@pytest.mark.parametrize(("row", "column", "value", "reference"), FAR_CELLS)
@pytest.mark.parametrize("command", ["analyse", "verifier", "generer"])
def test_far_cell_is_refused_by_every_command(
    tmp_path: Path, row: int, column: int, value: xlsb.Value, reference: str, command: str
) -> None:
    source = far_cell_xlsb(tmp_path / "loin.xlsb", row, column, value)
    assert source.stat().st_size < 2500
    work = tmp_path / "travail"
    work.mkdir()
    before = state([source])
    args: tuple[object, ...] = {
        "analyse": ("analyse", FIXTURES / "recu.xml", "-s", source),
        "verifier": ("verifier", source),
        "generer": ("generer", source, "-o", work / "flux.xml"),
    }[command]
    result = run(work, *args)
    check_refused(result, work, "loin.xlsb", reference, FAR)
    assert state([source]) == before


def test_a_far_xlsb_worksheet_is_refused_by_reexporter(tmp_path: Path) -> None:
    worksheet = far_cell_xlsb(tmp_path / "corrections.xlsb", 1_048_575, 16_383)
    work = tmp_path / "travail"
    work.mkdir()
    before = state([worksheet])
    result = run(work, "reexporter", worksheet, "-o", work / "sortie.csv")
    check_refused(result, work, "corrections.xlsb", "XFD1048576", FAR)
    assert state([worksheet]) == before


def test_a_far_formula_error_is_refused_too(tmp_path: Path) -> None:
    """calamine 0.37 passes a formula's error value over; a later one may not: refused."""
    source = far_cell_xlsb(tmp_path / "erreur.xlsb", 1_048_575, 16_383, _error_formula())
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "verifier", source)
    check_refused(result, work, "erreur.xlsb", "XFD1048576", FAR)


def test_far_xlsb_cell_refused_in_bounded_memory(tmp_path: Path) -> None:
    source = far_cell_xlsb(tmp_path / "loin.xlsb", 1_048_575, 16_383)
    status, peak, _, stderr = measured(
        [sys.executable, "-m", "accuse", "verifier", source], cwd=tmp_path
    )
    assert status == 2, stderr.decode()
    assert peak < 300, peak  # MB: the 512 GiB rectangle is never asked for


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (900, 233, "bord"),  # column HZ, a row within reach of the data
        (1_048_575, 16_383, None),  # an empty styled cell: calamine skips it
    ],
)
def test_cells_calamine_holds_cheaply_are_read(
    tmp_path: Path, row: int, column: int, value: xlsb.Value
) -> None:
    source = far_cell_xlsb(tmp_path / "proche.xlsb", row, column, value)
    result = run(
        tmp_path,
        "analyse",
        FIXTURES / "recu.xml",
        "-s",
        source,
        "--format",
        "json",
        "--sans-sortie",
    )
    assert result.returncode == 1, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["source"]["lignes"] == len(_source_rows())  # the far cell has no id


# --- damaged parts --------------------------------------------------------------------------


def _sheet(*records: bytes, dimension: bytes = struct.pack("<IIII", 0, 0, 0, 0)) -> bytes:
    return b"".join(
        [
            xlsb.record(0x0081),
            xlsb.record(0x0094, dimension),
            xlsb.record(0x0091),
            *records,
            xlsb.record(0x0092),
            xlsb.record(0x0082),
        ]
    )


def _header_row() -> bytes:
    """A sheet's first records down to its header row (the shared strings 0-4 are HEADER's)."""
    cells = b"".join(
        xlsb.record(xlsb.CELL_SHARED, struct.pack("<III", column, 0, column))
        for column in range(len(HEADER))
    )
    return (
        _sheet()[: -len(xlsb.record(0x0092) + xlsb.record(0x0082))]
        + xlsb.record(xlsb.ROW_HEADER, bytes(17))
        + cells
    )


def _cell(kind: int, payload: bytes) -> bytes:
    return xlsb.record(xlsb.ROW_HEADER, struct.pack("<I", 1) + bytes(13)) + xlsb.record(
        kind, payload
    )


_PLAIN = xlsb.sheet_part(xlsb.grid([HEADER, *_source_rows()]), {})

DAMAGED_SHEETS: dict[str, bytes] = {
    # a shared string past the list: calamine panics (index out of bounds)
    "chaine-hors-liste": _header_row()
    + _cell(xlsb.CELL_SHARED, struct.pack("<III", 0, 0, 99_999))
    + xlsb.record(0x92),
    # a cell shorter than its value: calamine reads the previous record's bytes instead
    "cellule-courte": _header_row() + _cell(xlsb.CELL_REAL, b"") + xlsb.record(0x92),
    "reste-precedent": _header_row()
    + xlsb.record(0x0050, b"\xff\xff\x00\x00" + bytes(20))
    + xlsb.record(xlsb.CELL_REAL, b"")
    + xlsb.record(0x92),
    # a dimension record of 8 bytes where calamine slices 16: a panic
    "dimension-courte": _sheet(dimension=bytes(8)),
}
UNREADABLE_SHEETS: dict[str, bytes] = {
    "tronquee": _PLAIN[: len(_PLAIN) // 2],
    "vide": b"",
    "bruit": bytes((n * 7919 + 13) % 251 for n in range(4000)),
    # a record declaring 256 MB in a 2 KB part: skipped in the stream, never held
    "enregistrement-geant": _header_row() + b"\x50\xff\xff\xff\x7f" + bytes(64),
}


@pytest.mark.parametrize(
    ("name", "fragment"),
    [(n, DAMAGED) for n in DAMAGED_SHEETS] + [(n, "illisible") for n in UNREADABLE_SHEETS],
)
@pytest.mark.parametrize("command", ["analyse", "verifier"])
def test_a_damaged_sheet_part_is_told_in_french(
    tmp_path: Path, name: str, fragment: str, command: str
) -> None:
    data = {**DAMAGED_SHEETS, **UNREADABLE_SHEETS}[name]
    cells = xlsb.grid([HEADER, *_source_rows()])
    source = xlsb.write_xlsb(tmp_path / f"{name}.xlsb", cells, sheet_bytes=data)
    work = tmp_path / "travail"
    work.mkdir()
    before = state([source])
    args: tuple[object, ...] = (
        ("analyse", FIXTURES / "recu.xml", "-s", source)
        if command == "analyse"
        else ("verifier", source)
    )
    result = run(work, *args)
    check_refused(result, work, f"{name}.xlsb", fragment)
    assert state([source]) == before


def _bundle(key: str, name: str = "Titulaires") -> bytes:
    return xlsb.record(0x9C, struct.pack("<II", 0, 1) + xlsb.wide(key) + xlsb.wide(name))


def _book(*records: bytes) -> bytes:
    """A workbook.bin: its sheets' records, then ``records`` among the defined names."""
    return b"".join(
        [
            xlsb.record(0x83),
            xlsb.record(0x8F),
            _bundle("rId1"),
            xlsb.record(0x90),
            *records,
            xlsb.record(0x9D, bytes(26)),
            xlsb.record(0x84),
        ]
    )


def _name(formula: bytes, declared: int | None = None) -> bytes:
    """A BrtName: flags, key, function group, its name, then its parsed formula."""
    size = len(formula) if declared is None else declared
    body = bytes(9) + xlsb.wide("Zone") + struct.pack("<I", size) + formula + bytes(8)
    return xlsb.record(0x27, body)


def _styles(*records: bytes) -> bytes:
    return b"".join([xlsb.record(0x0296), *records, xlsb.record(0x0297)])


# part -> its damaged content: calamine 0.37 panics on each (an index out of bounds).
DAMAGED_PARTS: dict[str, tuple[str, bytes]] = {
    "relation-absente": (
        "xl/workbook.bin",
        _book().replace(_bundle("rId1"), _bundle("rId9")),
    ),
    "feuille-courte": ("xl/workbook.bin", _book().replace(_bundle("rId1"), xlsb.record(0x9C))),
    "relation-trop-longue": (
        "xl/workbook.bin",
        _book().replace(_bundle("rId1"), xlsb.record(0x9C, struct.pack("<III", 0, 1, 500))),
    ),
    "proprietes-vides": ("xl/workbook.bin", xlsb.record(0x99) + _book()),
    "feuilles-externes": ("xl/workbook.bin", _book(xlsb.record(0x16A, struct.pack("<I", 9)))),
    "nom-trop-long": ("xl/workbook.bin", _book(_name(b"\x3a", declared=50))),
    "format-court": (
        "xl/styles.bin",
        _styles(xlsb.record(0x0267, struct.pack("<I", 1)), xlsb.record(0x2C, b"\x00")),
    ),
    "style-court": (
        "xl/styles.bin",
        _styles(xlsb.record(0x0269, struct.pack("<I", 1)), xlsb.record(0x2F, b"\x00")),
    ),
    "texte-partage-court": (
        "xl/sharedStrings.bin",
        xlsb.record(0x9F, struct.pack("<II", 1, 1)) + xlsb.record(0x13) + xlsb.record(0xA0),
    ),
}


def _replaced(folder: Path, name: str, member: str, data: bytes) -> Path:
    plain = far_cell_xlsb(folder / "simple.xlsb", None, 0)
    source = folder / f"{name}.xlsb"
    with zipfile.ZipFile(plain) as old, zipfile.ZipFile(source, "w") as new:
        for info in old.infolist():
            if info.filename != member:
                new.writestr(info.filename, old.read(info))
        new.writestr(member, data)
    plain.unlink()
    return source


@pytest.mark.parametrize("name", list(DAMAGED_PARTS))
def test_a_damaged_workbook_styles_or_strings_part_is_refused(tmp_path: Path, name: str) -> None:
    member, data = DAMAGED_PARTS[name]
    source = _replaced(tmp_path, name, member, data)
    work = tmp_path / "travail"
    work.mkdir()
    before = state([source])
    result = run(work, "verifier", source)
    check_refused(result, work, f"{name}.xlsb", DAMAGED)
    assert state([source]) == before


def test_the_builders_parts_are_read_when_sound(tmp_path: Path) -> None:
    """The same parts, sound: a defined name, number and cell formats. Read, not refused."""
    sound = {
        "xl/workbook.bin": _book(
            xlsb.record(0x16A, struct.pack("<I", 1) + struct.pack("<Iii", 0, 0, 0)),
            _name(b""),
        ),
        "xl/styles.bin": _styles(
            xlsb.record(0x0267, struct.pack("<I", 1)),
            xlsb.record(0x2C, struct.pack("<H", 164) + xlsb.wide("0.00")),
            xlsb.record(0x0268),
            xlsb.record(0x0269, struct.pack("<I", 1)),
            xlsb.record(0x2F, bytes(16)),
        ),
    }
    source = far_cell_xlsb(tmp_path / "simple.xlsb", None, 0)
    for member, data in sound.items():
        source = _replaced(tmp_path, member.split("/")[-1].split(".")[0], member, data)
        result = run(tmp_path, "analyse", FIXTURES / "recu.xml", "-s", source, "--sans-sortie")
        assert result.returncode == 1, result.stderr.decode()


def test_a_panic_left_in_calamine_is_exit_2_not_a_crash(tmp_path: Path) -> None:
    """A defined name whose formula is cut short (a cell reference without its bytes): its
    formula is not followed by the guard, and calamine panics while opening the workbook. The
    panic is caught as calamine's failure: exit 2 and the French sentence (Rust prints its own
    panic lines before it, which accuse cannot silence)."""
    source = _replaced(tmp_path, "formule", "xl/workbook.bin", _book(_name(b"\x3a")))
    for args in (("verifier", source), ("analyse", FIXTURES / "recu.xml", "-s", source)):
        result = run(tmp_path, *args)
        stderr = result.stderr.decode()
        assert result.returncode == 2, stderr
        assert "Traceback" not in stderr
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("Erreur : formule.xlsb : classeur illisible"), stderr
