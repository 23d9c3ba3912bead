"""corrections.xlsx: the rejected rows to fix, a summary, the unmatched ids, and bookkeeping.

Written with xlsxwriter in constant-memory mode (rows go out in order, so 20,000 rejected rows
stay fast and small in memory); every string goes through write_string, so a value such as
"=cmd|' /C calc'!A0" or "+1" is text, never a formula. The hidden sheet keeps each row's
original values and the source's fingerprint: `accuse reexporter` compares against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from accuse.analysis import Analysis, RejectedRow
from accuse.catalogue import CatalogueEntry
from accuse.cells import as_date
from accuse.checks import XSD_TO_TEMPLATE
from accuse.fields import by_key
from accuse.model import CellValue, Source, SourceRow
from accuse.output import atomic_target
from accuse.sources.table import cell_text
from accuse.summary import inert, totals, verdict

FORMAT_VERSION = 2  # 2: original rows kept as fingerprints
SHEET_FIX = "À corriger"
SHEET_SUMMARY = "Synthèse"
SHEET_UNMATCHED = "Non rapprochés"
SHEET_BOOK = "accuse_suivi"  # hidden
KEY_HEADER = "Ligne source"
PREFIX = [KEY_HEADER, "Id technique", "Famille", "Que faire", "Constats", "Message du portail"]
FILE_PREFIX = [*PREFIX, "Ligne de l'erreur", "Colonne de l'erreur"]
BOOK_ROWS_MARK = "#lignes"
DATE_FORMAT = "dd/mm/yyyy"
_MAX_WIDTH = 45
_PREFIX_WIDTHS = {
    KEY_HEADER: 9,
    "Id technique": 22,
    "Famille": 30,
    "Que faire": 60,
    "Constats": 50,
    "Message du portail": 60,
}
_WRAPPED = {"Famille", "Que faire", "Constats", "Message du portail"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FRENCH_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")
_CANON_FRENCH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_CANON_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?")


def fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks (sources can weigh 200 Mo)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


# What a cell holds once written: xlsxwriter (like Excel) stops a text at 32,767 characters.
MAX_CELL = 32767


def row_fingerprint(cells: Iterable[CellValue]) -> str:
    """A row by meaning, in 64 characters: re-export compares it to tell what the user changed
    (far cheaper than keeping every original cell in the workbook)."""
    parts = (canonical(c[:MAX_CELL] if isinstance(c, str) else c) for c in cells)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


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
        values.append("NILL")
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


class _Formats:
    """xlsxwriter formats, made once per combination (highlighted, number format)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._made: dict[tuple[str, bool], object] = {}
        self.header = book.add_format(
            {"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF", "text_wrap": True}
        )
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.top = book.add_format({"valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})

    def get(self, kind: str, highlighted: bool) -> object:
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
    sheet: Worksheet,
    row: int,
    column: int,
    value: CellValue,
    formats: _Formats,
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


def write_worksheet(analysis: Analysis, path: Path, inputs: Sequence[Path]) -> Path:
    """Write corrections.xlsx atomically; never over one of ``inputs``."""
    with atomic_target(Path(path), inputs) as temporary:
        book = xlsxwriter.Workbook(
            str(temporary),
            {
                # Held in memory, the sheet shares its strings (family titles, actions, names
                # repeat from row to row): a quarter faster than streaming inline strings, for
                # ~150 MB more at 20,000 rejected rows.
                "constant_memory": False,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": DATE_FORMAT,
            },
        )
        formats = _Formats(book)
        whole_file = analysis.receipt.shape == "rejet_fichier"
        lines = _file_lines(analysis) if whole_file else _passage_lines(analysis)
        prints = _fix_sheet(book, formats, analysis, lines, whole_file)
        _summary_sheet(book, formats, analysis)
        _unmatched_sheet(book, formats, analysis)
        _book_sheet(book, analysis, lines, whole_file, prints)
        book.close()
    return Path(path)


def _fix_sheet(
    book: xlsxwriter.Workbook,
    formats: _Formats,
    analysis: Analysis,
    lines: list[Line],
    whole_file: bool,
) -> dict[int, str]:
    """The editable sheet; returns each source row's fingerprint as written."""
    sheet = book.add_worksheet(SHEET_FIX)
    source = analysis.source
    prefix = FILE_PREFIX if whole_file else PREFIX
    headers = list(source.headers) if source is not None else []
    keys = column_keys(source) if source is not None else []
    text_columns = [k is not None and by_key()[k].type == "texte" for k in keys]
    kind = source.kind if source is not None else ""
    for column, title in enumerate([*prefix, *headers]):
        sheet.write_string(0, column, title or f"Colonne {column + 1}", formats.header)
    widths = [_PREFIX_WIDTHS.get(t, 12) for t in prefix] + [
        min(max(len(h), 6) + 2, _MAX_WIDTH) for h in headers
    ]
    first = len(prefix)
    column_formats = [
        (formats.get(kind_of, False), formats.get(kind_of, True))
        for kind_of in ("text" if text else "general" for text in text_columns)
    ]
    prints: dict[int, str] = {}
    family_texts: dict[tuple[str, ...], tuple[str, str]] = {}
    for number, line in enumerate(lines, start=1):
        cells = _prefix_cells(line, family_texts)
        for column, value in enumerate(cells):
            title = prefix[column]
            if isinstance(value, int):
                sheet.write_number(number, column, value, formats.top)
            elif value:
                cell_format = formats.wrap if title in _WRAPPED else formats.top
                sheet.write_string(number, column, value, cell_format)
        for offset, value in enumerate(line.extra):
            if value is not None:
                sheet.write_number(number, len(PREFIX) + offset, value, formats.top)
        if line.row is None:
            continue
        values = line.row.values
        count = len(values)
        shown = [
            display_value(key, values[index] if index < count else None, kind)
            for index, key in enumerate(keys)
        ]
        prints[line.row.position] = row_fingerprint(shown)
        marked = line.champs
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
    sheet.freeze_panes(1, 2)
    last_column = max(len(prefix) + len(headers) - 1, 0)
    sheet.autofilter(0, 0, max(len(lines), 1), last_column)
    if source is not None and lines:
        _validations(sheet, source, keys, first, len(lines))
    sheet.activate()
    return prints


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


def _prefix_cells(line: Line, made: dict) -> list[object]:
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
    sheet: Worksheet, source: Source, keys: list[str | None], first: int, count: int
) -> None:
    style = spelling(source)
    for index, key in enumerate(keys):
        if key is None or by_key()[key].type not in ("enum", "booleen"):
            continue
        values = allowed_values(key, style)
        if sum(len(v) + 1 for v in values) > 255:  # Excel's limit for an inline list
            continue
        sheet.data_validation(
            1,
            first + index,
            count,
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


def _summary_sheet(book: xlsxwriter.Workbook, formats: _Formats, analysis: Analysis) -> None:
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
    for entry, count in analysis.families():
        row += 1
        sheet.write_string(row, 0, entry.titre, formats.wrap)
        sheet.write_string(row, 1, entry.code, formats.top)
        sheet.write_number(row, 2, count, formats.top)
        sheet.write_string(row, 3, _redeposer(entry), formats.wrap)
        sheet.write_string(row, 4, " ".join(entry.explication.split()), formats.wrap)
        actions = "\n".join(f"{n}. {a}" for n, a in enumerate(entry.actions, start=1))
        sheet.write_string(row, 5, actions, formats.wrap)


def _redeposer(entry: CatalogueEntry) -> str:
    return {
        "non": "non",
        "apres_correction": "oui, après correction",
        "fichier_entier": "tout le fichier",
    }.get(entry.redeposer, entry.redeposer)


def _unmatched_sheet(book: xlsxwriter.Workbook, formats: _Formats, analysis: Analysis) -> None:
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
    for identifier in analysis.unmatched_ids:
        row += 1
        sheet.write_string(row, 0, inert(identifier))
        found = by_id.get(identifier)
        if found is not None:
            sheet.write_string(row, 1, found.classification.entry.titre, formats.wrap)
            sheet.write_string(row, 2, inert(found.message), formats.wrap)
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
        "empreinte": fingerprint(source.path),
        "taille": source.path.stat().st_size,
        "entete_flux": dict(source.flux_header),
        "orthographe": spelling(source),
    }
    if source.kind == "csv":
        from accuse.sources.csvfile import dialect  # the reader's own sniffing

        meta["encodage"], meta["separateur"] = dialect(source.path)
    return meta


def _book_sheet(
    book: xlsxwriter.Workbook,
    analysis: Analysis,
    lines: list[Line],
    whole_file: bool,
    prints: dict[int, str],
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
        "non_redeposables": skipped,
        "source": source_metadata(source) if source is not None else None,
    }
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
        sheet.write_string(row, 3, prints[line.row.position])
