"""`--help` is French throughout, Click's own headings and hints included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer

from accuse.cli.app import app

ENGLISH = (
    "Usage:",
    "Commands:",
    "[default",
    "default:",
    "required",
    "x>=",
    "<=x",
    "<path>",
    "<str>",
    "<int",
    "<file>",
    "range",
    "[ARGS]",
    "COMMAND ",
    "Show this message",
)


def help_of(*command: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "accuse", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


COMMANDS = [(), *((name,) for name in getattr(typer.main.get_command(app), "commands", {}))]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_is_french(command: tuple[str, ...]) -> None:
    text = help_of(*command)
    assert text.startswith("Utilisation : accuse")
    for word in ENGLISH:
        assert word not in text, f"{word!r} in accuse {' '.join(command)} --help"


def test_french_headings_and_hints() -> None:
    root = help_of()
    assert "Utilisation : accuse [OPTIONS] COMMANDE [ARGUMENTS]..." in root
    assert "\nCommandes :\n" in root
    analyse = " ".join(help_of("analyse").split())
    assert "\nArguments :\n" in help_of("analyse")
    assert "\nOptions :\n" in help_of("analyse")
    assert "[obligatoire]" in analyse
    assert (
        "--lignes <nombre> Nombre de refus montrés par famille (texte). [par défaut : 10 ; au moins 1]"
        in analyse
    )
    assert "-f, --format <texte|json>" in analyse
    assert "-s, --source <chemin>" in analyse
    assert "[par défaut : texte]" in analyse
