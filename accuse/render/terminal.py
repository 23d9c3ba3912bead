"""The `accuse analyse` summary in the terminal (Rich). User data is always shown as Text,
never as markup, and made inert first."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from accuse.cells import cell_text
from accuse.pipeline.analysis import Analysis, RejectedRow
from accuse.pipeline.summary import REDEPOSER, columns_sentence, describe_source, totals, verdict
from accuse.reference.catalogue import CatalogueEntry
from accuse.text import inert

_NAME_FIELDS = ("nomNaissance", "prenom1")


def render(analysis: Analysis, console: Console, rows_per_family: int = 10) -> None:
    console.print(_identity(analysis))
    console.print(Text(verdict(analysis), style="bold"))
    console.print()
    console.print(_counts(analysis))
    if analysis.receipt.shape == "rejet_fichier":
        _file_errors(analysis, console)
    else:
        _families(analysis, console, rows_per_family)
    _unmatched(analysis, console)


def _identity(analysis: Analysis) -> Panel:
    receipt = analysis.receipt
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    kind = (
        "rejet du fichier entier (erreurs de structure)"
        if receipt.shape == "rejet_fichier"
        else "résultat passage par passage"
    )
    table.add_row("Accusé", Text(inert(receipt.path.name, one_line=True)))
    table.add_row("Type d'accusé", kind)
    for label, value in (
        ("Fichier déposé", receipt.nomFichier),
        ("idFlux", receipt.idFlux),
        ("idTraitement", receipt.idTraitement),
        ("idDemande", receipt.idDemande),
    ):
        if value:
            table.add_row(label, Text(inert(value)))
    source = analysis.source
    if source is not None:
        table.add_row("Source", Text(inert(describe_source(source), one_line=True)))
        columns = columns_sentence(source)
        if columns:
            table.add_row("Colonnes comprises", Text(inert(columns)))
    else:
        table.add_row("Source", "aucune (analyse de l'accusé seul : --source pour la donner)")
    return Panel(table, title="Accusé de traitement", title_align="left", expand=False)


def _counts(analysis: Analysis) -> Table:
    t = totals(analysis)
    table = Table(title="Chiffres", title_justify="left", show_header=False, box=None)
    table.add_column(style="dim")
    table.add_column(justify="right")
    if analysis.receipt.shape == "rejet_fichier":
        table.add_row("Erreurs de structure", str(t.erreurs_fichier))
    else:
        table.add_row("Passages acceptés", str(t.ok))
        table.add_row("Passages refusés", str(t.ko))
        table.add_row("  à corriger et redéposer", str(t.a_corriger))
        table.add_row("  déjà enregistrés (doublons)", str(t.deja_enregistres))
    if analysis.source is not None:
        if analysis.receipt.shape == "passages":
            table.add_row("Refus retrouvés dans la source", str(t.ko_rapproches))
            table.add_row("Refus introuvables dans la source", str(t.ko_introuvables))
            table.add_row("Lignes de la source absentes de l'accusé", str(t.absents_accuse))
        table.add_row("Lignes de la source", str(t.lignes_source))
        if t.doublons_source:
            table.add_row("Identifiants en double dans la source", str(t.doublons_source))
    return table


def _families(analysis: Analysis, console: Console, limit: int) -> None:
    families = analysis.families()
    if not families:
        return
    overview = Table(title="Refus par famille", title_justify="left")
    overview.add_column("Famille")
    overview.add_column("Code", style="dim")
    overview.add_column("Nombre", justify="right")
    overview.add_column("À redéposer ?")
    for entry, count in families:
        overview.add_row(entry.titre, entry.code, str(count), REDEPOSER.get(entry.redeposer, ""))
    console.print()
    console.print(overview)
    by_code: dict[str, list[RejectedRow]] = {}
    for row in analysis.rejected:
        by_code.setdefault(row.code, []).append(row)
    for entry, count in families:
        rows = by_code.get(entry.code, [])
        console.print()
        console.print(_family_panel(analysis, entry, count, rows[:limit]))
        if count > limit:
            console.print(
                Text(
                    f"… et {count - limit} autre(s) : --format json ou --sortie pour tout voir.",
                    style="dim",
                )
            )


def _family_panel(
    analysis: Analysis, entry: CatalogueEntry, count: int, rows: list[RejectedRow]
) -> Panel:
    parts: list = [Text(" ".join(entry.explication.split()))]
    steps = Text()
    for number, action in enumerate(entry.actions, start=1):
        steps.append(f"{number}. {action}\n")
    parts.append(steps)
    table = Table(expand=True)
    table.add_column("Ligne", justify="right", no_wrap=True)
    table.add_column("idTechnique", no_wrap=True)
    table.add_column("Titulaire")
    table.add_column("Constats")
    for row in rows:
        table.add_row(*_row_cells(analysis, row))
    parts.append(table)
    title = f"{entry.titre} — {count} passage(s)"
    return Panel(Group(*parts), title=Text(title), title_align="left")


def _row_cells(analysis: Analysis, row: RejectedRow) -> tuple[Text, Text, Text, Text]:
    if analysis.source is None:
        line = Text("—", style="dim")
    elif row.row is None:
        line = Text("introuvable", style="red")
    else:
        line = Text(str(row.row.position))
    holder = ""
    if row.row is not None and analysis.source is not None:
        holder = " ".join(
            cell_text(analysis.source.value(row.row, key)) for key in _NAME_FIELDS
        ).strip()
    notes = Text()
    hint = row.classification.hint
    if hint:
        notes.append(inert(hint) + "\n", style="dim")
    for finding in row.findings:
        notes.append("• " + inert(finding.message) + "\n")
    if not row.findings and row.code == "MESSAGE_INCONNU":
        notes.append("Message : " + inert(row.message))
    notes.rstrip()
    return line, Text(inert(row.idTechnique)), Text(inert(holder)), notes


def _file_errors(analysis: Analysis, console: Console) -> None:
    table = Table(title="Erreurs de structure, dans l'ordre du fichier", title_justify="left")
    table.add_column("Ligne", justify="right")
    table.add_column("Col.", justify="right")
    table.add_column("Famille")
    table.add_column("Détail")
    table.add_column("Passage")
    for item in analysis.file_errors:
        error = item.error
        detail = item.classification.hint or error.message
        passage = Text(inert(item.idTechnique)) if item.idTechnique else Text("—", style="dim")
        table.add_row(
            str(error.ligne or ""),
            str(error.colonne or ""),
            item.classification.entry.titre,
            Text(inert(detail)),
            passage,
        )
    console.print()
    console.print(table)
    console.print(
        Text(
            "Le portail ne signale en général que les 100 premières erreurs : d'autres peuvent "
            "apparaître au dépôt suivant, une fois celles-ci corrigées.",
            style="dim",
        )
    )
    for entry, count in analysis.families():
        console.print()
        steps = Text()
        for number, action in enumerate(entry.actions, start=1):
            steps.append(f"{number}. {action}\n")
        console.print(
            Panel(
                Group(Text(" ".join(entry.explication.split())), steps),
                title=Text(f"{entry.titre} — {count} erreur(s)"),
                title_align="left",
            )
        )


def _unmatched(analysis: Analysis, console: Console) -> None:
    if analysis.source is None:
        return
    if analysis.unmatched_ids:
        shown = ", ".join(inert(i) for i in analysis.unmatched_ids[:20])
        more = "…" if len(analysis.unmatched_ids) > 20 else ""
        console.print()
        console.print(
            Text(
                f"Refus introuvables dans la source ({len(analysis.unmatched_ids)}) : "
                f"{shown}{more}",
                style="yellow",
            )
        )
    if analysis.absent:
        shown = ", ".join(f"ligne {p} ({inert(i)})" for p, i in analysis.absent[:10])
        more = "…" if len(analysis.absent) > 10 else ""
        console.print()
        console.print(
            Text(
                f"Lignes de la source absentes de l'accusé ({len(analysis.absent)}) : "
                f"{shown}{more}. Elles n'ont peut-être pas été déposées.",
                style="yellow",
            )
        )
    if analysis.duplicates:
        shown = ", ".join(
            f"{inert(i)} (lignes {', '.join(map(str, p))})"
            for i, p in list(analysis.duplicates.items())[:10]
        )
        console.print()
        console.print(
            Text(f"Identifiants présents plusieurs fois dans la source : {shown}", style="yellow")
        )
