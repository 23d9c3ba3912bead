"""`accuse verifier`: what the portal would refuse in a file, before it is deposited.

The same knowledge that explains refusals, applied ahead: the XSD check of a flux (every
error, told with the catalogue's whole-file families), the per-field checks the flux writer
applies for a spreadsheet or csv (row and column as the user sees them), the business rules
the XSD does not enforce, the refusal predictors of the row diagnosis (as risks), and the
history (passages already accepted, legal deadlines).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Literal

from accuse.cells import NILL_SPELLINGS, as_date, cell_text, column_letters
from accuse.errors import InputError
from accuse.fix.checks import (
    TEMPLATE_TO_XSD,
    Conversion,
    FieldError,
    cached_header,
    cached_outcome,
    conversion,
    header_value,
    is_empty,
    is_nill,
)
from accuse.fix.fluxwriter import Passage
from accuse.fix.xsdcheck import check_flux, field_element, newest_version
from accuse.history.tracking import deadline
from accuse.model import (
    CellValue,
    DiagnosisContext,
    FluxAction,
    SchemaVersion,
    Source,
    SourceKind,
    SourceLayout,
    SourceRow,
)
from accuse.nir import mask_in_text
from accuse.pipeline.diagnosis import certification_coherence, predict
from accuse.progress import SILENT, Progress
from accuse.read.sources import read_source
from accuse.reference.catalogue import Catalogue
from accuse.reference.fields import by_key, composites, row_fields
from accuse.reference.rules import Gravite, verification_data

Verdict = Literal["pret", "a_corriger"]
HEADER_KEYS = ("idClientEmetteur", "idClientCertificateur", "idContrat")
HEADER_OPTIONS = {
    "idClientEmetteur": "--id-client",
    "idClientCertificateur": "--id-client-certificateur",
    "idContrat": "--id-contrat",
}
MAX_PASSAGES = 200_000  # per deposited file (CDC FAQ)
MAX_BYTES = 200 * 2**20  # per deposited file (Guide général V5 §4.4.2)
_NUMERIC = ("scoreGeneral", "niveau", "domaineCompetenceId", "competenceId")
# Receives each row's converted passage as it is checked: (row, idTechnique, passage).
PassageSink = Callable[[int, str, Passage], None]
MASK_MEMO = 4096  # distinct messages whose masked form is remembered


@dataclass(frozen=True)
class Concern:
    """One thing the portal would refuse (bloquant) or that is worth checking (risque)."""

    idTechnique: str | None
    ligne: int | None  # row or line as the user sees it; None for the whole file
    champ: str | None  # XSD element name
    code: str  # catalogue family or verification rule
    gravite: Gravite
    message: str  # one French sentence (or two)


@dataclass
class Verification:
    path: Path
    kind: SourceKind
    layout: SourceLayout
    schema: str | None
    passages: int
    problems: list[Concern]
    titles: dict[str, str]  # code -> short French title, for the counts per rule
    verified_at: dt.datetime
    history: str | None = None  # one French line on what the history said, when consulted
    # The source as read: its ids and columns; its rows only for a flux (a spreadsheet or csv
    # is checked row by row as it is read, each row forgotten once checked).
    source: Source | None = None
    already_accepted: dict[str, list[int]] = field(default_factory=dict)  # id -> rows
    header: dict[str, str] = field(default_factory=dict)  # émetteur/certificateur/contrat ids

    @property
    def bloquants(self) -> list[Concern]:
        return [p for p in self.problems if p.gravite == "bloquant"]

    @property
    def risques(self) -> list[Concern]:
        return [p for p in self.problems if p.gravite == "risque"]

    @property
    def verdict(self) -> Verdict:
        return "a_corriger" if self.bloquants else "pret"

    def counts(self) -> list[tuple[str, str, Gravite, int]]:
        """(code, title, gravité, count) per rule, blocking ones first, then by count."""
        tally: dict[tuple[str, Gravite], int] = {}
        for problem in self.problems:
            key = (problem.code, problem.gravite)
            tally[key] = tally.get(key, 0) + 1
        rows = [(c, self.titles.get(c, c), g, n) for (c, g), n in tally.items()]
        return sorted(rows, key=lambda r: (r[2] != "bloquant", -r[3], r[0]))


def row_values(source: Source, row: SourceRow) -> dict[str, CellValue]:
    """A row's cells by dictionary key (and the fields a whole birth-date column gives)."""
    return row_fields(row.values, source.columns)


class _Collector:
    def __init__(self, catalogue: Catalogue) -> None:
        self.problems: list[Concern] = []
        self.titles: dict[str, str] = {}
        self.catalogue = catalogue
        self._blocked: set[tuple[int | None, str | None]] = set()
        self._masked: dict[str, str] = {}  # message -> as shown (mask_in_text)

    def add(
        self,
        code: str,
        gravite: Gravite,
        message: str,
        *,
        ligne: int | None = None,
        idTechnique: str | None = None,
        key: str | None = None,
        element: str | None = None,
    ) -> None:
        champ = element if element is not None else (field_element(key) if key else None)
        if gravite == "bloquant":
            # One blocking problem per field and row: the first one found says it.
            if champ is not None and (ligne, champ) in self._blocked:
                return
            self._blocked.add((ligne, champ))
        if code not in self.titles:
            entry = self.catalogue.get(code)
            rule = verification_data().rules.get(code)
            self.titles[code] = entry.titre if entry else (rule.titre if rule else code)
        # A NIR never leaves in clear (terminal, verification.html, JSON): masked here, once
        # for each distinct message (the same sentences come back row after row).
        masked = self._masked.get(message)
        if masked is None:
            masked = mask_in_text(message)
            if len(self._masked) < MASK_MEMO:
                self._masked[message] = masked
        message = masked
        self.problems.append(Concern(idTechnique, ligne, champ, code, gravite, message))


def verify(
    path: Path,
    *,
    catalogue: Catalogue,
    schema: str | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
    ids: Mapping[str, str] | None = None,
    use_history: bool = True,
    history: str | None = None,
    today: dt.date | None = None,
    progress: Progress = SILENT,
    keep: PassageSink | None = None,
) -> Verification:
    """Verify a flux, spreadsheet or csv before its deposit; InputError when it is unusable.

    A spreadsheet or csv is checked row by row as it is read: no row is kept once checked, only
    its findings. ``keep`` (spreadsheet and csv) receives each row's converted passage, in file
    order, except those the history says were already accepted (accuse generer writes them)."""
    path = Path(path)
    today = today or dt.date.today()
    found = _Collector(catalogue)
    is_flux = path.suffix.lower() == ".xml"
    source: Source | None = None
    accepted: frozenset[str] = frozenset()
    consulted: str | None = None  # where the history was read, when it was
    note: str | None = None  # why it was not
    if use_history:
        consulted, accepted, note = _accepted(history)
    if is_flux:
        unread: InputError | None = None
        try:
            source = read_source(path, progress=progress)
        except InputError as error:  # not well formed, wrong root…: the XSD check says it
            unread = error
        version = _version(schema or (source.schema_version if source else None) or "1.1.2")
        errors = check_flux(path, version, catalogue, progress)
        if unread is not None and not errors:
            raise unread
        for xsd_error in errors:
            found.add(
                xsd_error.family,
                "bloquant",
                xsd_error.message,
                ligne=xsd_error.line,
                idTechnique=xsd_error.idTechnique,
                element=xsd_error.element,
            )
        if any(e.family.startswith("XML_") or e.family == "XSD_VERSION" for e in errors):
            source = None
        if source is not None:
            _flux_limits(path, source, found)
            rows = _RowChecks(version, True, found, {}, accepted, today, None)
            for position in sorted(source.rows):
                rows(source, source.rows[position])
    else:
        version = _version(schema or newest_version())
        options = ids or {}
        rows = _RowChecks(version, False, found, options, accepted, today, keep)
        source = read_source(path, sheet=sheet, id_column=id_column, progress=progress, visit=rows)
    result = Verification(
        path=path,
        kind=source.kind if source else "flux",
        layout=source.layout if source else "flux",
        schema=version,
        passages=source.row_count if source else 0,
        problems=found.problems,
        titles=found.titles,
        verified_at=dt.datetime.now().astimezone(),
        source=source,
    )
    if source is None:
        return result
    if not is_flux:
        result.header = _header_codes(source, options, found, rows.header_values)
    _unidentified(source, found)
    if use_history:
        result.history = note or _history(source, consulted or "", accepted, result)
    found.problems.sort(key=lambda p: (p.ligne or 0, p.gravite != "bloquant"))
    return result


def _accepted(location: str | None) -> tuple[str | None, frozenset[str], str | None]:
    """(where, ids already accepted, None), or (None, nothing, why) when the history could
    not be consulted."""
    from accuse.history.store import accepted_ids

    try:
        where, accepted = accepted_ids(location)
    except InputError as error:
        return None, frozenset(), f"Historique non consulté : {error.render()}"
    return where, accepted, None


def _version(text: str) -> SchemaVersion:
    return "1.1.5" if text == "1.1.5" else "1.1.2"


# --- the file as a whole ---------------------------------------------------------------------


def _flux_limits(path: Path, source: Source, found: _Collector) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        found.add(
            "FICHIER_TROP_GROS",
            "bloquant",
            f"Le fichier pèse {size // 2**20} Mo : le portail n'accepte pas plus de 200 Mo par "
            "dépôt. Répartissez les passages sur plusieurs fichiers (accuse generer le fait).",
        )
    if source.row_count > MAX_PASSAGES:
        found.add(
            "FICHIER_TROP_GROS",
            "bloquant",
            f"Le fichier contient {source.row_count} passages : le portail n'en accepte pas plus "
            "de 200 000 par dépôt. Répartissez-les sur plusieurs fichiers (accuse generer le "
            "fait).",
        )


def _header_codes(
    source: Source,
    options: Mapping[str, str],
    found: _Collector,
    values: Mapping[str, dict[str, int]],
) -> dict[str, str]:
    """The émetteur/certificateur/contrat ids: one each for the whole file (one certificateur
    per flux), from the options or the source's own columns (``values``: each distinct value
    of those columns and the first row holding it, gathered as the rows were read)."""
    codes: dict[str, str] = {}
    for key in HEADER_KEYS:
        label = by_key()[key].label
        if options.get(key):
            try:
                codes[key] = header_value(key, options[key])
            except FieldError as error:
                found.add(
                    "CODES_DEPOSANT",
                    "bloquant",
                    f"{HEADER_OPTIONS[key]} « {options[key]} » : {error}",
                    key=key,
                )
            continue
        seen = values.get(key, {})
        if len(seen) > 1:
            shown = ", ".join(f"« {v} » (ligne {p})" for v, p in list(seen.items())[:5])
            found.add(
                "CODES_DEPOSANT",
                "bloquant",
                f"La colonne « {_header(source, key)} » porte plusieurs valeurs ({shown}) : un "
                "fichier de dépôt ne peut avoir qu'un émetteur, un certificateur et un contrat. "
                "Séparez les passages en autant de fichiers.",
                key=key,
            )
        elif seen:
            codes[key] = next(iter(seen))
        else:
            found.add(
                "CODES_DEPOSANT",
                "risque",
                f"Le fichier ne donne pas le {label} ({key}) : donnez-le à accuse generer avec "
                f"{HEADER_OPTIONS[key]}.",
                key=key,
            )
    return codes


def _header(source: Source, key: str) -> str:
    index = source.columns.get(key)
    if index is not None and index < len(source.headers) and source.headers[index]:
        return source.headers[index]
    return by_key()[key].label


# --- rows ------------------------------------------------------------------------------------


class _RowChecks:
    """Every check of one row, called row by row (read_source's ``visit``): the field
    checks, the business rules, the refusal predictors, duplicates, the natureDeposant of its
    certification, the history and the legal deadline. What a check needs of the rows before
    is kept small (first row of each id, of each certification's nature, header values)."""

    def __init__(
        self,
        version: SchemaVersion,
        is_flux: bool,
        found: _Collector,
        options: Mapping[str, str],
        accepted: frozenset[str],
        today: dt.date,
        keep: PassageSink | None,
    ) -> None:
        self.version = version
        self.is_flux = is_flux
        self.found = found
        self.options = options
        self.accepted = accepted
        self.today = today
        self.keep = keep
        self.header_values: dict[str, dict[str, int]] = {}
        self._natures: dict[tuple[str, str], tuple[str, int]] = {}
        self._deadlines: dict[tuple[type, CellValue], tuple[str, str] | None] = {}
        self._source: Source | None = None
        self._pick: Callable[[tuple[CellValue, ...]], tuple[CellValue, ...]] | None = None
        self._keys: tuple[str, ...] = ()
        self._width = 0

    def _start(self, source: Source) -> None:
        self._source = source
        action: FluxAction = source.action or "CREATION"
        self.context = DiagnosisContext(
            columns=frozenset(source.columns), action=action, headers=source.column_headers()
        )
        self.creating = action == "CREATION"
        self.deadlines = source.action != "SUPPRESSION"
        # XSD 1.1.5 made these optional; the portal still wants them to create a passage.
        creating_115 = self.is_flux and self.creating and self.version != "1.1.2"
        self.creation = verification_data().creation if creating_115 else ()
        # A row's cells by key (row_values) taken at C speed when no composite column is
        # involved and the row is wide enough; otherwise row_values itself.
        columns = source.columns
        self._keys = tuple(columns)
        self._width = max(columns.values(), default=0) + 1
        plain = len(columns) > 1 and not any(c.key in columns for c in composites())
        self._pick = itemgetter(*columns.values()) if plain else None
        # A source's rows all have the same keys (row_values): their conversion plan, once.
        keys = frozenset(row_fields((), source.columns))
        self.conversion = conversion(keys, self.version, "CREATION")
        # (key, column, the cells already met in it) of the émetteur/certificateur/contrat
        self.header_columns: list[tuple[str, int, set[tuple[type, CellValue]]]] = [
            (key, source.columns[key], set())
            for key in HEADER_KEYS
            if not self.is_flux and not self.options.get(key) and key in source.columns
        ]
        for key, _, _ in self.header_columns:
            self.header_values[key] = {}

    def __call__(self, source: Source, row: SourceRow) -> None:
        if source is not self._source:
            self._start(source)
        found = self.found
        cells = row.values
        if self._pick is not None and len(cells) >= self._width:
            values = dict(zip(self._keys, self._pick(cells), strict=True))  # as row_values
        else:
            values = row_values(source, row)
        position, ident = row.position, row.idTechnique
        for key, index, seen in self.header_columns:
            value = cells[index] if index < len(cells) else None
            token = (value.__class__, value)
            if token in seen:
                continue  # the same cell as a row before: nothing new to keep
            if len(seen) < HEADER_MEMO:
                seen.add(token)
            if not is_empty(value) and not is_nill(value):
                self.header_values[key].setdefault(cell_text(value).strip(), position)
        if not self.is_flux:
            passage = _field_checks(source, row, values, self.conversion, found)
            if self.keep is not None and ident not in self.accepted:
                self.keep(position, ident, passage)
        for key in self.creation:
            if values.get(key) is None:
                found.add(
                    "OBLIGATOIRE_CREATION",
                    "bloquant",
                    f"« {field_element(key)} » est absent : le schéma {self.version} le permet, "
                    "mais le portail l'exige pour créer un passage.",
                    ligne=position,
                    idTechnique=ident,
                    key=key,
                )
        if self.creating:
            _dates(values, position, ident, found)
            _conditional(values, position, ident, found)
        for finding in certification_coherence(values):
            found.add(
                "CERTIFICATION_INCONNUE",
                "bloquant",
                finding.message,
                ligne=position,
                idTechnique=ident,
                key=finding.champ,
            )
        for family, finding in predict(values, self.context):
            found.add(
                family,
                "risque",
                finding.message,
                ligne=position,
                idTechnique=ident,
                key=finding.champ,
            )
        _duplicate(source, row, found)
        if not self.is_flux:
            _nature(source, row, self._natures, found)
        if ident in self.accepted:
            _already_accepted(position, ident, found)
        elif self.deadlines:
            _deadline(source, row, self.today, found, self._deadlines)


def _field_checks(
    source: Source,
    row: SourceRow,
    values: dict[str, CellValue],
    plan: Conversion,
    found: _Collector,
) -> Passage:
    """The row's fields checked one by one; returns its converted passage."""
    passage, problems = plan.convert(values, row.position, row.idTechnique)
    for problem in problems:
        index = source.columns.get(problem.champ)
        where = f"Colonne « {_header(source, problem.champ)} »"
        if index is not None:
            where += f" ({column_letters(index)})"
        elif problem.champ not in source.columns:
            where = f"Champ « {by_key()[problem.champ].label} » (aucune colonne)"
        found.add(
            problem.famille,
            "bloquant",
            f"{where} : {problem.raison}",
            ligne=row.position,
            idTechnique=row.idTechnique,
            key=problem.champ,
        )
    for key in HEADER_KEYS:
        value = values.get(key)
        if key in values and not is_empty(value) and not is_nill(value):
            error = cached_header(key, value)
            if error is not None:
                found.add(
                    error[1],
                    "bloquant",
                    f"Colonne « {_header(source, key)} » : {error[0]}",
                    ligne=row.position,
                    idTechnique=row.idTechnique,
                    key=key,
                )
    return passage


_PAIRS = (
    ("dateDebutValidite", "dateFinValidite", "de validité"),
    ("dateDebutExamen", "dateFinExamen", "d'examen"),
)


def _dates(values: dict[str, CellValue], position: int, ident: str, found: _Collector) -> None:
    for start_key, end_key, what in _PAIRS:
        start, end = as_date(values.get(start_key)), as_date(values.get(end_key))
        if start is not None and end is not None and end < start:
            found.add(
                "DATES_INCOHERENTES",
                "bloquant",
                f"La date de fin {what} ({end:%d/%m/%Y}) est antérieure à la date de début "
                f"{what} ({start:%d/%m/%Y}) : le portail refusera le passage.",
                ligne=position,
                idTechnique=ident,
                key=end_key,
            )


def _flag(key: str, value: CellValue) -> bool | None:
    converted_value, error = cached_outcome(key, None, value)
    if error is not None:
        return None
    return converted_value == "true" if isinstance(converted_value, str) else None


def _filled(values: Mapping[str, CellValue], key: str) -> bool:
    value = values.get(key)
    if value is None:
        return False
    return not isinstance(value, str) or value.strip().upper() not in _UNFILLED


_UNFILLED = frozenset({"", *NILL_SPELLINGS})  # a text cell holding nothing (is_blank)


def _conditional(
    values: dict[str, CellValue], position: int, ident: str, found: _Collector
) -> None:
    """Dictionary rules: a field that only makes sense when another says so."""
    access = cell_text(values.get("modaliteAcces")).strip().upper()
    if _filled(values, "voieAccessVAE") and access != "VAE":
        found.add(
            "CHAMP_CONDITIONNEL",
            "bloquant",
            f"La voie d'accès VAE (voieAccessVAE) est remplie alors que la modalité d'accès est "
            f"« {access or 'vide'} » : elle ne se donne qu'avec la modalité VAE. Videz-la ou "
            "corrigez la modalité d'accès.",
            ligne=position,
            idTechnique=ident,
            key="voieAccessVAE",
        )
    if (
        _filled(values, "niveauLangueEuropeen")
        and _flag("presenceNiveauLangueEuro", values.get("presenceNiveauLangueEuro")) is False
    ):
        found.add(
            "CHAMP_CONDITIONNEL",
            "bloquant",
            "Un niveau de langue européen est donné alors que « présence niveau langue "
            "européen » dit non : mettez OUI, ou videz le niveau.",
            ligne=position,
            idTechnique=ident,
            key="niveauLangueEuropeen",
        )
    numeric = [k for k in _NUMERIC if _filled(values, k)]
    if (
        numeric
        and _flag("presenceNiveauNumeriqueEuro", values.get("presenceNiveauNumeriqueEuro")) is False
    ):
        found.add(
            "CHAMP_CONDITIONNEL",
            "bloquant",
            "Un niveau numérique européen est donné alors que « présence niveau numérique "
            "européen » dit non : mettez OUI, ou videz le score et les résultats.",
            ligne=position,
            idTechnique=ident,
            key=numeric[0],
        )


def _unidentified(source: Source, found: _Collector) -> None:
    column = _header(source, "idTechnique")
    for position in source.unidentified:
        found.add(
            "IDTECHNIQUE_ABSENT",
            "bloquant",
            f"Cette ligne a des données mais pas d'identifiant technique (colonne « {column} ») : "
            "elle ne peut pas être déposée. Donnez-lui un identifiant unique, ou videz la ligne.",
            ligne=position,
            key="idTechnique",
        )


def _nature(
    source: Source,
    row: SourceRow,
    seen: dict[tuple[str, str], tuple[str, int]],
    found: _Collector,
) -> None:
    """The flux holds one natureDeposant per certification (type and code): ``seen`` holds
    the first one of each certification, from the rows before."""
    columns = source.columns
    if "natureDeposant" not in columns:
        return
    nature = cell_text(row.get(columns, "natureDeposant")).strip()
    nature = TEMPLATE_TO_XSD.get(nature, nature)
    if not nature or is_nill(nature):
        return
    group = (cell_text(row.get(columns, "type")), cell_text(row.get(columns, "code")))
    first = seen.setdefault(group, (nature, row.position))
    if first[0] != nature:
        found.add(
            "NATURE_DEPOSANT_MELEE",
            "bloquant",
            f"La nature du déposant « {nature} » diffère de celle de la ligne {first[1]} "
            f"(« {first[0]} ») pour la même certification {group[1]} : le flux n'en porte "
            "qu'une par certification. Mettez la même sur toutes ces lignes.",
            ligne=row.position,
            idTechnique=row.idTechnique,
            key="natureDeposant",
        )


def _duplicate(source: Source, row: SourceRow, found: _Collector) -> None:
    """A row whose id an earlier row already has (the rows before are in source.positions)."""
    first = source.positions[row.idTechnique][0]
    if first != row.position:
        found.add(
            "IDTECHNIQUE_EN_DOUBLE",
            "bloquant",
            f"L'identifiant technique « {row.idTechnique} » est déjà celui de la ligne {first} : "
            "le portail n'enregistre qu'un passage par identifiant et refuserait l'autre comme "
            "doublon. Donnez à chaque passage un identifiant distinct.",
            ligne=row.position,
            idTechnique=row.idTechnique,
            key="idTechnique",
        )


# --- history and deadlines ---------------------------------------------------------------------


def _already_accepted(position: int, ident: str, found: _Collector) -> None:
    found.add(
        "DEJA_ACCEPTE",
        "risque",
        f"Le passage « {ident} » a déjà été accepté lors d'un dépôt précédent "
        "(historique) : redéposé, il serait refusé comme doublon. S'il s'agit du même "
        "passage, ne le renvoyez pas (accuse generer le laisse de côté) ; sinon, "
        "donnez-lui un nouvel identifiant technique.",
        ligne=position,
        idTechnique=ident,
        key="idTechnique",
    )


def _history(source: Source, where: str, accepted: frozenset[str], result: Verification) -> str:
    for ident in sorted(set(source.positions) & accepted, key=lambda i: source.positions[i][0]):
        result.already_accepted[ident] = source.positions[ident]
    count = len(result.already_accepted)
    return f"Historique consulté ({where}) : {count} passage(s) déjà accepté(s) dans ce fichier."


def _deadline(
    source: Source,
    row: SourceRow,
    today: dt.date,
    found: _Collector,
    memo: dict[tuple[type, CellValue], tuple[str, str] | None],
) -> None:
    index = source.columns.get("dateDebutValidite")
    if index is None:
        return
    cell = row.values[index] if index < len(row.values) else None
    token = (cell.__class__, cell)
    if token in memo:
        said = memo[token]
    else:
        said = _deadline_said(cell, today)
        if len(memo) < DEADLINE_MEMO:
            memo[token] = said
    if said is not None:
        found.add(
            said[0],
            "risque",
            said[1],
            ligne=row.position,
            idTechnique=row.idTechnique,
            key="dateDebutValidite",
        )


HEADER_MEMO = 4096  # distinct cells remembered per émetteur/certificateur/contrat column
DEADLINE_MEMO = 4096  # distinct start dates remembered (a file has a few hundred at most)


def _deadline_said(cell: CellValue, today: dt.date) -> tuple[str, str] | None:
    """(code, message) of what a start of validity says of the legal deadline, if anything."""
    start = as_date(cell)
    if start is None:
        return None
    due = deadline(start)
    days = (due - today).days
    if days < 0:
        return (
            "ECHEANCE_DEPASSEE",
            f"Échéance légale dépassée depuis le {due:%d/%m/%Y} (début de validité "
            f"{start:%d/%m/%Y} + 3 mois) : déposez ce passage sans attendre.",
        )
    if days <= verification_data().soon_days:
        return (
            "ECHEANCE_PROCHE",
            f"Échéance légale le {due:%d/%m/%Y}, dans {days} jour(s) (début de validité "
            f"{start:%d/%m/%Y} + 3 mois) : un refus à corriger laisserait peu de temps.",
        )
    return None
