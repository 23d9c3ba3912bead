"""`accuse verifier`: what the portal would refuse in a file, before it is deposited."""

from __future__ import annotations

import sys
from enum import StrEnum
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
    OutputFormat,
    guarded,
    progress_bar,
)
from accuse.cli.suivi import HistoriqueOption
from accuse.render.jsontext import dumps
from accuse.text import inert

SOURCE_HELP = (
    "Le fichier à vérifier : flux XML prêt à déposer, classeur (.xlsx, .xls, .ods, y compris "
    "le modèle Excel officiel v1.4) ou .csv."
)


class SchemaVersion(StrEnum):
    """--schema: the XSD versions accuse knows (the newest is the default)."""

    v112 = "1.1.2"
    v115 = "1.1.5"


def schema_choice(value: SchemaVersion | None) -> str | None:
    """The chosen version, refused in French when its XSD is not shipped."""
    if value is None:
        return None
    from accuse.errors import InputError
    from accuse.fix.xsdcheck import available_versions

    if value.value not in available_versions():
        raise InputError(
            f"le schéma XSD {value.value} n'est pas fourni avec cette version d'accuse "
            f"(disponibles : {', '.join(available_versions())})."
        )
    return value.value


SchemaOption = Annotated[
    SchemaVersion | None,
    typer.Option(
        "--schema",
        help=(
            "Version du schéma XSD de la Caisse des Dépôts à respecter. Par défaut : celle du "
            "flux vérifié, ou la plus récente fournie pour un classeur ou un csv."
        ),
        show_default=False,
    ),
]
SansHistoriqueVerif = Annotated[
    bool,
    typer.Option(
        "--sans-historique",
        help="Ne consulte pas l'historique (passages déjà acceptés lors de dépôts précédents).",
    ),
]


def verifier_command(
    source: Annotated[Path, typer.Argument(help=SOURCE_HELP, show_default=False)],
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="texte : résumé lisible ; json : tous les problèmes."),
    ] = OutputFormat.texte,
    schema: SchemaOption = None,
    feuille: FeuilleOption = None,
    colonne_id: ColonneIdOption = None,
    lignes: Annotated[
        int,
        typer.Option("--lignes", min=1, help="Nombre de problèmes montrés (texte)."),
    ] = 20,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Dossier où écrire le rapport verification.html. Par défaut : « accuse-<nom du "
                "fichier> » dans le dossier courant ; créé s'il n'existe pas."
            ),
        ),
    ] = None,
    sans_sortie: Annotated[
        bool, typer.Option("--sans-sortie", help="N'écrit aucun fichier : affichage seulement.")
    ] = False,
    catalogue: CatalogueOption = None,
    historique: HistoriqueOption = None,
    sans_historique: SansHistoriqueVerif = False,
    debug: DebugOption = False,
) -> None:
    """Vérifie un fichier avant de le déposer : ce que le portail refuserait (structure XSD,
    valeurs champ par champ, règles de gestion, passages déjà acceptés) et ce qui risque de
    faire échouer la recherche du titulaire (à vérifier, peut-être juste).

    Code de sortie : 0 si rien n'est bloquant (des risques peuvent rester), 1 si quelque chose
    est bloquant, 2 si le fichier est inutilisable.
    """

    def run() -> int:
        from accuse.fix.verify import verify
        from accuse.output import prepare_folder
        from accuse.reference.catalogue import load_catalogue
        from accuse.render.outputs import default_output_folder
        from accuse.render.verification import document, render, write_page

        loaded = load_catalogue(catalogue)
        result = verify(
            source,
            catalogue=loaded,
            schema=schema_choice(schema),
            sheet=feuille,
            id_column=colonne_id,
            use_history=not sans_historique,
            history=historique,
            progress=progress_bar(),
        )
        written: list[Path] = []
        if not sans_sortie:
            folder = prepare_folder(sortie or default_output_folder(source), [source])
            written.append(write_page(result, loaded, folder / "verification.html", [source]))
        if format is OutputFormat.json:
            sys.stdout.write(dumps(document(result)))
        else:
            console = Console(highlight=False)
            render(result, console, rows=lignes)
            for path in written:
                console.print(Text(f"Écrit : {inert(path, one_line=True)}", style="green"))
        return EXIT_REJECTED if result.bloquants else EXIT_OK

    guarded(debug, run)
