"""What every `accuse` command shares: the error console, the exit codes, the --debug
option, the progress bar, and the wrapper that turns errors into French sentences."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from accuse.errors import InputError
from accuse.progress import SILENT
from accuse.progress import Progress as ProgressSink

EXIT_OK, EXIT_REJECTED, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3


class OutputFormat(StrEnum):
    """--format of the commands that print: a readable summary, or a JSON document."""

    texte = "texte"
    json = "json"


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class _Bar:
    """Rich progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),  # a percentage: bytes for XML and csv, rows for sheets
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def start(self, label: str, total: int | None) -> None:
        self._progress.start()
        self._task = self._progress.add_task(label, total=total)

    def update(self, done: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=done)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
        self._progress.stop()


def progress_bar() -> ProgressSink:
    console = stderr_console()
    return _Bar(console) if console.is_terminal else SILENT


def fail(error: InputError) -> NoReturn:
    from accuse.text import inert  # file and sheet names come from the user's files

    stderr_console().print(Text("Erreur : " + inert(error.render()), style="bold red"))
    raise typer.Exit(EXIT_INPUT)


def _os_failure(error: OSError) -> InputError:
    from accuse.files import os_reason

    return InputError(f"accès au fichier impossible ({os_reason(error)}).", error.filename)


def guarded(debug: bool, action: Callable[[], int]) -> NoReturn:
    """Run a command: user errors exit 2 with their sentence, bugs exit 3 with an apology."""
    try:
        code = action()
    except InputError as error:
        fail(error)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except OSError as error:
        if debug:
            raise
        # A system error no step turned into a sentence (a name too long met by a mere
        # existence test): about a file of the user's, told in French like any other.
        fail(_os_failure(error))
    except Exception:
        if debug:
            raise
        stderr_console().print(
            Text(
                "Désolé, accuse a rencontré une erreur inattendue. Relancez la même commande "
                "avec --debug pour voir le détail technique, et transmettez-le à l'équipe "
                "d'accuse.",
                style="bold red",
            )
        )
        raise typer.Exit(EXIT_BUG) from None
    raise typer.Exit(code)


DebugOption = Annotated[
    bool, typer.Option("--debug", help="Affiche le détail technique d'une erreur inattendue.")
]


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


# The deposit's codes, when the source does not hold them (generer, retirer).
IdClientOption = Annotated[
    str | None,
    typer.Option(
        "--id-client",
        help="Code BCR de l'émetteur (8 caractères), s'il n'est pas dans la source.",
    ),
]
IdClientCertificateurOption = Annotated[
    str | None,
    typer.Option(
        "--id-client-certificateur",
        help="Code BCR du certificateur (8 caractères), s'il n'est pas dans la source.",
    ),
]
IdContratOption = Annotated[
    str | None,
    typer.Option(
        "--id-contrat",
        help="Identifiant du contrat (1 à 20 caractères), s'il n'est pas dans la source.",
    ),
]


# Where the passages are in a workbook, when accuse cannot tell by itself.
FeuilleOption = Annotated[
    str | None,
    typer.Option(
        "--feuille",
        help="Feuille du classeur à lire (par défaut : la première qui a une colonne d'id).",
    ),
]
ColonneIdOption = Annotated[
    str | None,
    typer.Option(
        "--colonne-id",
        help="Nom de la colonne qui contient l'identifiant technique, s'il n'est pas reconnu.",
    ),
]
