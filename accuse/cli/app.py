"""The `accuse` command line: thin commands that parse options, call the pipeline, present."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse import __version__
from accuse.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_REJECTED,
    DebugOption,
    OutputFormat,
    guarded,
    progress_bar,
    stderr_console,
)
from accuse.cli.suivi import (
    HistoriqueOption,
    SansHistoriqueOption,
    record_analysis,
    suivi_command,
)
from accuse.errors import InputError

app = typer.Typer(
    name="accuse",
    help=(
        "Lit l'accusé de traitement de la Caisse des Dépôts, retrouve chaque passage refusé "
        "dans votre fichier et explique quoi corriger.\n\n"
        "Exemple : accuse analyse « Accusé de traitement_monflux.xml » --source titulaires.xlsx"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


CatalogueOption = Annotated[
    Path | None,
    typer.Option(
        "--catalogue",
        help=(
            "Votre propre catalogue (TOML), ajouté au catalogue fourni et prioritaire sur lui. "
            "Par défaut : la variable ACCUSE_CATALOGUE, sinon ~/.config/accuse/catalogue.toml "
            "(%APPDATA%\\accuse\\catalogue.toml sous Windows) s'il existe."
        ),
        dir_okay=False,
    ),
]


@app.command("analyse")
def analyse_command(
    recu: Annotated[
        Path,
        typer.Argument(
            help="L'accusé de traitement (XML) reçu de la Caisse des Dépôts.", show_default=False
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
    colonne_id: Annotated[
        str | None,
        typer.Option(
            "--colonne-id",
            help="Nom de la colonne qui contient l'identifiant technique, s'il n'est pas reconnu.",
        ),
    ] = None,
    feuille: Annotated[
        str | None,
        typer.Option(
            "--feuille",
            help="Feuille du classeur à lire (par défaut : la première qui a une colonne d'id).",
        ),
    ] = None,
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
                "(rapport.html). Par défaut : « accuse-<nom de l'accusé> » dans le dossier "
                "courant ; créé s'il n'existe pas ; vos fichiers d'entrée ne sont jamais modifiés."
            ),
        ),
    ] = None,
    sans_sortie: Annotated[
        bool,
        typer.Option("--sans-sortie", help="N'écrit aucun fichier : affichage seulement."),
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

    def run() -> int:
        from accuse.pipeline.analysis import analyse
        from accuse.reference.catalogue import load_catalogue
        from accuse.render.outputs import default_output_folder, write_outputs

        result = analyse(
            recu,
            source,
            sheet=feuille,
            id_column=colonne_id,
            catalogue=load_catalogue(catalogue),
            progress=progress_bar(),
        )
        written: list[Path] = []
        if not sans_sortie:
            written = write_outputs(result, sortie or default_output_folder(recu))
        note = record_analysis(result, historique, sans_historique)
        if format is OutputFormat.json:
            from accuse.render.jsondoc import build

            document = build(result)
            document["fichiers_ecrits"] = [str(path) for path in written]
            sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            stderr_console().print(Text(note, style="dim"))
        else:
            from accuse.render.terminal import render

            console = Console(highlight=False)
            render(result, console, rows_per_family=lignes)
            if written:
                console.print()
                for path in written:
                    console.print(Text(f"Écrit : {path}", style="green"))
            console.print(Text(note, style="dim"))
        return EXIT_REJECTED if result.has_rejections else EXIT_OK

    guarded(debug, run)


@app.command("catalogue")
def catalogue_command(
    code: Annotated[
        str | None,
        typer.Argument(
            help="Le code d'une famille à montrer en entier (ex. DOUBLON).", show_default=False
        ),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "--message", "-m", help="Un message du portail : dit à quelle famille il correspond."
        ),
    ] = None,
    fichier: Annotated[
        bool,
        typer.Option(
            "--fichier",
            help="Avec --message : le message vient d'un rejet du fichier entier (erreurs XSD).",
        ),
    ] = False,
    catalogue: CatalogueOption = None,
    debug: DebugOption = False,
) -> None:
    """Montre le catalogue des messages du portail : la liste des familles, une famille en
    entier, ou la famille qui correspond à un message donné."""

    def run() -> int:
        from accuse.reference.catalogue import load_catalogue

        loaded = load_catalogue(catalogue)
        console = Console(highlight=False)
        if message is not None:
            scope = "fichier" if fichier or " : " in message.split("'")[0] else "passage"
            found = loaded.classify(message, scope)  # type: ignore[arg-type]
            console.print(Text(f"Famille : {found.code} — {found.entry.titre}", style="bold"))
            console.print(Text(f"Pourquoi : {found.reason}"))
            if found.captures:
                for name, value in found.captures.items():
                    console.print(Text(f"  {name} = {value}"))
            if found.hint:
                console.print(Text(f"Indice : {found.hint}"))
            return EXIT_OK
        if code is not None:
            entry = loaded.get(code.strip().upper())
            if entry is None:
                raise InputError(
                    f"aucune famille « {code} » dans le catalogue. `accuse catalogue` les liste."
                )
            _show_entry(console, entry)
            return EXIT_OK
        table = Table(title=f"Catalogue {loaded.version} (mis à jour le {loaded.mis_a_jour})")
        table.add_column("Code")
        table.add_column("Portée")
        table.add_column("Titre")
        table.add_column("Motifs", justify="right")
        for entry in loaded.entries:
            patterns = len(entry.motifs) + len(entry.codes_techniques)
            table.add_row(entry.code, entry.portee, entry.titre, str(patterns))
        console.print(table)
        return EXIT_OK

    guarded(debug, run)


class ReexportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"
    xml = "xml"


@app.command("reexporter")
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
        from accuse.fix.reexport import reexport, summary_lines

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
            format=format.value if format else None,  # type: ignore[arg-type]
            target=sortie,
            force=forcer,
            ids=ids,
        )
        console = Console(highlight=False)
        for line in summary_lines(result):
            console.print(Text(line))
        if not result.written:
            console.print(
                Text(
                    "Aucune ligne n'a été modifiée dans la feuille : rien à réexporter.",
                    style="bold yellow",
                )
            )
            return EXIT_REJECTED
        console.print(Text(f"Écrit : {result.target}", style="green"))
        return EXIT_OK

    guarded(debug, run)


def _show_entry(console: Console, entry) -> None:
    console.print(Text(f"{entry.code} — {entry.titre}", style="bold"))
    console.print(
        Text(f"Portée : {entry.portee} ; gravité : {entry.gravite} ; redéposer : {entry.redeposer}")
    )
    console.print(Text(" ".join(entry.explication.split())))
    console.print(Text("Que faire :", style="bold"))
    for number, action in enumerate(entry.actions, start=1):
        console.print(Text(f"  {number}. {action}"))
    if entry.redeposer_detail:
        console.print(Text(f"Redépôt : {entry.redeposer_detail}"))
    if entry.champs:
        console.print(Text("Champs à vérifier : " + ", ".join(entry.champs)))
    for pattern in entry.codes_techniques:
        console.print(Text(f"Code technique : {pattern}", style="dim"))
    for pattern in entry.motifs:
        console.print(Text(f"Motif : {pattern.pattern}", style="dim"))
    if entry.origine != "accuse":
        console.print(Text(f"Défini dans : {entry.origine}", style="dim"))


app.command("suivi")(suivi_command)


def _version(value: bool) -> None:
    if value:
        print(f"accuse {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Affiche la version."),
    ] = False,
) -> None:
    pass


# Typer/Click word their usage errors in English: the common ones, told in French.
_USAGE_ERRORS = [
    (re.compile(r"Missing argument '(.+)'\."), "il manque l'argument {0}."),
    (re.compile(r"Missing option '(.+)'\."), "il manque l'option {0}."),
    (re.compile(r"No such option: (\S+?)(?:\s+Did you mean (\S+?)\?)?$"), "option inconnue : {0}."),
    (
        re.compile(r"No such command '(.+?)'\.(?:\s+Did you mean '(.+?)'\?)?$"),
        "commande inconnue : {0}.",
    ),
    (re.compile(r"Option '(.+)' requires an argument\."), "l'option {0} attend une valeur."),
    (
        re.compile(r"Got unexpected extra arguments? ?(?:\(s\))? \((.+)\)"),
        "argument en trop : {0}.",
    ),
    (
        re.compile(r"Invalid value for '([^']+)'.*?'([^']*)' is not one of (.+?)\.?$"),
        "la valeur « {1} » n'est pas permise pour {0} : valeurs possibles {2}.",
    ),
    (
        re.compile(r"Invalid value for '([^']+)'.*valid integer"),
        "{0} attend un nombre entier.",
    ),
    (
        re.compile(r"Invalid value for '([^']+)'.*greater than or equal to (\d+)"),
        "{0} attend un nombre supérieur ou égal à {1}.",
    ),
    (re.compile(r"Invalid value for '([^']+)'"), "valeur non permise pour {0}."),
]


def _french_usage(message: str) -> str:
    for pattern, french in _USAGE_ERRORS:
        match = pattern.search(message)
        if match:
            text = french.format(*match.groups())
            suggestion = match.groups()[-1] if "Did you mean" in message else None
            if suggestion:
                text = text[:-1] + f" (vouliez-vous dire {suggestion} ?)."
            return text
    return message


def _french_help_option(command: object) -> None:
    """Typer words its -h/--help option in English: say it in French, on every command."""
    make = getattr(command, "get_help_option", None)
    if make is not None:

        def french(ctx: object, make: Callable = make) -> object:
            option = make(ctx)
            if option is not None:
                option.help = "Affiche cette aide et s'arrête."
            return option

        command.get_help_option = french  # type: ignore[attr-defined]
    for child in getattr(command, "commands", {}).values():
        _french_help_option(child)


def main() -> None:
    """The console script: Typer's app, with usage errors told in French (exit 2)."""
    command = typer.main.get_command(app)
    _french_help_option(command)
    try:
        code = command.main(args=sys.argv[1:], prog_name="accuse", standalone_mode=False)
    except KeyboardInterrupt:
        stderr_console().print(
            Text("Interrompu : aucun fichier n'a été remplacé.", style="bold red")
        )
        raise SystemExit(130) from None
    except Exception as error:
        # Click's UsageError family (vendored by recent Typer, so matched by its shape).
        if not hasattr(error, "format_message") or getattr(error, "exit_code", None) != 2:
            if type(error).__name__ == "Abort":
                raise SystemExit(130) from None
            raise
        from accuse.text import inert

        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "accuse"
        message = inert(_french_usage(error.format_message()))
        stderr_console().print(
            Text(f"Erreur : {message} Voir « {where} --help ».", style="bold red")
        )
        raise SystemExit(EXIT_INPUT) from None
    raise SystemExit(code if isinstance(code, int) else 0)
