"""A small writer of real .xlsb workbooks (Excel's binary format, MS-XLSB), for tests only.

An .xlsb is a zip of BIFF12 record streams: each record is its type (a 1-2 byte varint), its
size (a 1-4 byte varint), then its payload. No library at hand writes one, so this module
writes the few parts a reader needs: the workbook naming its sheet, the sheet's rows and cells,
the shared strings, and the package's content types and relationships.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Record types (MS-XLSB 2.3.2).
ROW_HEADER = 0x0000  # BrtRowHdr
CELL_BLANK = 0x0001  # BrtCellBlank: a styled empty cell
CELL_RK = 0x0002  # BrtCellRk
CELL_ERROR = 0x0003  # BrtCellError
CELL_BOOL = 0x0004  # BrtCellBool
CELL_REAL = 0x0005  # BrtCellReal
CELL_TEXT = 0x0006  # BrtCellSt: text kept in the cell
CELL_SHARED = 0x0007  # BrtCellIsst: index into the shared strings
FORMULA_TEXT = 0x0008  # BrtFmlaString
FORMULA_NUMBER = 0x0009  # BrtFmlaNum
FORMULA_BOOL = 0x000A  # BrtFmlaBool
FORMULA_ERROR = 0x000B  # BrtFmlaError
_SST_ITEM = 0x0013
_BEGIN_BOOK, _END_BOOK = 0x0083, 0x0084
_BEGIN_SHEET, _END_SHEET = 0x0081, 0x0082
_BEGIN_SHEET_DATA, _END_SHEET_DATA = 0x0091, 0x0092
_SHEET_DIMENSION = 0x0094  # BrtWsDim
_BEGIN_BUNDLES, _END_BUNDLES, _BUNDLE_SHEET = 0x008F, 0x0090, 0x009C
_WORKBOOK_PROPERTIES, _CALC_PROPERTIES = 0x0099, 0x009D
_BEGIN_SST, _END_SST = 0x009F, 0x00A0

_MAIN = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Raw:
    """A cell record written as given: its type and the payload after the column."""

    kind: int
    body: bytes


Value = str | float | int | bool | None | Raw


def varint(number: int, most: int) -> bytes:
    """``number`` as 7-bit groups, low first, the high bit telling another byte follows."""
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    assert len(out) <= most, number
    return bytes(out)


def record(kind: int, payload: bytes = b"") -> bytes:
    return varint(kind, 2) + varint(len(payload), 4) + payload


def wide(text: str) -> bytes:
    """An XLWideString: its length in UTF-16 code units, then UTF-16-LE."""
    data = text.encode("utf-16-le")
    return struct.pack("<I", len(data) // 2) + data


def _formula(kind: int, value: bytes) -> bytes:
    # The cached value, the flags, then an empty parsed formula (cce 0) and no extra (cb 0).
    return value + struct.pack("<HII", 0, 0, 0)


def _cell(column: int, value: Value, strings: dict[str, int], shared: bool) -> bytes:
    head = struct.pack("<II", column, 0)  # column, style 0
    if isinstance(value, Raw):
        return record(value.kind, struct.pack("<I", column) + value.body)
    if value is None:
        return record(CELL_BLANK, head)
    if isinstance(value, bool):
        return record(CELL_BOOL, head + bytes([value]))
    if isinstance(value, int) and -(2**29) <= value < 2**29:
        return record(CELL_RK, head + struct.pack("<i", (value << 2) | 2))
    if isinstance(value, int | float):
        return record(CELL_REAL, head + struct.pack("<d", float(value)))
    if shared:
        index = strings.setdefault(value, len(strings))
        return record(CELL_SHARED, head + struct.pack("<I", index))
    return record(CELL_TEXT, head + wide(value))


def _row_header(row: int) -> bytes:
    # rw, ixfe, miyRw (height in twips), three flag bytes, no column span.
    return record(ROW_HEADER, struct.pack("<IIH3sI", row, 0, 300, b"\x00\x00\x00", 0))


def sheet_part(
    cells: Iterable[tuple[int, int, Value]],
    strings: dict[str, int],
    *,
    shared: bool = True,
    dimension: tuple[int, int, int, int] | None = None,
) -> bytes:
    """The records of a worksheet holding ``cells`` (row, column from 0, value), in order."""
    ordered = sorted(cells, key=lambda c: (c[0], c[1]))
    if dimension is None:
        rows = [c[0] for c in ordered] or [0]
        columns = [c[1] for c in ordered] or [0]
        dimension = (min(rows), max(rows), min(columns), max(columns))
    parts = [
        record(_BEGIN_SHEET),
        record(_SHEET_DIMENSION, struct.pack("<IIII", *dimension)),
        record(_BEGIN_SHEET_DATA),
    ]
    current = None
    for row, column, value in ordered:
        if row != current:
            parts.append(_row_header(row))
            current = row
        parts.append(_cell(column, value, strings, shared))
    parts += [record(_END_SHEET_DATA), record(_END_SHEET)]
    return b"".join(parts)


def workbook_part(sheet_names: list[str]) -> bytes:
    parts = [record(_BEGIN_BOOK), record(_WORKBOOK_PROPERTIES, struct.pack("<II", 0, 0) + wide(""))]
    parts.append(record(_BEGIN_BUNDLES))
    for number, name in enumerate(sheet_names, 1):
        # hsState (visible), iTabID, strRelID, strName
        body = struct.pack("<II", 0, number) + wide(f"rId{number}") + wide(name)
        parts.append(record(_BUNDLE_SHEET, body))
    parts.append(record(_END_BUNDLES))
    # recalcID, fAutoRecalc, cCalcCount, xnumDelta, cUserThreadCount, flags: 26 bytes.
    parts.append(record(_CALC_PROPERTIES, struct.pack("<IIIdIH", 191029, 1, 100, 0.001, 1, 0)))
    parts.append(record(_END_BOOK))
    return b"".join(parts)


def strings_part(strings: dict[str, int]) -> bytes:
    items = sorted(strings, key=strings.__getitem__)
    parts = [record(_BEGIN_SST, struct.pack("<II", len(items), len(items)))]
    parts += [record(_SST_ITEM, b"\x00" + wide(text)) for text in items]
    parts.append(record(_END_SST))
    return b"".join(parts)


def write_xlsb(
    path: Path,
    cells: Iterable[tuple[int, int, Value]],
    *,
    sheet: str = "Titulaires",
    shared: bool = True,
    dimension: tuple[int, int, int, int] | None = None,
    sheet_bytes: bytes | None = None,
) -> Path:
    """An .xlsb of one sheet holding ``cells``; ``sheet_bytes`` replaces the sheet part as is
    (a damaged or hostile one)."""
    strings: dict[str, int] = {}
    sheet_data = sheet_part(cells, strings, shared=shared, dimension=dimension)
    if sheet_bytes is not None:
        sheet_data = sheet_bytes
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.'
        'macroEnabled.main"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.bin" ContentType="{_MAIN}"/>'
        '<Override PartName="/xl/worksheets/sheet1.bin" '
        'ContentType="application/vnd.ms-excel.worksheet"/>'
        '<Override PartName="/xl/sharedStrings.bin" '
        'ContentType="application/vnd.ms-excel.sharedStrings"/>'
        "</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PACKAGE}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" '
        'Target="xl/workbook.bin"/></Relationships>'
    )
    book_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PACKAGE}">'
        f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" '
        'Target="worksheets/sheet1.bin"/>'
        f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/sharedStrings" '
        'Target="sharedStrings.bin"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", root_rels)
        archive.writestr("xl/workbook.bin", workbook_part([sheet]))
        archive.writestr("xl/_rels/workbook.bin.rels", book_rels)
        archive.writestr("xl/worksheets/sheet1.bin", sheet_data)
        archive.writestr("xl/sharedStrings.bin", strings_part(strings))
    return path


def grid(rows: list[list[str]], start_row: int = 0) -> list[tuple[int, int, Value]]:
    """The cells of a table of texts, row by row from ``start_row``."""
    return [
        (r, c, value)
        for r, cells in enumerate(rows, start=start_row)
        for c, value in enumerate(cells)
        if value != ""
    ]
