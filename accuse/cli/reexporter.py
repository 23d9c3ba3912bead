"""`accuse reexporter`: the corrected rows only, in the source's layout or as a flux."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    DebugOption,
    guarded,
)
from accuse.cli.suivi import HistoriqueOption
from accuse.model import SchemaVersion
from accuse.text import inert


class SchemaChoice(StrEnum):
    v112 = "1.1.2"
    v115 = "1.1.5"


_VERSIONS: dict[SchemaChoice, SchemaVersion] = {
    SchemaChoice.v112: "1.1.2",
    SchemaChoice.v115: "1.1.5",
}


class ReexportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    xml = "xml"


def reexporter_command(
    feuille: Annotated[
        Path,
        typer.Argument(
            help="La feuille de corrections (corrections.xlsx) écrite par « accuse analyse ».",
            show_default=False,
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            "-s",
            help=(
                "Le fichier source d'origine, s'il n'est plus à l'emplacement où l'analyse l'a "
                "lu (il sert à vérifier qu'il n'a pas changé et, pour le modèle Excel v1.4, à "
                "reprendre son en-tête)."
            ),
        ),
    ] = None,
    format: Annotated[
        ReexportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help=(
                "xlsx ou csv : la disposition de votre source (mêmes colonnes, même en-tête) ; "
                "xml : un nouveau flux de dépôt conforme au XSD officiel. Par défaut : le type "
                "de la source (classeur → xlsx, csv → csv, flux → xml)."
            ),
        ),
    ] = None,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Fichier à écrire. Par défaut : à côté de la feuille, "
                "« <feuille>-reexport.xlsx|csv|xml ». Un fichier d'entrée n'est jamais écrasé."
            ),
        ),
    ] = None,
    forcer: Annotated[
        bool,
        typer.Option(
            "--forcer",
            help=(
                "Écrit même si des valeurs seraient refusées par la Caisse des Dépôts ou si le "
                "fichier source a changé depuis l'analyse."
            ),
        ),
    ] = False,
    id_client: Annotated[
        str | None,
        typer.Option(
            "--id-client",
            help="XML : code BCR de l'émetteur (8 caractères), s'il n'est pas dans la source.",
        ),
    ] = None,
    id_client_certificateur: Annotated[
        str | None,
        typer.Option(
            "--id-client-certificateur",
            help="XML : code BCR du certificateur (8 caractères), s'il n'est pas dans la source.",
        ),
    ] = None,
    id_contrat: Annotated[
        str | None,
        typer.Option(
            "--id-contrat",
            help="XML : identifiant du contrat (1 à 20 caractères), s'il n'est pas dans la source.",
        ),
    ] = None,
    tous: Annotated[
        bool,
        typer.Option(
            "--tous",
            help=(
                "Réexporte chaque passage refusé de la feuille tel que votre fichier source "
                "l'écrit maintenant (si c'est la source que vous avez corrigée, pas la feuille) ; "
                "une ligne aussi corrigée dans la feuille part avec les valeurs de la feuille."
            ),
        ),
    ] = False,
    refuses_plusieurs_fois: Annotated[
        bool,
        typer.Option(
            "--refuses-plusieurs-fois",
            help=(
                "Réexporte seulement les passages refusés à au moins deux dépôts (d'après "
                "l'historique d'accuse suivi), tels que votre fichier source les écrit "
                "maintenant : le fichier que demande la Caisse des Dépôts."
            ),
        ),
    ] = False,
    historique: HistoriqueOption = None,
    schema: Annotated[
        SchemaChoice | None,
        typer.Option(
            "--schema",
            help=(
                "XML : version du XSD de la Caisse des Dépôts à suivre (1.1.2 ou 1.1.5). Par "
                "défaut : celle du flux source s'il suit la 1.1.5, sinon 1.1.5 dès qu'un passage "
                "est identifié par son NIR, sinon 1.1.2."
            ),
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Réexporte seulement les lignes que vous avez corrigées dans la feuille de corrections,
    pour les redéposer : les lignes non modifiées et les doublons déjà enregistrés ne sont pas
    renvoyés. Chaque ligne est d'abord vérifiée champ par champ (longueurs, listes de valeurs,
    dates, champs obligatoires) : rien n'est écrit tant qu'une ligne serait refusée.

    Code de sortie : 0 si un fichier a été écrit, 1 si aucune ligne n'a été corrigée (rien
    écrit), 2 si la feuille, la source ou une valeur empêche le réexport (rien écrit).
    """

    def run() -> int:
        from accuse.fix.reexport import next_step, reexport, summary_lines

        ids = {
            key: value
            for key, value in (
                ("idClientEmetteur", id_client),
                ("idClientCertificateur", id_client_certificateur),
                ("idContrat", id_contrat),
            )
            if value
        }
        result = reexport(
            feuille,
            source=source,
            format=format.value if format else None,
            target=sortie,
            force=forcer,
            ids=ids,
            every=tous,
            repeated=refuses_plusieurs_fois,
            history=historique,
            schema=_VERSIONS[schema] if schema else None,
        )
        console = Console(highlight=False)
        for line in summary_lines(result):
            console.print(Text(line))
        if not result.written:
            nothing = "Aucune ligne n'a été modifiée dans la feuille : rien à réexporter."
            if not result.saved:
                nothing += (
                    " La feuille n'a pas été enregistrée depuis l'analyse : si vous y avez fait "
                    "des corrections, enregistrez et fermez le fichier dans Excel, puis relancez."
                )
            console.print(Text(nothing, style="bold yellow"))
            return EXIT_REJECTED
        if result.schema:
            console.print(Text(f"Flux écrit selon le XSD {result.schema}."))
        console.print(Text(f"Écrit : {inert(result.target, one_line=True)}", style="green"))
        step = next_step(result)
        if step:
            console.print()
            # Never wrapped: the command must stay whole to be copied.
            console.print(Text(step, style="bold"), soft_wrap=True)
        return EXIT_OK

    guarded(debug, run)
