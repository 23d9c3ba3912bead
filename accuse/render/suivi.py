"""What `accuse suivi` shows and writes: its sentences, the terminal tables, the JSON document
and the workbook, all from the Tracking computed in accuse.history.tracking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse.history.records import RecordedReceipt
from accuse.history.tracking import (
    FORMAT_VERSION,
    REPEAT_THRESHOLD,
    Tracking,
    Urgency,
    receipt_date,
)
from accuse.text import inert, plural

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

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


def receipt_kind(receipt: RecordedReceipt, suppression: bool = False) -> str:
    if suppression:
        return "suppression de passages"
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
        "retires": [
            {
                "idTechnique": p.idTechnique,
                "retire_le": _iso(p.withdrawn_on),
                "accuse": p.receipt_name,
            }
            for p in tracking.withdrawn
        ],
    }


def received_document(tracking: Tracking) -> dict:
    """`accuse suivi --recus --format json`: the recorded receipts only."""
    return {
        "format": FORMAT_VERSION,
        "historique": tracking.location,
        "accuses": receipts_document(tracking.receipts),
    }


def receipts_document(receipts: Sequence[RecordedReceipt]) -> list[dict]:
    return [
        {
            "date_accuse": receipt_date(r).isoformat(),
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
        _sheet_header(sheet, headers, bold)
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
        _sheet_header(sheet, headers, bold)
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
            ("Date de l'accusé", 12),  # the order of the rows
        ]
        _sheet_header(sheet, headers, bold)
        moment = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        for index, receipt in enumerate(tracking.receipts, start=1):
            sheet.write_datetime(index, 0, receipt.analysed_at.replace(tzinfo=None), moment)
            _string(sheet, index, 1, receipt.receipt_name)
            _string(sheet, index, 2, receipt_kind(receipt))
            _string(sheet, index, 3, receipt.nomFichier)
            _string(sheet, index, 4, receipt.idFlux)
            _string(sheet, index, 5, receipt.idTraitement)
            _string(sheet, index, 6, receipt.idDemande)
            _string(sheet, index, 7, receipt.source_name)
            sheet.write_number(index, 8, receipt.accepted_count)
            sheet.write_number(index, 9, receipt.rejected_count)
            sheet.write_number(index, 10, receipt.file_error_count)
            _date(sheet, index, 11, receipt_date(receipt), date)
        _finish(sheet, len(tracking.receipts), len(headers))
        book.close()


def _sheet_header(sheet: Worksheet, headers: list[tuple[str, int]], style: Format) -> None:
    for column, (title, width) in enumerate(headers):
        sheet.write_string(0, column, title, style)
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)


def _finish(sheet: Worksheet, rows: int, columns: int) -> None:
    if rows:
        sheet.autofilter(0, 0, rows, columns - 1)


def _string(
    sheet: Worksheet, row: int, column: int, value: str | None, style: Format | None = None
) -> None:
    if value:
        sheet.write_string(row, column, value, style)


def _date(sheet: Worksheet, row: int, column: int, value: dt.date | None, style: Format) -> None:
    if value is not None:
        sheet.write_datetime(row, column, dt.datetime(value.year, value.month, value.day), style)


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else "—"


def _days(left: int | None) -> str:
    if left is None:
        return ""
    return f"{-left} j de retard" if left < 0 else f"{left} j"


def _header(tracking: Tracking, console: Console) -> None:
    receipts = tracking.receipts
    line = f"Historique : {inert(tracking.location, one_line=True)}"
    if receipts:
        first, last = receipt_date(receipts[0]), receipt_date(receipts[-1])
        line += f" — {plural(len(receipts), 'accusé')} enregistré{'s' if len(receipts) > 1 else ''}"
        line += (
            f", du {_day(first)} au {_day(last)}" if len(receipts) > 1 else f", le {_day(first)}"
        )
    console.print(Text(line, style="dim"))


def withdrawn_sentence(tracking: Tracking) -> str | None:
    """'2 passages retirés par un flux de suppression : A (le 02/04/2026), B …'."""
    gone = tracking.withdrawn
    if not gone:
        return None
    shown = ", ".join(f"{p.idTechnique} (le {_day(p.withdrawn_on)})" for p in gone[:10])
    more = " …" if len(gone) > 10 else ""
    verb = "retiré" if len(gone) == 1 else "retirés"
    return f"{plural(len(gone), 'passage')} {verb} par un flux de suppression : {shown}{more}."


WIDE_TABLE = 130  # terminal columns from which every column of the suivi table fits


def render(tracking: Tracking, console: Console, limit: int = 50) -> None:
    _header(tracking, console)
    console.print(Text(verdict(tracking), style="bold"))
    gone = withdrawn_sentence(tracking)
    if gone:
        console.print(Text(inert(gone)))
    if not tracking.still_rejected:
        return
    # A narrow terminal (80 columns) keeps who, why, how many deposits and the flag; the
    # refusal dates go first (they are in --sortie and JSON), the time left joins the deadline.
    wide = console.width >= WIDE_TABLE
    table = Table(
        title="Passages encore refusés, les plus urgents d'abord",
        title_justify="left",
        show_edge=wide,
    )
    table.add_column("Échéance", no_wrap=wide, min_width=10)
    if wide:
        table.add_column("Reste", justify="right", no_wrap=True)
    table.add_column("idTechnique", no_wrap=True)
    table.add_column("Titulaire", min_width=8, overflow="fold")
    table.add_column("Famille", min_width=10, overflow="fold")
    table.add_column("Dépôts", justify="right", no_wrap=True)
    if wide:
        table.add_column("1er refus", no_wrap=True)
        table.add_column("Dernier refus", no_wrap=True)
    styles = {"depassee": "bold red", "sous_30_jours": "yellow"}
    # The most urgent first: a terminal shows a few dozen; the rest go to --sortie or JSON.
    for p in tracking.still_rejected[:limit]:
        style = styles.get(p.urgency, "")
        due = _day(p.deadline) if p.deadline else URGENCY_LABEL[p.urgency]
        deposits = Text(str(p.rejected_deposits) + (" ⚑" if p.repeated else ""))
        if p.repeated:
            deposits.stylize("bold magenta")
        who = (Text(inert(p.idTechnique)), Text(inert(p.holder) or "—"))
        family = Text(inert(p.family_title))
        if wide:
            table.add_row(
                Text(due, style=style),
                Text(_days(p.days_left), style=style),
                *who,
                family,
                deposits,
                Text(_day(p.first_rejected)),
                Text(_day(p.last_rejected)),
            )
        else:
            left = _days(p.days_left)
            due_left = Text(due + ("\n" + left if left else ""), style=style)
            table.add_row(due_left, *who, family, deposits)
    console.print()
    console.print(table)
    hidden = len(tracking.still_rejected) - limit
    if hidden > 0:
        console.print(
            Text(
                f"… et {hidden} autre(s) passage(s) encore refusé(s) : --sortie suivi.xlsx ou "
                "--format json pour tout voir, --lignes pour en montrer plus.",
                style="dim",
            )
        )
    if not wide:
        console.print(
            Text(
                "Dates du 1er et du dernier refus : dans une fenêtre plus large, ou avec "
                "--sortie suivi.xlsx.",
                style="dim",
            )
        )
    advice = repeated_sentence(tracking)
    if advice:
        console.print()
        console.print(Text("⚑ " + advice, style="magenta"))
    console.print()
    console.print(Text(DEADLINE_NOTE, style="dim"))


def render_receipts(tracking: Tracking, console: Console) -> None:
    _header(tracking, console)
    if not tracking.receipts:
        console.print(
            Text("Aucun accusé enregistré : chaque accuse analyse en ajoute un.", style="bold")
        )
        return
    table = Table(
        title="Accusés enregistrés, du plus ancien au plus récent (date de l'accusé)",
        title_justify="left",
    )
    table.add_column("Date", no_wrap=True)
    table.add_column("Accusé")
    table.add_column("Fichier déposé")
    table.add_column("Traitement")
    table.add_column("Acceptés", justify="right")
    table.add_column("Refusés", justify="right")
    suppressions = {p.receipt_id for p in tracking.withdrawn}
    for r in tracking.receipts:
        identity = r.idTraitement or r.idDemande or r.idFlux or ""
        refused = (
            Text(receipt_kind(r), style="red")
            if r.shape == "rejet_fichier"
            else Text(str(r.rejected_count))
        )
        if r.id in suppressions:
            identity = f"{identity} ({receipt_kind(r, suppression=True)})"
        table.add_row(
            _day(receipt_date(r)),
            Text(inert(r.receipt_name)),
            Text(inert(r.nomFichier or "—")),
            Text(inert(identity)),
            str(r.accepted_count),
            refused,
        )
    console.print()
    console.print(table)
