"""The `accuse` application: its commands (a module each), root options, French usage errors."""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from accuse import __version__
from accuse.cli.analyse import analyse_command
from accuse.cli.catalogue import catalogue_command
from accuse.cli.common import (
    EXIT_INPUT,
    stderr_console,
)
from accuse.cli.courriels import courriels_command
from accuse.cli.generer import generer_command
from accuse.cli.help import FrenchCommand, FrenchGroup
from accuse.cli.reexporter import reexporter_command
from accuse.cli.retirer import retirer_command
from accuse.cli.suivi import suivi_command
from accuse.cli.verifier import verifier_command

app = typer.Typer(
    cls=FrenchGroup,
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

# Every command is built with French help (accuse.cli.help).
app.command("analyse", cls=FrenchCommand)(analyse_command)
app.command("catalogue", cls=FrenchCommand)(catalogue_command)
app.command("courriels", cls=FrenchCommand)(courriels_command)
app.command("generer", cls=FrenchCommand)(generer_command)
app.command("reexporter", cls=FrenchCommand)(reexporter_command)
app.command("retirer", cls=FrenchCommand)(retirer_command)
app.command("suivi", cls=FrenchCommand)(suivi_command)
app.command("verifier", cls=FrenchCommand)(verifier_command)


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

        setattr(command, "get_help_option", french)  # noqa: B010 (command is any Click object)
    for child in getattr(command, "commands", {}).values():
        _french_help_option(child)


def _plain_streams() -> None:
    """A Windows console or a file in Windows-1252 cannot encode ⚑, → or box lines: write
    plain characters instead of crashing."""
    import codecs

    from accuse.text import plain_fallback

    codecs.register_error("accuse-plain", plain_fallback)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not (stream.encoding or "").lower().startswith("utf"):
            reconfigure(errors="accuse-plain")


def _leave(code: int) -> NoReturn:
    """Exit at once once everything is flushed: tearing down the interpreter frees every row
    object one by one (a few tenths of a second on a large deposit) for nothing. Every output
    file is already written and closed (accuse.output), the report's child joined, the history's
    engine disposed; only the standard streams may still hold text."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing left to say
            stream.flush()
    os._exit(code)


def main() -> None:
    """Typer's app, with usage errors told in French (exit 2); leaves by SystemExit."""
    # A command is short-lived and builds no reference cycles worth collecting (an analysis
    # has none: reference counting frees it); the cyclic collector would only walk the large
    # tables again and again. Library callers keep theirs (see parallel.gc_paused).
    gc.disable()
    _plain_streams()
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


def entry() -> None:
    """The console script and ``python -m accuse``: main, then a fast exit (see _leave)."""
    try:
        main()
    except SystemExit as leaving:
        if leaving.code is None or isinstance(leaving.code, int):
            _leave(leaving.code or 0)
        raise
