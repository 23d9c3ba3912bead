"""`accuse courriels`: draft e-mails asking holders to check the identity a refusal is about."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    CatalogueOption,
    ColonneIdOption,
    DebugOption,
    FeuilleOption,
    guarded,
    progress_bar,
)


def courriels_command(
    recu: Annotated[
        Path,
        typer.Argument(
            help="L'accusé de traitement (XML) reçu de la Caisse des Dépôts.", show_default=False
        ),
    ],
    source: Annotated[
        Path,
        typer.Option(
            "--source",
            "-s",
            help=(
                "Votre fichier des passages déposés (classeur ou .csv), avec une colonne "
                "d'adresse électronique des titulaires."
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
                "Dossier où écrire les brouillons (.eml) et publipostage.csv. Par défaut : "
                "« accuse-<nom de l'accusé>-courriels » dans le dossier courant ; créé s'il "
                "n'existe pas ; vos fichiers d'entrée ne sont jamais modifiés."
            ),
        ),
    ] = None,
    colonne_courriel: Annotated[
        str | None,
        typer.Option(
            "--colonne-courriel",
            help=(
                "En-tête de la colonne des adresses électroniques, s'il n'est pas reconnu "
                "(Courriel, E-mail, Email, Adresse électronique… le sont)."
            ),
        ),
    ] = None,
    expediteur: Annotated[
        str | None,
        typer.Option(
            "--expediteur",
            help=(
                "Adresse de l'expéditeur à inscrire dans les brouillons. Par défaut aucune : "
                "votre messagerie met la vôtre."
            ),
        ),
    ] = None,
    colonne_id: ColonneIdOption = None,
    feuille: FeuilleOption = None,
    catalogue: CatalogueOption = None,
    debug: DebugOption = False,
) -> None:
    """Prépare un brouillon de courriel pour chaque titulaire dont le passage est refusé pour
    son identité (titulaire introuvable, plusieurs titulaires) : il lui montre les données
    déposées et lui demande de les confirmer ou de les corriger d'après son état civil.
    accuse n'envoie rien : ouvrez les brouillons dans votre messagerie.

    Code de sortie : 0 si tout s'est bien passé, 2 si un fichier donné est inutilisable.
    """

    def run() -> int:
        from accuse.pipeline.analysis import analyse
        from accuse.reference.catalogue import load_catalogue, user_config_folder
        from accuse.render.courriels import default_mail_folder, draft_mails, print_summary

        result = analyse(
            recu,
            source,
            sheet=feuille,
            id_column=colonne_id,
            catalogue=load_catalogue(catalogue),
            progress=progress_bar(),
        )
        outcome = draft_mails(
            result,
            sortie or default_mail_folder(recu),
            address_header=colonne_courriel,
            user_folder=user_config_folder(),  # the user's own templates replace ours
            sender=expediteur,
        )
        console = Console(highlight=False)
        if result.receipt.shape == "rejet_fichier":
            console.print(
                Text(
                    "Cet accusé rejette le fichier entier : aucun passage n'a été examiné, il "
                    "n'y a donc aucun titulaire à interroger. Voir accuse analyse.",
                    style="bold",
                )
            )
        else:
            print_summary(outcome, console)
        return EXIT_OK

    guarded(debug, run)
