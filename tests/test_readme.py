"""The README documents every command and option, and its Python example runs.

As sqlite-utils does: the Click command tree is walked, and each command must have its own
section of README.md (a heading naming `accuse <command>`) that names each of its long options.
A new command or option without its paragraph fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from accuse.cli.app import app
from tests.conftest import FIXTURES, ROOT

README = ROOT / "README.md"
API_HEADING = "Depuis Python"


def _sections(text: str) -> dict[str, str]:
    """Level-2 heading -> its text (up to the next level-2 heading)."""
    parts = re.split(r"^## +(.+)$", text, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _command_sections(text: str) -> dict[str, str]:
    """`accuse <command>` named in a level-2 heading -> that section (several may share one)."""
    found: dict[str, str] = {}
    for heading, body in _sections(text).items():
        for name in re.findall(r"`accuse ([a-z]+)", heading):
            found[name] = found.get(name, "") + body
    return found


def _long_options(command: Any) -> list[str]:
    """A Click command's long options (Typer vendors Click: matched by shape, not by class)."""
    return [
        o
        for p in command.params
        if p.param_type_name == "option"
        for o in p.opts
        if o.startswith("--")
    ]


def _root() -> Any:
    root = typer.main.get_command(app)
    assert root.commands, "the application is a group of commands"
    return root


def _missing(text: str) -> list[str]:
    """What the README leaves out: a command without a section, an option not in it."""
    sections = _command_sections(text)
    missing = [f"accuse {o}" for o in _long_options(_root()) if f"accuse {o}" not in text]
    for name, command in sorted(_root().commands.items()):
        if name not in sections:
            missing.append(f"accuse {name} (aucune section « ## … `accuse {name}` »)")
            continue
        for option in _long_options(command):
            if not re.search(rf"{re.escape(option)}(?![\w-])", sections[name]):
                missing.append(f"accuse {name} {option}")
    return missing


def test_every_command_and_option_is_in_the_readme() -> None:
    text = README.read_text("utf-8")
    assert len(_root().commands) >= 4
    assert _missing(text) == [], "absent du README : " + ", ".join(_missing(text))


def test_the_coverage_check_sees_a_missing_option() -> None:
    """The check can fail: remove one option's mentions from its section and it is named."""
    text = README.read_text("utf-8")
    section = _command_sections(text)["reexporter"]
    trimmed = text.replace(section, section.replace("--forcer", "forcer"))
    assert "accuse reexporter --forcer" in _missing(trimmed)
    # --id-client must not count as documented because --id-client-certificateur is.
    trimmed = text.replace(section, re.sub(r"--id-client(?![\w-])", "id", section))
    assert "accuse reexporter --id-client" in _missing(trimmed)


def _api_code() -> str:
    section = _sections(README.read_text("utf-8"))
    heading = next(h for h in section if h.startswith(API_HEADING))
    blocks = re.findall(r"```python\n(.*?)```", section[heading], flags=re.DOTALL)
    assert blocks, f"no python block in the README section « {heading} »"
    return "\n".join(blocks)


def test_the_readme_python_example_runs(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    code = _api_code()
    assert "import accuse" in code
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sortie" / "corrections.xlsx").is_file()
    assert (tmp_path / "sortie" / "rapport.html").is_file()
    assert (tmp_path / "historique.sqlite").is_file()
    out = done.stdout
    assert "7 refusés sur 24" in out
    assert "1960012 CERTIFICATION_INCONNUE ligne 6" in out
    assert "encore refusés : 6" in out
    assert "'DATES_INCOHERENTES': 1" in out
    assert "{'KO': 7, 'OK': 17}" in out
    assert "taux de refus : 29%" in out
