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
from tests.hostile.make_corpus import wide_flux
from tests.hostile.rss import measured
from tests.test_hostile import check_refused, run
from tests.test_hostile_attacks import _BASE_MB

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


def _chains(path: Path, megabytes: int) -> Path:
    """The committed flux with, inside its first passage, an unknown element holding deep
    chains (200 levels) of unknown elements."""
    chain = b"<cpf:b>" * 200 + b"x" + b"</cpf:b>" * 200
    text = (FIXTURES / "flux.xml").read_bytes()
    head, found, tail = text.partition(b"<cpf:passageCertification>")
    with path.open("wb") as handle:
        handle.write(head + found + b"<cpf:inconnu>")
        for _ in range(megabytes * 2**20 // len(chain)):
            handle.write(chain)
        handle.write(b"</cpf:inconnu>" + tail)
    return path


@pytest.mark.parametrize("shape", ["large", "profond", "en-tete"])
def test_verifier_checks_a_flux_of_unknown_elements_in_bounded_memory(
    tmp_path: Path, shape: str
) -> None:
    """The XSD check validates each passage whole: what lies inside an unknown element (40 MB
    of children took 1.4 GB) is freed as the parser goes, the error is still told."""
    megabytes = 40
    if shape == "profond":
        flux = _chains(tmp_path / "flux.xml", megabytes)
    else:
        flux = wide_flux(tmp_path / "flux.xml", megabytes, inside=shape == "large")
    env = {**os.environ, "ACCUSE_HISTORIQUE": str(tmp_path / "h.sqlite"), "COLUMNS": "200"}
    command = [sys.executable, "-m", "accuse", "verifier", flux, "--sans-sortie"]
    status, peak, stdout, stderr = measured([*command, "--sans-historique"], env=env)
    assert status == 1, stderr.decode()
    assert peak <= _BASE_MB + 3 * megabytes, f"{shape}: {peak} Mo"
    assert "Élément inattendu : « inconnu »" in " ".join(stdout.decode().split())
