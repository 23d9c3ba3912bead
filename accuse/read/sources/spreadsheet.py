"""xlsx, xlsm, xls and ods sources, read with python-calamine."""

from __future__ import annotations

import re
import threading
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from python_calamine import CalamineSheet, CalamineWorkbook

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
_FAR_COLUMN = rb"(?:[A-Z]{3}|[I-Z][A-Z])"


def _rows(sheet: CalamineSheet, progress: Progress) -> Iterator[Row]:
    """(Excel row number, cells) for every row of the sheet."""
    # python-calamine 0.9 iter_rows() starts at row 1 even when the used range starts lower
    # (dimastbk/python-calamine#177), while its columns start at the range. A fix would start
    # at the range: the first yielded row then holds a used cell. Tell the two apart on it.
    start_row = sheet.start[0] if sheet.start else 0
    progress.start(f"Lecture de la feuille « {sheet.name} »", sheet.total_height)
    rows = sheet.iter_rows()
    try:
        first = next(rows, None)
        if first is None:
            return
        absolute = start_row > 0 and all(c == "" or c is None for c in first)
        number = 1 if absolute else start_row + 1
        yield number, first
        for offset, cells in enumerate(rows, start=number + 1):
            if not offset % 2048:
                progress.update(offset)
            yield offset, cells
    finally:
        progress.finish()


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


_PATTERNS: dict[int, re.Pattern[bytes]] = {}


def _far_pattern(limit: int) -> re.Pattern[bytes]:
    pattern = _PATTERNS.get(limit)
    if pattern is None:
        digits = len(str(limit))
        # The literal start (r=") keeps the search quick; single quotes are valid XML too.
        pattern = _PATTERNS[limit] = re.compile(
            rb"r=[\"'](" + _FAR_COLUMN + rb"\d+|[A-Z]{0,3}[1-9]\d{%d,})[\"'][^>]*>" % (digits - 1)
        )
    return pattern


def check_extent(path: Path) -> None:
    """Refuse a worksheet whose cells reach far beyond its data (see MAX_COLUMNS)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                    with archive.open(member) as sheet:
                        far = _far_cell(sheet)
                    if far is not None:
                        raise _far_error(path, far)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError):
        return  # a damaged or unusual archive: calamine's own reading tells what is wrong


def _far_cell(sheet: IO[bytes]) -> str | None:
    rows = 0
    tail = b""
    while True:
        chunk = sheet.read(_SCAN_CHUNK)
        if not chunk:
            return None
        rows += chunk.count(b"<row ") + chunk.count(b"<row>")
        data = tail + chunk
        for found in _far_pattern(_row_limit(rows)).finditer(data):
            if _holds_value(data, found):
                return found.group(1).decode("ascii")
        tail = chunk[-256:]


def _holds_value(data: bytes, found: re.Match[bytes]) -> bool:
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


def _open(path: Path) -> CalamineWorkbook:
    check_container(path)
    check_extent(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception:  # calamine raises its own types, one per format
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
        except Exception:  # met again, and told, by read_spreadsheet
            self._loaded = None

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
        try:
            if loaded is not None and loaded[1].name == name:
                sheet = loaded[1]
            else:
                sheet = workbook.get_sheet_by_name(name)
            rows = _rows(sheet, progress if sheet_name or len(candidates) == 1 else SILENT)
            scanned = scan(rows)
        except Exception:  # calamine's own types
            raise InputError(
                f"la feuille « {name} » est illisible : le classeur est sans doute endommagé. "
                "Ouvrez-le dans Excel ou LibreOffice et enregistrez-le à nouveau en .xlsx.",
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
