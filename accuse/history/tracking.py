"""`accuse suivi`: what is still rejected across every recorded receipt, and the legal deadline.

Computed from the history alone (no input file is re-read). A passage's state is the one of the
latest receipt that mentions it, in recording order: accepted there (or a DOUBLON, which says the
portal already holds it) means resolved; rejected there means still to do.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Literal

from accuse.history.store import History, PassageEvent, RecordedReceipt
from accuse.text import plural

FORMAT_VERSION = 1
DOUBLON = "DOUBLON"
DEADLINE_MONTHS = 3  # data must reach the portal within three months of the certification
SOON_DAYS = 30
REPEAT_THRESHOLD = 2  # rejected in this many deposits or more: the CDC's special procedure

Urgency = Literal["depassee", "sous_30_jours", "plus_tard", "inconnue"]
_URGENCY_ORDER: dict[Urgency, int] = {
    "depassee": 0,
    "sous_30_jours": 1,
    "plus_tard": 2,
    "inconnue": 3,
}
URGENCY_LABEL: dict[Urgency, str] = {
    "depassee": "échéance dépassée",
    "sous_30_jours": "moins de 30 jours",
    "plus_tard": "plus de 30 jours",
    "inconnue": "échéance inconnue",
}
REPEAT_ADVICE = (
    "La Caisse des Dépôts demande, pour un passage refusé à plusieurs dépôts, de conserver les "
    "preuves (fichiers déposés, accusés de traitement, échanges avec le titulaire) et de "
    "déposer un fichier qui ne contient que ces passages."
)
DEADLINE_NOTE = (
    "Échéance : date de début de validité de la certification + 3 mois, délai légal pour que "
    "les données parviennent à la Caisse des Dépôts. Elle est inconnue quand l'accusé a été "
    "analysé sans --source."
)


@dataclass(frozen=True)
class TrackedPassage:
    """A passage rejected in the latest receipt that mentions it."""

    idTechnique: str
    nomNaissance: str | None
    prenom1: str | None
    code: str | None  # certification code, from the source
    family: str
    family_title: str
    message: str
    rejected_deposits: int
    first_rejected: dt.date
    last_rejected: dt.date
    receipts: tuple[str, ...]  # names of the receipts that rejected it, oldest first
    dateDebutValidite: dt.date | None
    deadline: dt.date | None
    days_left: int | None
    urgency: Urgency

    @property
    def holder(self) -> str:
        return " ".join(p for p in (self.nomNaissance, self.prenom1) if p)

    @property
    def repeated(self) -> bool:
        return self.rejected_deposits >= REPEAT_THRESHOLD


@dataclass(frozen=True)
class ResolvedPassage:
    """A passage rejected once, accepted (or found already stored) in a later receipt."""

    idTechnique: str
    nomNaissance: str | None
    prenom1: str | None
    rejected_deposits: int
    last_rejected: dt.date
    accepted_on: dt.date
    as_doublon: bool

    @property
    def holder(self) -> str:
        return " ".join(p for p in (self.nomNaissance, self.prenom1) if p)


@dataclass(frozen=True)
class Tracking:
    location: str
    today: dt.date
    receipts: list[RecordedReceipt]
    still_rejected: list[TrackedPassage]  # most urgent first
    resolved: list[ResolvedPassage]

    def count(self, urgency: Urgency) -> int:
        return sum(1 for p in self.still_rejected if p.urgency == urgency)

    @property
    def repeated(self) -> list[TrackedPassage]:
        return [p for p in self.still_rejected if p.repeated]


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day ``months`` later, or the month's last day (30 November for 31 August)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deadline(issued: dt.date) -> dt.date:
    return add_months(issued, DEADLINE_MONTHS)


def urgency(days_left: int | None) -> Urgency:
    if days_left is None:
        return "inconnue"
    if days_left < 0:
        return "depassee"
    return "sous_30_jours" if days_left <= SOON_DAYS else "plus_tard"


def _accepted(event: PassageEvent) -> bool:
    return event.status == "OK" or event.family == DOUBLON


def _latest(events: Sequence[PassageEvent], attribute: str) -> object:
    """The most recent value a receipt analysed with a source gave for this field."""
    for event in reversed(events):
        value = getattr(event, attribute)
        if value is not None:
            return value
    return None


def compute(history: History, today: dt.date | None = None) -> Tracking:
    today = today or dt.date.today()
    receipts = {r.id: r for r in history.receipts}

    def day(event: PassageEvent) -> dt.date:
        return receipts[event.receipt_id].analysed_at.date()

    still: list[TrackedPassage] = []
    resolved: list[ResolvedPassage] = []
    ordered = sorted(history.events, key=lambda e: (e.idTechnique, e.receipt_id))
    for identifier, group in groupby(ordered, key=lambda e: e.idTechnique):
        events = list(group)
        rejections = [e for e in events if not _accepted(e)]
        if not rejections:
            continue  # only ever a DOUBLON: the portal holds it, nothing was ever to do
        last = events[-1]
        nom = _latest(events, "nomNaissance")
        prenom = _latest(events, "prenom1")
        if _accepted(last):
            resolved.append(
                ResolvedPassage(
                    idTechnique=identifier,
                    nomNaissance=nom,  # type: ignore[arg-type]
                    prenom1=prenom,  # type: ignore[arg-type]
                    rejected_deposits=len(rejections),
                    last_rejected=day(rejections[-1]),
                    accepted_on=day(last),
                    as_doublon=last.status == "KO",
                )
            )
            continue
        issued: dt.date | None = _latest(events, "dateDebutValidite")  # type: ignore[assignment]
        due = deadline(issued) if issued is not None else None
        left = (due - today).days if due is not None else None
        still.append(
            TrackedPassage(
                idTechnique=identifier,
                nomNaissance=nom,  # type: ignore[arg-type]
                prenom1=prenom,  # type: ignore[arg-type]
                code=_latest(events, "code"),  # type: ignore[arg-type]
                family=last.family or "",
                family_title=last.family_title or last.family or "",
                message=last.message or "",
                rejected_deposits=len(rejections),
                first_rejected=day(rejections[0]),
                last_rejected=day(rejections[-1]),
                receipts=tuple(receipts[e.receipt_id].receipt_name for e in rejections),
                dateDebutValidite=issued,
                deadline=due,
                days_left=left,
                urgency=urgency(left),
            )
        )
    still.sort(
        key=lambda p: (
            _URGENCY_ORDER[p.urgency],
            p.days_left if p.days_left is not None else 0,
            p.idTechnique,
        )
    )
    resolved.sort(key=lambda p: (p.accepted_on, p.idTechnique), reverse=True)
    return Tracking(history.location, today, history.receipts, still, resolved)


# --- sentences ----------------------------------------------------------------------------


def verdict(tracking: Tracking) -> str:
    if not tracking.receipts:
        return (
            "L'historique est vide : chaque `accuse analyse` y enregistre l'accusé analysé "
            "(sauf avec --sans-historique)."
        )
    still = len(tracking.still_rejected)
    if still == 0:
        sentence = "Aucun passage n'est encore refusé dans l'historique."
    else:
        sentence = (
            f"{plural(still, 'passage')} "
            f"{'est encore refusé' if still == 1 else 'sont encore refusés'}"
        )
        parts = []
        late, soon = tracking.count("depassee"), tracking.count("sous_30_jours")
        if late:
            parts.append(f"{late} {'a' if late == 1 else 'ont'} dépassé l'échéance légale")
        if soon:
            parts.append(f"{soon} {'arrive' if soon == 1 else 'arrivent'} à échéance sous 30 jours")
        sentence += (" : " + ", ".join(parts) if parts else "") + "."
    if tracking.resolved:
        count = len(tracking.resolved)
        sentence += (
            f" {plural(count, 'passage')} refusé{'s' if count > 1 else ''} "
            f"{'a' if count == 1 else 'ont'} depuis été accepté{'s' if count > 1 else ''}."
        )
    return sentence


def repeated_sentence(tracking: Tracking) -> str | None:
    count = len(tracking.repeated)
    if not count:
        return None
    return (
        f"{plural(count, 'passage')} {'a' if count == 1 else 'ont'} été "
        f"refusé{'s' if count > 1 else ''} à {REPEAT_THRESHOLD} dépôts ou plus. {REPEAT_ADVICE}"
    )


def receipt_kind(receipt: RecordedReceipt) -> str:
    return "fichier entier refusé" if receipt.shape == "rejet_fichier" else "passage par passage"


# --- JSON ---------------------------------------------------------------------------------


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def build_document(tracking: Tracking) -> dict:
    return {
        "format": FORMAT_VERSION,
        "historique": tracking.location,
        "date_du_jour": tracking.today.isoformat(),
        "verdict": verdict(tracking),
        "synthese": {
            "accuses": len(tracking.receipts),
            "encore_refuses": len(tracking.still_rejected),
            "echeance_depassee": tracking.count("depassee"),
            "echeance_sous_30_jours": tracking.count("sous_30_jours"),
            "echeance_inconnue": tracking.count("inconnue"),
            "refuses_plusieurs_depots": len(tracking.repeated),
            "resolus": len(tracking.resolved),
        },
        "conseil_refus_repetes": repeated_sentence(tracking),
        "encore_refuses": [
            {
                "idTechnique": p.idTechnique,
                "titulaire": p.holder or None,
                "nomNaissance": p.nomNaissance,
                "prenom1": p.prenom1,
                "code": p.code,
                "famille": p.family,
                "famille_titre": p.family_title,
                "message": p.message,
                "depots_refuses": p.rejected_deposits,
                "refuse_plusieurs_depots": p.repeated,
                "premier_refus": _iso(p.first_rejected),
                "dernier_refus": _iso(p.last_rejected),
                "accuses": list(p.receipts),
                "dateDebutValidite": _iso(p.dateDebutValidite),
                "echeance": _iso(p.deadline),
                "jours_restants": p.days_left,
                "urgence": p.urgency,
            }
            for p in tracking.still_rejected
        ],
        "resolus": [
            {
                "idTechnique": p.idTechnique,
                "titulaire": p.holder or None,
                "depots_refuses": p.rejected_deposits,
                "dernier_refus": _iso(p.last_rejected),
                "accepte_le": _iso(p.accepted_on),
                "doublon": p.as_doublon,
            }
            for p in tracking.resolved
        ],
        "accuses": receipts_document(tracking.receipts),
    }


def receipts_document(receipts: Sequence[RecordedReceipt]) -> list[dict]:
    return [
        {
            "analyse_le": r.analysed_at.isoformat(timespec="seconds"),
            "enregistre_le": r.recorded_at.isoformat(timespec="seconds"),
            "accuse": r.receipt_name,
            "type": r.shape,
            "nomFichier": r.nomFichier,
            "idFlux": r.idFlux,
            "idTraitement": r.idTraitement,
            "idDemande": r.idDemande,
            "source": r.source_name,
            "acceptes": r.accepted_count,
            "refuses": r.rejected_count,
            "erreurs_fichier": r.file_error_count,
        }
        for r in receipts
    ]


# --- workbook -----------------------------------------------------------------------------


def write_workbook(tracking: Tracking, target: Path, inputs: Sequence[Path] = ()) -> None:
    """suivi.xlsx: still rejected, resolved, receipts; written atomically. Every text cell is
    written as a string, so a value starting with = never becomes a formula."""
    import xlsxwriter

    from accuse.output import atomic_target

    with atomic_target(target, inputs) as temporary:
        book = xlsxwriter.Workbook(str(temporary), {"strings_to_formulas": False})
        bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        date = book.add_format({"num_format": "dd/mm/yyyy"})
        late = book.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
        soon = book.add_format({"font_color": "#9C5700", "bg_color": "#FFEB9C"})
        info = book.add_format({"italic": True, "text_wrap": True})

        sheet = book.add_worksheet("Encore refusés")
        headers = [
            ("Urgence", 20),
            ("idTechnique", 16),
            ("Titulaire", 28),
            ("Code certification", 16),
            ("Famille", 34),
            ("Message du portail", 50),
            ("Dépôts refusés", 10),
            ("Refusé à 2 dépôts ou plus", 12),
            ("Premier refus", 12),
            ("Dernier refus", 12),
            ("Date de début de validité", 14),
            ("Échéance", 12),
            ("Jours restants", 10),
            ("Accusés", 40),
        ]
        _header(sheet, headers, bold)
        for index, p in enumerate(tracking.still_rejected, start=1):
            style = {"depassee": late, "sous_30_jours": soon}.get(p.urgency)
            _string(sheet, index, 0, URGENCY_LABEL[p.urgency], style)
            _string(sheet, index, 1, p.idTechnique)
            _string(sheet, index, 2, p.holder)
            _string(sheet, index, 3, p.code)
            _string(sheet, index, 4, p.family_title)
            _string(sheet, index, 5, p.message)
            sheet.write_number(index, 6, p.rejected_deposits)
            _string(sheet, index, 7, "oui" if p.repeated else "non")
            _date(sheet, index, 8, p.first_rejected, date)
            _date(sheet, index, 9, p.last_rejected, date)
            _date(sheet, index, 10, p.dateDebutValidite, date)
            _date(sheet, index, 11, p.deadline, date)
            if p.days_left is not None:
                sheet.write_number(index, 12, p.days_left)
            _string(sheet, index, 13, ", ".join(p.receipts))
        _finish(sheet, len(tracking.still_rejected), len(headers))
        notes = [verdict(tracking), DEADLINE_NOTE]
        advice = repeated_sentence(tracking)
        if advice:
            notes.append(advice)
        for offset, note in enumerate(notes):
            row = len(tracking.still_rejected) + 2 + offset
            sheet.merge_range(row, 0, row, 7, "", info)
            sheet.write_string(row, 0, note, info)
            sheet.set_row(row, 45)

        sheet = book.add_worksheet("Résolus")
        headers = [
            ("idTechnique", 16),
            ("Titulaire", 28),
            ("Dépôts refusés", 10),
            ("Dernier refus", 12),
            ("Accepté le", 12),
            ("Comment", 40),
        ]
        _header(sheet, headers, bold)
        for index, r in enumerate(tracking.resolved, start=1):
            _string(sheet, index, 0, r.idTechnique)
            _string(sheet, index, 1, r.holder)
            sheet.write_number(index, 2, r.rejected_deposits)
            _date(sheet, index, 3, r.last_rejected, date)
            _date(sheet, index, 4, r.accepted_on, date)
            how = "déjà enregistré (doublon)" if r.as_doublon else "accepté"
            _string(sheet, index, 5, how)
        _finish(sheet, len(tracking.resolved), len(headers))

        sheet = book.add_worksheet("Accusés")
        headers = [
            ("Analysé le", 16),
            ("Accusé", 40),
            ("Type", 22),
            ("Fichier déposé", 30),
            ("idFlux", 38),
            ("idTraitement", 14),
            ("idDemande", 12),
            ("Source", 30),
            ("Acceptés", 10),
            ("Refusés", 10),
            ("Erreurs de structure", 12),
        ]
        _header(sheet, headers, bold)
        moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        for index, r in enumerate(tracking.receipts, start=1):
            sheet.write_datetime(index, 0, r.analysed_at.replace(tzinfo=None), moment)
            _string(sheet, index, 1, r.receipt_name)
            _string(sheet, index, 2, receipt_kind(r))
            _string(sheet, index, 3, r.nomFichier)
            _string(sheet, index, 4, r.idFlux)
            _string(sheet, index, 5, r.idTraitement)
            _string(sheet, index, 6, r.idDemande)
            _string(sheet, index, 7, r.source_name)
            sheet.write_number(index, 8, r.accepted_count)
            sheet.write_number(index, 9, r.rejected_count)
            sheet.write_number(index, 10, r.file_error_count)
        _finish(sheet, len(tracking.receipts), len(headers))
        book.close()


def _header(sheet, headers: list[tuple[str, int]], style) -> None:  # type: ignore[no-untyped-def]
    for column, (title, width) in enumerate(headers):
        sheet.write_string(0, column, title, style)
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)


def _finish(sheet, rows: int, columns: int) -> None:  # type: ignore[no-untyped-def]
    if rows:
        sheet.autofilter(0, 0, rows, columns - 1)


def _string(sheet, row: int, column: int, value: str | None, style=None) -> None:  # type: ignore[no-untyped-def]
    if value:
        sheet.write_string(row, column, value, style)


def _date(sheet, row: int, column: int, value: dt.date | None, style) -> None:  # type: ignore[no-untyped-def]
    if value is not None:
        sheet.write_datetime(row, column, dt.datetime(value.year, value.month, value.day), style)
