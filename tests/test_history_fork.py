"""accuse analyse records the history in the forked child that writes the report: the same
JSON, the same sentence and the same history rows as without the fork (ACCUSE_PARALLELE=0),
nothing kept when the worksheet fails, and a child killed mid-record leaves it to the parent."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.errors import InputError
from accuse.history.store import passages, receipts, resolve_location
from tests.conftest import FIXTURES

pytest_plugins = ["tests.postgres"]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def _rows(store: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The recorded receipts (without their time stamps) and passages, in a stable order."""
    engine = create_engine(resolve_location(store).url)
    try:
        with engine.connect() as conn:
            found = [
                tuple(r)
                for r in conn.execute(
                    select(*(c for c in receipts.c if c.name not in ("recorded_at", "analysed_at")))
                )
            ]
            rows = [
                tuple(r)
                for r in conn.execute(
                    select(*(c for c in passages.c if c.name != "id")).order_by(
                        passages.c.idTechnique
                    )
                )
            ]
    finally:
        engine.dispose()
    return found, rows


def _analyse(tmp_path: Path, store: str, parallel: str, name: str) -> tuple[dict, str]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            str(FIXTURES / "recu.xml"),
            "--source",
            str(FIXTURES / "source-plat.xlsx"),
            "--format",
            "json",
            "--sortie",
            str(tmp_path / name),
            "--historique",
            store,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ACCUSE_PARALLELE": parallel},
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    assert document.pop("fichiers_ecrits") == [
        str(tmp_path / name / "corrections.xlsx"),
        str(tmp_path / name / "rapport.html"),
    ]
    document.pop("analyse_le")
    return document, completed.stderr


def test_same_json_sentence_and_history_with_and_without_the_fork(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    if store.startswith("postgresql"):
        import psycopg

        # A second, empty database on the same server.
        server = request.getfixturevalue("postgres_server")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "serie_{os.getpid()}"')
        other = server.replace("/postgres?", f"/serie_{os.getpid()}?", 1)
    else:
        other = str(tmp_path / "serie.sqlite")
    forked, forked_note = _analyse(tmp_path, store, "1", "avec")
    serial, serial_note = _analyse(tmp_path, other, "0", "sans")
    assert forked == serial
    assert "Historique : accusé enregistré (7 refusés, 17 acceptés)" in forked_note
    # The same sentence but for where the history is.
    assert re.sub(r" dans \S+\. ", " ", forked_note) == re.sub(r" dans \S+\. ", " ", serial_note)
    forked_receipts, forked_rows = _rows(store)
    serial_receipts, serial_rows = _rows(other)
    assert len(forked_receipts) == 1 and len(forked_rows) == 24
    # Receipt and passage ids are the database's own: both stores start empty, so they agree.
    assert forked_receipts == serial_receipts and forked_rows == serial_rows
    # Again: recognised as already recorded, said the same way from the child.
    again, again_note = _analyse(tmp_path, store, "1", "avec")
    assert again == serial
    assert "Historique : cet accusé y figure déjà" in again_note
    assert _rows(store) == (forked_receipts, forked_rows)


def _run_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("ACCUSE_PARALLELE", "1")
    return CliRunner().invoke(
        app,
        [
            "analyse",
            str(FIXTURES / "recu.xml"),
            "--source",
            str(FIXTURES / "source-plat.xlsx"),
            "--sortie",
            str(tmp_path / "sortie"),
        ],
    )


def test_nothing_recorded_when_the_worksheet_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import accuse.render.outputs

    def refuse(*_: object) -> None:
        raise InputError("disque plein.", tmp_path / "sortie" / "corrections.xlsx")

    monkeypatch.setattr(accuse.render.outputs, "write_worksheet", refuse)
    result = _run_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "disque plein" in result.output
    # The child had written the passages in its transaction, and rolled them back.
    assert _rows(str(tmp_path / "historique.sqlite")) == ([], [])


def test_a_child_killed_mid_record_leaves_the_history_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import accuse.history.store

    parent = os.getpid()

    def die() -> None:
        if os.getpid() != parent:  # only the forked child, once a batch is written
            os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(accuse.history.store, "_after_batch", die)
    result = _run_in_process(tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert "Historique : accusé enregistré (7 refusés, 17 acceptés)" in result.output
    assert (tmp_path / "sortie" / "rapport.html").stat().st_size > 0
    found, rows = _rows(str(tmp_path / "historique.sqlite"))
    assert len(found) == 1 and len(rows) == 24  # recorded once, by the parent
