"""What the short commands load: `accuse --version`, `accuse suivi --help` and `accuse suivi` stay
off the heavy libraries they do not use (asserted on sys.modules of a fresh interpreter, never
on a time). `accuse suivi` reads a SQLite history without SQLAlchemy (history/records.py).

typer itself imports pydantic to convert option values (typer 0.2x): not ours to leave out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

# Libraries of other commands: the worksheet, the report, the statistics, the sources, the
# PostgreSQL driver.
OTHERS = ("pandas", "numpy", "xlsxwriter", "jinja2", "python_calamine", "openpyxl", "psycopg")
# ...and, for a command that reads no history nor receipt, the database layer and lxml.
DATABASE = ("sqlalchemy", "lxml")


def _run(args: list[str], history: Path) -> tuple[str, set[str]]:
    """What `accuse *args` wrote, and the top-level names in sys.modules once it ran (in a
    fresh interpreter)."""
    script = (
        "import json, sys\n"
        f"sys.argv = ['accuse', *{args!r}]\n"
        "from accuse.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stdout.write('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        env={**os.environ, "ACCUSE_HISTORIQUE": str(history)},
    )
    output, _, modules = done.stdout.rpartition("\n")
    return output, {name.split(".")[0] for name in json.loads(modules)}


def _recorded(tmp_path: Path) -> Path:
    history = tmp_path / "h.sqlite"
    subprocess.run(
        [sys.executable, "-m", "accuse", "analyse", str(FIXTURES / "recu.xml"), "--sans-sortie"],
        capture_output=True,
        cwd=tmp_path,
        check=False,
        env={**os.environ, "ACCUSE_HISTORIQUE": str(history)},
    )
    assert history.is_file()
    return history


def test_version_and_suivi_help_load_no_database_nor_other_commands(tmp_path: Path) -> None:
    for args in (["--version"], ["suivi", "--help"]):
        _, modules = _run(args, tmp_path / "h.sqlite")
        assert "accuse" in modules and "typer" in modules, args
        assert sorted(modules & {*OTHERS, *DATABASE}) == [], args


def test_suivi_reads_a_sqlite_history_without_the_database_layer(tmp_path: Path) -> None:
    history = _recorded(tmp_path)
    output, modules = _run(["suivi", "--format", "json"], history)
    assert json.loads(output)["synthese"]["accuses"] == 1  # it did read the history
    assert sorted(modules & {*OTHERS, "sqlalchemy"}) == []
    for args in (["suivi"], ["suivi", "--recus"]):
        output, modules = _run(args, history)
        assert "accusé enregistré" in " ".join(output.split()), args
        assert sorted(modules & {*OTHERS, "sqlalchemy"}) == [], args


def test_the_check_sees_a_heavy_import(tmp_path: Path) -> None:
    """The checks above can fail: the statistics load pandas, a server address the database
    layer."""
    history = _recorded(tmp_path)
    assert "pandas" in _run(["suivi", "--stats"], history)[1]
    assert "sqlalchemy" in _run(["suivi", "--sortie", str(tmp_path / "s.xlsx")], history)[1]
