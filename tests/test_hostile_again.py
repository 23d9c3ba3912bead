"""Issue 14's classes tried again with other files and other commands: a FIFO given as every
file argument of every command (refused as « pas un fichier ordinaire » at once, or, for the
history of a reading command, told on its history line), a FIFO named by a variable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.test_hostile import check_refused, run

RECEIPT = FIXTURES / "recu.xml"
SOURCE = FIXTURES / "source.csv"
NOT_A_FILE = "pas un fichier ordinaire"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "entrees" / "tube"
    path.parent.mkdir()
    os.mkfifo(path)
    return path


REFUSED = {
    "verifier-source": ("verifier", "{fifo}"),
    "verifier-catalogue": ("verifier", SOURCE, "--catalogue", "{fifo}"),
    "generer-source": ("generer", "{fifo}"),
    "generer-catalogue": ("generer", SOURCE, "--catalogue", "{fifo}"),
    "courriels-accuse": ("courriels", "{fifo}", "-s", SOURCE),
    "courriels-source": ("courriels", RECEIPT, "-s", "{fifo}"),
    "courriels-catalogue": ("courriels", RECEIPT, "-s", SOURCE, "--catalogue", "{fifo}"),
    "retirer-source": ("retirer", "{fifo}", "--id", "X"),
    "retirer-ids": ("retirer", SOURCE, "--ids-fichier", "{fifo}"),
    "suivi-historique": ("suivi", "--historique", "{fifo}"),
    "catalogue-verifier": ("catalogue", "--verifier", "{fifo}"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_fifo_is_refused_everywhere(tmp_path: Path, fifo: Path, case: str) -> None:
    work = tmp_path / "travail"
    work.mkdir()
    args = [fifo if a == "{fifo}" else a for a in REFUSED[case]]
    result = run(work, *args, stdin=subprocess.PIPE)
    check_refused(result, work, "tube", NOT_A_FILE)


@pytest.mark.parametrize("command", ["verifier", "generer"])
def test_a_fifo_history_is_told_on_the_history_line(
    tmp_path: Path, fifo: Path, command: str
) -> None:
    work = tmp_path / "travail"
    work.mkdir()
    extra = ("-o", work / "flux.xml") if command == "generer" else ("--sans-sortie",)
    result = run(work, command, SOURCE, *extra, "--historique", fifo, stdin=subprocess.PIPE)
    said = " ".join(result.stdout.decode().split())
    assert result.returncode in (0, 1), result.stderr.decode()
    assert f"Historique non consulté : tube : {NOT_A_FILE}" in said, said


def test_remembered_codes_from_a_fifo_do_not_hang(tmp_path: Path, fifo: Path) -> None:
    env = {
        **os.environ,
        "ACCUSE_DEPOSANT": str(fifo),
        "ACCUSE_HISTORIQUE": str(tmp_path / "historique.sqlite"),
        "ACCUSE_CATALOGUE": str(tmp_path / "absent.toml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "accuse", "generer", SOURCE, "-o", tmp_path / "flux.xml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()


ESCAPED = "x\x1b]0;TITRE\x07\x1b[2Jy\nz"


@pytest.mark.parametrize("command", ["generer", "retirer", "courriels", "verifier", "analyse"])
def test_escape_sequences_in_file_names_stay_inert(tmp_path: Path, command: str) -> None:
    folder = tmp_path / f"d{ESCAPED}"
    folder.mkdir()
    source = folder / f"s{ESCAPED}.csv"
    source.write_bytes(SOURCE.read_bytes())
    receipt = folder / f"r{ESCAPED}.xml"
    receipt.write_bytes(RECEIPT.read_bytes())
    out = folder / f"o{ESCAPED}"
    args: tuple[object, ...] = {
        "generer": ("generer", source, "-o", out.with_suffix(".xml"), "--forcer"),
        "retirer": ("retirer", source, "--id", "1960012", "-o", out.with_suffix(".xml")),
        "courriels": ("courriels", receipt, "-s", source, "-o", out),
        "verifier": ("verifier", source, "-o", out),
        "analyse": ("analyse", receipt, "-s", source, "-o", out),
    }[command]
    result = run(tmp_path, *args)
    shown = result.stdout + result.stderr
    # courriels: this source has no address column, told with the file's name.
    assert result.returncode in ((0, 1, 2) if command == "courriels" else (0, 1)), shown
    assert b"\x1b" not in shown and b"\x07" not in shown, shown.decode()
    assert "\\u001b" in shown.decode()  # the name is there, its escapes made visible
