"""corrections.xlsx is written by accuse's own xlsx writer (accuse.render.xlsxfast), faster than
xlsxwriter: the file must stay the same for the user. Each worksheet is written by both and read
back with openpyxl and python-calamine (values, types, styles, widths, heights, merges, frozen
panes, autofilter, validations, hidden sheet), and the package is compared part by part."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from lxml import etree
from python_calamine import CalamineWorkbook, SheetVisibleEnum

import accuse.render.worksheet as worksheet_module
from accuse.fix.workbook import DATE_FORMAT, FIX_HEADER_ROW, SHEET_BOOK, SHEET_FIX, Formats
from accuse.pipeline.analysis import analyse
from accuse.render.worksheet import write_worksheet
from accuse.render.xlsxfast import Workbook, column_name, excel_date
from tests.conftest import FIXTURES

RUN = "20261125-063500-abcdefabcdef"
CASES = [
    ("recu.xml", "source-plat.xlsx"),
    ("recu.xml", "source-modele.xlsx"),
    ("recu.xml", "source.csv"),
    ("recu.xml", "flux.xml"),
    ("recu-rejet.xml", "flux.xml"),
    ("recu.xml", None),
]
# Strings a source may hold: formulas, numbers and dates as text, control characters (stored
# as _xHHHH_), a literal _xHHHH_, XML's own characters, edge spaces, a cell over Excel's limit.
TRICKY = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    "+33 6 12 34 56 78",
    "-12",
    "@SOMME(A1)",
    "01234",
    "2024-06-30",
    "30/06/2024",
    "\x1b[31mrouge\x07",
    "a\r\nb\tc",
    "_x0041_ et _x005F_",
    "<b>&amp;</b> \"'",
    "  espaces autour  ",
    "é" * 40_000,
    "\ufffe",
]


def _xlsxwriter(path: Path) -> Any:
    """The workbook as accuse wrote it before its own writer."""
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    return xlsxwriter.Workbook(str(path), options)


def _both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receipt: str, source: str | None
) -> tuple[Path, Path]:
    """The worksheet of one analysis by accuse's writer, then by xlsxwriter (same file name)."""
    copied = Path(shutil.copy(FIXTURES / receipt, tmp_path / receipt))
    source_copy = Path(shutil.copy(FIXTURES / source, tmp_path / source)) if source else None
    analysis = analyse(copied, source_copy)
    (tmp_path / "rapide").mkdir()
    (tmp_path / "xlsxwriter").mkdir()
    fast = write_worksheet(analysis, tmp_path / "rapide" / "corrections.xlsx", [], run=RUN)
    monkeypatch.setattr(worksheet_module, "Workbook", _xlsxwriter)
    slow = write_worksheet(analysis, tmp_path / "xlsxwriter" / "corrections.xlsx", [], run=RUN)
    monkeypatch.undo()
    return fast, slow


def _color(color: Any) -> object:
    return None if color is None else (color.rgb, color.theme)


def _seen_by_openpyxl(path: Path) -> dict[str, object]:
    """Everything a user sees of the workbook in a spreadsheet program, as openpyxl reads it."""
    book = openpyxl.load_workbook(path)
    seen: dict[str, object] = {
        "sheets": [(s.title, s.sheet_state) for s in book.worksheets],
        "active": book.active.title if book.active is not None else None,
    }
    for sheet in book.worksheets:
        cells = {}
        for row in sheet.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = (
                    c.value,
                    c.data_type,
                    c.number_format,
                    c.is_date,
                    (c.font.b, c.font.sz, c.font.name, _color(c.font.color)),
                    (c.fill.fill_type, _color(c.fill.fgColor)),
                    (c.alignment.wrap_text, c.alignment.vertical),
                    (c.border.left.style, c.border.bottom.style, _color(c.border.top.color)),
                    c.protection.locked,
                )
        seen[sheet.title] = {
            "cells": cells,
            "widths": {k: (d.width, d.min, d.max) for k, d in sheet.column_dimensions.items()},
            "column styles": {
                k: d.number_format for k, d in sheet.column_dimensions.items() if d.has_style
            },
            "heights": {k: d.height for k, d in sheet.row_dimensions.items() if d.height},
            "merged": sorted(str(r) for r in sheet.merged_cells.ranges),
            "frozen": sheet.freeze_panes,
            "filter": sheet.auto_filter.ref,
            "filter name": {k: v.attr_text for k, v in sheet.defined_names.items()},
            "validations": [
                (
                    v.type,
                    v.formula1,
                    str(v.sqref),
                    v.allow_blank,
                    v.showErrorMessage,
                    v.showInputMessage,
                    v.errorStyle,
                    v.errorTitle,
                    v.error,
                    v.promptTitle,
                    v.prompt,
                )
                for v in sheet.data_validations.dataValidation
            ],
            "dimensions": sheet.dimensions,
            "selected": sheet.sheet_view.tabSelected,
        }
    return seen


def _seen_by_calamine(path: Path) -> dict[str, object]:
    book = CalamineWorkbook.from_path(str(path))
    seen: dict[str, object] = {"metadata": [(m.name, m.visible) for m in book.sheets_metadata]}
    for name in book.sheet_names:
        seen[name] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return seen


@pytest.mark.parametrize(("receipt", "source"), CASES)
def test_same_workbook_as_xlsxwriter_for_openpyxl_and_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receipt: str, source: str | None
) -> None:
    fast, slow = _both(tmp_path, monkeypatch, receipt, source)
    assert _seen_by_openpyxl(fast) == _seen_by_openpyxl(slow)
    assert _seen_by_calamine(fast) == _seen_by_calamine(slow)


def test_what_the_user_gets_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only "as before": the facts themselves, on the flat source."""
    fast, _ = _both(tmp_path, monkeypatch, "recu.xml", "source-plat.xlsx")
    sheet = openpyxl.load_workbook(fast)[SHEET_FIX]
    assert sheet.freeze_panes == "C3" and sheet.auto_filter.ref.startswith("A2:")
    assert "A1:C1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.row_dimensions[1].height == 45 and sheet["A1"].alignment.wrap_text
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    assert sheet.column_dimensions["B"].width == pytest.approx(22.71, abs=0.01)
    highlighted = [
        c
        for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1)
        for c in row
        if c.fill.fill_type == "solid"
    ]
    assert highlighted, "the culprit cells are highlighted"
    for cell in highlighted:
        assert cell.fill.fgColor.rgb == "FFFFE699" and cell.border.left.style == "thin"
    begin = header.index("Date Debut Validite") + 1
    dates = [sheet.cell(row=r, column=begin) for r in range(FIX_HEADER_ROW + 1, sheet.max_row + 1)]
    assert all(c.is_date and c.number_format == DATE_FORMAT for c in dates if c.value)
    ids = [sheet.cell(row=r, column=2).value for r in range(FIX_HEADER_ROW + 1, sheet.max_row + 1)]
    assert all(isinstance(i, str) for i in ids)
    assert {v.formula1 for v in sheet.data_validations.dataValidation} >= {'"M,F"'}
    assert openpyxl.load_workbook(fast)[SHEET_BOOK].sheet_state == "hidden"
    book = CalamineWorkbook.from_path(str(fast))
    hidden = {m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Hidden}
    assert hidden == {SHEET_BOOK}
    rows = book.get_sheet_by_name(SHEET_FIX).to_python()
    column = rows[FIX_HEADER_ROW - 1].index("Date Debut Validite")
    assert any(isinstance(r[column], dt.date) for r in rows[FIX_HEADER_ROW:])
    assert all(isinstance(r[1], str) for r in rows[FIX_HEADER_ROW:])


def _part_shape(archive: zipfile.ZipFile, name: str) -> tuple[object, ...]:
    """A part's root, namespaces and the order of its root's children (Excel is strict
    about that order), once each part is known to be well-formed XML without entities."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(archive.read(name), parser)
    children = [child.tag for child in root]
    order = list(dict.fromkeys(children))
    if root.tag.endswith("}sst") or root.tag.endswith("}sheetData"):
        order = order[:1]
    return root.tag, dict(root.nsmap), tuple(order)


@pytest.mark.parametrize(("receipt", "source"), [CASES[0], CASES[4]])
def test_package_parts_in_xlsxwriters_order_and_namespaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receipt: str, source: str | None
) -> None:
    fast, slow = _both(tmp_path, monkeypatch, receipt, source)
    with zipfile.ZipFile(fast) as mine, zipfile.ZipFile(slow) as theirs:
        assert mine.testzip() is None
        assert mine.namelist() == theirs.namelist()
        for name in mine.namelist():
            assert _part_shape(mine, name) == _part_shape(theirs, name), name
        for name in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"):
            assert mine.read(name) == theirs.read(name), name
        sheet = mine.read("xl/worksheets/sheet1.xml").decode("utf-8")
        assert "<f>" not in sheet and "<f " not in sheet  # never a formula
        core = mine.read("docProps/core.xml").decode("utf-8")
        created = core.split("<dcterms:created")[1].split(">")[1].split("<")[0]
        modified = core.split("<dcterms:modified")[1].split(">")[1].split("<")[0]
        assert created == modified  # how accuse tells a worksheet a program saved since


def _tricky_book(path: Path, book: Any) -> Path:
    formats = Formats(book)
    sheet = book.add_worksheet("Cellules")
    others = [
        lambda r: sheet.write_datetime(r, 2, dt.date(2024, 6, 30), formats.get("date", True)),
        lambda r: sheet.write_datetime(
            r, 2, dt.datetime(1900, 2, 28, 12), formats.get("datetime", False)
        ),
        lambda r: sheet.write_datetime(r, 2, dt.date(1900, 3, 1), formats.get("date", False)),
        lambda r: sheet.write_number(r, 2, 1979262, formats.get("general", False)),
        lambda r: sheet.write_number(r, 2, 0.1 + 0.2, formats.top),
        lambda r: sheet.write_boolean(r, 2, True, formats.get("general", True)),
        lambda r: sheet.write_blank(r, 2, None, formats.get("text", True)),
        lambda r: sheet.write_blank(r, 2, None, None),  # nothing without a format
        lambda r: sheet.write_string(r, 2, "", formats.wrap),  # empty text: still a text cell
    ]
    for row, text in enumerate(TRICKY):
        sheet.write_string(row, 0, text, formats.get("text", row % 2 == 0))
        sheet.write_string(row, 1, text)
        if row < len(others):
            others[row](row)
    sheet.set_column(0, 0, 30, formats.get("text", False))
    sheet.set_column(1, 2, 0.5)
    sheet.set_row(3, 45)
    sheet.freeze_panes(1, 0)
    book.close()
    return path


def test_tricky_strings_dates_and_numbers_as_xlsxwriter_stores_them(tmp_path: Path) -> None:
    fast = _tricky_book(tmp_path / "rapide.xlsx", Workbook(tmp_path / "rapide.xlsx"))
    slow = tmp_path / "xlsxwriter.xlsx"
    _tricky_book(slow, _xlsxwriter(slow))
    assert _seen_by_openpyxl(fast) == _seen_by_openpyxl(slow)
    assert _seen_by_calamine(fast) == _seen_by_calamine(slow)
    rows = CalamineWorkbook.from_path(str(fast)).get_sheet_by_name("Cellules").to_python()
    expected = [t[:32767] for t in TRICKY]
    expected[-1] = "_xFFFE_"  # a non-character: escaped as Excel does, and read back so
    assert [r[0] for r in rows[: len(TRICKY)]] == expected  # text, as typed, never computed
    assert rows[0][2] == dt.date(2024, 6, 30) and rows[3][2] == 1979262
    with zipfile.ZipFile(fast) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode("utf-8")
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "_x001B_[31mrouge_x0007_" in strings and "a_x000D_\nb\tc" in strings
    assert "_x005F_x0041_ et _x005F_x005F_" in strings
    assert '<t xml:space="preserve">  espaces autour  </t>' in strings
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in strings and "_xFFFE_" in strings
    assert "<f>" not in sheet and 't="s"' in sheet


def _edge_book(path: Path, book: Any) -> Path:
    """Cells, widths, a filter and a list past Excel's last column (a csv may have 16,384
    columns, the worksheet puts its own before them): left out, the rest kept."""
    formats = Formats(book)
    sheet = book.add_worksheet("Bord")
    far = (0, 16_383, 16_384, 20_000)
    for column in far:
        sheet.write_string(0, column, f"colonne {column}", formats.header)
        sheet.set_column(column, column, 12, formats.get("text", False))
    for column in far:
        sheet.write_number(1, column, column, formats.top)
    sheet.set_row(1_048_576, 30)
    sheet.autofilter(0, 0, 1, 16_384)
    sheet.data_validation(1, 16_384, 5, 16_384, {"validate": "list", "source": ["M", "F"]})
    sheet.data_validation(1, 0, 5, 0, {"validate": "list", "source": ["OUI", "NON"]})
    sheet.merge_range(3, 16_383, 3, 16_384, "trop loin", formats.wrap)
    book.close()
    return path


def test_past_the_last_column_is_left_out_as_xlsxwriter_does(tmp_path: Path) -> None:
    fast = _edge_book(tmp_path / "rapide.xlsx", Workbook(tmp_path / "rapide.xlsx"))
    slow = tmp_path / "xlsxwriter.xlsx"
    _edge_book(slow, _xlsxwriter(slow))
    assert _seen_by_openpyxl(fast) == _seen_by_openpyxl(slow)
    assert _seen_by_calamine(fast) == _seen_by_calamine(slow)
    sheet = openpyxl.load_workbook(fast)["Bord"]
    assert sheet["XFD1"].value == "colonne 16383" and sheet.max_column == 16_384
    assert sheet.auto_filter.ref is None and len(sheet.data_validations.dataValidation) == 1


def test_dates_become_excels_serial_numbers() -> None:
    assert excel_date(dt.date(1900, 1, 1)) == 1
    assert excel_date(dt.date(1900, 2, 28)) == 59
    assert excel_date(dt.date(1900, 3, 1)) == 61  # Excel's 29 February 1900 lies between
    assert excel_date(dt.date(2024, 6, 30)) == 45473
    assert excel_date(dt.datetime(2024, 6, 30, 18)) == 45473.75
    assert [column_name(i) for i in (0, 25, 26, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "ZZ",
        "AAA",
        "XFD",
    ]


def test_rows_out_of_order_are_a_bug_not_a_silent_mix(tmp_path: Path) -> None:
    book = Workbook(tmp_path / "x.xlsx")
    sheet = book.add_worksheet("Feuille")
    sheet.write_string(1, 0, "en-têtes")
    sheet.write_string(0, 0, "consigne")  # a row never written may come after a later one
    sheet.write_string(2, 1, "b")
    sheet.write_string(2, 0, "a")  # cells of a row in any order
    with pytest.raises(ValueError, match="row 2"):
        sheet.write_string(1, 1, "trop tard")
    book.close()
    rows = CalamineWorkbook.from_path(str(tmp_path / "x.xlsx")).get_sheet_by_index(0).to_python()
    assert rows == [["consigne", ""], ["en-têtes", ""], ["a", "b"]]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "accuse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def test_worksheet_edited_as_excel_would_then_reexported(tmp_path: Path) -> None:
    for name in ("recu.xml", "source-plat.xlsx"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    done = _run("analyse", "recu.xml", "-s", "source-plat.xlsx", "--sans-historique", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # refusals found
    worksheet = next(tmp_path.rglob("corrections.xlsx"))
    book = openpyxl.load_workbook(worksheet)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    row = next(r for r in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1) if r[1].value == "1960012")
    row[header.index("Code")].value = "RNCP34567"
    book.save(worksheet)
    target = tmp_path / "redepot.xlsx"
    result = _run("reexporter", str(worksheet), "-f", "xlsx", "-o", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    records = [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]
    assert [(str(r["Id Technique"]), r["Code"]) for r in records] == [("1960012", "RNCP34567")]
