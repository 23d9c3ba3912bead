"""corrections.xlsx: the rejected rows to fix, a summary, the unmatched ids, and bookkeeping.

Written with accuse.render.xlsxfast (rows go out in order, each cell becomes its XML as it is
written: 20,000 rejected rows stay fast); every string goes through write_string, so a value
such as "=cmd|' /C calc'!A0" or "+1" is text, never a formula. The hidden sheet keeps each row's
original values and the source's fingerprint: `accuse reexporter` compares against it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from accuse.cells import NILL, as_date, cell_text
from accuse.digest import file_digest
from accuse.fix.checks import XSD_TO_TEMPLATE
from accuse.fix.workbook import (
    BOOK_ROWS_MARK,
    FIX_HEADER_ROW,
    FORMAT_VERSION,
    HEADER_ROW_KEY,
    KEY_HEADER,
    LINE_HEIGHT,
    NEW_ID_HEADER,
    RUN_KEY,
    SHEET_BOOK,
    SHEET_DOUBLONS,
    SHEET_FIX,
    Formats,
    row_fingerprint,
    text_lines,
    write_value,
)
from accuse.model import CellValue, Source, SourceRow
from accuse.output import atomic_target
from accuse.pipeline.analysis import Analysis, RejectedRow
from accuse.pipeline.summary import REDEPOSER, totals, verdict
from accuse.reference.catalogue import CatalogueEntry
from accuse.reference.fields import by_key, with_composites
from accuse.render.xlsxfast import Sheet, Workbook
from accuse.text import inert

SHEET_SUMMARY = "Synthèse"
SHEET_UNMATCHED = "Non rapprochés"
PREFIX = [KEY_HEADER, "Id technique", "Famille", "Que faire", "Constats", "Message du portail"]
FILE_PREFIX = [*PREFIX, "Ligne de l'erreur", "Colonne de l'erreur"]
_MAX_WIDTH = 45
_PREFIX_WIDTHS = {
    KEY_HEADER: 9,
    "Id technique": 22,
    "Famille": 30,
    "Que faire": 60,
    "Constats": 50,
    "Message du portail": 60,
}
_INSTRUCTION_COLUMNS = 3  # Ligne source to Famille: as wide as a printed page
_BOLD = 0.9  # bold letters are wider: fewer of them fit on a line
_WRAPPED = {"Famille", "Que faire", "Constats", "Message du portail"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRENCH_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


def display_value(key: str | None, value: CellValue, source_kind: str) -> CellValue:
    """A source cell as the worksheet shows it: ids and codes as text, flux dates as dates."""
    spec = by_key().get(key) if key else None
    if spec is None:
        return value
    if spec.type == "texte" and isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)  # ids stay text: 1979262, not 1979262.0 nor a number
    if spec.type == "date" and source_kind in ("flux", "csv") and isinstance(value, str):
        # Text dates of a flux (AAAA-MM-JJ) or a csv (JJ/MM/AAAA) become real dates to edit.
        text = value.strip()
        if _ISO_DATE.fullmatch(text) or _FRENCH_DATE.fullmatch(text):
            day = as_date(text)
            return day if day is not None else value
    return value


def column_keys(source: Source) -> list[str | None]:
    """The dictionary key of each source column (None for the user's own extra columns)."""
    keys: list[str | None] = [None] * len(source.headers)
    for key, index in source.columns.items():
        if index < len(keys):
            keys[index] = key
    return keys


def spelling(source: Source | None) -> str:
    """Whether the source writes values like the Excel template (OUI/NON) or like the XSD."""
    if source is None:
        return "xsd"
    if source.layout == "modele_v1.4":
        return "modele"
    booleans = [k for k, f in by_key().items() if f.type == "booleen" and k in source.columns]
    for row in source.rows.values():
        for key in booleans:
            value = source.value(row, key)
            if isinstance(value, str) and value.strip().upper() in ("OUI", "NON"):
                return "modele"
    return "xsd"


def allowed_values(key: str, style: str) -> list[str]:
    """The choices of a validation list, in the source's own spelling."""
    spec = by_key()[key]
    if spec.type == "booleen":
        values = ["OUI", "NON"] if style == "modele" else ["true", "false"]
    else:
        values = list(spec.valeurs)
        if style == "modele":
            values = [XSD_TO_TEMPLATE.get(v, v) for v in values]
    if spec.nillable:
        values.append(NILL)
    return values


# --- lines of the "À corriger" sheet ----------------------------------------------------------


@dataclass
class Line:
    position: int | None
    idTechnique: str
    entries: list[CatalogueEntry]
    findings: list[str]
    messages: list[str]
    row: SourceRow | None
    extra: list[CellValue] = field(default_factory=list)

    @property
    def champs(self) -> set[str]:
        return {c for e in self.entries for c in e.champs}


@dataclass(frozen=True)
class Carried:
    """A row the user corrected in an earlier worksheet, written again with their values."""

    idTechnique: str
    original: str  # fingerprint of the source row as it was then (and still is)
    cells: list[CellValue]  # the user's values, in the source's column order


def worksheet_lines(analysis: Analysis) -> list[Line]:
    """The rows of the "À corriger" sheet, in order."""
    if analysis.receipt.shape == "rejet_fichier":
        return _file_lines(analysis)
    return _passage_lines(analysis)


def shown_cells(source: Source, row: SourceRow, keys: list[str | None]) -> list[CellValue]:
    """A source row as the worksheet shows it, one cell per source column."""
    kind = source.kind
    values = row.values
    width = len(keys)
    shown = list(values[:width])
    if len(shown) < width:
        shown.extend([None] * (width - len(shown)))
    # Only ids and codes held as numbers, and text dates, change: the other cells go as read.
    for index, key, dates in _converted_columns(tuple(keys), kind):
        value = shown[index]
        if value is not None and (type(value) is str) == dates:
            shown[index] = display_value(key, value, kind)
    return shown


@cache
def _converted_columns(keys: tuple[str | None, ...], kind: str) -> list[tuple[int, str, bool]]:
    """The columns :func:`display_value` may change: text fields (numbers become text), and
    for a flux or a csv date fields (text becomes a date); True marks a date column."""
    found = []
    for index, key in enumerate(keys):
        spec = by_key().get(key) if key else None
        if spec is None or key is None:
            continue
        if spec.type == "texte":
            found.append((index, key, False))
        elif spec.type == "date" and kind in ("flux", "csv"):
            found.append((index, key, True))
    return found


def _passage_lines(analysis: Analysis) -> list[Line]:
    return [_line(r) for r in analysis.rejected if r.fixable]


def _line(rejected: RejectedRow) -> Line:
    row = rejected.row
    findings = [f.message for f in rejected.findings]
    if rejected.classification.hint:
        findings.insert(0, rejected.classification.hint)
    return Line(
        row.position if row else None,
        rejected.idTechnique,
        [rejected.classification.entry],
        findings,
        [rejected.message],
        row,
    )


def _file_lines(analysis: Analysis) -> list[Line]:
    lines = []
    for item in analysis.file_errors:
        error = item.error
        lines.append(
            Line(
                item.row.position if item.row else item.passage_line,
                item.idTechnique or "",
                [item.classification.entry],
                [item.classification.hint] if item.classification.hint else [],
                [error.message],
                item.row,
                [error.ligne, error.colonne],
            )
        )
    return lines


# --- writing ----------------------------------------------------------------------------------


def write_worksheet(
    analysis: Analysis,
    path: Path,
    inputs: Sequence[Path],
    carried: dict[int, Carried] | None = None,
    run: str | None = None,
) -> Path:
    """Write corrections.xlsx atomically; never over one of ``inputs``. ``carried``: source
    rows (by position) to show with the values the user typed in an earlier worksheet;
    ``run``: the identity of the run, shared with the report written beside it."""
    with atomic_target(Path(path), inputs) as temporary:
        book = Workbook(temporary)
        formats = Formats(book)
        whole_file = analysis.receipt.shape == "rejet_fichier"
        lines = worksheet_lines(analysis)
        instruction = fix_instruction(analysis, Path(path).name)
        prints = _fix_sheet(book, formats, analysis, lines, whole_file, carried or {}, instruction)
        _summary_sheet(book, formats, analysis)
        _unmatched_sheet(book, formats, analysis)
        _doublons_sheet(book, formats, analysis)
        _book_sheet(book, analysis, lines, whole_file, prints, run)
        book.close()
    return Path(path)


def _fix_sheet(
    book: Workbook,
    formats: Formats,
    analysis: Analysis,
    lines: list[Line],
    whole_file: bool,
    carried: dict[int, Carried],
    instruction: str,
) -> dict[int, tuple[str, str]]:
    """The editable sheet: the instruction line, the headers, then one row per passage to fix.
    Returns each source row's fingerprints: as in the source, and as written (they differ
    where an earlier correction was carried over)."""
    sheet = book.add_worksheet(SHEET_FIX)
    source = analysis.source
    prefix = FILE_PREFIX if whole_file else PREFIX
    headers = list(source.headers) if source is not None else []
    keys = column_keys(source) if source is not None else []
    text_columns = [k is not None and by_key()[k].type == "texte" for k in keys]
    top = FIX_HEADER_ROW - 1  # the headers' row, counted from 0 as xlsxwriter does
    for column, title in enumerate([*prefix, *headers]):
        sheet.write_string(top, column, title or f"Colonne {column + 1}", formats.header)
    widths = [_PREFIX_WIDTHS.get(t, 12) for t in prefix] + [
        min(max(len(h), 6) + 2, _MAX_WIDTH) for h in headers
    ]
    heights = _RowHeights()
    # The instruction spans the first columns, as wide as a printed page (three lines); a
    # longer merge would be cut where the page, or a narrow window, ends.
    span = sum(widths[:_INSTRUCTION_COLUMNS]) * _BOLD
    sheet.merge_range(0, 0, 0, _INSTRUCTION_COLUMNS - 1, "", formats.instruction)
    sheet.write_string(0, 0, instruction, formats.instruction)  # text, never a formula
    heights.add(0, [(instruction, span)])
    heights.add(top, [(t, w) for t, w in zip([*prefix, *headers], widths, strict=True)])
    first = len(prefix)
    column_formats = [
        (formats.get(kind_of, False), formats.get(kind_of, True))
        for kind_of in ("text" if text else "general" for text in text_columns)
    ]
    prints: dict[int, tuple[str, str]] = {}
    family_texts: dict[tuple[str, ...], tuple[str, str]] = {}
    for number, line in enumerate(lines, start=top + 1):
        cells = _prefix_cells(line, family_texts)
        for column, cell in enumerate(cells):
            title = prefix[column]
            if isinstance(cell, int):
                sheet.write_number(number, column, cell, formats.top)
            elif cell:
                if title in _WRAPPED:
                    sheet.write_string(number, column, cell, formats.wrap)
                    heights.add(number, [(cell, widths[column])])
                else:
                    sheet.write_string(number, column, cell, formats.top)
        for offset, extra in enumerate(line.extra):
            if isinstance(extra, int | float):  # the error's line and column, when known
                sheet.write_number(number, len(PREFIX) + offset, extra, formats.top)
        if line.row is None:
            continue
        assert source is not None  # a line has a row only when a source was read
        shown = shown_cells(source, line.row, keys)
        original = written = row_fingerprint(shown)
        carry = carried.get(line.row.position)
        if carry is not None:
            shown = (carry.cells + [None] * len(keys))[: len(keys)]
            written = row_fingerprint(shown)
        prints[line.row.position] = (original, written)
        marked = with_composites(line.champs, source.columns)
        # The hot loop of a 20,000-row worksheet: plain text, the common case, goes straight in.
        for index, value in enumerate(shown):
            highlighted = keys[index] in marked
            if value is None or value == "":
                if highlighted:
                    sheet.write_blank(number, first + index, None, column_formats[index][1])
                continue  # the column's own format (text where it matters) covers it
            column = first + index
            if type(value) is str:
                sheet.write_string(number, column, value, column_formats[index][highlighted])
                if len(value) + 2 > widths[column]:
                    widths[column] = min(len(value) + 2, _MAX_WIDTH)
            else:
                write_value(sheet, number, column, value, formats, text_columns[index], highlighted)
    for column, width in enumerate(widths):
        index = column - first
        # Text columns are formatted as text even where empty, so "01053" typed in stays so.
        text = 0 <= index < len(text_columns) and text_columns[index]
        sheet.set_column(column, column, width, formats.get("text", False) if text else None)
    heights.apply(sheet)
    sheet.freeze_panes(top + 1, 2)
    last_column = max(len(prefix) + len(headers) - 1, 0)
    sheet.autofilter(top, 0, top + max(len(lines), 1), last_column)
    if source is not None and lines:
        _validations(sheet, source, keys, first, top + 1, top + len(lines))
    sheet.activate()
    return prints


def fix_instruction(analysis: Analysis, name: str) -> str:
    """The one line at the top of "À corriger": what to do with the sheet, and the command."""
    if analysis.source is None:
        return (
            "Refus de l'accusé, expliqués. Pour corriger ici vos lignes, relancez « accuse "
            "analyse » avec --source et le fichier que vous avez déposé."
        )
    command = f'"{name}"' if " " in name else name
    return inert(
        "Corrigez les cellules surlignées dans vos colonnes (à droite), enregistrez, fermez "
        f"Excel, puis lancez dans ce dossier : accuse reexporter {command}",
        one_line=True,
    )


class _RowHeights:
    """Row heights that hold each row's wrapped text (a spreadsheet does not grow a row by
    itself). Family texts repeat from row to row: each is measured once."""

    def __init__(self) -> None:
        self.lines: dict[int, int] = {}
        self._measured: dict[tuple[str, float], int] = {}

    def add(self, row: int, cells: list[tuple[str, float]]) -> None:
        for text, width in cells:
            key = (text, width)
            lines = self._measured.get(key)
            if lines is None:
                lines = self._measured[key] = text_lines(text, width)
            if lines > self.lines.get(row, 1):
                self.lines[row] = lines

    def apply(self, sheet: Sheet) -> None:
        for row, lines in self.lines.items():
            sheet.set_row(row, LINE_HEIGHT * lines)


def _family_texts(entries: list[CatalogueEntry], made: dict) -> tuple[str, str]:
    """Titles and numbered actions of a row's families, built once per set of families."""
    key = tuple(e.code for e in entries)
    found = made.get(key)
    if found is None:
        titles = " ; ".join(dict.fromkeys(e.titre for e in entries))
        actions = "\n".join(
            f"{n}. {a}" for e in _unique(entries) for n, a in enumerate(e.actions, start=1)
        )
        found = made[key] = (titles, actions)
    return found


def _prefix_cells(line: Line, made: dict) -> list[int | str | None]:
    titles, actions = _family_texts(line.entries, made)
    return [
        line.position,
        inert(line.idTechnique),
        titles,
        actions,
        "\n".join(inert(f) for f in line.findings),
        "\n".join(inert(m) for m in line.messages),
    ]


def _unique(entries: Iterable[CatalogueEntry]) -> list[CatalogueEntry]:
    return list({e.code: e for e in entries}.values())


def _validations(
    sheet: Sheet, source: Source, keys: list[str | None], first: int, start: int, end: int
) -> None:
    """Drop-down lists on rows ``start`` to ``end`` (counted from 0) of each enum column."""
    style = spelling(source)
    for index, key in enumerate(keys):
        if key is None or by_key()[key].type not in ("enum", "booleen"):
            continue
        values = allowed_values(key, style)
        if sum(len(v) + 1 for v in values) > 255:  # Excel's limit for an inline list
            continue
        sheet.data_validation(
            start,
            first + index,
            end,
            first + index,
            {
                "validate": "list",
                "source": values,
                "ignore_blank": True,
                "error_type": "stop",
                "error_title": "Valeur non permise",
                "error_message": "Choisissez une valeur de la liste : la Caisse des Dépôts "
                "refuse toute autre valeur pour ce champ.",
                "input_title": by_key()[key].label[:32],
                "input_message": "Valeurs permises : " + ", ".join(values)[:230],
            },
        )


def _summary_sheet(book: Workbook, formats: Formats, analysis: Analysis) -> None:
    sheet = book.add_worksheet(SHEET_SUMMARY)
    receipt, source = analysis.receipt, analysis.source
    t = totals(analysis)
    sheet.set_column(0, 0, 42)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 3, 12)
    sheet.set_column(4, 5, 70)
    sheet.write_string(0, 0, "Synthèse de l'accusé de traitement", formats.title)
    sheet.write_string(1, 0, verdict(analysis), formats.top)
    identity: list[tuple[str, object]] = [
        ("Accusé de traitement", receipt.path.name),
        ("Fichier déposé (nomFichier)", receipt.nomFichier),
        ("Id du flux (idFlux)", receipt.idFlux),
        ("Id du traitement (idTraitement)", receipt.idTraitement),
        ("Id de la demande (idDemande)", receipt.idDemande),
        ("Fichier source", source.path.name if source else "aucun (accusé seul)"),
        ("Analysé le", analysis.analysed_at.strftime("%d/%m/%Y %H:%M")),
        ("Passages acceptés", t.ok),
        ("Passages refusés", t.ko),
        ("À corriger et redéposer", t.a_corriger),
        ("Déjà enregistrés (ne pas renvoyer)", t.deja_enregistres),
        ("Refus introuvables dans la source", t.ko_introuvables if source else None),
        ("Lignes de la source absentes de l'accusé", t.absents_accuse),
        ("Erreurs du fichier entier", t.erreurs_fichier or None),
    ]
    row = 3
    for label, value in identity:
        if value is None:
            continue
        sheet.write_string(row, 0, label, formats.bold)
        if isinstance(value, int):
            sheet.write_number(row, 1, value)
        else:
            sheet.write_string(row, 1, inert(value))
        row += 1
    row += 1
    for column, title in enumerate(
        ["Famille", "Code", "Nombre", "À redéposer", "Explication", "Que faire"]
    ):
        sheet.write_string(row, column, title, formats.header)
    heights = _RowHeights()
    for entry, count in analysis.families():
        row += 1
        explanation = " ".join(entry.explication.split())
        actions = "\n".join(f"{n}. {a}" for n, a in enumerate(entry.actions, start=1))
        sheet.write_string(row, 0, entry.titre, formats.wrap)
        sheet.write_string(row, 1, entry.code, formats.top)
        sheet.write_number(row, 2, count, formats.top)
        sheet.write_string(row, 3, _redeposer(entry), formats.wrap)
        sheet.write_string(row, 4, explanation, formats.wrap)
        sheet.write_string(row, 5, actions, formats.wrap)
        heights.add(
            row,
            [(entry.titre, 42), (_redeposer(entry), 12), (explanation, 70), (actions, 70)],
        )
    heights.apply(sheet)


def _redeposer(entry: CatalogueEntry) -> str:
    return REDEPOSER.get(entry.redeposer, entry.redeposer)


def _doublons_sheet(book: Workbook, formats: Formats, analysis: Analysis) -> None:
    """Passages refused as already stored, each with a cell for a new id: a "doublon" that is
    really another passage goes out again under the id typed there."""
    doublons = [r for r in analysis.rejected if not r.fixable and r.row is not None]
    if not doublons:
        return
    sheet = book.add_worksheet(SHEET_DOUBLONS)
    sheet.write_string(
        0,
        0,
        "Passages déjà enregistrés sous leur identifiant : ne les renvoyez pas, sauf s'il "
        "s'agit d'un autre passage ; tapez alors un nouvel identifiant technique dans la "
        "dernière colonne, puis lancez « accuse reexporter ».",
        formats.bold,
    )
    titles = [KEY_HEADER, "Id technique", "Constats", "Message du portail", NEW_ID_HEADER]
    for column, title in enumerate(titles):
        sheet.write_string(1, column, title, formats.header)
    widths = (9, 22, 70, 60, 28)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width, formats.get("text", False) if column == 4 else None)
    heights = _RowHeights()
    heights.add(1, list(zip(titles, widths, strict=True)))
    for number, rejected in enumerate(doublons, start=2):
        assert rejected.row is not None
        sheet.write_number(number, 0, rejected.row.position, formats.top)
        sheet.write_string(number, 1, inert(rejected.idTechnique), formats.top)
        findings = "\n".join(inert(f.message) for f in rejected.findings)
        sheet.write_string(number, 2, findings, formats.wrap)
        sheet.write_string(number, 3, inert(rejected.message), formats.wrap)
        sheet.write_blank(number, 4, None, formats.get("text", True))
        heights.add(number, [(findings, 70), (inert(rejected.message), 60)])
    heights.apply(sheet)
    sheet.freeze_panes(2, 0)


def _unmatched_sheet(book: Workbook, formats: Formats, analysis: Analysis) -> None:
    sheet = book.add_worksheet(SHEET_UNMATCHED)
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 80)
    if analysis.source is None:
        sheet.write_string(
            0, 0, "Aucun fichier source n'a été donné : rien à rapprocher.", formats.bold
        )
        return
    sheet.write_string(0, 0, "Refus de l'accusé introuvables dans la source", formats.title)
    row = 1
    for column, title in enumerate(["Id technique", "Famille", "Message du portail"]):
        sheet.write_string(row, column, title, formats.header)
    by_id = {r.idTechnique: r for r in analysis.rejected}
    heights = _RowHeights()
    for identifier in analysis.unmatched_ids:
        row += 1
        sheet.write_string(row, 0, inert(identifier))
        found = by_id.get(identifier)
        if found is not None:
            title, message = found.classification.entry.titre, inert(found.message)
            sheet.write_string(row, 1, title, formats.wrap)
            sheet.write_string(row, 2, message, formats.wrap)
            heights.add(row, [(title, 36), (message, 80)])
    heights.apply(sheet)
    if not analysis.unmatched_ids:
        row += 1
        sheet.write_string(row, 0, "Aucun : chaque refus a été retrouvé dans la source.")
    row += 2
    sheet.write_string(row, 0, "Lignes de la source absentes de l'accusé", formats.title)
    row += 1
    sheet.write_string(row, 0, KEY_HEADER, formats.header)
    sheet.write_string(row, 1, "Id technique", formats.header)
    for position, identifier in analysis.absent:
        row += 1
        sheet.write_number(row, 0, position)
        sheet.write_string(row, 1, inert(identifier))
    if not analysis.absent:
        sheet.write_string(row + 1, 0, "Aucune : l'accusé mentionne chaque ligne de la source.")


def source_metadata(source: Source) -> dict[str, object]:
    """What re-export needs to rebuild the source's layout and to notice it changed."""
    meta: dict[str, object] = {
        "chemin": str(source.path.resolve()),
        "nom": source.path.name,
        "type": source.kind,
        "disposition": source.layout,
        "feuille": source.sheet,
        "ligne_entete": source.header_row,
        "entetes": list(source.headers),
        "colonnes": dict(source.columns),
        "empreinte": file_digest(source.path),
        "taille": source.path.stat().st_size,
        "entete_flux": dict(source.flux_header),
        "orthographe": spelling(source),
        "schema": source.schema_version,
        "action": source.action,
    }
    if source.kind == "csv":
        from accuse.read.sources.csvfile import dialect  # the reader's own sniffing

        meta["encodage"], meta["separateur"] = dialect(source.path)
    return meta


def _book_sheet(
    book: Workbook,
    analysis: Analysis,
    lines: list[Line],
    whole_file: bool,
    prints: dict[int, tuple[str, str]],
    run: str | None = None,
) -> None:
    """Hidden bookkeeping: metadata as key/JSON pairs, then each source row's original values."""
    sheet = book.add_worksheet(SHEET_BOOK)
    sheet.hide()
    source = analysis.source
    skipped = sum(1 for r in analysis.rejected if not r.fixable)
    meta: dict[str, object] = {
        "format": FORMAT_VERSION,
        "accuse": analysis.receipt.path.name,
        "forme": analysis.receipt.shape,
        "idFlux": analysis.receipt.idFlux,
        "prefixe": len(FILE_PREFIX if whole_file else PREFIX),
        HEADER_ROW_KEY: FIX_HEADER_ROW,
        "non_redeposables": skipped,
        # The émetteur's BCR as the portal's messages name it: re-export needs it for a flux.
        "bcr_emetteur": next(
            (
                r.classification.captures["bcr"]
                for r in analysis.rejected
                if r.classification.captures.get("bcr")
            ),
            None,
        ),
        "source": source_metadata(source) if source is not None else None,
    }
    if run is not None:
        meta[RUN_KEY] = run
    row = 0
    for key, value in meta.items():
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, json.dumps(value, ensure_ascii=False))
        row += 1
    sheet.write_string(row, 0, BOOK_ROWS_MARK)
    if source is None:
        return
    seen: set[int] = set()
    for line in lines:
        if line.row is None or line.row.position in seen:
            continue
        seen.add(line.row.position)
        row += 1
        sheet.write_number(row, 0, line.row.position)
        sheet.write_string(row, 1, line.idTechnique)
        sheet.write_string(row, 2, ",".join(e.code for e in line.entries))
        original, written = prints[line.row.position]
        sheet.write_string(row, 3, original)
        if written != original:  # a carried correction; an empty cell means "as the source"
            sheet.write_string(row, 4, written)
