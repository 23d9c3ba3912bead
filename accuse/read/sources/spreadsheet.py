"""xlsx, xlsm, xls and ods sources, read with python-calamine."""

from __future__ import annotations

import io
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain, count, islice
from pathlib import Path
from typing import IO, Any

import re2
from lxml import etree
from python_calamine import CalamineSheet, CalamineWorkbook
from zlib_ng import zlib_ng

from accuse.cells import column_letters
from accuse.errors import InputError
from accuse.model import Source
from accuse.progress import SILENT, Progress
from accuse.read.sources.table import (
    HEADER_SCAN_ROWS,
    Row,
    Visitor,
    collect,
    find_header,
    id_column_wanted,
    scan,
)

SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
ZIP_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".ods"}
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted OOXML and old .xls share it
# A 200,000-row template sheet unpacks to ~310 MB at a ratio of ~10; bombs reach 1000.
MAX_UNCOMPRESSED = 2 * 2**30
_SWOLLEN_BYTES = 64 * 2**20
_MAX_RATIO = 100
# calamine allocates a sheet's whole rectangle, from A1 to its farthest cell, before giving a
# single row: one cell at XFD1048576 asks for 512 GiB and aborts the process. A cell past
# column HZ (234) or far below the rows the sheet really holds is refused before calamine sees
# the file, so the rectangle stays a small multiple of the data.
MAX_COLUMNS = 234
_ROW_SLACK = 1_000  # empty rows a real sheet may leave between its blocks (rounded up a lot)
_SCAN_CHUNK = 8 * 2**20
_BLOCK = 64  # rows read at a time: few enough to stay in the processor's cache
_FAR_COLUMN = rb"(?:[A-Z]{3}|[I-Z][A-Z])"


def _rows(sheet: CalamineSheet, progress: Progress) -> Iterator[Row]:
    """(Excel row number, cells) for every row of the sheet; ``progress`` is finished when the
    rows run out (the caller finishes it if it stops before)."""
    # python-calamine 0.9 iter_rows() starts at row 1 even when the used range starts lower
    # (dimastbk/python-calamine#177), while its columns start at the range. A fix would start
    # at the range: the first yielded row then holds a used cell. Tell the two apart on it.
    start_row = sheet.start[0] if sheet.start else 0
    progress.start(f"Lecture de la feuille « {sheet.name} »", sheet.total_height)
    rows = sheet.iter_rows()
    first = next(rows, None)
    if first is None:
        progress.finish()
        return iter(())
    absolute = start_row > 0 and all(c == "" or c is None for c in first)
    number = 1 if absolute else start_row + 1
    done = number

    def block() -> list[list[Any]]:
        nonlocal done
        taken = list(islice(rows, _BLOCK))
        done += len(taken)
        if taken:
            progress.update(done)
        else:
            progress.finish()
        return taken

    # Only C iterators from one block to the next: a Python generator resumed for each of a
    # sheet's 200,000 rows costs as much again as calamine's own iteration.
    later = zip(count(number + 1), chain.from_iterable(iter(block, [])))
    return chain(((number, first),), later)


def check_container(path: Path) -> None:
    """Refuse what calamine should never be handed: encrypted files, zip bombs."""
    with path.open("rb") as handle:
        head = handle.read(8)
    zipped = path.suffix.lower() in ZIP_SUFFIXES
    if head == _OLE_MAGIC and zipped:
        raise InputError(
            "ce classeur est protégé par un mot de passe (chiffré) : accuse ne peut pas le lire. "
            "Ouvrez-le dans Excel, retirez le mot de passe (Fichier > Informations > Protéger "
            "le classeur) et enregistrez-en une copie.",
            path,
        )
    if not zipped:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise InputError(
            "classeur endommagé : ce n'est pas une archive xlsx valide (fichier tronqué ou "
            "renommé). Enregistrez-le à nouveau depuis Excel ou LibreOffice.",
            path,
        ) from None
    total = sum(m.file_size for m in members)
    swollen = [
        m
        for m in members
        if m.file_size > _SWOLLEN_BYTES and m.file_size > _MAX_RATIO * max(m.compress_size, 1)
    ]
    if total > MAX_UNCOMPRESSED or swollen:
        raise InputError(
            "ce classeur se décompresse en un volume anormal "
            f"({total // 2**20} Mo pour {path.stat().st_size // 2**20 or 1} Mo sur disque) : "
            "il n'est pas lu, par sécurité. Si c'est bien votre fichier, enregistrez-le à "
            "nouveau depuis Excel ou exportez-le en csv.",
            path,
        )


def _at_least(number: int) -> bytes:
    """A regex of the decimal numbers (no leading zero) at least ``number``."""
    digits = str(number)
    options = [rf"[1-9]\d{{{len(digits)},}}", digits]
    for i, digit in enumerate(digits):
        if digit != "9":
            options.append(f"{digits[:i]}[{int(digit) + 1}-9]" + rf"\d{{{len(digits) - i - 1}}}")
    return "|".join(options).encode()


def _row_limit(rows: int) -> int:
    """Rows are refused from this number on: a power of ten, the sheet's rows well below it."""
    return 10 ** len(str(2 * rows + _ROW_SLACK))


def _scan_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    options.encoding = re2.Options.Encoding.LATIN1  # bytes as they are: a chunk may cut a character
    return options


_SCAN_OPTIONS = _scan_options()
_PATTERNS: dict[int, Any] = {}  # re2's compiled patterns (untyped library)


def _far_pattern(limit: int) -> Any:
    """The far references, searched with RE2: one automaton pass over the sheet, where
    Python's engine tried every one of its millions of r=" (0.2 s against 0.9 s on a
    310 MB sheet of 200,000 rows; the scan runs before every spreadsheet is read)."""
    pattern = _PATTERNS.get(limit)
    if pattern is None:
        digits = len(str(limit))
        # The literal start (r=") keeps the search quick; single quotes are valid XML too.
        pattern = _PATTERNS[limit] = re2.compile(
            rb"r=[\"'](" + _FAR_COLUMN + rb"\d+|[A-Z]{0,3}[1-9]\d{%d,})[\"'][^>]*>" % (digits - 1),
            _SCAN_OPTIONS,
        )
    return pattern


def check_extent(path: Path) -> None:
    """Refuse a sheet whose cells reach far beyond its data (see MAX_COLUMNS), in every
    spreadsheet format calamine reads: xlsx/xlsm (cell references), ods (repeated rows and
    columns declare a huge range in a few bytes), xls and xlsb (cell records)."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                        far = _far_cell(_inflated(path, archive.getinfo(member)))
                        if far is not None:
                            raise _far_error(path, far)
        elif suffix == ".ods":
            with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
                far = _far_ods_cell(content)
            if far is not None:
                raise _far_error(path, far)
        elif suffix == ".xls":
            far = _far_xls_cell(path)
            if far is not None:
                raise _far_error(path, far)
        elif suffix == ".xlsb":
            with zipfile.ZipFile(path) as archive:
                far = _far_xlsb_cell(archive, path)
            if far is not None:
                raise _far_error(path, far)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError, KeyError):
        return  # a damaged or unusual archive: calamine's own reading tells what is wrong
    except etree.LxmlError:
        return


def _reference(row: int, column: int) -> str:
    """A cell's A1 reference (1-based row and column)."""
    return f"{column_letters(column - 1) if column > 0 else ''}{row}"


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_VALUE_TYPE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"


def _repeat(element: etree._Element, name: str) -> int:
    value = element.get(f"{_ODS_TABLE}{name}")
    return int(value) if value is not None and value.isdigit() else 1


def _far_ods_cell(content: IO[bytes]) -> str | None:
    """The first far cell with content of an ods content.xml, read as a stream (each row is
    freed once passed). Empty repeated rows and cells cost calamine nothing; a cell with
    content is placed after every repetition before it."""
    table, row_tag, cell_tags = (
        f"{_ODS_TABLE}table",
        f"{_ODS_TABLE}table-row",
        (
            f"{_ODS_TABLE}table-cell",
            f"{_ODS_TABLE}covered-table-cell",
        ),
    )
    row = column = held = 0
    bottom: tuple[int, int] | None = None  # (row, column) of the lowest cell with content
    row_filled = False
    events = etree.iterparse(
        content,
        events=("start", "end"),
        tag=(table, row_tag, *cell_tags),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    for event, element in events:
        tag = element.tag
        if event == "start":
            if tag == table:
                row, held, bottom = 0, 0, None
            elif tag == row_tag:
                column, row_filled = 0, False
            continue
        if tag in cell_tags:
            repeat = _repeat(element, "number-columns-repeated")
            if element.get(_ODS_VALUE_TYPE) is not None or len(element):
                if column + repeat > MAX_COLUMNS:
                    return _reference(row + 1, max(column + 1, MAX_COLUMNS + 1))
                row_filled = True
            column += repeat
            element.clear()
        elif tag == row_tag:
            repeat = _repeat(element, "number-rows-repeated")
            if row_filled:
                held += 1
                bottom = (row + repeat, 1)
            row += repeat
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        elif tag == table:
            if bottom is not None and bottom[0] >= _row_limit(held):
                return str(bottom[0])
            element.clear()
    return None


# --- old .xls: the BIFF8 cell records of the "Workbook" stream, inside an OLE2 compound file --

_XLS_MAX_BYTES = 256 * 2**20  # far more than any real .xls (they stop at 65,536 rows)
_END_OF_CHAIN = 0xFFFFFFFE
# BIFF8 records that hold a cell's value: row and column are their first two 16-bit words.
_XLS_CELLS = {0x00FD, 0x0204, 0x0203, 0x027E, 0x0006, 0x0205, 0x00D6, 0x00BD}
_XLS_MULRK = 0x00BD
_XLS_BOF, _XLS_EOF = 0x0809, 0x000A


def _chain(start: int, table: list[int], limit: int) -> list[int]:
    """The sectors of a chain, stopping at its end, at a loop or at a sector out of range."""
    found: list[int] = []
    seen: set[int] = set()
    sector = start
    while 0 <= sector < len(table) and sector not in seen and len(found) < limit:
        seen.add(sector)
        found.append(sector)
        sector = table[sector]
    return found


def _xls_workbook_stream(data: bytes) -> bytes | None:
    """The "Workbook" (or "Book") stream of an OLE2 compound file, or None."""
    if data[:8] != _OLE_MAGIC or len(data) < 512:
        return None
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if not 7 <= shift <= 16 or not 2 <= mini_shift < shift:
        return None
    size = 1 << shift
    count = (len(data) - size) // size  # sectors in the file

    def sector(number: int) -> bytes:
        return data[(number + 1) * size : (number + 2) * size]

    def words(raw: bytes) -> list[int]:
        return list(struct.unpack_from(f"<{len(raw) // 4}I", raw))

    difat = words(data[0x4C:0x200])
    next_difat = struct.unpack_from("<I", data, 0x44)[0]
    seen: set[int] = set()
    while 0 <= next_difat < count and next_difat not in seen:  # each names the next one
        seen.add(next_difat)
        listed = words(sector(next_difat))
        if not listed:
            break
        difat += listed[:-1]
        next_difat = listed[-1]
    fat: list[int] = []
    for number in difat:
        if 0 <= number < count and len(fat) < 4 * count:
            fat += words(sector(number))
    directory = b"".join(
        sector(n) for n in _chain(struct.unpack_from("<I", data, 0x30)[0], fat, count)
    )
    records = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    if not records:
        return None
    cutoff = struct.unpack_from("<I", data, 0x38)[0]
    for entry in records:
        length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[: max(length - 2, 0)].decode("utf-16-le", "replace")
        if entry[66] != 2 or name not in ("Workbook", "Book"):
            continue
        start, stream_size = struct.unpack_from("<II", entry, 116)
        if stream_size >= cutoff:
            chunks = (sector(n) for n in _chain(start, fat, count))
            return b"".join(chunks)[:stream_size]
        # A small stream lives in the mini stream (the root entry's), 64-byte sectors.
        root_start, root_size = struct.unpack_from("<II", records[0], 116)
        mini_stream = b"".join(sector(n) for n in _chain(root_start, fat, count))[:root_size]
        first_mini = struct.unpack_from("<I", data, 0x3C)[0]
        mini_fat = words(b"".join(sector(n) for n in _chain(first_mini, fat, count)))
        mini = 1 << mini_shift
        parts = (
            mini_stream[n * mini : (n + 1) * mini] for n in _chain(start, mini_fat, len(mini_fat))
        )
        return b"".join(parts)[:stream_size]
    return None


def _far_xls_cell(path: Path) -> str | None:
    """The first far cell with content of an .xls (BIFF8) sheet."""
    if path.stat().st_size > _XLS_MAX_BYTES:
        return None
    with path.open("rb") as handle:
        stream = _xls_workbook_stream(handle.read())
    if stream is None:
        return None
    position = 0
    rows: set[int] = set()
    lowest = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + length]
        position += 4 + length
        if kind == _XLS_BOF:
            rows, lowest = set(), 0
        elif kind in _XLS_CELLS and len(body) >= 4:
            row, column = struct.unpack_from("<HH", body, 0)
            if kind == _XLS_MULRK and len(body) >= 6:
                column = struct.unpack_from("<H", body, len(body) - 2)[0]
            if column + 1 > MAX_COLUMNS:
                return _reference(row + 1, column + 1)
            rows.add(row)
            lowest = max(lowest, row + 1)
        elif kind == _XLS_EOF and rows and lowest >= _row_limit(len(rows)):
            return str(lowest)
    return None


# --- .xlsb: the BIFF12 records of each worksheet part (MS-XLSB) -------------------------------

# A record is its type (a 1-2 byte varint), its size (a 1-4 byte varint), then its payload.
# calamine reads the type's second byte and the size's fourth byte whole, whatever their high
# bit says: the records are cut exactly as it cuts them, or the two would disagree on what is
# a cell. Row header (0) and cell records (1-11) start with the row, or the column, as uint32;
# calamine skips the empty styled cell (1). Every other record is passed over unread.
_XLSB_ROW = 0x0000
_XLSB_BLANK = 0x0001
_XLSB_SHARED = 0x0007  # BrtCellIsst: its value is an index into the shared strings
_XLSB_DIMENSION = 0x0094  # BrtWsDim: calamine slices its 16 bytes without checking
_XLSB_BEGIN_SST = 0x009F
# The payload a record must hold for calamine to read it: the column and style (8 bytes) and
# the value. A shorter one is read from whatever the previous record left in calamine's buffer.
_XLSB_MINIMUM = {0: 4, 1: 8, 2: 12, 3: 9, 4: 9, 5: 16, 6: 12, 7: 12, 8: 12, 9: 16, 10: 9, 11: 9}
_XLSB_SHEET_FOLDERS = ("worksheets", "chartsheets", "dialogsheets")
_XLSB_TARGET = re2.compile(rb"""Target\s*=\s*(?:"([^"]*)"|'([^']*)')""", _SCAN_OPTIONS)
_XLSB_KEEP = 32  # bytes kept ahead of a record's start: its header and the payload read


# workbook.bin and styles.bin, as calamine reads them: a record's type, then its size and
# payload only for the types it uses; any other type's size and payload bytes are taken for
# further types (a real file keeps in step: its records there are empty).
_XLSB_SMALL_PART = 16 * 2**20  # a real workbook.bin or styles.bin is a few kilobytes
_XLSB_PROPERTIES, _XLSB_BUNDLE, _XLSB_BUNDLES_END = 0x0099, 0x009C, 0x0090
_XLSB_EXTERN, _XLSB_NAME = 0x016A, 0x0027
# Records calamine takes as the end of the defined names.
_XLSB_BOOK_END = {0x009D, 0x0225, 0x018D, 0x0180, 0x009A, 0x0252, 0x0229, 0x009B, 0x0084}
# styles.bin: BrtBeginFmts then its BrtFmt records, BrtBeginCellXFs then its BrtXF records,
# with the payload calamine slices in each.
_XLSB_STYLE_LISTS = {0x0267: (0x002C, 6), 0x0269: (0x002F, 4)}
_XLSB_SST_MINIMUM = {0x009F: 8, 0x0013: 5}  # BrtBeginSst, BrtSSTItem
# RE2, as the xlsx scan: linear whatever the part holds (many Target=" or <Relationship never
# closed).
_XLSB_RELATION = re2.compile(rb"<Relationship[\s/>][^>]*>", _SCAN_OPTIONS)
_XLSB_ID = re2.compile(rb"""\sId\s*=\s*(?:"([^"]*)"|'([^']*)')""", _SCAN_OPTIONS)


class _Damaged(Exception):
    """A record calamine would read out of bounds (it panics) or from stale memory."""


def _far_xlsb_cell(archive: zipfile.ZipFile, path: Path) -> str | None:
    """The first far cell with content of an .xlsb's sheets (the parts its workbook's
    relationships name as sheets, as calamine finds them). A record calamine would read out of
    bounds is refused as damage."""
    keys, targets = _xlsb_relations(archive, path)
    _check_xlsb_parts(archive, path, keys)
    strings = _xlsb_string_count(archive, path)
    names = {"xl/" + t for t in targets if t.split("/", 1)[0] in _XLSB_SHEET_FOLDERS}
    for member in archive.infolist():
        if member.filename in names:
            with archive.open(member) as sheet:
                try:
                    far = _far_xlsb_records(sheet, strings)
                except _Damaged:
                    raise _damaged_xlsb(path) from None
            if far is not None:
                return far
    return None


def _xlsb_relations(archive: zipfile.ZipFile, path: Path) -> tuple[set[str], list[str]]:
    """The Ids calamine can look a sheet up by (a Relationship element's, with a Target), and
    every Target of the workbook's relationships, wherever it lies: each part calamine might
    read as a sheet is looked at."""
    try:
        info = archive.getinfo("xl/_rels/workbook.bin.rels")
    except KeyError:
        return set(), []
    if info.file_size > _XLSB_SMALL_PART:
        raise _damaged_xlsb(path)
    text = archive.read(info)
    keys = set()
    for element in _XLSB_RELATION.finditer(text):
        key = _XLSB_ID.search(element.group(0))
        if key is not None and _XLSB_TARGET.search(element.group(0)) is not None:
            keys.add((key.group(1) or key.group(2) or b"").decode("utf-8", "replace"))
    targets = [
        (double or single).decode("utf-8", "replace")
        for double, single in _XLSB_TARGET.findall(text)
    ]
    return keys, targets


def _check_xlsb_parts(archive: zipfile.ZipFile, path: Path, keys: set[str]) -> None:
    """Refuse the workbook, styles and shared-strings records calamine would read out of
    bounds (it panics): shorter than it slices, a sheet naming a relationship that does not
    exist, lengths inside a record that run past it."""
    try:
        for name, check in (
            ("xl/workbook.bin", lambda data: _check_xlsb_book(data, keys)),
            ("xl/styles.bin", _check_xlsb_styles),
        ):
            try:
                info = archive.getinfo(name)
            except KeyError:
                continue
            if info.file_size > _XLSB_SMALL_PART:
                raise _Damaged
            check(archive.read(info))
        try:
            info = archive.getinfo("xl/sharedStrings.bin")
        except KeyError:
            return
        with archive.open(info) as part:
            for kind, size, _ in _xlsb_records(part):
                if size < _XLSB_SST_MINIMUM.get(kind, 0):
                    raise _Damaged
    except _Damaged:
        raise _damaged_xlsb(path) from None


def _xlsb_type(data: bytes, position: int) -> tuple[int, int] | None:
    """(record type, position after it) as calamine reads a type, or None at the end."""
    if position >= len(data):
        return None
    kind = data[position]
    if kind & 0x80:
        if position + 1 >= len(data):
            return None
        return (kind & 0x7F) | ((data[position + 1] & 0x7F) << 7), position + 2
    return kind, position + 1


def _xlsb_payload(data: bytes, position: int) -> tuple[bytes, int] | None:
    """(payload, position after it) of the size read at ``position``, or None if cut short."""
    size = 0
    for shift in (0, 7, 14, 21):
        if position >= len(data):
            return None
        byte = data[position]
        position += 1
        size |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
    if position + size > len(data):
        return None
    return data[position : position + size], position + size


def _check_xlsb_book(data: bytes, keys: set[str]) -> None:
    """workbook.bin: the sheets' records (BrtWbProp, BrtBundleSh) up to BrtEndBundleShs, then
    the external sheets and defined names (BrtExternSheet, BrtName) up to one of the records
    calamine ends them with. A defined name's formula is not followed: a panic there is still
    caught (calamine_failed)."""
    position = 0
    names = False
    while True:
        found = _xlsb_type(data, position)
        if found is None:
            return
        kind, position = found
        if not names:
            if kind == _XLSB_BUNDLES_END:
                names = True
                continue
            if kind not in (_XLSB_PROPERTIES, _XLSB_BUNDLE):
                continue
        elif kind in _XLSB_BOOK_END:
            return
        elif kind not in (_XLSB_EXTERN, _XLSB_NAME):
            continue
        read = _xlsb_payload(data, position)
        if read is None:
            return
        payload, position = read
        size = len(payload)
        if kind == _XLSB_PROPERTIES and size < 1:
            raise _Damaged
        if kind == _XLSB_BUNDLE:
            if size < 12:
                raise _Damaged
            count = int.from_bytes(payload[8:12], "little")
            if count != 0xFFFF_FFFF:
                if 12 + 2 * count + 4 > size:
                    raise _Damaged
                if payload[12 : 12 + 2 * count].decode("utf-16-le", "replace") not in keys:
                    raise _Damaged
        elif kind == _XLSB_EXTERN:
            if size < 4 or int.from_bytes(payload[:4], "little") > (size - 4) // 12:
                raise _Damaged
        elif kind == _XLSB_NAME:
            if size < 13:
                raise _Damaged
            text = 4 + 2 * int.from_bytes(payload[9:13], "little")
            if 13 + text > size:
                raise _Damaged
            formula = int.from_bytes(payload[9 + text : 13 + text], "little")
            if 13 + text + formula > size:
                raise _Damaged


def _check_xlsb_styles(data: bytes) -> None:
    """styles.bin: the number formats and cell formats calamine reads, each list's records
    found as it finds them (whole records, up to the wanted type)."""
    position = 0
    while True:
        found = _xlsb_type(data, position)
        if found is None:
            return
        kind, position = found
        if kind not in _XLSB_STYLE_LISTS:
            continue
        read = _xlsb_payload(data, position)
        if read is None:
            return
        payload, position = read
        if len(payload) < 4:
            raise _Damaged
        wanted, minimum = _XLSB_STYLE_LISTS[kind]
        for _ in range(int.from_bytes(payload[:4], "little")):
            while True:
                found = _xlsb_type(data, position)
                read = None if found is None else _xlsb_payload(data, found[1])
                if found is None or read is None:
                    return
                payload, position = read
                if found[0] == wanted:
                    break
            if len(payload) < minimum or (
                wanted == 0x002C and 6 + 2 * int.from_bytes(payload[2:6], "little") > len(payload)
            ):
                raise _Damaged
        if kind == 0x0269:
            return


def _xlsb_string_count(archive: zipfile.ZipFile, path: Path) -> int:
    """How many shared strings calamine loads: the count its BrtBeginSst record announces
    (it fails on its own if fewer follow), none without the part."""
    try:
        info = archive.getinfo("xl/sharedStrings.bin")
    except KeyError:
        return 0
    with archive.open(info) as part:
        for kind, size, head in _xlsb_records(part):
            if kind == _XLSB_BEGIN_SST:
                if size < 8:
                    raise _damaged_xlsb(path)
                return int(struct.unpack_from("<I", head, 4)[0])
    return 0


def _xlsb_records(part: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(type, size, first bytes of the payload) of each whole record of a part, read in
    chunks: a payload is skipped, never held, whatever size it declares. A record cut short by
    the end of the part ends the reading (calamine then fails on its own)."""
    data = b""
    position = 0
    ended = False
    while True:
        while len(data) - position < _XLSB_KEEP and not ended:
            chunk = part.read(_SCAN_CHUNK)
            ended = not chunk
            data = data[position:] + chunk
            position = 0
        available = len(data)
        if position >= available:
            return
        kind = data[position]
        position += 1
        if kind & 0x80:
            if position >= available:
                return
            kind = (kind & 0x7F) | ((data[position] & 0x7F) << 7)
            position += 1
        size = 0
        for shift in (0, 7, 14, 21):
            if position >= available:
                return
            byte = data[position]
            position += 1
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        head = data[position : position + 16]
        if len(head) < min(size, 16):
            return
        position += size
        if position > available:  # a long payload: skip the rest of it in the stream
            missing = position - available
            while missing > 0:
                skipped = len(part.read(min(missing, _SCAN_CHUNK)))
                if not skipped:
                    return
                missing -= skipped
            data, position = b"", 0
        yield kind, size, head


def _far_xlsb_records(sheet: IO[bytes], strings: int) -> str | None:
    """The first far cell with content among a sheet part's records. Every cell record of the
    part is looked at, wherever it lies: calamine reads those of its sheet data, a subset.
    The records are cut as in _xlsb_records, inline: a sheet holds millions of them."""
    row = 0
    rows = 0  # rows holding content, counted as they come (Excel writes them in order)
    last = -1
    limit = _row_limit(0)
    minimum = _XLSB_MINIMUM
    word = struct.Struct("<I").unpack_from
    data = b""
    position = available = 0
    ended = False
    while True:
        if available - position < _XLSB_KEEP and not ended:
            chunk = sheet.read(_SCAN_CHUNK)
            ended = not chunk
            data = data[position:] + chunk
            position, available = 0, len(data)
            continue
        if position + 6 > available:  # near the end: the careful cut
            return _far_xlsb_tail(data[position:], strings, row, rows, last)
        kind = data[position]
        if kind & 0x80:
            kind = (kind & 0x7F) | ((data[position + 1] & 0x7F) << 7)
            position += 1
        byte = data[position + 1]
        position += 2
        size = byte & 0x7F
        shift = 7
        while byte & 0x80 and shift < 28:
            byte = data[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
        if kind <= 0x0B:
            if size < minimum[kind]:
                raise _Damaged
            if position + size > available and available - position < 16:
                return None  # cut short: calamine fails on its own
            if kind == _XLSB_ROW:
                row = word(data, position)[0]
            elif kind != _XLSB_BLANK:
                if kind == _XLSB_SHARED and word(data, position + 8)[0] >= strings:
                    raise _Damaged
                column = word(data, position)[0]
                if row > last:
                    rows += 1
                    last = row
                    limit = _row_limit(rows)
                if column >= MAX_COLUMNS or row + 1 >= limit:
                    return _reference(row + 1, column + 1)
        elif kind == _XLSB_DIMENSION and size < 16:
            raise _Damaged
        position += size
        if position > available:  # a long payload: skip the rest of it in the stream
            missing = position - available
            while missing > 0:
                skipped = len(sheet.read(min(missing, _SCAN_CHUNK)))
                if not skipped:
                    return None
                missing -= skipped
            data, position, available = b"", 0, 0


def _far_xlsb_tail(data: bytes, strings: int, row: int, rows: int, last: int) -> str | None:
    """The last few bytes of a part, cut by the careful reader with the same rules."""
    for kind, size, head in _xlsb_records(io.BytesIO(data)):
        if kind > 0x0B:
            if kind == _XLSB_DIMENSION and size < 16:
                raise _Damaged
            continue
        if size < _XLSB_MINIMUM[kind]:
            raise _Damaged
        if kind == _XLSB_ROW:
            row = int.from_bytes(head[:4], "little")
        elif kind != _XLSB_BLANK:
            if kind == _XLSB_SHARED and int.from_bytes(head[8:12], "little") >= strings:
                raise _Damaged
            column = int.from_bytes(head[:4], "little")
            if row > last:
                rows, last = rows + 1, row
            if column >= MAX_COLUMNS or row + 1 >= _row_limit(rows):
                return _reference(row + 1, column + 1)
    return None


def _damaged_xlsb(path: Path) -> InputError:
    return InputError(
        "classeur endommagé : il contient des enregistrements tronqués ou incohérents (fichier "
        "abîmé, ou fabriqué par un programme). Ouvrez-le dans Excel et enregistrez-le à "
        "nouveau en .xlsx.",
        path,
    )


def _inflated(path: Path, member: zipfile.ZipInfo) -> Iterator[bytes]:
    """A zip member's bytes, _SCAN_CHUNK at most at a time, inflated by zlib-ng: 0.4 s
    where zlib takes 1 s for a 200,000-row sheet, read before each spreadsheet command. Never
    more than the size the archive declares (check_container has weighed those)."""
    if member.flag_bits & 0x1:
        raise zipfile.BadZipFile(member.filename)  # encrypted: calamine tells
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Another method (bzip2, lzma): zipfile's own reader, so the sheet is still scanned.
        with zipfile.ZipFile(path) as archive, archive.open(member) as sheet:
            yield from iter(lambda: sheet.read(_SCAN_CHUNK), b"")
        return
    with path.open("rb") as raw:
        raw.seek(member.header_offset)
        header = raw.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(member.filename)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        raw.seek(member.header_offset + 30 + name_length + extra_length)
        left_in, left_out = member.compress_size, member.file_size
        if member.compress_type == zipfile.ZIP_STORED:
            while left_out > 0 and (chunk := raw.read(min(_SCAN_CHUNK, left_out))):
                left_out -= len(chunk)
                yield chunk
            return
        inflater = zlib_ng.decompressobj(-15)  # raw deflate, as a zip holds it
        pending = b""
        while left_out > 0 and not inflater.eof:
            if not pending:
                pending = raw.read(min(2**20, left_in))
                if not pending:
                    return  # cut short: calamine's own reading tells
                left_in -= len(pending)
            chunk = inflater.decompress(pending, min(_SCAN_CHUNK, left_out))
            pending = inflater.unconsumed_tail
            left_out -= len(chunk)
            if chunk:
                yield chunk


def _far_cell(chunks: Iterable[bytes]) -> str | None:
    rows = 0
    tail = b""
    for chunk in chunks:
        rows += chunk.count(b"<row")  # <row …> and <row>; <rowBreaks> is one more at most
        data = tail + chunk
        for found in _far_pattern(_row_limit(rows)).finditer(data):
            if _holds_value(data, found):
                return found.group(1).decode("ascii")
        tail = chunk[-256:]
    return None


def _holds_value(data: bytes, found: Any) -> bool:
    """Whether a far reference is a cell with content: calamine skips an empty styled cell
    (<c r="A1043591" s="3"/>) and row elements (the official template formats rows down to
    1,043,591)."""
    if data[found.end() - 2 : found.end()] == b"/>":
        return False
    start = data.rfind(b"<", 0, found.start())
    return data[start + 1 : start + 3] in (b"c ", b"c\t", b"c\n", b"c\r")


def _far_error(path: Path, reference: str) -> InputError:
    what = f"la ligne {reference}" if reference.isdigit() else f"la cellule {reference}"
    return InputError(
        f"{what} du classeur est remplie très loin de toutes les données "
        f"(au-delà de la colonne {MAX_COLUMNS}, ou bien plus bas que les lignes remplies) : lire "
        "ce classeur demanderait une mémoire démesurée. Effacez cette cellule (ou les lignes "
        "et colonnes vides jusqu'à elle) dans Excel ou LibreOffice, puis enregistrez à nouveau.",
        path,
    )


def calamine_failed(error: BaseException) -> bool:
    """Whether an exception is calamine's way of saying a file is unreadable: its own error
    types, or a Rust panic (an index out of bounds on a crafted record), which pyo3 raises as
    a PanicException, a BaseException that ``except Exception`` lets through."""
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def _open(path: Path) -> CalamineWorkbook:
    check_container(path)
    check_extent(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except BaseException as error:  # calamine raises its own types, one per format
        if not calamine_failed(error):
            raise
        suffix = path.suffix.lower().lstrip(".")
        if _looks_like_text(path):
            # Many tools export a csv or an HTML page under a .xls name.
            raise InputError(
                f"ce fichier porte l'extension .{suffix} mais contient du texte (un csv ou une "
                "page web), pas un classeur. Ouvrez-le dans Excel ou LibreOffice et enregistrez-le "
                "en .xlsx, ou, si c'est un csv, renommez-le en .csv.",
                path,
            ) from None
        raise InputError(
            "classeur illisible : le fichier est endommagé, protégé par un mot de passe, ou "
            f"n'est pas un vrai classeur {suffix}. Ouvrez-le dans Excel ou LibreOffice et "
            "enregistrez-le à nouveau en .xlsx.",
            path,
        ) from None


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start > len(head) - 4  # a character cut at the end of the sample
    return True


class Prefetch:
    """A workbook opened and its first sheet to read loaded in a thread, started before the
    receipt is parsed: python-calamine releases the GIL while it loads a sheet, so the two
    overlap on a second core (on one core they simply take turns). Any failure is left for
    read_spreadsheet to meet again in the caller's thread, where it is told to the user."""

    def __init__(self, path: Path, sheet_name: str | None) -> None:
        self._path = path
        self._sheet_name = sheet_name
        self._loaded: tuple[CalamineWorkbook, CalamineSheet] | None = None
        # A daemon: a command that stops early (unreadable receipt) does not wait for it.
        self._thread = threading.Thread(target=self._load, name="accuse-classeur", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            workbook = _open(self._path)
            name = self._sheet_name if self._sheet_name is not None else workbook.sheet_names[0]
            self._loaded = (workbook, workbook.get_sheet_by_name(name))
        except BaseException as error:  # met again, and told, by read_spreadsheet
            self._loaded = None
            if not calamine_failed(error):
                raise

    def loading(self) -> bool:
        """Whether the sheet is still loading: the caller's thread has time to spare."""
        return self._thread.is_alive()

    def take(self) -> tuple[CalamineWorkbook, CalamineSheet] | None:
        self._thread.join()
        loaded, self._loaded = self._loaded, None  # a sheet's rows are iterated once
        return loaded


def read_spreadsheet(
    path: Path,
    wanted: set[str] | None,
    sheet_name: str | None,
    id_column: str | None,
    progress: Progress = SILENT,
    prefetched: Prefetch | None = None,
    visit: Visitor | None = None,
) -> Source:
    loaded = prefetched.take() if prefetched is not None else None
    workbook = loaded[0] if loaded is not None else _open(path)
    names = list(workbook.sheet_names)
    if sheet_name is not None and sheet_name not in names:
        raise InputError(
            f"la feuille « {sheet_name} » n'existe pas. Feuilles du classeur : "
            + ", ".join(f"« {n} »" for n in names),
            path,
        )
    candidates = [sheet_name] if sheet_name is not None else names
    any_rows = False
    for name in candidates:
        sheet_progress = progress if sheet_name or len(candidates) == 1 else SILENT
        try:
            try:
                if loaded is not None and loaded[1].name == name:
                    sheet = loaded[1]
                else:
                    sheet = workbook.get_sheet_by_name(name)
                rows = _rows(sheet, sheet_progress)
                scanned = scan(rows)
            except BaseException as error:  # calamine's own types, or its panic
                if not calamine_failed(error):
                    raise
                raise InputError(
                    f"la feuille « {name} » est illisible : le classeur est sans doute "
                    "endommagé. Ouvrez-le dans Excel ou LibreOffice et enregistrez-le à "
                    "nouveau en .xlsx.",
                    path,
                ) from None
            any_rows = any_rows or sheet.start is not None  # calamine: no used range, no cell
            header = find_header(scanned, path, id_column, f"feuille « {name} »")
            if header is None:
                continue
            return collect(
                path=path,
                kind="tableur",
                sheet=name,
                header=header,
                scanned=scanned,
                rest=rows,
                wanted=wanted,
                visit=visit,
            )
        finally:
            sheet_progress.finish()  # when the rows stop early: a refused row, a sheet skipped
    if not any_rows:
        where = f"la feuille « {sheet_name} » est vide" if sheet_name else "le classeur est vide"
        raise InputError(
            f"{where} : aucune cellule remplie. Vérifiez que c'est bien le fichier de vos "
            "passages, enregistré après saisie.",
            path,
        )
    where = f"la feuille « {sheet_name} » n'a pas" if sheet_name else "aucune feuille n'a"
    raise InputError(
        f"{where} de colonne {id_column_wanted(id_column)} dans ses "
        f"{HEADER_SCAN_ROWS} premières lignes. "
        "Indiquez la colonne avec --colonne-id, ou la feuille avec --feuille.",
        path,
    )
