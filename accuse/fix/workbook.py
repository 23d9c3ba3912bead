"""The contract between the worksheet `accuse analyse` writes and the one `accuse reexporter`
reads back: sheet names, the bookkeeping marks, how a row is fingerprinted, how a cell is written.

Both sides import it from here, so renaming a sheet or changing a fingerprint cannot break one
side silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accuse.model import CellValue

if TYPE_CHECKING:  # xlsxwriter is imported where a workbook is written with it, not by analyse
    from xlsxwriter.worksheet import Worksheet

FORMAT_VERSION = 2  # 2: original rows kept as fingerprints
WORKSHEET_NAME = "corrections.xlsx"  # the file name accuse analyse gives the worksheet
SHEET_FIX = "À corriger"
# Row 1 of "À corriger" holds a one-line instruction, its headers are on row 2 (as a spreadsheet
# numbers rows). The bookkeeping sheet records the row under HEADER_ROW_KEY; a worksheet made
# before the instruction line records none and has its headers on row 1.
FIX_HEADER_ROW = 2
HEADER_ROW_KEY = "ligne_entete_corrections"
SHEET_BOOK = "accuse_suivi"  # hidden
# Passages the portal already holds under their id (DOUBLON): when one is really another
# passage, the user types a new id here and re-export sends it under that id.
SHEET_DOUBLONS = "Doublons"
NEW_ID_HEADER = "Nouvel identifiant technique"
KEY_HEADER = "Ligne source"
BOOK_ROWS_MARK = "#lignes"
DATE_FORMAT = "dd/mm/yyyy"
_CANON_FRENCH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_CANON_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?")


def canonical(value: CellValue) -> str:
    """A cell by meaning: 30/06/2024, 2024-06-30 and a date cell are the same; 42 == 42.0."""
    if type(value) is str and "/" not in value and "-" not in value:
        return value.strip()  # most cells: text that cannot be a date
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    french = _CANON_FRENCH.fullmatch(text)
    if french:
        day, month, year = (int(g) for g in french.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    iso = _CANON_ISO.fullmatch(text)
    if iso:
        return "-".join(iso.groups())
    return text


# Lock files a spreadsheet leaves beside a workbook it holds open: Excel's owner file (whole
# name, or its first two characters replaced for long names) and LibreOffice's.
_LOCKS = ("~${name}", "~${short}", ".~lock.{name}#")
_CORE = "docProps/core.xml"
_CORE_MAX = 1 << 16
_CORE_DATE = re.compile(r"<dcterms:(created|modified)\b[^>]*>([^<]{1,40})</dcterms:")


def open_elsewhere(path: Path) -> Path | None:
    """The lock file beside ``path`` when Excel or LibreOffice holds it open, else None."""
    path = Path(path)
    for pattern in _LOCKS:
        lock = path.with_name(pattern.format(name=path.name, short=path.name[2:]))
        if lock.name != path.name and lock.exists():
            return lock
    return None


def still_open_message(lock: Path) -> str:
    return (
        f"le fichier est encore ouvert dans Excel ou LibreOffice (« {lock.name} » est à côté) : "
        "enregistrez et fermez le fichier dans Excel, puis relancez la commande."
    )


def saved_since_written(path: Path) -> bool:
    """Whether a spreadsheet program saved the workbook after accuse wrote it: xlsxwriter
    stamps the same created and modified dates, Excel, LibreOffice and openpyxl move the
    second on saving. Unreadable properties count as saved (the careful answer)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_CORE)
            if info.file_size > _CORE_MAX:
                return True
            text = archive.read(info).decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return True
    dates = dict(_CORE_DATE.findall(text))
    return dates.get("created") is None or dates.get("created") != dates.get("modified")


# What a cell holds once written: xlsxwriter (like Excel) stops a text at 32,767 characters.
MAX_CELL = 32767


def row_fingerprint(cells: Iterable[CellValue]) -> str:
    """A row by meaning, in 64 characters: re-export compares it to tell what the user changed
    (far cheaper than keeping every original cell in the workbook)."""
    parts = [
        # canonical()'s first case, inline: most cells are short text that cannot be a date.
        c.strip()
        if type(c) is str and len(c) <= MAX_CELL and "/" not in c and "-" not in c
        else canonical(c[:MAX_CELL] if isinstance(c, str) else c)
        for c in cells
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


LINE_HEIGHT = 15.0  # points: one line of the default font (Calibri 11, Carlito in LibreOffice)


def text_lines(text: str, width: float) -> int:
    """How many lines a wrapped cell ``width`` characters wide needs, word by word as Excel
    and LibreOffice wrap. Spreadsheets do not grow a row for wrapped text on their own (LibreOffice
    never does on opening an xlsx): the row height is set from this."""
    usable = max(int(width) - 1, 1)
    lines = 0
    for paragraph in text.split("\n"):
        count, current = 1, 0
        for word in paragraph.split():
            size = len(word)
            if current and current + 1 + size <= usable:
                current += 1 + size
            elif not current and size <= usable:
                current = size
            else:
                if current:
                    count += 1
                count += (size - 1) // usable  # a word longer than the column is cut
                current = size % usable or usable
        lines += count
    return lines


class Formats:
    """Cell formats, made once per combination (highlighted, number format), by an xlsxwriter
    workbook or by the worksheet's own writer (accuse.render.xlsxfast), which takes the same
    properties."""

    def __init__(self, book: Any) -> None:
        self._book = book
        self._made: dict[tuple[str, bool], Any] = {}
        self.header = book.add_format(
            {"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "text_wrap": True}
        )
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.top = book.add_format({"valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.instruction = book.add_format(
            {"bold": True, "text_wrap": True, "valign": "vcenter", "bg_color": "#FFF2CC"}
        )
        self.bold = book.add_format({"bold": True})

    def get(self, kind: str, highlighted: bool) -> Any:
        made = self._made.get((kind, highlighted))
        if made is None:
            spec: dict[str, object] = {"valign": "top"}
            if kind == "date":
                spec["num_format"] = DATE_FORMAT
            elif kind == "datetime":
                spec["num_format"] = DATE_FORMAT + " hh:mm"
            elif kind == "text":
                spec["num_format"] = "@"
            if highlighted:
                spec.update({"bg_color": "#FFE699", "border": 1, "border_color": "#C65911"})
            made = self._made[(kind, highlighted)] = self._book.add_format(spec)
        return made


def write_value(
    sheet: Worksheet | Any,
    row: int,
    column: int,
    value: CellValue,
    formats: Formats,
    text_column: bool = False,
    highlighted: bool = False,
) -> None:
    """One cell with its own type: text stays text (never a formula), dates stay dates."""
    if isinstance(value, dt.datetime):
        kind = "datetime" if value.time() != dt.time() else "date"
        sheet.write_datetime(row, column, value, formats.get(kind, highlighted))
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, column, value, formats.get("date", highlighted))
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value, formats.get("general", highlighted))
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, formats.get("general", highlighted))
    elif value is None or value == "":
        kind = "text" if text_column else "general"
        sheet.write_blank(row, column, None, formats.get(kind, highlighted))
    else:
        kind = "text" if text_column else "general"
        sheet.write_string(row, column, str(value), formats.get(kind, highlighted))


def _book_entry(path: Path, key: str) -> object:
    """One bookkeeping entry of a worksheet (JSON-decoded), or None when the file is absent,
    not a worksheet of ours, or lacks the entry."""
    import json

    from python_calamine import CalamineWorkbook

    from accuse.read.sources.spreadsheet import check_container, check_extent

    try:
        if not Path(path).is_file():
            return None
        # Whatever lies in the output folder is outside text: a far cell would abort calamine.
        check_container(Path(path))
        check_extent(Path(path))
        book = CalamineWorkbook.from_path(str(path))
        if SHEET_BOOK not in book.sheet_names:
            return None
        for row in book.get_sheet_by_name(SHEET_BOOK).iter_rows():
            if not row or row[0] == BOOK_ROWS_MARK:
                return None
            if row[0] == key and len(row) > 1:
                return json.loads(str(row[1]))
    except Exception:  # absent, damaged or foreign: not a worksheet of ours
        return None
    return None


def worksheet_receipt(path: Path) -> str | None:
    """The name of the receipt a worksheet was written for (its bookkeeping "accuse" entry),
    or None when the file is absent or not a worksheet of ours."""
    name = _book_entry(path, "accuse")
    return name if isinstance(name, str) else None


# --- the pair: corrections.xlsx and rapport.html of one run -----------------------------------

# Both files of one `accuse analyse` carry the same run identity: the worksheet in its hidden
# sheet, the report in a <meta>. A run killed between the two renames, or two runs writing into
# one folder, would leave files of different runs side by side: the identities tell it.
RUN_KEY = "execution"
RUN_META = "accuse-execution"
REPORT_NAME = "rapport.html"  # the file name accuse analyse gives the report
_RUN = re.compile(r"(\d{8})-(\d{6})-[0-9a-f]{12}")
_RUN_IN_REPORT = re.compile(rf'<meta name="{RUN_META}" content="([0-9a-f-]{{1,40}})">')
_REPORT_HEAD = 1 << 16  # the <meta> is in the page's head


def new_run() -> str:
    """A run identity: its date and time, and a random part (``AAAAMMJJ-HHMMSS-<12 hex>``)."""
    import secrets

    return f"{dt.datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(6)}"


def worksheet_run(path: Path) -> str | None:
    run = _book_entry(path, RUN_KEY)
    return run if isinstance(run, str) and _RUN.fullmatch(run) else None


def report_run(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_REPORT_HEAD).decode("utf-8", "replace")
    except OSError:
        return None
    found = _RUN_IN_REPORT.search(head)
    return found.group(1) if found and _RUN.fullmatch(found.group(1)) else None


def _when(run: str | None) -> str:
    found = _RUN.fullmatch(run or "")
    if found is None:
        return "d'une analyse plus ancienne"
    day, time = found.groups()
    return f"de l'analyse du {day[6:]}/{day[4:6]}/{day[:4]} à {time[:2]}:{time[2:4]}:{time[4:]}"


def pair_mismatch(worksheet: Path) -> str | None:
    """The French sentence saying that the worksheet and the report beside it come from
    different runs, or None when they match (or one of them is absent)."""
    return runs_differ(worksheet, worksheet_run(worksheet))


def runs_differ(worksheet: Path, run: object) -> str | None:
    """:func:`pair_mismatch` for a worksheet whose run identity ``run`` is already read."""
    worksheet = Path(worksheet)
    report = worksheet.with_name(REPORT_NAME)
    if not report.is_file() or not worksheet.is_file():
        return None
    mine = run if isinstance(run, str) and _RUN.fullmatch(run) else None
    other = report_run(report)
    if mine == other:
        return None  # the same run, or both written before runs had an identity
    return (
        f"{worksheet.name} et {report.name}, dans le même dossier, ne viennent pas de la même "
        f"analyse ({worksheet.name} {_when(mine)}, {report.name} {_when(other)}) : une écriture "
        "a été interrompue, ou deux analyses ont écrit dans ce dossier."
    )
