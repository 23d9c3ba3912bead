"""`accuse generer`: the deposit flux from a spreadsheet or csv, verified before it is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    CatalogueOption,
    ColonneIdOption,
    DebugOption,
    FeuilleOption,
    IdClientCertificateurOption,
    IdClientOption,
    IdContratOption,
    OutputFormat,
    guarded,
    progress_bar,
)
from accuse.cli.suivi import HistoriqueOption
from accuse.cli.verifier import (
    SchemaVersion,
    schema_choice,
)
from accuse.render.jsontext import dumps


def generer_command(
    source: Annotated[
        Path,
        typer.Argument(
            help=(
                "Le classeur (.xlsx, .xls, .ods, plat ou modèle Excel officiel v1.4) ou le .csv "
                "des passages à déposer."
            ),
            show_default=False,
        ),
    ],
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Nom du flux à écrire. Par défaut : « <nom de la source>-flux.xml » à côté de la "
                "source ; au-delà des limites du portail, -1, -2… sont ajoutés au nom."
            ),
            dir_okay=False,
        ),
    ] = None,
    schema: Annotated[
        SchemaVersion | None,
        typer.Option(
            "--schema",
            help=(
                "Version du schéma XSD du flux écrit. Par défaut : 1.1.5 dès qu'un passage est "
                "identifié par son NIR, sinon 1.1.2 (que le 1.1.5 accepte aussi)."
            ),
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="texte : bilan lisible ; json : bilan en un document JSON."
        ),
    ] = OutputFormat.texte,
    forcer: Annotated[
        bool,
        typer.Option(
            "--forcer",
            help="Écrit le flux même si la vérification trouve des problèmes bloquants.",
        ),
    ] = False,
    remplacer: Annotated[
        bool,
        typer.Option("--remplacer", help="Remplace un flux de même nom déjà présent."),
    ] = False,
    id_client: IdClientOption = None,
    id_client_certificateur: IdClientCertificateurOption = None,
    id_contrat: IdContratOption = None,
    feuille: FeuilleOption = None,
    colonne_id: ColonneIdOption = None,
    catalogue: CatalogueOption = None,
    historique: HistoriqueOption = None,
    sans_historique: Annotated[
        bool,
        typer.Option(
            "--sans-historique",
            help="Ne consulte pas l'historique : aucun passage déjà accepté n'est écarté.",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Écrit le flux XML de dépôt à partir d'un classeur ou d'un csv : chaque ligne est d'abord
    vérifiée (comme accuse verifier) ; les passages déjà acceptés lors d'un dépôt précédent sont
    écartés ; un fichier trop grand pour le portail est réparti sur plusieurs flux.

    Les codes émetteur, certificateur et contrat viennent des options, sinon de la source, sinon
    des codes retenus lors d'un précédent accuse generer.

    Code de sortie : 0 si le flux est écrit, 1 si des problèmes bloquants l'empêchent (rien
    n'est écrit), 2 si la source est inutilisable.
    """

    def run() -> int:
        from accuse.fix.generate import config_path, generate
        from accuse.reference.catalogue import load_catalogue
        from accuse.render.verification import document, render
        from accuse.text import inert

        result = generate(
            source,
            catalogue=load_catalogue(catalogue),
            schema=schema_choice(schema),
            target=sortie,
            ids={
                "idClientEmetteur": id_client or "",
                "idClientCertificateur": id_client_certificateur or "",
                "idContrat": id_contrat or "",
            },
            force=forcer,
            replace=remplacer,
            use_history=not sans_historique,
            history=historique,
            config=config_path(),
            sheet=feuille,
            id_column=colonne_id,
            progress=progress_bar(),
        )
        if format is OutputFormat.json:
            doc = {
                "verification": document(result.verification),
                "schema": result.schema,
                "fichiers": [
                    {"chemin": str(path), "passages": count} for path, count in result.written
                ],
                "ecartes": [{"ligne": r, "idTechnique": i} for r, i in result.left_out],
            }
            sys.stdout.write(dumps(doc))
            return EXIT_REJECTED if result.blocked else EXIT_OK
        console = Console(highlight=False)
        if result.blocked:
            render(result.verification, console)
            console.print(
                Text(
                    "Rien n'a été écrit : corrigez les problèmes bloquants, puis relancez "
                    "(ou ajoutez --forcer pour écrire quand même un flux que le portail "
                    "refuserait).",
                    style="bold red",
                )
            )
            return EXIT_REJECTED
        for problem in result.forced[:20]:
            where = f"ligne {problem.ligne}" if problem.ligne is not None else "fichier"
            console.print(Text(f"Attention (--forcer), {where} : {inert(problem.message)}"))
        risks = len(result.verification.risques)
        if risks:
            console.print(
                Text(
                    f"{risks} risque(s) à vérifier : lancez accuse verifier pour les voir.",
                    style="yellow",
                )
            )
        if result.left_out:
            shown = ", ".join(f"ligne {r} ({inert(i)})" for r, i in result.left_out[:20])
            more = " …" if len(result.left_out) > 20 else ""
            console.print(
                Text(
                    f"Déjà acceptés lors d'un dépôt précédent, laissés de côté "
                    f"({len(result.left_out)}) : {shown}{more}."
                )
            )
        if not result.written:
            console.print(Text("Aucun passage à déposer : rien n'a été écrit.", style="yellow"))
            return EXIT_OK
        for path in result.replaced:
            shown = inert(path, one_line=True)
            console.print(Text(f"Remplacé (--remplacer) : {shown}", style="yellow"))
        for path, count in result.written:
            console.print(
                Text(
                    f"Écrit : {inert(path, one_line=True)} ({count} passage(s), "
                    f"schéma {result.schema})",
                    style="green",
                )
            )
        if len(result.written) > 1:
            console.print(
                Text(
                    "Le fichier dépassait les limites du portail (200 Mo, 200 000 passages) : "
                    "déposez chacun de ces flux."
                )
            )
        if result.remembered:
            console.print(
                Text(
                    f"Codes émetteur, certificateur et contrat retenus pour la prochaine fois "
                    f"dans {result.remembered}.",
                    style="dim",
                )
            )
        if result.verification.history:
            console.print(Text(inert(result.verification.history), style="dim"))
        return EXIT_OK

    guarded(debug, run)
