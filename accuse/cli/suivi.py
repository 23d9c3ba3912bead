"""`accuse suivi` and the history note of `accuse analyse`.

Registered by cli.py; imports from it only at run time (cli.py imports this module), and
imports the pipeline lazily so that `accuse --help` stays quick.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import DebugOption, OutputFormat, guarded, stderr_console

if TYPE_CHECKING:
    from accuse.history.store import Location
    from accuse.pipeline.analysis import Analysis

HISTORIQUE_HELP = (
    "Où est l'historique des accusés : un chemin de fichier (SQLite) ou une adresse "
    "postgresql://utilisateur@serveur/base pour un historique partagé. Par défaut : la "
    "variable ACCUSE_HISTORIQUE, sinon historique.sqlite dans le dossier de données de "
    "l'utilisateur (~/.local/share/accuse sous Linux, %LOCALAPPDATA%\\accuse sous Windows, "
    "~/Library/Application Support/accuse sous macOS)."
)

HistoriqueOption = Annotated[
    str | None,
    typer.Option("--historique", metavar="CHEMIN|URL", help=HISTORIQUE_HELP, show_default=False),
]
SansHistoriqueOption = Annotated[
    bool,
    typer.Option(
        "--sans-historique",
        help="N'enregistre pas cet accusé dans l'historique (voir accuse suivi).",
    ),
]


def record_analysis(
    analysis: Analysis,
    historique: str | None,
    sans_historique: bool,
    ready: Callable[[], bool] | None = None,
) -> str:
    """Record a successful analysis; one French line for the user. A history that cannot be
    written never spoils the analysis itself: the line then says why it was not recorded.
    ``ready``: see history.store.record (asked before the commit)."""
    if sans_historique:
        return "Historique : accusé non enregistré (--sans-historique)."
    from accuse.errors import InputError
    from accuse.history.store import RecordWithdrawn, record
    from accuse.text import inert, plural

    try:
        outcome = record(analysis, historique, ready=ready)
    except RecordWithdrawn:
        return "Historique non mis à jour : les fichiers de sortie n'ont pas pu être écrits."
    except InputError as error:
        # The path (ACCUSE_HISTORIQUE) and a server's words are outside text.
        return f"Historique non mis à jour : {inert(error.render(), one_line=True)}"
    except Exception:  # a damaged history must never spoil the analysis already done
        return (
            "Historique non mis à jour : erreur inattendue en l'écrivant (l'analyse, elle, est "
            "complète). Vérifiez l'historique avec « accuse suivi »."
        )
    where = inert(outcome.location, one_line=True)
    if not outcome.new:
        when = outcome.recorded_at.strftime("%d/%m/%Y à %H:%M")
        added = (
            f" Les données de votre fichier source y ont été ajoutées pour "
            f"{plural(outcome.completed, 'passage refusé', 'passages refusés')}."
            if outcome.completed
            else ""
        )
        return (
            f"Historique : cet accusé y figure déjà (enregistré le {when}) ; il n'est pas "
            f"compté deux fois.{added} ({where})"
        )
    if analysis.receipt.shape == "rejet_fichier":
        counts = "fichier entier refusé"
    else:
        counts = f"{plural(outcome.rejected, 'refusé')}, {plural(outcome.accepted, 'accepté')}"
    unknown = sum(1 for r in analysis.rejected if r.code == "MESSAGE_INCONNU")
    harvest = (
        f" {plural(unknown, 'passage refusé', 'passages refusés')} par un message que le "
        "catalogue ne connaît pas encore : accuse catalogue --inconnus aide à l'y ajouter."
        if unknown
        else ""
    )
    return f"Historique : accusé enregistré ({counts}) dans {where}. Voir accuse suivi.{harvest}"


def note_earlier_refusals(
    analysis: Analysis, historique: str | None, sans_historique: bool
) -> None:
    """What the history already knows of this receipt's rejected passages (refused at earlier
    deposits, their deadline), for the report and the summary. A history that cannot be read
    never spoils the analysis: it then simply tells nothing."""
    if sans_historique:
        return
    from accuse.errors import InputError
    from accuse.history.store import load_events, recorded_id, resolve_location
    from accuse.history.tracking import earlier_refusals_in

    try:
        location = resolve_location(historique)
        # Only the rejections of the passages this receipt rejects: a year of monthly
        # receipts holds tens of thousands of others that this analysis does not mention.
        wanted = [r.idTechnique for r in analysis.rejected if r.fixable]
        history = load_events(location, rejections_only=True, among=wanted)
        if not history.receipts:
            return
        same = recorded_id(location, analysis.receipt.path)
        analysis.earlier = earlier_refusals_in(history, analysis, same)
    except InputError:
        return


def suivi_command(
    historique: HistoriqueOption = None,
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="texte : tableau lisible ; json : document complet."),
    ] = OutputFormat.texte,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Écrit aussi le suivi dans ce classeur Excel (ex. suivi.xlsx) : passages encore "
                "refusés, passages résolus, accusés enregistrés. Avec --stats : une page HTML "
                "avec les graphiques (ex. statistiques.html)."
            ),
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    recus: Annotated[
        bool,
        typer.Option(
            "--recus", help="Liste les accusés enregistrés (date, fichier, nombres de passages)."
        ),
    ] = False,
    stats: Annotated[
        bool,
        typer.Option(
            "--stats",
            help=(
                "Taux de refus par dépôt, par famille de refus et par certification, et leur "
                "tendance d'un dépôt à l'autre."
            ),
        ),
    ] = False,
    lignes: Annotated[
        int,
        typer.Option(
            "--lignes",
            min=1,
            help="Nombre de passages montrés (texte) ; tous sont dans --sortie et --format json.",
        ),
    ] = 50,
    oublier: Annotated[
        str | None,
        typer.Option(
            "--oublier",
            metavar="ACCUSÉ",
            help=(
                "Retire un accusé de l'historique (par exemple celui de l'essai) : le fichier "
                "de l'accusé, ou son nom, son idTraitement ou son idDemande tels que les "
                "montre --recus. Une confirmation est demandée."
            ),
            show_default=False,
        ),
    ] = None,
    oui: Annotated[
        bool,
        typer.Option("--oui", help="Avec --oublier : ne demande pas de confirmation."),
    ] = False,
    importer: Annotated[
        list[Path] | None,
        typer.Option(
            "--importer",
            metavar="DOSSIER|ACCUSÉ",
            help=(
                "Enregistre d'abord dans l'historique les accusés de ce dossier (ou ces "
                "fichiers), du plus ancien au plus récent : par exemple ceux téléchargés depuis "
                "des mois. Une ligne par accusé, puis un bilan. Peut être répété."
            ),
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            "-s",
            help=(
                "Avec --importer : le fichier d'où viennent les passages (classeur, csv ou "
                "flux), pour connaître titulaires et échéances."
            ),
            show_default=False,
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Suivi des dépôts : les passages encore refusés d'un accusé à l'autre, depuis quand, et
    l'échéance légale (date de début de validité + 3 mois), les plus urgents d'abord.

    L'historique se remplit à chaque accuse analyse ; --oublier en retire un accusé. Code de
    sortie : 0, 1 si vous n'avez pas confirmé --oublier, 2 si l'historique est inutilisable.
    """

    def run() -> int:
        from accuse.history.tracking import track
        from accuse.render.jsontext import dumps
        from accuse.render.suivi import (
            build_document,
            received_document,
            render,
            render_receipts,
            write_workbook,
        )
        from accuse.text import inert

        # Plain tracking (text or JSON) is given the history as typed: track() reads a SQLite
        # file without loading the database layer, which the other uses resolve it for.
        location: Location | None = None
        if stats or oublier is not None or importer or sortie is not None:
            from accuse.history.store import resolve_location

            location = resolve_location(historique)
        if stats and location is not None:
            return _statistics(location, sortie, format)
        if oublier is not None and location is not None:
            return forget_receipt(location, oublier, oui)
        if importer and location is not None:
            import_receipts(location, importer, source, quiet=format is OutputFormat.json)
        tracking = track(location if location is not None else historique)
        written: Path | None = None
        if sortie is not None:
            if sortie.suffix.lower() != ".xlsx":
                from accuse.errors import InputError

                raise InputError(
                    "--sortie attend un classeur .xlsx (ex. suivi.xlsx), ou une page .html "
                    "avec --stats.",
                    sortie,
                )
            inputs = [location.path] if location is not None and location.path else []
            write_workbook(tracking, sortie, inputs)
            written = sortie
        if format is OutputFormat.json:
            document = received_document(tracking) if recus else build_document(tracking)
            if written is not None:
                document["fichiers_ecrits"] = [str(written)]
            sys.stdout.write(dumps(document))
            return 0
        console = Console(highlight=False)
        if recus:
            render_receipts(tracking, console)
        else:
            render(tracking, console, lignes)
        if written is not None:
            console.print()
            console.print(Text(f"Écrit : {inert(written, one_line=True)}", style="green"))
        return 0

    guarded(debug, run)


def _statistics(location: Location, sortie: Path | None, format: OutputFormat) -> int:
    """`accuse suivi --stats`: the rates computed with pandas (loaded on this path only)."""
    from accuse.history.stats import compute_stats
    from accuse.history.store import load
    from accuse.render.jsontext import dumps
    from accuse.render.statistics import build_document, render, write_page
    from accuse.text import inert

    if sortie is not None and sortie.suffix.lower() not in (".html", ".htm"):
        from accuse.errors import InputError

        raise InputError(
            "avec --stats, --sortie attend une page .html (ex. statistiques.html).", sortie
        )
    computed = compute_stats(load(location))
    if sortie is not None:
        write_page(computed, sortie, [location.path] if location.path is not None else [])
    if format is OutputFormat.json:
        document = build_document(computed)
        if sortie is not None:
            document["fichiers_ecrits"] = [str(sortie)]
        sys.stdout.write(dumps(document))
        return 0
    console = Console(highlight=False)
    render(computed, console)
    if sortie is not None:
        console.print()
        console.print(Text(f"Écrit : {inert(sortie)}", style="green"))
    return 0


def import_receipts(
    location: Location, given: list[Path], source: Path | None, *, quiet: bool
) -> None:
    """`accuse suivi --importer`: receipts recorded oldest first, one line each, then a
    summary. A file that is not a usable receipt is named and skipped."""
    from accuse.errors import InputError
    from accuse.history.store import record
    from accuse.pipeline.analysis import analyse
    from accuse.read.receipt import name_date, receipts_in
    from accuse.reference.catalogue import load_catalogue
    from accuse.text import inert, plural

    console = stderr_console() if quiet else Console(highlight=False)
    catalogue = load_catalogue()
    added = known = skipped = 0
    for path in receipts_in(given):
        day = name_date(path.name)
        when = f" ({day:%d/%m/%Y})" if day else ""
        try:
            analysis = analyse(path, source, catalogue=catalogue)
            outcome = record(analysis, location)
        except InputError as error:
            skipped += 1
            console.print(
                Text(f"{inert(path.name)}{when} : ignoré — {inert(error.message)}", style="red")
            )
            continue
        if outcome.new:
            added += 1
            counts = (
                "fichier entier refusé"
                if analysis.receipt.shape == "rejet_fichier"
                else f"{plural(outcome.rejected, 'refusé')}, {plural(outcome.accepted, 'accepté')}"
            )
            console.print(Text(f"{inert(path.name)}{when} : enregistré ({counts})"))
        else:
            known += 1
            console.print(Text(f"{inert(path.name)}{when} : déjà dans l'historique"))
    summary = f"Import : {plural(added, 'accusé enregistré', 'accusés enregistrés')}"
    if known:
        summary += f", {known} déjà présent{'s' if known > 1 else ''}"
    if skipped:
        summary += f", {plural(skipped, 'fichier ignoré', 'fichiers ignorés')}"
    console.print(Text(summary + ".", style="bold"))
    console.print()


def forget_receipt(location: Location, given: str, confirmed: bool) -> int:
    """`accuse suivi --oublier`: one receipt out of the history, after the user said yes."""
    from accuse.errors import InputError
    from accuse.history.store import find_receipts, forget
    from accuse.render.suivi import receipt_kind
    from accuse.text import inert, plural

    found = find_receipts(location, given)
    where = inert(location.display)
    if not found:
        raise InputError(
            f"aucun accusé « {inert(given)} » dans l'historique {where} ; "
            "accuse suivi --recus liste ceux qui y sont."
        )
    if len(found) > 1:
        raise InputError(
            f"{len(found)} accusés de l'historique s'appellent « {inert(given)} » ; "
            "donnez le fichier de l'accusé lui-même pour désigner le bon."
        )
    receipt = found[0]
    counts = (
        receipt_kind(receipt)
        if receipt.shape == "rejet_fichier"
        else f"{plural(receipt.rejected_count, 'refusé')}, "
        f"{plural(receipt.accepted_count, 'accepté')}"
    )
    described = (
        f"l'accusé « {inert(receipt.receipt_name)} » (analysé le "
        f"{receipt.analysed_at.strftime('%d/%m/%Y à %H:%M')}, {counts})"
    )
    console = Console(highlight=False)
    if not confirmed:
        console.print(Text(f"Retirer {described} de l'historique {where} ?"))
        console.print(Text("Tapez « oui » pour confirmer : ", style="bold"), end="")
        try:
            answer = input()
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("oui", "o"):
            console.print(Text("Rien n'a été retiré de l'historique."))
            return 1
    forget(location, receipt.id)
    console.print(Text(f"Retiré de l'historique : {described}. accuse suivi ne le compte plus."))
    return 0
