"""Re-export in the official Excel template v1.4's own layout, the template kept whole.

The user's template is read with calamine and written again with xlsxwriter: the data sheet's
block above "Commencez votre saisie…", then the re-exported rows; every other sheet of the
workbook (Dictionnaire, Communes, Pays, Tables…) with its values and its one-row merged cells;
the data sheet's drop-down lists as accuse/data/modele.toml describes them (named ranges of the
Tables sheet, recreated). The two values the template spells otherwise than the portal
(TIERS_DE_CONFIANCE, EQUIVALENCE_(DIPLOME_ETRANGER)) are written as the portal accepts them, in
the rows and in the lists.

Formatting, pictures and comments of the template are not carried over: values only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum
from xlsxwriter.exceptions import DuplicateWorksheetName, InvalidWorksheetName
from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol
from xlsxwriter.worksheet import Worksheet

from accuse.cells import clean_cell
from accuse.errors import InputError
from accuse.fix.workbook import DATE_FORMAT, Formats, write_value
from accuse.model import CellValue
from accuse.read.sources.spreadsheet import check_container, check_extent
from accuse.reference.fields import by_key
from accuse.reference.template import TemplateList, lists_sheet, portal_spellings, template_lists
from accuse.text import fold

TEMPLATE_START = "commencez votre saisie"
_LAST_ROW = 1_048_575  # Excel's last row, counted from 0: the lists serve rows typed later too
_LABEL_ABOVE = 3  # rows above a named range where the template writes the range's name


@dataclass
class Written:
    """What the re-exported template holds beyond the rows: said to the user."""

    sheets: list[str] = field(default_factory=list)  # the other sheets, copied
    lists: list[str] = field(default_factory=list)  # columns given a drop-down list
    missing_lists: list[str] = field(default_factory=list)  # columns whose list was not found
    skipped_sheets: list[str] = field(default_factory=list)
    converted: dict[str, int] = field(default_factory=dict)  # template value -> cells changed

    def notes(self, lists_name: str) -> list[str]:
        spellings = portal_spellings()
        lines = []
        if self.sheets:
            lines.append(
                "Modèle Excel v1.4 gardé en entier : feuilles "
                + ", ".join(f"« {s} »" for s in self.sheets)
                + f" recopiées (valeurs), listes déroulantes remises ({len(self.lists)} colonnes)."
            )
        if self.missing_lists:
            lines.append(
                f"Listes déroulantes non remises faute de la feuille « {lists_name} » du modèle "
                "(ou elle a changé) : " + ", ".join(f"« {c} »" for c in self.missing_lists) + "."
            )
        if self.converted:
            changes = ", ".join(
                f"{old} → {spellings[old]} ({count} cellule(s))"
                for old, count in self.converted.items()
            )
            lines.append(
                "Valeurs du modèle remplacées par celles que le portail accepte (dans vos lignes "
                f"et dans les listes) : {changes}."
            )
        if self.skipped_sheets:
            lines.append(
                "Feuilles non recopiées (nom refusé par Excel, ou feuille de graphique ou de "
                "macros) : " + ", ".join(f"« {s} »" for s in self.skipped_sheets) + "."
            )
        return lines


def template_preamble(rows: Sequence[Sequence[CellValue]], header_row: int) -> int:
    """How many rows of the data sheet come before the data: through the "Commencez votre
    saisie en-dessous de cette ligne" row, else through the headers' row."""
    for index in range(header_row, min(len(rows), header_row + 15)):
        if any(isinstance(c, str) and fold(c).startswith(TEMPLATE_START) for c in rows[index]):
            return index + 1
    return header_row


def write_template(
    path: Path,
    rows: list[list[CellValue]],
    src: dict,
    source_path: Path | None,
) -> Written:
    """Write ``rows`` (each in the source's column order) into a copy of the user's template."""
    if source_path is None:
        raise InputError(
            "pour réécrire le modèle Excel v1.4 avec son en-tête, le fichier source est "
            "nécessaire : indiquez-le avec --source (ou choisissez --format csv ou xml)."
        )
    check_container(source_path)
    check_extent(source_path)
    source = CalamineWorkbook.from_path(str(source_path))
    data_name = src["feuille"]
    if data_name not in source.sheet_names:
        raise InputError(
            f"la feuille « {data_name} » n'est plus dans votre fichier source : relancez "
            "« accuse analyse » avec ce fichier.",
            source_path,
        )
    book = xlsxwriter.Workbook(
        str(path),
        {
            # Rows go out in order, sheet by sheet: the 37,000 communes stay out of memory.
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": DATE_FORMAT,
        },
    )
    formats = Formats(book)
    written = Written()
    lists_name = lists_sheet()
    lists_cells: Sequence[Sequence[CellValue]] | None = None
    data_sheet: Worksheet | None = None
    start = 0
    for meta in source.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            written.skipped_sheets.append(meta.name)
            continue
        try:
            sheet = book.add_worksheet(meta.name)
        except (InvalidWorksheetName, DuplicateWorksheetName):
            written.skipped_sheets.append(meta.name)
            continue
        read = source.get_sheet_by_name(meta.name)
        merges = list(read.merged_cell_ranges or [])
        if meta.name == data_name:
            data_sheet = sheet
            start = _write_data(sheet, read, merges, rows, src, formats, written)
            sheet.activate()
            continue
        # Streamed from where the sheet's cells begin: a large sheet never sits whole in Python.
        convert = meta.name == lists_name
        kept = _copy(
            sheet,
            read.iter_rows(),
            merges,
            formats,
            written if convert else None,
            origin=read.start or (0, 0),
            keep=_lists_extent() if convert else 0,
        )
        if convert:
            lists_cells = kept
        if meta.visible != SheetVisibleEnum.Visible:
            sheet.hide()
        written.sheets.append(meta.name)
    assert data_sheet is not None
    _drop_downs(book, data_sheet, start, src, lists_cells, written)
    book.close()
    return written


def _write_data(
    sheet: Worksheet,
    read: CalamineSheet,
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
    rows: list[list[CellValue]],
    src: dict,
    formats: Formats,
    written: Written,
) -> int:
    """The block above the data, kept, then the re-exported rows; returns the first data row
    (from 0)."""
    header_row = int(src.get("ligne_entete") or 1)
    top = read.to_python(skip_empty_area=False, nrows=header_row + 16)
    start = template_preamble(top, header_row)
    kept = [m for m in merges if m[1][0] < start]
    _copy(sheet, top[:start], kept, formats, written)  # rows counted from the sheet's first
    columns = src["colonnes"]
    text_columns = {i for key, i in columns.items() if by_key()[key].type == "texte"}
    enums = {i for key, i in columns.items() if by_key()[key].type == "enum"}
    spellings = portal_spellings()
    for offset, values in enumerate(rows):
        for column, value in enumerate(values):
            if column in enums and isinstance(value, str) and value.strip() in spellings:
                old = value.strip()
                value = spellings[old]
                written.converted[old] = written.converted.get(old, 0) + 1
            write_value(sheet, start + offset, column, value, formats, column in text_columns)
    for column, title in enumerate(src["entetes"]):
        sheet.set_column(column, column, min(max(len(title), 10) + 2, 40))
    sheet.freeze_panes(start, 0)
    return start


def _lists_extent() -> int:
    """How many rows of the lists sheet the named ranges reach."""
    return max(
        (xl_cell_to_rowcol(e.last.replace("$", ""))[0] + 1 for e in template_lists() if e.last),
        default=0,
    )


def _copy(
    sheet: Worksheet,
    rows: Iterable[Sequence[CellValue]],
    merges: list[tuple[tuple[int, int], tuple[int, int]]],
    formats: Formats,
    written: Written | None,
    origin: tuple[int, int] = (0, 0),
    keep: int = 0,
) -> list[list[CellValue]]:
    """A sheet's values, row by row (``rows`` begin at ``origin``), with its merged cells that
    hold in one row (the template has no other kind); ``written``: convert the template's
    spellings, and count them. Returns the sheet's first ``keep`` rows, as read."""
    spellings = portal_spellings() if written is not None else {}
    by_row: dict[int, list[tuple[int, int]]] = {}
    for (first_row, first_col), (last_row, last_col) in merges:
        if first_row == last_row and last_col > first_col:
            by_row.setdefault(first_row, []).append((first_col, last_col))
    top, left = origin
    kept: list[list[CellValue]] = [[] for _ in range(min(top, keep))]
    for number, read in enumerate(rows, start=top):
        row: list[CellValue] = [None] * left + list(read)
        if number < keep:
            kept.append(row)
        spans = by_row.get(number, [])
        for first, last in spans:
            value = clean_cell(row[first]) if first < len(row) else None
            sheet.merge_range(number, first, number, last, "", formats.top)
            if value is not None:
                write_value(sheet, number, first, value, formats)
        starts = {first for first, _ in spans}
        for column in range(left, len(row)):
            if column in starts:
                continue
            value = clean_cell(row[column])
            if value is None:
                continue
            if spellings and isinstance(value, str) and value in spellings:
                assert written is not None
                written.converted[value] = written.converted.get(value, 0) + 1
                value = spellings[value]
            write_value(sheet, number, column, value, formats)
    return kept


def _drop_downs(
    book: xlsxwriter.Workbook,
    sheet: Worksheet,
    start: int,
    src: dict,
    lists_cells: Sequence[Sequence[CellValue]] | None,
    written: Written,
) -> None:
    """The data sheet's drop-down lists, on the columns the user's file has."""
    columns = src["colonnes"]
    headers = src["entetes"]
    for entry in template_lists():
        column = columns.get(entry.key)
        if column is None:
            continue
        title = headers[column] if column < len(headers) else entry.key
        if entry.values:
            choices: str | list[str] = list(entry.values)
        elif lists_cells is not None and _named_range_holds(entry, lists_cells):
            book.define_name(
                entry.name, f"={quote_sheetname(entry.sheet)}!{entry.first}:{entry.last}"
            )
            choices = f"={entry.name}"
        else:
            written.missing_lists.append(title)
            continue
        sheet.data_validation(
            start,
            column,
            _LAST_ROW,
            column,
            {
                "validate": "list",
                "source": choices,
                "ignore_blank": True,
                "error_type": "stop",
                "error_title": "Valeur non permise",
                "error_message": "Choisissez une valeur de la liste : la Caisse des Dépôts "
                "refuse toute autre valeur pour ce champ.",
            },
        )
        written.lists.append(title)


def _named_range_holds(entry: TemplateList, cells: Sequence[Sequence[CellValue]]) -> bool:
    """Whether the lists sheet is the template's at this range: its name written a little
    above it, and values in it."""
    first_row, column = xl_cell_to_rowcol(entry.first.replace("$", ""))
    last_row, _ = xl_cell_to_rowcol(entry.last.replace("$", ""))

    def cell(row: int) -> CellValue:
        return cells[row][column] if 0 <= row < len(cells) and column < len(cells[row]) else None

    labelled = any(cell(r) == entry.name for r in range(first_row - _LABEL_ABOVE, first_row))
    filled = any(cell(r) not in (None, "") for r in range(first_row, last_row + 1))
    return labelled and filled
