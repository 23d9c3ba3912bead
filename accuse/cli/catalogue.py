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
from accuse.text import inert

if TYPE_CHECKING:
    from accuse.reference.catalogue import Catalogue, CatalogueEntry


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
            console.print(
                Text(f"Famille : {found.code} — {inert(found.entry.titre)}", style="bold")
            )
            console.print(Text(f"Pourquoi : {found.reason}"))
            if found.captures:
                for name, value in found.captures.items():
                    console.print(Text(f"  {name} = {inert(value)}"))
            if found.hint:
                console.print(Text(f"Indice : {inert(found.hint)}"))
            return EXIT_OK
        if code is not None:
            entry = loaded.get(code.strip().upper())
            if entry is None:
                raise InputError(
                    f"aucune famille « {code} » dans le catalogue. `accuse catalogue` les liste."
                )
            _show_entry(console, entry)
            return EXIT_OK
        _show_list(console, loaded)
        return EXIT_OK

    guarded(debug, run)


def _show_list(console: Console, loaded: Catalogue) -> None:
    updated = f" du {loaded.mis_a_jour:%d/%m/%Y}" if loaded.mis_a_jour else ""
    table = Table(title=f"Catalogue des refus, version {loaded.version}{updated}")
    table.add_column("Code")
    table.add_column("Portée")
    table.add_column("Titre")
    table.add_column("Exemples", justify="right")
    for entry in loaded.entries:
        titre = entry.titre if entry.origine == "accuse" else f"{entry.titre} (votre catalogue)"
        table.add_row(entry.code, _SCOPE[entry.portee], inert(titre), str(len(entry.exemples)))
    console.print(table)
    console.print(
        Text("Une famille en entier : accuse catalogue CODE (ex. accuse catalogue DOUBLON).")
    )
    for source in loaded.sources[1:]:
        console.print(Text(f"Votre catalogue : {inert(source)}", style="dim"))
    if loaded.journal:
        console.print()
        console.print(Text("Évolutions du catalogue", style="bold"))
        for change in loaded.journal:
            console.print(Text(f"Version {change.version} du {change.date:%d/%m/%Y} :"))
            for line in change.changements:
                console.print(Text(f"  - {line}"))


_SCOPE = {"passage": "passage", "fichier": "fichier entier"}


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
    # Users read examples of the messages, never the patterns that recognise them (issue #13).
    if entry.exemples:
        console.print(
            Text("Messages du portail rangés dans cette famille, par exemple :", style="bold")
        )
        for example in entry.exemples:
            console.print(Text(f"  « {inert(example.message)} »"))
    elif entry.code in ("MESSAGE_INCONNU", "XSD_AUTRE"):
        pass
    else:
        console.print(
            Text(
                "Aucun exemple de message : ajoutez-en (exemples) pour que "
                "accuse catalogue --verifier puisse vérifier cette famille.",
                style="dim",
            )
        )
    if entry.origine != "accuse":
        console.print(Text(f"Défini dans : {inert(entry.origine)}", style="dim"))
