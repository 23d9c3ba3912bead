"""`accuse catalogue`: the families of refusals and what to do about each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    CatalogueOption,
    DebugOption,
    guarded,
)
from accuse.errors import InputError

if TYPE_CHECKING:
    from accuse.reference.catalogue import CatalogueEntry


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
            whole_file = fichier or " : " in message.split("'")[0]
            found = loaded.classify(message, "fichier" if whole_file else "passage")
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


def _show_entry(console: Console, entry: CatalogueEntry) -> None:
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
    for motif in entry.motifs:
        console.print(Text(f"Motif : {motif.pattern}", style="dim"))
    if entry.origine != "accuse":
        console.print(Text(f"Défini dans : {entry.origine}", style="dim"))
