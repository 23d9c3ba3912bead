"""`accuse analyse`: read a receipt, join it to the source, explain, write the outputs."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_REJECTED,
    CatalogueOption,
    ColonneIdOption,
    DebugOption,
    FeuilleOption,
    OutputFormat,
    guarded,
    progress_bar,
    stderr_console,
)
from accuse.cli.suivi import (
    HistoriqueOption,
    SansHistoriqueOption,
    note_earlier_refusals,
    record_analysis,
)
from accuse.render.jsontext import dumps
from accuse.text import inert

if TYPE_CHECKING:
    from accuse.pipeline.analysis import Analysis


def analyse_command(
    recus: Annotated[
        list[Path],
        typer.Argument(
            help=(
                "L'accusé de traitement (XML) reçu de la Caisse des Dépôts ; ou plusieurs, ou un "
                "dossier d'accusés, tous pour la même source : chacun est analysé à son tour, du "
                "plus ancien au plus récent, dans son propre dossier de sortie."
            ),
            show_default=False,
            metavar="ACCUSÉ",
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            "-s",
            help=(
                "Le fichier que vous avez déposé ou dont il est tiré : classeur (.xlsx, .xls, "
                ".ods, y compris le modèle Excel officiel v1.4), .csv, ou le flux XML déposé. "
                "Sans lui, l'analyse porte sur l'accusé seul."
            ),
        ),
    ] = None,
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="texte : résumé lisible ; json : document complet."),
    ] = OutputFormat.texte,
    colonne_id: ColonneIdOption = None,
    feuille: FeuilleOption = None,
    lignes: Annotated[
        int,
        typer.Option("--lignes", min=1, help="Nombre de refus montrés par famille (texte)."),
    ] = 10,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Dossier où écrire la feuille de corrections (corrections.xlsx) et le rapport "
                "(rapport.html). Par défaut, dans le dossier courant : « accuse-<fichier "
                "déposé>-<date de l'accusé> » pour un accusé nommé par le portail, sinon "
                "« accuse-<nom de l'accusé> » ; créé s'il n'existe pas ; vos fichiers d'entrée "
                "ne sont jamais modifiés."
            ),
        ),
    ] = None,
    sans_sortie: Annotated[
        bool,
        typer.Option("--sans-sortie", help="N'écrit aucun fichier : affichage seulement."),
    ] = False,
    nir_en_clair: Annotated[
        bool,
        typer.Option(
            "--nir-en-clair",
            help=(
                "json : donne le NIR en clair dans les valeurs des lignes (masqué par défaut, "
                "comme partout ailleurs)."
            ),
        ),
    ] = False,
    forcer: Annotated[
        bool,
        typer.Option(
            "--forcer",
            help=(
                "Analyse même si la source ne semble pas être le fichier de cet accusé (aucun "
                "de ses passages n'y figure, ou un autre idFlux)."
            ),
        ),
    ] = False,
    catalogue: CatalogueOption = None,
    historique: HistoriqueOption = None,
    sans_historique: SansHistoriqueOption = False,
    debug: DebugOption = False,
) -> None:
    """Analyse un accusé de traitement : combien de passages acceptés et refusés, pourquoi, et
    à quelle ligne de votre fichier se trouve chaque refus.

    Code de sortie : 0 si rien n'est refusé, 1 si des passages (ou le fichier) sont refusés,
    2 si un fichier donné est inutilisable.
    """

    def check_history() -> None:
        """A mistyped history address is told before the source is read. Done while the
        sheet loads: the history's modules (SQLAlchemy) take a few tenths of a second to
        import, which the report's child then has at hand to record the receipt."""
        from accuse.history.store import resolve_location

        resolve_location(historique)

    def single(recu: Path) -> int:
        from accuse.pipeline.analysis import analyse
        from accuse.reference.catalogue import load_catalogue

        result = analyse(
            recu,
            source,
            sheet=feuille,
            id_column=colonne_id,
            catalogue=load_catalogue(catalogue),
            progress=progress_bar(),
            force=forcer,
            meanwhile=None if sans_historique else check_history,
        )
        note_earlier_refusals(result, historique, sans_historique)
        written: list[Path] = []
        kept: list[str] = []  # what was done to keep the user's earlier work
        note: str | None = None
        if not sans_sortie:
            # Imported only to write: the worksheet, report and earlier-work modules (xlsxwriter,
            # Jinja2, the re-export) cost a few hundred milliseconds of start-up.
            from accuse.render.outputs import analysis_output_folder, write_outputs_then

            # The history is recorded beside the worksheet, in the child writing the report.
            written, note = write_outputs_then(
                result,
                sortie or analysis_output_folder(result),
                kept,
                then=partial(record_analysis, result, historique, sans_historique),
            )
        if note is None:
            note = record_analysis(result, historique, sans_historique)
        if format is OutputFormat.json:
            from accuse.render.jsondoc import build

            document = build(result, nir_in_clear=nir_en_clair)
            document["fichiers_ecrits"] = [str(path) for path in written]
            sys.stdout.write(dumps(document))
            for line in kept:
                stderr_console().print(Text(inert(line), style="bold yellow"))
            stderr_console().print(Text(note, style="dim"))
        else:
            from accuse.render.terminal import render

            console = Console(highlight=False)
            render(result, console, rows_per_family=lignes)
            if written:
                console.print()
                for path in written:
                    console.print(Text(f"Écrit : {inert(path, one_line=True)}", style="green"))
                for line in kept:
                    console.print(Text(inert(line), style="bold yellow"))
            console.print(Text(note, style="dim"))
            from accuse.pipeline.summary import earlier_sentence, next_step

            earlier = earlier_sentence(result)
            if earlier:
                console.print(Text(earlier, style="magenta"))
            worksheet = next((p for p in written if p.suffix == ".xlsx"), None)
            step = next_step(result, inert(worksheet) if worksheet is not None else None)
            if step:
                console.print()
                # Never wrapped: the command must stay whole to be copied.
                console.print(Text(step, style="bold"), soft_wrap=True)
        return EXIT_REJECTED if result.has_rejections else EXIT_OK

    def batch(receipts: list[Path]) -> int:
        from accuse.errors import InputError
        from accuse.pipeline.analysis import analyse
        from accuse.pipeline.summary import batch_line, batch_summary
        from accuse.reference.catalogue import load_catalogue
        from accuse.render.outputs import analysis_output_folder, write_outputs_then

        loaded = load_catalogue(catalogue)
        console = Console(highlight=False)
        documents: list[dict[str, object]] = []
        done: list[Analysis] = []
        failed = 0
        for path in receipts:
            try:
                result = analyse(
                    path,
                    source,
                    sheet=feuille,
                    id_column=colonne_id,
                    catalogue=loaded,
                    force=forcer,
                )
                note_earlier_refusals(result, historique, sans_historique)
                written: list[Path] = []
                kept: list[str] = []
                note: str | None = None
                if not sans_sortie:
                    folder = analysis_output_folder(result)
                    folder = sortie / folder.name if sortie is not None else folder
                    written, note = write_outputs_then(
                        result,
                        folder,
                        kept,
                        then=partial(record_analysis, result, historique, sans_historique),
                    )
                if note is None:
                    record_analysis(result, historique, sans_historique)
            except InputError as error:
                failed += 1
                (stderr_console() if format is OutputFormat.json else console).print(
                    Text(f"{inert(path.name)} : ignoré — {inert(error.message)}", style="red")
                )
                continue
            done.append(result)
            if format is OutputFormat.json:
                from accuse.render.jsondoc import build

                document = build(result)
                document["fichiers_ecrits"] = [str(p) for p in written]
                documents.append(document)
                continue
            where = f" → {inert(written[0].parent)}" if written else ""
            console.print(Text(inert(batch_line(result)) + where))
            for line in kept:
                console.print(Text("  " + inert(line), style="yellow"))
        if format is OutputFormat.json:
            sys.stdout.write(dumps(documents))
        else:
            console.print()
            console.print(Text(batch_summary(done, failed), style="bold"), soft_wrap=True)
        if failed:
            return EXIT_INPUT
        return EXIT_REJECTED if any(r.has_rejections for r in done) else EXIT_OK

    def run() -> int:
        from accuse.read.receipt import receipts_in

        receipts = receipts_in(recus)
        if len(receipts) == 1 and not recus[0].is_dir():
            return single(receipts[0])
        return batch(receipts)

    guarded(debug, run)
