"""`accuse reexporter`: the rows the user corrected in corrections.xlsx, back to xlsx, csv or XML.

A row counts as corrected when one of its source cells differs from the original kept in the
hidden bookkeeping sheet (compared by meaning: a date retyped to the same day is no change).
Every exported row is checked field by field against the XSD rules first; nothing is written
while a row would be rejected, unless the user forces it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from python_calamine import CalamineWorkbook

from accuse.cells import cell_text, clean_cell, is_empty
from accuse.digest import file_digest
from accuse.errors import InputError
from accuse.files import require_regular_file
from accuse.fix.checks import (
    FieldError,
    Problem,
    converted,
    header_value,
)
from accuse.fix.fluxwriter import (
    FluxHeader,
    build_flux,
    needed_version,
    serialise,
    validation_errors,
)
from accuse.fix.workbook import (
    BOOK_ROWS_MARK,
    DATE_FORMAT,
    FORMAT_VERSION,
    HEADER_ROW_KEY,
    KEY_HEADER,
    NEW_ID_HEADER,
    RUN_KEY,
    SHEET_BOOK,
    SHEET_DOUBLONS,
    SHEET_FIX,
    Formats,
    canonical,
    open_elsewhere,
    row_fingerprint,
    runs_differ,
    saved_since_written,
    still_open_message,
    write_value,
)
from accuse.model import CellValue, DiagnosisContext, SchemaVersion
from accuse.output import atomic_target, check_not_input
from accuse.pipeline.diagnosis import diagnose
from accuse.read.sources.spreadsheet import (
    SUFFIXES,
    calamine_failed,
    check_container,
    check_extent,
)
from accuse.reference.fields import by_key, plain_name, row_fields
from accuse.reference.template import lists_sheet
from accuse.text import formula_safe, inert, looks_like_formula

ExportFormat = Literal["xlsx", "csv", "xml"]
_DEFAULT_FORMAT: dict[str, ExportFormat] = {"tableur": "xlsx", "csv": "csv", "flux": "xml"}
_SHOWN_PROBLEMS = 50
HEADER_KEYS = ("idClientEmetteur", "idClientCertificateur", "idContrat")


@dataclass
class ExportRow:
    position: int
    idTechnique: str
    values: list[CellValue]  # in the source's column order
    families: tuple[str, ...] = ()


@dataclass
class Result:
    worksheet: Path
    format: ExportFormat
    target: Path | None = None
    exported: list[ExportRow] = field(default_factory=list)
    untouched: list[tuple[int, str]] = field(default_factory=list)
    never: int = 0  # rejected passages already stored (DOUBLON): never sent again
    whole_file: bool = False
    warnings: list[str] = field(default_factory=list)
    forced_problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # information, not a warning
    saved: bool = True  # whether the worksheet was saved by a spreadsheet since written
    # How to name a row and a field to the user: the worksheet's row, the sheet's header.
    sheet_rows: dict[int, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    schema: SchemaVersion | None = None  # xml only: the XSD version written

    @property
    def written(self) -> bool:
        return self.target is not None

    def say(self, problem: Problem) -> str:
        """A problem in the sheet's own words: its row number, the column as headed there."""
        if problem.position is None:  # the flux's header: émetteur, certificateur, contrat
            return f"flux à écrire, {plain_name(problem.champ)} : {problem.raison}"
        where = f"ligne {problem.position} de votre fichier"
        row = self.sheet_rows.get(problem.position)
        if row is not None:
            where = f"ligne {row} de la feuille « {SHEET_FIX} » ({where}"
            where += f", id {problem.idTechnique})" if problem.idTechnique else ")"
        elif problem.idTechnique:
            where += f" (id {problem.idTechnique})"
        header = self.headers.get(problem.champ)
        if header is None:
            return f"{where}, {problem.render().split(', ', 1)[-1]}"
        return f"{where}, colonne « {header} » : {problem.raison}"


@dataclass
class _Worksheet:
    meta: dict
    originals: dict[int, tuple[str, tuple[str, ...], str]]  # position -> id, families, print
    edited: list[tuple[int, list[CellValue]]]  # (source position, source cells) per visible row
    # position -> fingerprint of the row as accuse wrote it (differs from the source's where
    # an earlier correction was carried into this worksheet)
    written: dict[int, str] = field(default_factory=dict)
    sheet_rows: dict[int, int] = field(default_factory=dict)  # position -> worksheet row (1-)
    renamed: dict[int, tuple[str, str]] = field(default_factory=dict)  # DOUBLON: old, new id

    def corrections(self) -> dict[int, list[CellValue]]:
        """Rows whose cells differ from the source's, by position (first occurrence)."""
        found: dict[int, list[CellValue]] = {}
        for position, cells in self.edited:
            original = self.originals.get(position)
            if original is not None and position not in found and _changed(original[2], cells):
                found[position] = cells
        return found

    def touched(self) -> bool:
        """Whether the user changed a source cell since accuse wrote this worksheet."""
        for position, cells in self.edited:
            written = self.written.get(position)
            if written is not None and _changed(written, cells):
                return True
        return False


# --- reading the worksheet ---------------------------------------------------------------------


def read_worksheet(path: Path) -> _Worksheet:
    not_ours = InputError(
        "ce classeur n'est pas une feuille de corrections produite par « accuse analyse » "
        "(feuille de suivi absente ou abîmée). Donnez le fichier corrections.xlsx écrit par "
        "l'analyse, après y avoir fait vos corrections.",
        path,
    )
    require_regular_file(path, "la feuille de corrections")
    lock = open_elsewhere(path)
    if lock is not None:  # the corrections may still be unsaved in the spreadsheet
        raise InputError(still_open_message(lock), path)
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            "ce n'est pas une feuille de corrections : « accuse reexporter » attend le fichier "
            "corrections.xlsx écrit par « accuse analyse ».",
            path,
        )
    check_container(path)  # encrypted workbooks and zip bombs, told as for a source
    check_extent(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        if SHEET_BOOK not in names or SHEET_FIX not in names:
            raise not_ours
        hidden = book.get_sheet_by_name(SHEET_BOOK).to_python()
        # Empty rows and columns kept: the row numbers are the ones the user sees.
        visible = book.get_sheet_by_name(SHEET_FIX).to_python(skip_empty_area=False)
        doublons = (
            book.get_sheet_by_name(SHEET_DOUBLONS).to_python() if SHEET_DOUBLONS in names else []
        )
    except InputError:
        raise
    except BaseException as error:  # calamine raises one type per format, or panics
        if not calamine_failed(error):
            raise
        raise InputError(
            "feuille de corrections illisible : le classeur est endommagé ou n'en est pas un. "
            "Donnez le fichier corrections.xlsx écrit par « accuse analyse », enregistré par "
            "Excel ou LibreOffice.",
            path,
        ) from None
    meta: dict[str, Any] = {}
    index = 0
    try:
        while index < len(hidden) and hidden[index][0] != BOOK_ROWS_MARK:
            meta[str(hidden[index][0])] = json.loads(str(hidden[index][1]))
            index += 1
    except (ValueError, IndexError):
        raise not_ours from None
    if meta.get("format") != FORMAT_VERSION or "prefixe" not in meta:
        raise not_ours
    if not _bookkeeping_valid(meta):
        raise InputError(
            "ce classeur n'est pas une feuille de corrections d'accuse, ou elle a été modifiée : "
            f"sa feuille cachée « {SHEET_BOOK} » ne contient plus ce qu'« accuse analyse » y a "
            "écrit. Ne modifiez que la feuille « À corriger » ; au besoin, relancez « accuse "
            "analyse » pour refaire la feuille de corrections.",
            path,
        )
    source = meta.get("source")
    originals = {}
    written = {}
    for row in hidden[index + 1 :]:
        if row and isinstance(row[0], int | float) and _whole(row[0]):
            families = tuple(c for c in str(row[2]).split(",") if c)
            originals[int(row[0])] = (str(row[1]), families, str(row[3]))
            # Worksheets written before the fifth column: as written == as in the source.
            written[int(row[0])] = str(row[4]) if len(row) > 4 and row[4] else str(row[3])
    prefix = int(meta["prefixe"])
    edited = []
    sheet_rows: dict[int, int] = {}
    top = _header_index(visible, int(meta.get(HEADER_ROW_KEY, 1)) - 1)
    if top < len(visible) and source:
        key_column, places = _locate_columns(visible[top], prefix, source["entetes"], path)
        for number, row in enumerate(visible[top + 1 :], start=top + 2):
            key = row[key_column] if key_column < len(row) else None
            if isinstance(key, int | float) and not isinstance(key, bool):
                cells = [clean_cell(row[i]) if i < len(row) else None for i in places]
                edited.append((int(key), cells))
                sheet_rows.setdefault(int(key), number)
    return _Worksheet(meta, originals, edited, written, sheet_rows, _renamed(doublons))


def _header_index(rows: list[list], recorded: int) -> int:
    """The headers' row of "À corriger" (from 0): where the analysis recorded it (row 1 for a
    worksheet made before the instruction line), else the first rows' one holding "Ligne
    source", should the user have deleted or inserted a line above."""
    for index in [recorded, *range(min(len(rows), _HEADER_SEARCH))]:
        if index < len(rows) and any(
            isinstance(c, str) and c.strip() == KEY_HEADER for c in rows[index]
        ):
            return index
    return recorded


_HEADER_SEARCH = 10


def _renamed(rows: list[list]) -> dict[int, tuple[str, str]]:
    """Doublons given a new id by the user: position -> (id, new id)."""
    header = next((i for i, r in enumerate(rows[:5]) if KEY_HEADER in r), None)
    if header is None or NEW_ID_HEADER not in rows[header]:
        return {}
    titles = list(rows[header])
    if "Id technique" not in titles:
        return {}
    key, old, new = (
        titles.index(KEY_HEADER),
        titles.index("Id technique"),
        titles.index(NEW_ID_HEADER),
    )
    found: dict[int, tuple[str, str]] = {}
    for row in rows[header + 1 :]:
        position = row[key] if key < len(row) else None
        typed = clean_cell(row[new]) if new < len(row) else None
        if isinstance(position, bool) or not isinstance(position, int | float):
            continue
        if not is_empty(typed):
            found[int(position)] = (cell_text(row[old]).strip(), cell_text(typed).strip())
    return found


def _whole(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (isinstance(value, int) or value.is_integer())
    )


_KINDS = {"tableur", "csv", "flux"}
_LAYOUTS = {"plat", "modele_v1.4", "flux"}


def _bookkeeping_valid(meta: dict[str, Any]) -> bool:
    """Whether the hidden sheet's metadata still has the shape analyse wrote (an edited one
    would otherwise fail deep inside the re-export)."""
    prefix = meta.get("prefixe")
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not 0 <= prefix <= 100:
        return False
    if not isinstance(meta.get("non_redeposables", 0), int | None):
        return False
    header_row = meta.get(HEADER_ROW_KEY, 1)
    if not isinstance(header_row, int) or isinstance(header_row, bool):
        return False
    if not 1 <= header_row <= _HEADER_SEARCH:
        return False
    source = meta.get("source")
    if source is None:
        return True
    if not isinstance(source, dict):
        return False
    headers = source.get("entetes")
    columns = source.get("colonnes")
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        return False
    if not isinstance(columns, dict) or not all(
        key in by_key() and isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(headers)
        for key, i in columns.items()
    ):
        return False
    texts = ("chemin", "nom", "empreinte")
    if not all(isinstance(source.get(k), str) for k in texts):
        return False
    if source.get("type") not in _KINDS or source.get("disposition") not in _LAYOUTS:
        return False
    sheet = source.get("feuille")
    if sheet is not None and (
        not isinstance(sheet, str) or not 0 < len(sheet) <= 31 or set(sheet) & set("[]:*?/\\")
    ):
        return False
    header_row = source.get("ligne_entete")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 0):
        return False
    flux_header = source.get("entete_flux", {})
    if not isinstance(flux_header, dict) or not all(
        isinstance(v, str) for v in flux_header.values()
    ):
        return False
    if source.get("type") == "csv":
        encoding, separator = source.get("encodage"), source.get("separateur")
        if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
            return False
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            return False
    return True


def _locate_columns(
    header: list, prefix: int, expected: list[str], path: Path
) -> tuple[int, list[int]]:
    """The "Ligne source" column and each source column, found by their headers: accuse's own
    columns (Que faire, Constats…) may be deleted or moved, and so may the user's, as long as
    each keeps its header."""
    titles = [str(c).strip() if c is not None else "" for c in header]
    if KEY_HEADER not in titles:
        raise InputError(
            f"la colonne « {KEY_HEADER} » de la feuille « {SHEET_FIX} » a été supprimée ou "
            "renommée : accuse s'en sert pour retrouver chaque ligne de votre fichier. "
            "Remettez-la (ou repartez de la feuille gardée par l'analyse).",
            path,
        )
    wanted = [h or f"Colonne {prefix + i + 1}" for i, h in enumerate(expected)]
    taken: set[int] = {titles.index(KEY_HEADER)}
    places: list[int] = []
    missing: list[str] = []
    for title in wanted:
        # Where the analysis put it first, then anywhere (the user may have moved it).
        order = [*range(prefix, len(titles)), *range(0, min(prefix, len(titles)))]
        found = next((i for i in order if i not in taken and titles[i] == title.strip()), None)
        if found is None:
            missing.append(title)
            continue
        taken.add(found)
        places.append(found)
    if missing:
        names = ", ".join(f"« {m} »" for m in missing)
        raise InputError(
            f"la feuille « {SHEET_FIX} » n'a plus la colonne {names} de votre fichier "
            "(supprimée ou renommée) : remettez-la avec son en-tête d'origine. Les colonnes "
            "d'accuse (Famille, Que faire, Constats…) peuvent, elles, être supprimées ou "
            "déplacées.",
            path,
        )
    return titles.index(KEY_HEADER), places


# --- what changed ------------------------------------------------------------------------------


def _changed(original: str | list[CellValue], now: list[CellValue]) -> bool:
    """Whether ``now`` differs in meaning from the original row (its fingerprint, or the
    cells of an earlier edit of the same source row)."""
    if isinstance(original, str):
        return row_fingerprint(now) != original
    return any(canonical(a) != canonical(b) for a, b in zip(original, now, strict=True))


def corrected_rows(sheet: _Worksheet, id_index: int | None) -> tuple[list[ExportRow], list]:
    """Rows whose cells differ from the originals; rows left as they were."""
    changed: dict[int, ExportRow] = {}
    conflicts: list[Problem] = []
    for position, cells in sheet.edited:
        original = sheet.originals.get(position)
        if original is None:
            continue
        identifier, families, values = original
        if not _changed(values, cells):
            continue
        if id_index is not None and not is_empty(cells[id_index]):
            identifier = cell_text(cells[id_index]).strip()
        previous = changed.get(position)
        if previous is not None and _changed(previous.values, cells):
            conflicts.append(
                Problem(
                    position,
                    identifier,
                    "idTechnique",
                    "la même ligne source apparaît plusieurs fois avec des corrections "
                    "différentes : gardez les mêmes valeurs sur chacune.",
                )
            )
            continue
        changed[position] = ExportRow(position, identifier, cells, families)
    if conflicts:
        raise _refusal(conflicts, Problem.render)
    return sorted(changed.values(), key=lambda r: r.position), []


# --- the command -------------------------------------------------------------------------------


def reexport(
    worksheet: Path,
    *,
    source: Path | None = None,
    format: ExportFormat | None = None,
    target: Path | None = None,
    force: bool = False,
    ids: dict[str, str] | None = None,
    every: bool = False,
    repeated: bool = False,
    history: str | None = None,
    schema: SchemaVersion | None = None,
) -> Result:
    """Export the corrected rows; raise InputError for every refusal (nothing written then).

    ``every``: every rejected passage of the worksheet, from the source as it is now (for a
    user who corrected their own file); ``repeated``: the passages the history saw refused at
    two deposits or more, from the source as it is now."""
    worksheet = Path(worksheet)
    sheet = read_worksheet(worksheet)
    meta = sheet.meta
    src = meta.get("source")
    if not src:
        raise InputError(
            "cette feuille a été faite sans fichier source (accusé seul) : elle n'a aucune "
            "colonne à corriger ni à réexporter. Relancez « accuse analyse » avec --source.",
            worksheet,
        )
    chosen: ExportFormat = format or _DEFAULT_FORMAT.get(src["type"], "xlsx")
    result = Result(worksheet, chosen, whole_file=meta.get("forme") == "rejet_fichier")
    mismatch = runs_differ(worksheet, meta.get(RUN_KEY))
    if mismatch:
        result.warnings.append(
            f"{mismatch} Le réexport suit la feuille de corrections ; le rapport à côté ne la "
            "décrit pas : relancez « accuse analyse » pour refaire les deux ensemble (vos "
            "corrections sont gardées)."
        )
    result.never = int(meta.get("non_redeposables") or 0)
    result.saved = saved_since_written(worksheet)
    from_source = (every or repeated) and not result.whole_file
    source_path = _locate_source(src, source, force or from_source, result, quiet=from_source)
    columns: dict[str, int] = src["colonnes"]
    result.sheet_rows = sheet.sheet_rows
    result.headers = {
        key: src["entetes"][i] or f"Colonne {i + 1}"
        for key, i in columns.items()
        if i < len(src["entetes"])
    }
    rows, _ = corrected_rows(sheet, columns.get("idTechnique"))
    if from_source:
        rows = _from_source(sheet, rows, src, source_path, worksheet, repeated, history, result)
    if sheet.renamed:
        rows = rows + _new_ids(sheet.renamed, src, source_path, worksheet, result)
    corrected = {r.position for r in rows}
    result.untouched = [
        (position, identifier)
        for position, (identifier, families, _) in sorted(sheet.originals.items())
        if position not in corrected
    ]
    if not rows:
        return result
    if result.whole_file:
        rows = _whole_file_rows(rows, src, source_path, worksheet)
    _strip_controls(rows, src["entetes"], result)
    result.exported = rows
    problems = _check(rows, columns, schema or "1.1.5")
    if chosen != "xml":
        problems = _in_layout(problems, columns, result)
    problems += _still_refused(rows, columns, problems, result)
    header = None
    if chosen == "xml":
        from accuse.fix.generate import config_path, remembered_codes

        header, header_problems = _flux_header(
            rows,
            src,
            columns,
            ids or {},
            revealed=meta.get("bcr_emetteur"),
            saved=remembered_codes(config_path()),
        )
        problems += header_problems
    if problems:
        if not force:
            raise _refusal(problems, result.say)
        result.forced_problems = problems
    output = Path(target) if target else worksheet.with_name(f"{worksheet.stem}-reexport.{chosen}")
    inputs = [worksheet, *([source_path] if source_path else []), Path(src["chemin"])]
    check_not_input(output, inputs)
    if output.suffix.lower() != f".{chosen}":
        result.warnings.append(
            f"le fichier écrit a l'extension « {output.suffix} » mais contient du {chosen}."
        )
    if chosen == "xml":
        version = schema or (src.get("schema") if src.get("schema") == "1.1.5" else None)
        data = _xml(rows, columns, header, force, result, version)
    elif chosen == "csv":
        data = _csv(rows, src, result)
    else:
        data = None
    with atomic_target(output, inputs) as temporary:
        if data is not None:
            temporary.write_bytes(data)
        else:
            _xlsx(temporary, rows, src, source_path, result)
    result.target = output
    if header is not None and ids:
        _remember(header, result)
    return result


def _remember(header: FluxHeader, result: Result) -> None:
    """Codes given by option are kept for the next run, in the user's config folder."""
    from accuse.fix.generate import config_path, remember_codes

    where = config_path()
    codes = {k: str(getattr(header, k)) for k in HEADER_KEYS}
    try:
        remember_codes(where, codes)
    except (OSError, InputError):
        result.warnings.append(f"les codes n'ont pas pu être retenus dans {where}.")
        return
    result.notes.append(
        f"Codes émetteur, certificateur et contrat retenus pour la prochaine fois dans {where} "
        "(modifiable ; une option les remplace)."
    )


def _locate_source(
    src: dict, given: Path | None, force: bool, result: Result, quiet: bool = False
) -> Path | None:
    """The source file, checked against the fingerprint taken when the worksheet was made
    (``quiet``: a change is expected, the user corrected the source itself)."""
    path = Path(given) if given else Path(src["chemin"])
    if given or path.exists():
        require_regular_file(path, "votre fichier source")
    if not path.is_file():
        result.warnings.append(
            f"fichier source « {src['nom']} » introuvable à son emplacement d'origine : "
            "son empreinte n'a pas pu être vérifiée (indiquez-le avec --source)."
        )
        return None
    if file_digest(path) != src["empreinte"]:
        why = (
            "le fichier source a changé depuis la création de la feuille de corrections : "
            "les lignes et valeurs d'origine ne correspondent plus. Relancez « accuse analyse » "
            "pour refaire la feuille"
        )
        if not force:
            raise InputError(
                why + ", ajoutez --tous pour réexporter chaque passage refusé tel que votre "
                "fichier source l'écrit maintenant (si c'est lui que vous avez corrigé), ou "
                "--forcer pour réexporter quand même.",
                path,
            )
        if not quiet:
            result.warnings.append(why + " ; réexport forcé.")
    return path


def _from_source(
    sheet: _Worksheet,
    edited: list[ExportRow],
    src: dict,
    source_path: Path | None,
    worksheet: Path,
    repeated: bool,
    history: str | None,
    result: Result,
) -> list[ExportRow]:
    """The passages to send again, as the source holds them now; a row also corrected in the
    worksheet goes out with the worksheet's values."""
    if source_path is None:
        raise InputError(
            "pour réexporter depuis votre fichier source, il faut le relire : indiquez-le avec "
            "--source.",
            worksheet,
        )
    families: dict[str, tuple[str, ...]] = {}
    if repeated:
        families = _refused_repeatedly(history)
        what = "refusé à au moins deux dépôts"
    else:
        families = {identifier: codes for identifier, codes, _ in sheet.originals.values()}
        what = "refusé dans cette feuille"
    from accuse.read.sources import read_source

    source = read_source(source_path, set(families), sheet=src.get("feuille"))
    if list(source.headers) != list(src["entetes"]):
        raise InputError(
            "les colonnes de votre fichier source ont changé depuis l'analyse : relancez "
            "« accuse analyse » avec ce fichier, puis « accuse reexporter ».",
            source_path,
        )
    fixes = {r.idTechnique: r for r in edited}
    width = len(src["entetes"])
    rows: list[ExportRow] = []
    missing: list[str] = []
    for identifier, codes in families.items():
        row = source.row_for(identifier)
        if row is None:
            missing.append(identifier)
            continue
        fixed = fixes.get(identifier)
        if fixed is not None:
            rows.append(fixed)
            continue
        values = list(row.values[:width]) + [None] * (width - len(row.values))
        rows.append(ExportRow(row.position, identifier, values, codes))
    result.notes.append(
        f"Réexport de chaque passage {what}, tel que votre fichier source l'écrit maintenant "
        f"({len(rows)} passage(s))."
    )
    if missing:
        shown = ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
        result.warnings.append(
            f"{len(missing)} passage(s) {what} introuvable(s) dans votre fichier source : {shown}."
        )
    return sorted(rows, key=lambda r: r.position)


def _new_ids(
    renamed: dict[int, tuple[str, str]],
    src: dict,
    source_path: Path | None,
    worksheet: Path,
    result: Result,
) -> list[ExportRow]:
    """Doublons that are really other passages, from the source, under their new id."""
    if source_path is None:
        raise InputError(
            f"pour renvoyer un doublon sous un nouvel identifiant (onglet « {SHEET_DOUBLONS} »), "
            "il faut relire le fichier source : indiquez-le avec --source.",
            worksheet,
        )
    from accuse.read.sources import read_source

    olds = {old for old, _ in renamed.values()}
    source = read_source(source_path, olds, sheet=src.get("feuille"))
    id_index = src["colonnes"].get("idTechnique")
    width = len(src["entetes"])
    rows: list[ExportRow] = []
    for position, (old, new) in sorted(renamed.items()):
        row = source.rows.get(position)
        where = f"onglet « {SHEET_DOUBLONS} », ligne source {position} (id {old})"
        if row is None or row.idTechnique != old or id_index is None:
            raise InputError(
                f"{where} : ce passage n'est plus à cette ligne de votre fichier source. "
                "Relancez « accuse analyse ».",
                worksheet,
            )
        if new == old or new in source.positions:
            raise InputError(
                f"{where} : le nouvel identifiant « {new} » "
                + ("est l'ancien" if new == old else "est déjà celui d'une autre ligne")
                + " ; choisissez un identifiant que votre fichier n'utilise pas encore.",
                worksheet,
            )
        values = list(row.values[:width]) + [None] * (width - len(row.values))
        values[id_index] = new
        rows.append(ExportRow(position, new, values, ("DOUBLON",)))
    result.never = max(result.never - len(rows), 0)
    result.notes.append(
        f"Doublons renvoyés sous un nouvel identifiant : {len(rows)} ("
        + ", ".join(f"{old} → {new}" for old, new in list(renamed.values())[:20])
        + ")."
    )
    return rows


def _refused_repeatedly(history: str | None) -> dict[str, tuple[str, ...]]:
    """idTechnique -> family of each passage still refused after two deposits or more."""
    from accuse.history.tracking import track

    tracking = track(history)
    return {p.idTechnique: (p.family,) for p in tracking.repeated}


def _whole_file_rows(
    rows: list[ExportRow], src: dict, source_path: Path | None, worksheet: Path
) -> list[ExportRow]:
    """After a whole-file rejection nothing was stored: every passage goes again, corrected."""
    if source_path is None:
        raise InputError(
            "l'accusé rejette le fichier entier : il faut redéposer tous les passages, donc "
            "relire le fichier source. Indiquez-le avec --source.",
            worksheet,
        )
    from accuse.read.sources import read_source

    source = read_source(source_path, sheet=src.get("feuille"))
    fixes = {r.position: r for r in rows}
    width = len(src["entetes"])
    everything = []
    for position in sorted(source.rows):
        fixed = fixes.get(position)
        if fixed is not None:
            everything.append(fixed)
            continue
        row = source.rows[position]
        values = list(row.values[:width]) + [None] * (width - len(row.values))
        everything.append(ExportRow(position, row.idTechnique, values))
    return everything


# Control characters typed or pasted into a cell (ESC, BEL, NUL; Excel stores them as _x001B_):
# no field of a passage holds one, XML 1.0 cannot carry most of them, and in a csv they would
# reach whoever opens it. Line breaks and tabs stay (a cell may hold them).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip_controls(rows: list[ExportRow], headers: list[str], result: Result) -> None:
    """Remove control characters from the exported cells, and say where."""
    where: list[str] = []
    for row in rows:
        for index, value in enumerate(row.values):
            if isinstance(value, str) and _CONTROLS.search(value):
                row.values[index] = _CONTROLS.sub("", value)
                title = headers[index] if index < len(headers) else f"colonne {index + 1}"
                where.append(f"ligne {row.position}, « {title} »")
    if where:
        shown = " ; ".join(where[:10]) + (" …" if len(where) > 10 else "")
        result.warnings.append(
            f"{len(where)} cellule(s) contenaient des caractères de contrôle invisibles (échap, "
            f"bip, caractère nul…), retirés du fichier écrit : {shown}."
        )


def _values(row: ExportRow, columns: dict[str, int]) -> dict[str, CellValue]:
    return row_fields(row.values, columns)


def _check(rows: list[ExportRow], columns: dict[str, int], version: SchemaVersion) -> list[Problem]:
    problems: list[Problem] = []
    for row in rows:
        values = _values(row, columns)
        problems += converted(values, row.position, row.idTechnique, version=version)[1]
        for key in HEADER_KEYS:
            if key in values and not is_empty(values[key]):
                try:
                    header_value(key, values[key])
                except FieldError as error:
                    problems.append(Problem(row.position, row.idTechnique, key, str(error)))
    return problems


def _in_layout(problems: list[Problem], columns: dict[str, int], result: Result) -> list[Problem]:
    """In the source's own layout (xlsx, csv), a field the file has no column for is not
    checked row by row: it is said once, as information (the XML re-export still needs it)."""
    absent = {p.champ for p in problems if p.champ not in columns and p.position is not None}
    if absent:
        names = ", ".join(sorted(by_key()[k].label if k in by_key() else k for k in absent))
        result.notes.append(
            f"Votre fichier n'a pas de colonne pour : {names}. Le portail les exige pour un "
            "dépôt ; le fichier réexporté garde la disposition du vôtre, sans elles (elles ne "
            "sont donc pas vérifiées ici ; le réexport en --format xml les demanderait)."
        )
    return [p for p in problems if p.champ in columns or p.position is None]


def _still_refused(
    rows: list[ExportRow], columns: dict[str, int], found: list[Problem], result: Result
) -> list[Problem]:
    """The analysis's own row diagnosis, run again on each corrected row: a value that still
    carries the cause of its refusal is a problem; a mere suspicion is a warning."""
    context = DiagnosisContext(columns=frozenset(columns), headers=result.headers)
    already = {(p.position, p.champ) for p in found}
    problems: list[Problem] = []
    for row in rows:
        values = _values(row, columns)
        for code in row.families:
            if code == "DOUBLON":
                continue
            for finding in diagnose(code, row.idTechnique, values, context):
                champ = finding.champ
                if champ is None or champ not in columns or (row.position, champ) in already:
                    continue  # absent columns are said once, elsewhere
                already.add((row.position, champ))
                problem = Problem(row.position, row.idTechnique, champ, finding.message)
                if finding.sure:
                    problems.append(problem)
                else:
                    result.warnings.append(f"à vérifier, {result.say(problem)}")
    return problems


def _refusal(problems: list[Problem], say: Callable[[Problem], str]) -> InputError:
    lines = [f"  - {say(p)}" for p in problems[:_SHOWN_PROBLEMS]]
    if len(problems) > _SHOWN_PROBLEMS:
        lines.append(f"  … et {len(problems) - _SHOWN_PROBLEMS} autre(s).")
    rows = len({p.position for p in problems if p.position is not None})
    what = f"{rows} ligne(s) seraient refusées par la Caisse des Dépôts" if rows else ""
    if rows < len({p.position for p in problems}):
        what += (" et " if what else "") + "il manque de quoi écrire l'en-tête du flux"
    return InputError(
        f"{what} ; rien n'a été écrit. "
        "Corrigez-les dans la feuille de corrections (ou ajoutez --forcer pour écrire "
        "quand même) :\n" + "\n".join(lines)
    )


# --- xml ---------------------------------------------------------------------------------------


def _flux_header(
    rows: list[ExportRow],
    src: dict,
    columns: dict[str, int],
    options: dict[str, str],
    *,
    revealed: str | None = None,
    saved: dict[str, str] | None = None,
) -> tuple[FluxHeader | None, list[Problem]]:
    """émetteur/certificateur/contrat ids: options, then the rows' own columns, then the flux,
    then the codes remembered from an earlier run (``saved``), then, for the émetteur, the BCR
    the receipt's messages reveal (``revealed``)."""
    saved = saved or {}
    found: dict[str, str] = {}
    problems: list[Problem] = []
    labels = {
        "idClientEmetteur": "--id-client",
        "idClientCertificateur": "--id-client-certificateur",
        "idContrat": "--id-contrat",
    }
    for key in HEADER_KEYS:
        candidates: list[CellValue] = [options.get(key)]
        if key in columns:
            candidates += [_values(r, columns).get(key) for r in rows]
        candidates.append(src.get("entete_flux", {}).get(key))
        candidates.append(saved.get(key))
        if key == "idClientEmetteur":
            candidates.append(revealed)
        value = next((c for c in candidates if not is_empty(c)), None)
        try:
            found[key] = header_value(key, value)
        except FieldError as error:
            reason = str(error)
            if value is None:
                reason = (
                    f"inconnu : ni la source ni les options ne le donnent ; indiquez-le avec "
                    f"{labels[key]} (il sera retenu pour la prochaine fois)."
                )
            problems.append(Problem(None, "", key, reason))
    if problems:
        return None, problems
    return FluxHeader(**found), []


def _xml(
    rows: list[ExportRow],
    columns: dict[str, int],
    header: FluxHeader | None,
    force: bool,
    result: Result,
    version: SchemaVersion | None,
) -> bytes:
    """The flux in the asked XSD version, else the source's 1.1.5, else the lowest version
    that holds the rows (1.1.5 as soon as one is identified by its NIR)."""
    if header is None:  # forced past a missing id: the XSD check below will say so
        header = FluxHeader("?", "?", "?")
    passages = [
        converted(_values(r, columns), r.position, r.idTechnique, version=version or "1.1.5")[0]
        for r in rows
    ]
    chosen = version or needed_version(passages)
    result.schema = chosen
    data = serialise(build_flux(header, passages, version=chosen))
    errors = validation_errors(data, version=chosen)
    if errors:
        message = (
            f"le flux produit n'est pas valide selon le XSD officiel {chosen} :\n"
            + "\n".join(f"  - {e}" for e in errors)
        )
        if not force:
            raise InputError(message + "\nRien n'a été écrit.")
        result.warnings.append(message + "\nÉcrit quand même (--forcer) : le portail le refusera.")
    return data


# --- csv ---------------------------------------------------------------------------------------


def _csv_text(value: CellValue, kind: str, style: str) -> str:
    if isinstance(value, dt.datetime | dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        return day.isoformat() if kind == "flux" else day.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        if style == "modele":
            return "OUI" if value else "NON"
        return "true" if value else "false"
    return cell_text(value)


def _csv(rows: list[ExportRow], src: dict, result: Result) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=src.get("separateur") or ";", lineterminator="\r\n")
    writer.writerow(src["entetes"])
    style = src.get("orthographe", "xsd")
    id_index = src["colonnes"].get("idTechnique")
    guarded = 0
    for row in rows:
        cells = [_csv_text(v, src["type"], style) for v in row.values]
        for index, cell in enumerate(cells):
            if not looks_like_formula(cell):
                continue
            if index == id_index:
                # The portal knows the passage by this exact id: it is kept, and said.
                result.warnings.append(
                    f"ligne {row.position} : l'identifiant « {cell} » commence par « {cell[0]} » ; "
                    "un tableur qui ouvrirait ce csv le prendrait pour une formule. Il est "
                    "laissé tel quel, car c'est sous cet identifiant que la Caisse des Dépôts "
                    "connaît le passage."
                )
            else:
                cells[index] = formula_safe(cell)
                guarded += 1
        writer.writerow(cells)
    if guarded:
        result.warnings.append(
            f"{guarded} valeur(s) commençant par =, +, - ou @ sont précédées d'une apostrophe "
            "dans le csv, pour qu'un tableur ne les exécute pas comme des formules ; de telles "
            "valeurs seraient de toute façon suspectes dans un nom ou un champ de passage."
        )
    text = buffer.getvalue()
    encoding = src.get("encodage") or "utf-8-sig"
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        result.warnings.append(
            f"certaines valeurs ne s'écrivent pas en {encoding} : fichier écrit en UTF-8."
        )
        return text.encode("utf-8-sig")


# --- xlsx --------------------------------------------------------------------------------------


def _xlsx(
    path: Path, rows: list[ExportRow], src: dict, source_path: Path | None, result: Result
) -> None:
    if src["disposition"] == "modele_v1.4":  # the official template, kept whole
        from accuse.fix.template import write_template  # imports xlsxwriter: only to write

        written = write_template(path, [r.values for r in rows], src, source_path)
        result.notes += written.notes(lists_sheet())
        return
    import xlsxwriter  # here: accuse analyse reads worksheets with this module, never writes

    book = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": DATE_FORMAT,
        },
    )
    formats = Formats(book)
    sheet = book.add_worksheet((src.get("feuille") or "Feuil1")[:31])
    for column, title in enumerate(src["entetes"]):
        sheet.write_string(0, column, title, formats.header)
    text_columns = _text_columns(src)
    for offset, row in enumerate(rows):
        for column, value in enumerate(row.values):
            write_value(sheet, 1 + offset, column, value, formats, column in text_columns)
    for column, title in enumerate(src["entetes"]):
        sheet.set_column(column, column, min(max(len(title), 10) + 2, 40))
    sheet.freeze_panes(1, 0)
    book.close()


def _text_columns(src: dict) -> set[int]:
    return {i for key, i in src["colonnes"].items() if by_key()[key].type == "texte"}


def next_step(result: Result) -> str | None:
    """What to do with the file written, as the last words of the command."""
    if result.target is None:
        return None
    target = inert(str(result.target), one_line=True)
    if result.format == "xml":
        return (
            f"Étape suivante : déposez {target} sur le portail de la Caisse des Dépôts ; à "
            f'réception de l\'accusé, lancez : accuse analyse "<accusé reçu>" --source "{target}"'
        )
    return (
        f"Étape suivante : déposez ces lignes comme d'habitude, ou faites-en le flux XML à "
        f'déposer avec : accuse generer "{target}"'
    )


def summary_lines(result: Result) -> list[str]:
    """What the command says, in French, one sentence a line."""
    lines = []
    if result.whole_file and result.exported:
        lines.append(
            "L'accusé rejetait le fichier entier : tous les passages de la source sont "
            "réexportés, avec vos corrections."
        )
    corrected = [r for r in result.exported if r.families or not result.whole_file]
    lines.append(f"Lignes corrigées réexportées : {len(corrected)}.")
    if result.whole_file and result.exported:
        lines.append(f"Passages dans le fichier réexporté : {len(result.exported)}.")
    if result.untouched:
        what = "réexportées telles quelles" if result.whole_file else "non réexportées"
        # Named by their row in the worksheet, where the user looks for them.
        shown = ", ".join(
            f"ligne {result.sheet_rows[p]} ({i})"
            if p in result.sheet_rows
            else f"ligne {p} de votre fichier ({i})"
            for p, i in result.untouched[:20]
        )
        more = " …" if len(result.untouched) > 20 else ""
        lines.append(
            f"Lignes non corrigées ({what}) : {len(result.untouched)} — dans la feuille "
            f"« {SHEET_FIX} », {shown}{more}."
        )
    if result.never:
        lines.append(f"Passages déjà enregistrés (doublons), jamais renvoyés : {result.never}.")
    for problem in result.forced_problems[:_SHOWN_PROBLEMS]:
        lines.append(f"Attention (--forcer) : {result.say(problem)}")
    lines += [f"Attention : {w}" for w in result.warnings]
    lines += result.notes
    return [inert(line) for line in lines]  # ids and values come from the user's files
