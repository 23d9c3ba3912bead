"""`accuse retirer`: a SUPPRESSION flux for passages deposited by mistake (XSD 1.1.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    ColonneIdOption,
    DebugOption,
    IdClientCertificateurOption,
    IdClientOption,
    IdContratOption,
    guarded,
)
from accuse.text import inert


def retirer_command(
    source: Annotated[
        Path,
        typer.Argument(
            help=(
                "Le fichier d'où viennent les passages déposés : le flux XML déposé, ou le "
                "classeur (.xlsx, .xls, .ods) ou le .csv dont il a été tiré."
            ),
            show_default=False,
        ),
    ],
    ids: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            help="Identifiant technique d'un passage à retirer (répétez --id pour plusieurs).",
        ),
    ] = None,
    ids_fichier: Annotated[
        Path | None,
        typer.Option(
            "--ids-fichier",
            help="Fichier texte des identifiants techniques à retirer, un par ligne.",
        ),
    ] = None,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help=(
                "Fichier à écrire. Par défaut : à côté de la source, "
                "« <source>-suppression.xml ». Un fichier d'entrée n'est jamais écrasé."
            ),
        ),
    ] = None,
    feuille: Annotated[
        str | None,
        typer.Option("--feuille", help="Feuille du classeur à lire (par défaut : la première)."),
    ] = None,
    colonne_id: ColonneIdOption = None,
    id_client: IdClientOption = None,
    id_client_certificateur: IdClientCertificateurOption = None,
    id_contrat: IdContratOption = None,
    forcer: Annotated[
        bool,
        typer.Option(
            "--forcer",
            help="Écrit même si une identification serait refusée par la Caisse des Dépôts.",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Écrit un flux de SUPPRESSION (schéma 2026, XSD 1.1.5) qui retire des passages déjà
    déposés : ceux déposés par erreur, ou un passage accepté à remplacer (le retirer, puis le
    déposer à nouveau). Chaque passage garde sa certification, son identifiant technique et
    l'identification du titulaire, rien d'autre, comme dans l'exemple officiel.

    Code de sortie : 0 si le flux a été écrit, 2 si un identifiant est absent de la source ou
    si une valeur empêche d'écrire (rien n'est écrit).
    """

    def run() -> int:
        from accuse.fix.withdraw import read_ids, summary_lines, withdraw

        wanted = list(ids or [])
        if ids_fichier is not None:
            wanted += read_ids(ids_fichier)
        header_ids = {
            key: value
            for key, value in (
                ("idClientEmetteur", id_client),
                ("idClientCertificateur", id_client_certificateur),
                ("idContrat", id_contrat),
            )
            if value
        }
        result = withdraw(
            source,
            wanted,
            target=sortie,
            header_ids=header_ids,
            sheet=feuille,
            id_column=colonne_id,
            force=forcer,
        )
        console = Console(highlight=False)
        for line in summary_lines(result):
            console.print(Text(line))
        console.print(Text(f"Écrit : {inert(result.target, one_line=True)}", style="green"))
        return EXIT_OK

    guarded(debug, run)
