"""`accuse catalogue`: the families of refusals and what to do about each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from accuse.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    CatalogueOption,
    DebugOption,
    guarded,
    stderr_console,
)
from accuse.cli.suivi import HistoriqueOption
from accuse.errors import InputError
from accuse.text import inert, plural

if TYPE_CHECKING:
    from accuse.reference.catalogue import Catalogue, CatalogueEntry, Scope


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
            help=(
                "Avec --message ou --proposer : le message vient d'un rejet du fichier entier "
                "(erreurs XSD)."
            ),
        ),
    ] = False,
    inconnus: Annotated[
        bool,
        typer.Option(
            "--inconnus",
            help=(
                "Liste les messages du portail qu'aucune famille ne reconnaît, gardés dans "
                "l'historique, regroupés par formulation, les plus fréquents d'abord."
            ),
        ),
    ] = False,
    proposer: Annotated[
        str | None,
        typer.Option(
            "--proposer",
            metavar="MESSAGE",
            help=(
                "Écrit une famille prête à compléter pour ce message, à ajouter à votre "
                "catalogue personnel (dont le chemin est indiqué)."
            ),
            show_default=False,
        ),
    ] = None,
    verifier: Annotated[
        Path | None,
        typer.Option(
            "--verifier",
            metavar="FICHIER",
            help=(
                "Vérifie un catalogue personnel sans rien analyser : champs, motifs, familles "
                "remplacées, exemples reconnus. Code de sortie 1 si un exemple est mal rangé."
            ),
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    historique: HistoriqueOption = None,
    catalogue: CatalogueOption = None,
    debug: DebugOption = False,
) -> None:
    """Montre le catalogue des messages du portail : la liste des familles, une famille en
    entier, ou la famille qui correspond à un message donné ; aide à le tenir à jour (messages
    inconnus, famille proposée, vérification d'un catalogue personnel)."""

    def run() -> int:
        from accuse.reference.catalogue import load_catalogue, user_catalogue_path

        if verifier is not None:
            return _verify(Console(highlight=False), verifier)
        loaded = load_catalogue(catalogue)
        console = Console(highlight=False)
        if inconnus:
            _show_unknown(console, loaded, historique)
            return EXIT_OK
        if proposer is not None:
            from accuse.reference.harvest import propose

            whole_file = fichier or " : " in proposer.split("'")[0]
            scope: Scope = "fichier" if whole_file else "passage"
            already = loaded.classify(proposer, scope)
            if already.code not in ("MESSAGE_INCONNU", "XSD_AUTRE"):
                stderr_console().print(
                    Text(
                        f"Ce message est déjà reconnu par la famille {already.code} "
                        f"({inert(already.entry.titre)}) : une famille de votre catalogue "
                        "passera avant elle.",
                        style="yellow",
                    )
                )
            target = catalogue or user_catalogue_path()
            proposal = propose(proposer, scope, target.absolute())
            sys.stdout.write(inert(proposal.toml))
            return EXIT_OK
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
    if entry.code in ("MESSAGE_INCONNU", "XSD_AUTRE"):
        console.print(
            Text(
                "Tout message qu'aucune autre famille ne reconnaît. Ceux des refus passage par "
                "passage sont gardés dans l'historique : accuse catalogue --inconnus les liste.",
                style="dim",
            )
        )
    elif entry.exemples:
        console.print(
            Text("Messages du portail rangés dans cette famille, par exemple :", style="bold")
        )
        for example in entry.exemples:
            console.print(Text(f"  « {inert(example.message)} »"))
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


def _command_for(message: str) -> str:
    quoted = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'accuse catalogue --proposer "{quoted}"'


def _show_unknown(console: Console, loaded: Catalogue, historique: str | None) -> None:
    from accuse.history.store import resolve_location, unknown_sightings
    from accuse.history.unknown import unknown_groups

    where = resolve_location(historique)
    groups = unknown_groups(unknown_sightings(where), loaded)
    place = inert(where.display)
    pending = [g for g in groups if g.family is None]
    settled = [g for g in groups if g.family is not None]
    if not groups:
        console.print(Text(f"Aucun message non répertorié dans l'historique ({place})."))
        return
    total = sum(g.passages for g in pending)
    console.print(
        Text(
            f"Messages non répertoriés de l'historique ({place}) : "
            f"{plural(len(pending), 'formulation')}, "
            f"{plural(total, 'passage refusé', 'passages refusés')}.",
            style="bold",
        )
    )
    for number, group in enumerate(pending, start=1):
        span = (
            f"le {group.first_seen:%d/%m/%Y}"
            if group.first_seen.date() == group.last_seen.date()
            else f"du {group.first_seen:%d/%m/%Y} au {group.last_seen:%d/%m/%Y}"
        )
        console.print()
        console.print(
            Text(
                f"{number}. {plural(group.passages, 'passage')}, "
                f"{plural(group.receipts, 'accusé')}, {span} "
                f"(dernier : {inert(group.last_receipt)})"
            )
        )
        variants = (
            f" (et {plural(group.variants - 1, 'variante')} aux identifiants ou valeurs près)"
            if group.variants > 1
            else ""
        )
        console.print(Text(f"   « {inert(group.example)} »{variants}"))
        console.print(Text(f"   Proposer une famille : {inert(_command_for(group.example))}"))
    if settled:
        console.print()
        console.print(Text("Désormais reconnus par le catalogue :", style="bold"))
        for group in settled:
            console.print(
                Text(
                    f"  « {inert(group.example)} » : famille {group.family} "
                    f"({plural(group.passages, 'passage')})"
                )
            )


def _verify(console: Console, path: Path) -> int:
    from accuse.reference.catalogue import verify_user_catalogue

    verification = verify_user_catalogue(path)
    name = inert(path)
    console.print(
        Text(
            f"Catalogue {name} : lisible, {plural(len(verification.entries), 'famille')} ; "
            "ses motifs s'exécutent en temps linéaire (moteur RE2).",
            style="bold",
        )
    )
    for report in verification.entries:
        entry = report.entry
        console.print()
        if report.replaces is not None:
            what = f"remplace la famille fournie « {inert(report.replaces.titre)} »"
        else:
            what = "nouvelle famille"
        console.print(Text(f"{entry.code} — {inert(entry.titre)} : {what}", style="bold"))
        if report.unfinished:
            console.print(
                Text(
                    "  À compléter encore : " + ", ".join(report.unfinished) + ".",
                    style="yellow",
                )
            )
        if not report.checks:
            console.print(
                Text(
                    "  Aucun exemple : ajoutez un [[famille.exemples]] avec un message réel "
                    "pour que cette vérification prouve la famille.",
                    style="yellow",
                )
            )
        for check in report.checks:
            problems = check.problems
            mark = "OK " if not problems else "ERREUR"
            style = "green" if not problems else "red"
            console.print(Text(f"  {mark} « {inert(check.example.message)} »", style=style))
            for problem in problems:
                console.print(Text(f"       {inert(problem)}", style=style))
    if verification.taken:
        console.print()
        console.print(
            Text(
                "Exemples du catalogue fourni désormais rangés dans une de vos familles :",
                style="red",
            )
        )
        for check in verification.taken:
            console.print(
                Text(
                    f"  « {inert(check.example.message)} » : attendu {check.family.code}, "
                    f"rangé dans {check.found.code}",
                    style="red",
                )
            )
    console.print()
    if verification.ok:
        console.print(Text("Tout est en ordre.", style="green"))
        return EXIT_OK
    console.print(Text("À corriger avant de s'en servir (voir ci-dessus).", style="red"))
    return EXIT_REJECTED
