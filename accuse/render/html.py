"""rapport.html: the analysis as one self-contained page a non-technical reader can act on.

The page is rendered by Jinja2 (templates/ at the top of the repository, installed as the
package accuse.templates) with autoescaping on; CSS and script are inlined so the file works
offline and as an e-mail attachment. Every fact comes from the Analysis and the summary, as
in the terminal; nothing re-reads the inputs.

Scale: the first ROWS_SHOWN rows of each family are written as HTML (the page is complete and
printable without script); the others travel as JSON in a <script type="application/json">
that the page's script pages through and searches.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from accuse.cells import cell_text
from accuse.fix.workbook import RUN_META, WORKSHEET_NAME
from accuse.model import CellValue, Source, SourceRow
from accuse.nir import mask
from accuse.output import atomic_target, sealed
from accuse.pipeline.analysis import Analysis, LocatedFileError, RejectedRow
from accuse.pipeline.summary import (
    REDEPOSER,
    Totals,
    columns_sentence,
    describe_source,
    totals,
    verdict,
)
from accuse.reference.catalogue import CatalogueEntry
from accuse.reference.fields import composite_giving, dictionary, row_fields, with_composites
from accuse.render.chart import BarChart, bar_chart
from accuse.render.suivi import REPEAT_ADVICE
from accuse.text import inert

ROWS_SHOWN = 100  # rows per family written as HTML; the script pages through the rest
ABSENT_SHOWN = 2000  # rows absent from the receipt listed by line; beyond, a count
PORTAL_ERROR_LIMIT = 100

_HOLDER = ("nomNaissance", "nomUsage", "prenom1", "prenom2", "prenom3", "nir")
_HOLDER_ALWAYS = ("nomNaissance", "prenom1")
_BIRTH_DATE = ("jourNaissance", "moisNaissance", "anneeNaissance")
_BIRTH = ("sexe", "libelleCommuneNaissance", "codeInsee", "codePostal", "libellePaysNaissance")
_BIRTH_ALWAYS = ("sexe",)
_SHOWN_ELSEWHERE = {"idTechnique", *_HOLDER, *_BIRTH_DATE, *_BIRTH, "codePaysNaissance"}
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_KIND = {"non": "deja", "apres_correction": "corriger", "fichier_entier": "fichier"}

# One piece of a displayed value: (text, highlighted).
Part = tuple[str, bool]


@dataclass(frozen=True)
class Item:
    """A labelled value in a row cell; highlighted when the family asks to check it."""

    label: str
    parts: tuple[Part, ...]

    @property
    def highlighted(self) -> bool:
        return any(h for _, h in self.parts)


@dataclass(frozen=True)
class RowView:
    line: str
    found: bool
    idTechnique: str
    id_highlighted: bool
    holder: tuple[Item, ...]
    birth: tuple[Item, ...]
    others: tuple[Item, ...]
    hint: str
    findings: tuple[str, ...]
    message: str


@dataclass
class FamilyView:
    number: int
    entry: CatalogueEntry
    count: int
    redeposer: str
    kind: str
    rows: list[RowView] = field(default_factory=list)  # written as HTML
    more: list[RowView] = field(default_factory=list)  # embedded as JSON
    errors: list[FileErrorView] = field(default_factory=list)
    other_fields: bool = False  # whether the family table has the "other fields" column

    @property
    def anchor(self) -> str:
        return f"famille-{self.number}"

    @property
    def explanation(self) -> str:
        return " ".join(self.entry.explication.split())


@dataclass(frozen=True)
class FileErrorView:
    number: int
    family: int
    titre: str
    line: str
    column: str
    element: str
    value: str
    detail: str
    message: str
    passage: str
    passage_line: str


# --- the environment -----------------------------------------------------------------------


@cache
def environment() -> jinja2.Environment:
    """Templates from the package accuse.templates, from the source tree or installed."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("accuse.templates", ""),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nombre"] = nombre
    return env


def asset(name: str) -> Markup:
    # Our own static files, trusted: inlined as they are (never user data).
    text = resources.files("accuse.templates").joinpath(name).read_text("utf-8")
    assert "</" + ("style" if name.endswith(".css") else "script") not in text.lower()
    return Markup(text)


# --- small French formatting ---------------------------------------------------------------


def nombre(value: int) -> str:
    """20 000 (narrow no-break space between thousands, as French typography wants)."""
    return f"{value:,}".replace(",", "\u202f")


def percent(part: int, whole: int) -> str:
    if whole == 0:
        return "—"
    value = 100 * part / whole
    text = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0%"


def date_fr(moment: dt.datetime) -> str:
    return (
        f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year} "
        f"à {moment.hour} h {moment.minute:02d}"
    )


# --- rows ------------------------------------------------------------------------------------


def _labels(source: Source | None) -> dict[str, str]:
    """Each field under the name the user gave its column, else our French label."""
    labels = {f.key: f.nom for f in dictionary() if f.nom}
    if source is not None:
        for key, index in source.columns.items():
            if index < len(source.headers) and source.headers[index].strip():
                labels[key] = source.headers[index].strip()
    return labels


def _shown(value: CellValue) -> str:
    return inert(cell_text(value)).strip()


class _RowBuilder:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.source = analysis.source
        self.labels = _labels(analysis.source)

    def item(self, key: str, value: CellValue, marked: set[str]) -> Item:
        # The report is e-mailed: a NIR is never in it in clear.
        text = inert(mask(value)) if key == "nir" else _shown(value)
        if not text:
            # Empty cell and no such column are not the same advice.
            columns = self.source.columns if self.source is not None else {}
            absent = key not in columns and composite_giving(key, columns) is None
            text = "(colonne absente de votre fichier)" if absent else "(vide)"
        return Item(self.labels.get(key, key), ((text, key in marked),))

    def keep(self, key: str, values: dict[str, CellValue], marked: set[str]) -> bool:
        # An empty optional field is noise, unless the family asks to check it.
        return key in marked or _shown(values.get(key)) != ""

    def build(self, rejected: RejectedRow) -> RowView:
        entry = rejected.classification.entry
        marked = set(entry.champs) | {f.champ for f in rejected.findings if f.champ}
        if self.source is not None:
            marked = with_composites(marked, self.source.columns)
        holder: list[Item] = []
        birth: list[Item] = []
        others: list[Item] = []
        row = rejected.row
        if self.source is None:
            line, found = "—", False
        elif row is None:
            line, found = "introuvable", False
        else:
            line, found = str(row.position), True
        if row is not None and self.source is not None:
            values = self._values(row, entry.champs)
            holder = [
                self.item(k, values.get(k), marked)
                for k in _HOLDER
                if k in _HOLDER_ALWAYS or self.keep(k, values, marked)
            ]
            birth = [self._birth_date(values, marked)]
            birth += [
                self.item(k, values.get(k), marked)
                for k in _BIRTH
                if k in _BIRTH_ALWAYS or self.keep(k, values, marked)
            ]
            others = [
                self.item(k, values.get(k), marked)
                for k in entry.champs
                if k not in _SHOWN_ELSEWHERE
            ]
        message = ""
        if not rejected.findings and rejected.code == "MESSAGE_INCONNU":
            message = inert(rejected.message)
        return RowView(
            line=line,
            found=found,
            idTechnique=inert(rejected.idTechnique),
            id_highlighted="idTechnique" in marked,
            holder=tuple(holder),
            birth=tuple(birth),
            others=tuple(others),
            hint=inert(rejected.classification.hint),
            findings=tuple(inert(f.message) for f in rejected.findings),
            message=message,
        )

    def _values(self, row: SourceRow, champs: tuple[str, ...]) -> dict[str, CellValue]:
        # Only the fields shown: Analysis.row_values would read every column of every row.
        assert self.source is not None
        keys = (*_HOLDER, *_BIRTH_DATE, *_BIRTH, *champs)
        return row_fields(row.values, self.source.columns, only=keys)

    def _birth_date(self, values: dict[str, CellValue], marked: set[str]) -> Item:
        parts: list[Part] = []
        for index, key in enumerate(_BIRTH_DATE):
            if index:
                parts.append(("/", False))
            parts.append((_shown(values.get(key)) or "?", key in marked))
        return Item("Date (jour/mois/année)", tuple(parts))


def _file_error(
    number: int, located: LocatedFileError, family: int, source: Source | None
) -> FileErrorView:
    error, captures = located.error, located.classification.captures
    element = captures.get("element", "")
    if not element and source is not None and error.ligne is not None:
        element = source.line_elements.get(error.ligne, "")
    if located.idTechnique:
        passage = located.idTechnique
    elif source is not None and source.kind == "flux":
        passage = "hors passage"
    else:
        passage = ""
    return FileErrorView(
        number=number,
        family=family,
        titre=located.classification.entry.titre,
        line="" if error.ligne is None else str(error.ligne),
        column="" if error.colonne is None else str(error.colonne),
        element=inert(element),
        value=inert(captures.get("valeur", "")),
        detail=inert(located.classification.hint),
        message=inert(error.message),
        passage=inert(passage),
        passage_line="" if located.passage_line is None else str(located.passage_line),
    )


# --- the embedded data -----------------------------------------------------------------------


def _json_for_script(data: object) -> Markup:
    """JSON safe inside <script>: no "<", ">" or "&" that could close or comment the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # U+2028/2029 are valid in JSON but were line terminators in older script engines.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def _compact(rows: list[RowView], labels: dict[str, int], texts: dict[str, int]) -> list[list]:
    """Rows as short arrays. Labels, hints and findings repeat from row to row: they are
    written once in a table and referred to by index (halves the page at 20 000 rows)."""

    def index(table: dict[str, int], text: str) -> int:
        return table.setdefault(text, len(table))

    def items(values: tuple[Item, ...]) -> list:
        out = []
        for item in values:
            label = index(labels, item.label)
            if len(item.parts) == 1:
                text, mark = item.parts[0]
                out.append([label, text, int(mark)])
            else:
                out.append([label, [[text, int(mark)] for text, mark in item.parts]])
        return out

    return [
        [
            r.line,
            int(r.found),
            r.idTechnique,
            int(r.id_highlighted),
            items(r.holder),
            items(r.birth),
            items(r.others),
            index(texts, r.hint) if r.hint else -1,
            [index(texts, f) for f in r.findings],
            r.message,
        ]
        for r in rows
    ]


# --- the page --------------------------------------------------------------------------------


def _identity(analysis: Analysis) -> list[tuple[str, str]]:
    receipt, source = analysis.receipt, analysis.source
    lines = [
        ("Fichier déposé", receipt.nomFichier),
        ("idFlux", receipt.idFlux),
        ("idTraitement", receipt.idTraitement),
        ("idDemande", receipt.idDemande),
        ("Accusé de traitement", receipt.path.name),
        (
            "Type d'accusé",
            "rejet du fichier entier (erreurs de structure)"
            if receipt.shape == "rejet_fichier"
            else "résultat passage par passage",
        ),
    ]
    if source is not None:
        lines.append(("Fichier source", describe_source(source)))
        lines.append(("Colonnes comprises", columns_sentence(source)))
    else:
        lines.append(("Fichier source", "aucun : l'accusé a été analysé seul"))
    lines.append(("Date de l'analyse", date_fr(analysis.analysed_at)))
    catalogue = analysis.catalogue
    updated = f" du {catalogue.mis_a_jour:%d/%m/%Y}" if catalogue.mis_a_jour else ""
    lines.append(("Catalogue des refus", f"version {catalogue.version}{updated}"))
    return [(label, inert(value)) for label, value in lines if value]


def _catalogue_note(analysis: Analysis) -> tuple[str, list[str]]:
    """Which explanations the reader was given: the catalogue's version, its latest changes."""
    catalogue = analysis.catalogue
    updated = f" du {catalogue.mis_a_jour:%d/%m/%Y}" if catalogue.mis_a_jour else ""
    sentence = (
        f"Explications tirées du catalogue des refus d'accuse, version {catalogue.version}{updated}"
    )
    own = catalogue.sources[1:]
    if own:
        sentence += (
            " et de votre catalogue personnel (" + ", ".join(Path(s).name for s in own) + ")"
        )
    sentence += "."
    latest = catalogue.journal[0] if catalogue.journal else None
    changes = list(latest.changements) if latest and latest.version == catalogue.version else []
    return inert(sentence), [inert(c) for c in changes]


def _counts(analysis: Analysis, t: Totals) -> list[tuple[str, int, bool]]:
    """(label, number, indented) as in the terminal summary."""
    rows: list[tuple[str, int, bool]] = []
    if analysis.receipt.shape == "rejet_fichier":
        rows.append(("Erreurs de structure signalées", t.erreurs_fichier, False))
    else:
        rows += [
            ("Passages acceptés", t.ok, False),
            ("Passages refusés", t.ko, False),
            ("à corriger et à redéposer", t.a_corriger, True),
            ("déjà enregistrés (doublons)", t.deja_enregistres, True),
        ]
    if analysis.source is not None:
        if analysis.receipt.shape == "passages":
            rows += [
                ("Refus retrouvés dans votre fichier", t.ko_rapproches, False),
                ("Refus introuvables dans votre fichier", t.ko_introuvables, False),
                ("Lignes de votre fichier absentes de l'accusé", t.absents_accuse or 0, False),
            ]
        rows.append(("Lignes de votre fichier", t.lignes_source or 0, False))
        if t.doublons_source:
            rows.append(("Identifiants en double dans votre fichier", t.doublons_source, False))
    return rows


def _families(analysis: Analysis, rows_shown: int) -> list[FamilyView]:
    families = [
        FamilyView(
            number=n,
            entry=entry,
            count=count,
            redeposer=REDEPOSER.get(entry.redeposer, entry.redeposer),
            kind=_KIND.get(entry.redeposer, "corriger"),
            other_fields=any(k not in _SHOWN_ELSEWHERE for k in entry.champs),
        )
        for n, (entry, count) in enumerate(analysis.families(), start=1)
    ]
    by_code = {f.entry.code: f for f in families}
    if analysis.receipt.shape == "rejet_fichier":
        for number, located in enumerate(analysis.file_errors, start=1):
            family = by_code[located.classification.code]
            family.errors.append(_file_error(number, located, family.number, analysis.source))
        return families
    builder = _RowBuilder(analysis)
    for rejected in analysis.rejected:
        family = by_code[rejected.code]
        target = family.rows if len(family.rows) < rows_shown else family.more
        target.append(builder.build(rejected))
    return families


def _holder(analysis: Analysis, rejected: RejectedRow) -> str:
    if rejected.row is None or analysis.source is None:
        return ""
    names = (analysis.source.value(rejected.row, k) for k in ("nomNaissance", "prenom1"))
    return " ".join(_shown(v) for v in names).strip()


def render_report(analysis: Analysis, rows_shown: int = ROWS_SHOWN, run: str | None = None) -> str:
    t = totals(analysis)
    families = _families(analysis, rows_shown)
    labels: dict[str, int] = {}
    texts: dict[str, int] = {}
    embedded = {str(f.number): _compact(f.more, labels, texts) for f in families if f.more}
    data = {
        "libelles": list(labels),
        "textes": list(texts),
        "familles": embedded,
        "parPage": rows_shown,
    }
    whole_file = analysis.receipt.shape == "rejet_fichier"
    chart: BarChart = bar_chart([(f.entry.titre, f.count, f.kind, f.anchor) for f in families])
    passages = t.ok + t.ko
    absent = [(p, inert(i)) for p, i in analysis.absent[:ABSENT_SHOWN]]
    duplicates = [(inert(i), ", ".join(map(str, p))) for i, p in analysis.duplicates.items()]
    earlier = [
        (
            inert(r.idTechnique),
            _holder(analysis, r),
            found.deposits,
            f"{found.first:%d/%m/%Y}",
            f"{found.deadline:%d/%m/%Y}" if found.deadline else "inconnue",
            found.deadline is not None and found.deadline < dt.date.today(),
        )
        for r in analysis.rejected
        if (found := analysis.earlier.get(r.idTechnique)) is not None
    ]
    return (
        environment()
        .get_template("rapport.html.j2")
        .render(
            analysis=analysis,
            whole_file=whole_file,
            title=inert(analysis.receipt.nomFichier or analysis.receipt.path.name),
            verdict=verdict(analysis),
            analysed=date_fr(analysis.analysed_at),
            catalogue_note=_catalogue_note(analysis),
            identity=_identity(analysis),
            counts=_counts(analysis, t),
            totals=t,
            accepted_share=percent(t.ok, passages),
            accepted_width=round(100 * t.ok / passages, 2) if passages else 0,
            chart=chart,
            families=families,
            has_source=analysis.source is not None,
            file_errors=sorted((e for f in families for e in f.errors), key=lambda e: e.number),
            error_limit=PORTAL_ERROR_LIMIT,
            unmatched=[inert(i) for i in analysis.unmatched_ids],
            absent=absent,
            absent_total=len(analysis.absent),
            duplicates=duplicates,
            data=_json_for_script(data),
            earlier=earlier,
            repeat_advice=REPEAT_ADVICE,
            worksheet_name=WORKSHEET_NAME,
            run=run,
            run_meta=RUN_META,
            to_fix=t.a_corriger if analysis.source is not None and not whole_file else 0,
            css=asset("rapport.css"),
            script=asset("rapport.js"),
        )
    )


def write_report(
    analysis: Analysis, path: Path, inputs: Sequence[Path] = (), run: str | None = None
) -> Path:
    """Write rapport.html atomically, never over one of ``inputs``. ``run``: the identity of
    the run, shared with the worksheet written beside it."""
    page = sealed(render_report(analysis, run=run))  # a later run can tell whether it was changed
    with atomic_target(Path(path), inputs) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return Path(path)
