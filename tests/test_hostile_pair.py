"""corrections.xlsx and rapport.html are written as one pair (issue 14): the output folder is
held by a lock file while they are written, and both carry the run's identity, so a pair from
two runs (a run killed between the two renames, two runs into one folder) is told in French.

Every case runs the real command in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import lxml.html
import openpyxl
import pytest

from tests.conftest import FIXTURES
from tests.test_hostile import _ENGLISH, run, state

LOCK = ".accuse-verrou"
MIXED = "ne viennent pas de la même analyse"
INPUTS = [FIXTURES / "recu.xml", FIXTURES / "source.csv"]


def _analyse(cwd: Path, out: Path) -> subprocess.CompletedProcess:
    return run(cwd, "analyse", INPUTS[0], "-s", INPUTS[1], "-o", out)


def _worksheet_run(folder: Path) -> str:
    book = openpyxl.load_workbook(folder / "corrections.xlsx", read_only=True)
    entries = {row[0]: row[1] for row in book["accuse_suivi"].iter_rows(values_only=True)}
    return str(entries["execution"]).strip('"')


def _report_run(folder: Path) -> str:
    page = lxml.html.parse(str(folder / "rapport.html")).getroot()
    (content,) = page.xpath('//head/meta[@name="accuse-execution"]/@content')
    return str(content)


@pytest.fixture
def folder_pair(tmp_path: Path) -> Path:
    """An analysed folder (its pair matches) and no lock left behind."""
    out = tmp_path / "sortie"
    result = _analyse(tmp_path, out)
    assert result.returncode == 1, result.stderr.decode()
    return out


def test_both_files_carry_the_same_run(folder_pair: Path, tmp_path: Path) -> None:
    run_id = _worksheet_run(folder_pair)
    assert run_id == _report_run(folder_pair)
    assert sorted(p.name for p in folder_pair.iterdir()) == ["corrections.xlsx", "rapport.html"]
    # Another run into the same folder writes a new pair, with a new identity in both.
    again = _analyse(tmp_path, folder_pair)
    assert again.returncode == 1 and MIXED not in again.stdout.decode()
    assert _worksheet_run(folder_pair) == _report_run(folder_pair) != run_id
    exported = run(tmp_path, "reexporter", folder_pair / "corrections.xlsx")
    assert MIXED not in exported.stdout.decode() + exported.stderr.decode()


def _mixed_pair(tmp_path: Path, folder: Path) -> None:
    """A run killed between the two renames: the report beside the worksheet is another run's."""
    other = tmp_path / "autre"
    result = _analyse(tmp_path, other)
    assert result.returncode == 1, result.stderr.decode()
    shutil.copyfile(other / "rapport.html", folder / "rapport.html")
    assert _worksheet_run(folder) != _report_run(folder)


def test_reexporter_tells_a_mixed_pair(folder_pair: Path, tmp_path: Path) -> None:
    _mixed_pair(tmp_path, folder_pair)
    worksheet = folder_pair / "corrections.xlsx"
    result = run(tmp_path, "reexporter", worksheet)
    said = " ".join(result.stdout.decode().split())  # the terminal wraps long lines
    assert result.returncode in (0, 1), result.stderr.decode()
    assert f"corrections.xlsx et rapport.html, dans le même dossier, {MIXED}" in said, said
    assert "relancez « accuse analyse » pour refaire les deux ensemble" in said


def test_a_report_without_identity_beside_a_new_worksheet_is_told(
    folder_pair: Path, tmp_path: Path
) -> None:
    report = folder_pair / "rapport.html"
    page = report.read_text(encoding="utf-8")
    report.write_text(page.replace('name="accuse-execution"', 'name="autre"'), encoding="utf-8")
    result = run(tmp_path, "reexporter", folder_pair / "corrections.xlsx")
    said = " ".join(result.stdout.decode().split())
    assert "rapport.html d'une analyse plus ancienne" in said, said


def test_analyse_into_a_mixed_folder_tells_and_writes_a_new_pair(
    folder_pair: Path, tmp_path: Path
) -> None:
    _mixed_pair(tmp_path, folder_pair)
    result = _analyse(tmp_path, folder_pair)
    said = " ".join(result.stdout.decode().split())
    assert result.returncode == 1, result.stderr.decode()
    assert MIXED in said and "Cette analyse les remplace tous les deux." in said, said
    assert _worksheet_run(folder_pair) == _report_run(folder_pair)


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_folder_held_by_a_live_run_is_refused(folder_pair: Path, tmp_path: Path) -> None:
    holder = _sleeper()
    try:
        lock = folder_pair / LOCK
        lock.write_text(f"{holder.pid}\n{socket.gethostname()}\n", encoding="utf-8")
        before = state([*folder_pair.iterdir(), *INPUTS])
        result = _analyse(tmp_path, folder_pair)
    finally:
        holder.kill()
        holder.wait()
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), stderr
    assert "une autre analyse d'accuse écrit en ce moment dans ce dossier" in lines[0]
    assert f"(processus {holder.pid})" in lines[0] and "rien n'a été écrit" in lines[0]
    assert not _ENGLISH.search(lines[0]), lines[0]
    assert state([*folder_pair.iterdir(), *INPUTS]) == before  # nothing written, lock kept
    assert not list(folder_pair.glob("*.tmp")) and not list(folder_pair.glob(".*.tmp"))


def test_a_lock_from_another_computer_is_respected(folder_pair: Path, tmp_path: Path) -> None:
    (folder_pair / LOCK).write_text("4242\nposte-\x1b[2J-compta\n", encoding="utf-8")
    result = _analyse(tmp_path, folder_pair)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "sur l'ordinateur « poste-\\u001b[2J-compta »" in stderr, stderr
    assert "\x1b" not in stderr and f"supprimez le fichier « {LOCK} »" in stderr


@pytest.mark.parametrize("content", ["dead", "garbage", "empty"])
def test_a_stale_lock_is_taken_over(folder_pair: Path, tmp_path: Path, content: str) -> None:
    lock = folder_pair / LOCK
    if content == "dead":
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()  # its pid names no process any more
        lock.write_text(f"{gone.pid}\n{socket.gethostname()}\n", encoding="utf-8")
    else:
        lock.write_bytes(b"" if content == "empty" else b"\xff\x00pas un pid\n")
    old = _worksheet_run(folder_pair)
    result = _analyse(tmp_path, folder_pair)
    assert result.returncode == 1, result.stderr.decode()
    assert _worksheet_run(folder_pair) == _report_run(folder_pair) != old
    assert not lock.exists()  # released once the pair is written


def test_concurrent_runs_into_one_folder_never_mix(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    env = {**os.environ, "ACCUSE_CATALOGUE": str(tmp_path / "absent.toml")}
    env["ACCUSE_HISTORIQUE"] = str(tmp_path / "historique.sqlite")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "accuse", "analyse", INPUTS[0], "-s", INPUTS[1], "-o", out],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outcomes = []
    for process in runs:
        _, stderr = process.communicate()
        outcomes.append((process.returncode, stderr.decode()))
    for status, stderr in outcomes:
        # Each run wrote its pair, or was refused while another held the folder.
        assert status == 1 or (status == 2 and "écrit en ce moment dans ce dossier" in stderr), (
            status,
            stderr,
        )
    assert any(status == 1 for status, _ in outcomes)
    assert _worksheet_run(out) == _report_run(out)
    assert sorted(p.name for p in out.iterdir()) == ["corrections.xlsx", "rapport.html"]
