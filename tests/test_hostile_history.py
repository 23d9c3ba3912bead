"""Hostile and faulty histories and addresses (issue 14), through the real command.

A mistyped or in-memory address is a usage error; a damaged, foreign or newer history is refused
without a byte of it changed and never spoils an analysis; a reading command reads a history it
may not write (read-only, or held by a writer); a credential is never shown, and outside text
(paths, a server's words) reaches the terminal neutralised.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from accuse.history.store import _input_error, resolve_location
from tests.conftest import FIXTURES

RECEIPT = FIXTURES / "recu.xml"
SOURCE = FIXTURES / "source.csv"
SECRETS = ("MOTDEPASSE-1", "REQUETE-2", "ENV-3")


def accuse(cwd: Path, *args: object, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", "PYTHONIOENCODING": "utf-8", **env}
    environment.setdefault("ACCUSE_HISTORIQUE", str(cwd / "historique.sqlite"))
    return subprocess.run(
        [sys.executable, "-m", "accuse", *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A real history holding one analysis, written by accuse itself."""
    history = tmp_path / "bon.sqlite"
    done = accuse(
        tmp_path, "analyse", RECEIPT, "-s", SOURCE, "--sans-sortie", "--historique", history
    )
    assert done.returncode == 1, done.stderr
    return history


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("postgresql://u@serveur:pasunport/base", "adresse d'historique illisible"),
        ("postgresql://u:MOTDEPASSE-1@[::1/base", "adresse d'historique illisible"),
        ("sqlite:///:memory:", "historique en mémoire"),
        (":memory:", "historique en mémoire"),
    ],
)
@pytest.mark.parametrize("command", ["analyse", "suivi"])
def test_bad_address_is_a_usage_error(
    tmp_path: Path, address: str, expected: str, command: str
) -> None:
    args = [RECEIPT, "-s", SOURCE] if command == "analyse" else []
    result = accuse(tmp_path, command, *args, "--historique", address)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Erreur : ") and expected in result.stderr
    assert "Traceback" not in result.stderr and "MOTDEPASSE-1" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no output folder, no file named :memory:


def test_credentials_are_never_shown(tmp_path: Path) -> None:
    """Port 1 refuses at once: the address is shown in the analyse note, suivi's message and the
    JSON document, with every credential masked, PGPASSWORD's value included."""
    address = "postgresql://moi:MOTDEPASSE-1@127.0.0.1:1/base?password=REQUETE-2&sslmode=disable"
    env = {"PGPASSWORD": "ENV-3"}
    shown = ""
    for args in (
        ["analyse", RECEIPT, "--sans-sortie", "--historique", address],
        ["analyse", RECEIPT, "--sans-sortie", "--format", "json", "--historique", address],
        ["suivi", "--historique", address],
        ["suivi", "--format", "json", "--historique", address],
    ):
        result = accuse(tmp_path, *args, **env)
        shown += result.stdout + result.stderr
    assert "postgresql+psycopg://moi:***@127.0.0.1:1/base?password=***&sslmode=disable" in shown
    assert "le serveur ne répond pas à cette adresse" in shown
    for secret in SECRETS:
        assert secret not in shown


def test_server_words_are_scrubbed_and_inert() -> None:
    """A server (or a fake one) quoting the password and an escape sequence in its error."""
    location = resolve_location("postgresql://moi:MOTDEPASSE-1@serveur/base?password=REQUETE-2")
    fake = OperationalError(
        "connexion", {}, Exception("FATAL MOTDEPASSE-1 REQUETE-2 \x1b]0;titre\x07")
    )
    message = _input_error(fake, location).render()
    assert "MOTDEPASSE-1" not in message and "REQUETE-2" not in message
    from accuse.text import inert

    assert "\x1b" not in inert(message) and "\\u001b" in inert(message)


# --- damaged, foreign, newer ------------------------------------------------------------------


def _damaged_date(history: Path) -> None:
    with contextlib.closing(sqlite3.connect(history)) as db, db:
        db.execute("UPDATE receipts SET analysed_at = 'pas une date' WHERE id = 1")


def _text_version(history: Path) -> None:
    with contextlib.closing(sqlite3.connect(history)) as db, db:
        db.execute("DROP TABLE schema_version")
        db.execute("CREATE TABLE schema_version (version TEXT PRIMARY KEY, applied_at TEXT)")
        db.execute("INSERT INTO schema_version VALUES ('un', '2026-01-01 00:00:00')")


def _newer(history: Path) -> None:
    with contextlib.closing(sqlite3.connect(history)) as db, db:
        db.execute("INSERT INTO schema_version VALUES (99, '2030-01-01 00:00:00')")


def _foreign(history: Path) -> None:
    history.unlink()
    with contextlib.closing(sqlite3.connect(history)) as db, db:
        db.execute("CREATE TABLE receipts (x)")


DAMAGES = [
    (_damaged_date, "valeur illisible", "valeur illisible"),
    (_text_version, "numéro de format", "numéro de format"),
    (_newer, "plus récent", "plus récent"),
    (_foreign, "ne viennent pas d'accuse", "ne viennent pas d'accuse"),
]


@pytest.mark.parametrize(("damage", "in_note", "in_error"), DAMAGES)
def test_bad_history_is_refused_untouched_and_spoils_no_analysis(
    tmp_path: Path, recorded: Path, damage, in_note: str, in_error: str
) -> None:
    damage(recorded)
    if damage is not _damaged_date:
        # Refused before anything is written: not even switched back to WAL (its header).
        with contextlib.closing(sqlite3.connect(recorded)) as db:
            db.execute("PRAGMA journal_mode = DELETE")
    before = digest(recorded)
    out = tmp_path / "sortie"
    analysis = accuse(
        tmp_path, "analyse", RECEIPT, "-s", SOURCE, "-o", out, "--historique", recorded
    )
    assert analysis.returncode == 1, analysis.stderr  # the analysis itself stands
    assert "Traceback" not in analysis.stderr
    assert "Historique non mis à jour" in analysis.stdout and in_note in analysis.stdout
    assert sorted(p.name for p in out.iterdir()) == ["corrections.xlsx", "rapport.html"]
    tracking = accuse(tmp_path, "suivi", "--historique", recorded)
    assert tracking.returncode == 2, tracking.stderr
    assert tracking.stderr.startswith("Erreur : ") and in_error in tracking.stderr
    assert "Traceback" not in tracking.stderr
    assert digest(recorded) == before
    if damage is not _damaged_date:
        assert not Path(f"{recorded}-wal").exists() and not Path(f"{recorded}-shm").exists()


# --- reading never writes ----------------------------------------------------------------------


def test_suivi_reads_a_history_held_by_a_writer(tmp_path: Path, recorded: Path) -> None:
    writer = sqlite3.connect(recorded, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM passages")  # not committed: suivi sees the last state
        result = accuse(tmp_path, "suivi", "--format", "json", "--historique", recorded)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["encore_refuses"]) == 6


def test_suivi_reads_a_history_in_a_read_only_place(tmp_path: Path, recorded: Path) -> None:
    """Read-only for a plain user (root writes through chmod, but the check is the same: a
    reading command opens the file read-only and never switches its journal)."""
    os.chmod(recorded, 0o444)
    before = digest(recorded)
    result = accuse(tmp_path, "suivi", "--historique", recorded)
    assert result.returncode == 0, result.stderr
    assert "encore refusés" in result.stdout
    assert digest(recorded) == before


# --- outside text in the terminal ---------------------------------------------------------------


def test_outside_text_reaches_the_terminal_neutralised(tmp_path: Path) -> None:
    hostile = tmp_path / "piège\x1b]0;titre\x07\nÉcrit : faux"
    hostile.mkdir()
    receipt = hostile / "recu\x1b[2J.xml"
    receipt.write_bytes(RECEIPT.read_bytes())
    history = hostile / "h\x1b[31m.sqlite"
    history.write_bytes(b"pas une base SQLite")  # refused: its path is shown in the note
    result = accuse(
        tmp_path,
        "analyse",
        receipt,
        "-o",
        hostile / "sortie\x1b[2J",
        ACCUSE_HISTORIQUE=str(history),
    )
    assert result.returncode == 1, result.stderr
    shown = result.stdout + result.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert "\\u001b" in shown
    assert not any(line.startswith("Écrit : faux") for line in shown.splitlines()), shown
    tracking = accuse(tmp_path, "suivi", ACCUSE_HISTORIQUE=str(history))
    assert tracking.returncode == 2 and "\x1b" not in tracking.stderr
    assert len(tracking.stderr.strip().splitlines()) == 1
