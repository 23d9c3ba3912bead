"""A correction worksheet edited where it should not be (issue 14), through the real command:
an edited hidden bookkeeping sheet is refused with exit 2 and one sentence; control characters
typed into cells never crash the re-export nor reach the files it writes."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from accuse.fix.workbook import FIX_HEADER_ROW, SHEET_BOOK, SHEET_FIX
from tests.conftest import FIXTURES
from tests.test_hostile import check_refused, run, state

MODIFIED = "pas une feuille de corrections d'accuse, ou elle a été modifiée"


@pytest.fixture
def worksheet(tmp_path: Path) -> Path:
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", inputs / "recu.xml"))
    source = Path(shutil.copy(FIXTURES / "source.csv", inputs / "source.csv"))
    result = run(inputs, "analyse", receipt, "-s", source, "-o", inputs / "sortie")
    assert result.returncode == 1, result.stderr.decode()
    return inputs / "sortie" / "corrections.xlsx"


def _edit_book(path: Path, change) -> None:
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_BOOK]
    meta = {row[0].value: row[1] for row in sheet.iter_rows(max_col=2) if row[0].value}
    change(meta)
    book.save(path)


def _source_edit(key: str, value: object):
    def change(meta) -> None:
        source = json.loads(meta["source"].value)
        source[key] = value
        meta["source"].value = json.dumps(source, ensure_ascii=False)

    return change


def _set(key: str, text: str):
    def change(meta) -> None:
        meta[key].value = text

    return change


def _unknown_column(meta) -> None:
    source = json.loads(meta["source"].value)
    source["colonnes"]["champInconnu"] = 0
    meta["source"].value = json.dumps(source)


def _string_columns(meta) -> None:
    source = json.loads(meta["source"].value)
    source["colonnes"] = {k: str(v) for k, v in source["colonnes"].items()}
    meta["source"].value = json.dumps(source)


EDITS = {
    "préfixe": _set("prefixe", '"deux"'),
    "préfixe négatif": _set("prefixe", "-3"),
    "en-têtes": _source_edit("entetes", [1, 2, 3]),
    "source": _set("source", '"ailleurs"'),
    "colonne inconnue": _unknown_column,
    "nom de feuille": _source_edit("feuille", "a/b[c]"),
    "encodage inconnu": _source_edit("encodage", "klingon-8"),
    "séparateur": _source_edit("separateur", ";;"),
    "types": _string_columns,
    "empreinte": _source_edit("empreinte", 42),
}


@pytest.mark.parametrize("label", list(EDITS))
def test_edited_bookkeeping_is_refused(tmp_path: Path, worksheet: Path, label: str) -> None:
    _edit_book(worksheet, EDITS[label])
    before = state([worksheet])
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, "reexporter", worksheet, "-o", work / "sortie.csv")
    check_refused(result, work, "corrections.xlsx", MODIFIED)
    assert state([worksheet]) == before


def _type_controls(path: Path) -> str:
    """A correction on one row, typed with ESC, BEL and NUL (openpyxl stores them as _x001B_
    escapes, as Excel does); returns the row's idTechnique."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    row = next(sheet.iter_rows(min_row=FIX_HEADER_ROW + 1))
    row[header.index("Prénom")].value = "Zo_x001B_[31mé_x0007__x0000_"
    row[header.index("Prénom")].data_type = "s"
    book.save(path)
    return str(row[1].value)


@pytest.mark.parametrize("format", ["csv", "xml", "xlsx"])
def test_control_characters_never_reach_the_export(
    tmp_path: Path, worksheet: Path, format: str
) -> None:
    _type_controls(worksheet)
    target = tmp_path / f"corrige.{format}"
    args = ["--id-client", "ABCD1234", "--id-client-certificateur", "ABCD1234"]
    args += ["--id-contrat", "C1"] if format == "xml" else []
    result = run(
        tmp_path,
        "reexporter",
        worksheet,
        "--format",
        format,
        "--forcer",
        "-o",
        target,
        *(args if format == "xml" else []),
    )
    assert result.returncode == 0, result.stderr.decode()
    printed = result.stdout.decode()
    assert "caractères de contrôle" in printed and "\x1b" not in printed
    data = target.read_bytes()
    if format == "xlsx":  # every part of the workbook, unpacked
        with zipfile.ZipFile(target) as archive:
            data = b"".join(archive.read(name) for name in archive.namelist())
        assert b"_x0007_" not in data and b"_x0000_" not in data
    for raw in (b"\x1b", b"\x07", b"\x00", b"_x001B_"):
        assert raw not in data, raw
    if format == "xml":
        etree.fromstring(data)  # well-formed
        assert "Zo[31mé".encode() in data
    elif format == "xlsx":
        book = openpyxl.load_workbook(target)
        values = [c for sheet in book for r in sheet.iter_rows(values_only=True) for c in r]
        assert "Zo[31mé" in values
    else:
        rows = list(csv.reader(data.decode("utf-8-sig").splitlines(), delimiter=";"))
        assert any("Zo[31mé" in cells for cells in rows)
