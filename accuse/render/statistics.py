"""What `accuse suivi --stats` shows: the rates in the terminal, the JSON document and the page
statistiques.html with its charts. Every number comes from accuse.history.stats; no pandas here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse.history.stats import GroupRate, ReceiptRate, Stats, direction
from accuse.output import atomic_target
from accuse.render.chart import BarChart, bar_chart, rate_chart
from accuse.render.html import asset, date_fr, environment, nombre
from accuse.text import inert, plural

FORMAT_VERSION = 1
UNKNOWN_CERTIFICATION = "inconnue (accusé analysé sans --source)"
DIRECTION_LABEL = {"hausse": "en hausse", "baisse": "en baisse", "stable": "stable"}
RATE_NOTE = (
    "Taux : refus rapportés aux passages déposés (acceptés et refusés) des accusés jugés passage "
    "par passage. Pour une certification, au total des passages déposés : l'historique ne garde "
    "la certification que des passages refusés. Tendance : évolution moyenne du taux d'un dépôt "
    "au suivant, en points."
)


def percent(value: float | None) -> str:
    """12,5 % (one decimal, French comma); — when unknown."""
    if value is None:
        return "—"
    text = f"{100 * value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0%"


def points(value: float | None) -> str:
    """+2,1 pts / −0,4 pt: a change of rate, in percentage points."""
    if value is None:
        return "—"
    amount = 100 * value
    text = f"{abs(amount):.1f}".replace(".", ",").removesuffix(",0")
    if text == "0":
        return "0 pt"
    sign = "+" if amount > 0 else "\u2212"
    return f"{sign}{text}\u00a0{'pt' if abs(amount) < 2 else 'pts'}"


def trend_text(trend: float | None, short: bool = False) -> str:
    """« en hausse (+2,1 pts par dépôt) », or in a table « hausse +2,1 pts »."""
    found = direction(trend)
    if found is None:
        return "—"
    if found == "stable":
        return "stable"
    if short:
        return f"{found} {points(trend)}"
    return f"{DIRECTION_LABEL[found]} ({points(trend)} par dépôt)"


def certification_label(group: GroupRate) -> str:
    return inert(group.label) if group.key else UNKNOWN_CERTIFICATION


def summary(stats: Stats) -> str:
    """One sentence: how many passages were refused, and which way it goes."""
    judged = stats.judged
    if not stats.receipts:
        return (
            "L'historique est vide : chaque `accuse analyse` y enregistre l'accusé analysé "
            "(sauf avec --sans-historique)."
        )
    if not judged:
        sentence = "Aucun accusé de l'historique ne juge les passages un par un : pas de taux."
    else:
        sentence = (
            f"Sur {plural(stats.deposited, 'passage déposé', 'passages déposés')} dans "
            f"{plural(len(judged), 'accusé')}, {nombre(stats.rejected)} "
            f"{'a été refusé' if stats.rejected < 2 else 'ont été refusés'} "
            f"({percent(stats.rate)})"
        )
        found = direction(stats.trend)
        if found is not None:
            sentence += f" ; taux {trend_text(stats.trend)}"
        sentence += "."
    if stats.whole_file:
        sentence += (
            f" {plural(stats.whole_file, 'accusé')} de rejet du fichier entier "
            f"({'non compté' if stats.whole_file == 1 else 'non comptés'} : aucun passage "
            "enregistré)."
        )
    return sentence


# --- JSON ---------------------------------------------------------------------------------


def _group_document(group: GroupRate, certification: bool) -> dict:
    return {
        "code": group.key or None,
        "libelle": group.label if not certification else (group.key or None),
        "refus": group.rejected,
        "part_des_refus": round(group.share, 6),
        "taux": round(group.rate, 6),
        "tendance": round(group.trend, 6) if group.trend is not None else None,
        "sens": direction(group.trend),
    }


def build_document(stats: Stats) -> dict:
    return {
        "format": FORMAT_VERSION,
        "historique": stats.location,
        "resume": summary(stats),
        "passages_deposes": stats.deposited,
        "refus": stats.rejected,
        "taux": round(stats.rate, 6) if stats.rate is not None else None,
        "tendance": round(stats.trend, 6) if stats.trend is not None else None,
        "sens": direction(stats.trend),
        "accuses_rejet_fichier": stats.whole_file,
        "par_accuse": [
            {
                "accuse": r.receipt_name,
                "date_accuse": r.received_on.isoformat(),
                "analyse_le": r.analysed_at.isoformat(timespec="seconds"),
                "rejet_fichier": r.whole_file,
                "passages_deposes": r.deposited,
                "refus": r.rejected,
                "taux": round(r.rate, 6) if r.rate is not None else None,
                "evolution": round(r.change, 6) if r.change is not None else None,
            }
            for r in stats.receipts
        ],
        "par_famille": [_group_document(g, False) for g in stats.families],
        "par_certification": [_group_document(g, True) for g in stats.certifications],
    }


# --- terminal -----------------------------------------------------------------------------


def _receipt_label(receipt: ReceiptRate) -> str:
    return f"{receipt.received_on:%d/%m/%Y} {inert(receipt.receipt_name)}"


def render(stats: Stats, console: Console) -> None:
    console.print(Text(f"Historique : {inert(stats.location)}", style="dim"))
    console.print(Text(summary(stats), style="bold"))
    if not stats.receipts:
        return
    table = Table(title="Taux de refus par dépôt", title_justify="left")
    table.add_column("Accusé du", no_wrap=True)  # the receipt's own date: the table's order
    table.add_column("Accusé")
    table.add_column("Déposés", justify="right")
    table.add_column("Refusés", justify="right")
    table.add_column("Taux", justify="right")
    table.add_column("Évolution", justify="right")
    for r in stats.receipts:
        if r.whole_file:
            rejected, rate = Text("fichier entier", style="red"), "—"
        else:
            rejected, rate = Text(str(r.rejected)), percent(r.rate)
        table.add_row(
            r.received_on.strftime("%d/%m/%Y"),
            Text(inert(r.receipt_name)),
            str(r.deposited) if not r.whole_file else "—",
            rejected,
            rate,
            points(r.change),
        )
    console.print()
    console.print(table)
    for title, groups, certification in (
        ("Par famille de refus", stats.families, False),
        ("Par certification", stats.certifications, True),
    ):
        if not groups:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("Certification" if certification else "Famille")
        table.add_column("Refus", justify="right")
        table.add_column("Part des refus", justify="right")
        table.add_column("Taux", justify="right")
        table.add_column("Tendance par dépôt", no_wrap=True)
        for g in groups:
            label = certification_label(g) if certification else inert(g.label)
            table.add_row(
                Text(label),
                str(g.rejected),
                percent(g.share),
                percent(g.rate),
                trend_text(g.trend, short=True),
            )
        console.print()
        console.print(table)
    console.print()
    console.print(Text(RATE_NOTE, style="dim"))


# --- page ---------------------------------------------------------------------------------


def _rate_chart(receipts: Sequence[ReceiptRate]) -> BarChart:
    """One bar per deposit judged passage by passage: its rejection rate."""
    return rate_chart(
        [
            (_receipt_label(r), r.rate, percent(r.rate))
            for r in receipts
            if not r.whole_file and r.rate is not None
        ]
    )


def render_page(stats: Stats) -> str:
    families = bar_chart([(inert(g.label), g.rejected, "", "familles") for g in stats.families])
    certifications = bar_chart(
        [(certification_label(g), g.rejected, "", "certifications") for g in stats.certifications]
    )
    return (
        environment()
        .get_template("statistiques.html.j2")
        .render(
            location=inert(stats.location),
            summary=summary(stats),
            receipts=[
                (
                    r.received_on.strftime("%d/%m/%Y"),
                    inert(r.receipt_name),
                    r.whole_file,
                    r.deposited,
                    r.rejected,
                    percent(r.rate),
                    points(r.change),
                )
                for r in stats.receipts
            ],
            rate_chart=_rate_chart(stats.receipts),
            families=[
                (
                    inert(g.label),
                    g.key,
                    g.rejected,
                    percent(g.share),
                    percent(g.rate),
                    trend_text(g.trend, short=True),
                )
                for g in stats.families
            ],
            family_chart=families,
            certifications=[
                (
                    certification_label(g),
                    g.rejected,
                    percent(g.share),
                    percent(g.rate),
                    trend_text(g.trend, short=True),
                )
                for g in stats.certifications
            ],
            certification_chart=certifications,
            note=RATE_NOTE,
            made=date_fr(stats.made_at),
            css=asset("rapport.css"),
        )
    )


def write_page(stats: Stats, path: Path, inputs: Sequence[Path] = ()) -> Path:
    """statistiques.html written atomically, never over one of ``inputs``."""
    page = render_page(stats)
    with atomic_target(Path(path), inputs) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return Path(path)
