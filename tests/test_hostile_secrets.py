"""Credentials in the history address are never shown (issue 14), by the commands that
tests/test_hostile_history.py does not cover there: verifier and generer (terminal, JSON, the
HTML page, the flux), and analyse's written files (rapport.html, corrections.xlsx), with a
server that refuses at once and with a real one that lets the command read its history.

The password is given three ways at once: in the address's userinfo, as a ``password`` query
parameter, and in ``PGPASSWORD``. Every byte a command prints or writes is searched, the
worksheet's zipped parts unpacked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

pytest_plugins = ["tests.postgres"]

RECEIPT = FIXTURES / "recu.xml"
SOURCE = FIXTURES / "source.csv"
SECRETS = ("MOTDEPASSE-1", "REQUETE-2", "ENV-3")
REFUSING = "postgresql://moi:MOTDEPASSE-1@127.0.0.1:1/base?password=REQUETE-2&sslmode=disable"


def _accuse(cwd: Path, *args: object) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
        "PGPASSWORD": "ENV-3",
        "ACCUSE_CATALOGUE": str(cwd / "absent.toml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "accuse", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=180,
    )


def _written(folder: Path) -> bytes:
    """Every file under ``folder``, a zip's members unpacked (xlsx parts are deflated)."""
    found = b""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found += data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found += b"".join(archive.read(member) for member in archive.namelist())
    return found


def _runs(work: Path, address: str) -> dict[str, list[tuple[object, ...]]]:
    history = ("--historique", address)
    return {
        "verifier": [
            ("verifier", SOURCE, "-o", work / "v", *history),
            ("verifier", SOURCE, "--format", "json", "--sans-sortie", *history),
        ],
        "generer": [
            ("generer", SOURCE, "-o", work / "flux.xml", "--forcer", *history),
            ("generer", SOURCE, "-o", work / "flux2.xml", "--forcer", "-f", "json", *history),
        ],
        "analyse": [
            ("analyse", RECEIPT, "-s", SOURCE, "-o", work / "a", *history),
            ("analyse", RECEIPT, "-s", SOURCE, "-o", work / "b", "-f", "json", *history),
        ],
        "suivi": [("suivi", *history), ("suivi", "-f", "json", *history)],
    }


def _check(work: Path, runs: list[tuple[object, ...]], shown_form: str) -> None:
    printed = b""
    for args in runs:
        result = _accuse(work, *args)
        printed += result.stdout + result.stderr
        assert result.returncode in (0, 1), (args, result.stderr.decode())
        assert b"Traceback" not in result.stderr
    written = _written(work)
    for secret in SECRETS:
        assert secret.encode() not in printed, (secret, printed.decode())
        assert secret.encode() not in written, secret
    # The address is shown (masked) where the history is told: the test would see a leak.
    told = " ".join(printed.decode().split())
    assert shown_form in told or shown_form.replace("&", "&amp;").encode() in written, told


@pytest.mark.parametrize("command", ["verifier", "generer", "analyse"])
def test_credentials_of_an_unreachable_server_are_never_shown(tmp_path: Path, command: str) -> None:
    work = tmp_path / "travail"
    work.mkdir()
    masked = "postgresql+psycopg://moi:***@127.0.0.1:1/base?password=***&sslmode=disable"
    _check(work, _runs(work, REFUSING)[command], masked)


def _with_credentials(url: str) -> str:
    """The test server's address (trust authentication: any password is taken) with a
    password in its userinfo and another as a query parameter."""
    scheme, rest = url.split("://", 1)
    user, rest = rest.split("@", 1)
    return f"{scheme}://{user}:MOTDEPASSE-1@{rest}&password=REQUETE-2"


@pytest.mark.parametrize("command", ["verifier", "generer", "analyse", "suivi"])
def test_credentials_of_a_working_server_are_never_shown(
    tmp_path: Path, postgres_url: str, command: str
) -> None:
    work = tmp_path / "travail"
    work.mkdir()
    address = _with_credentials(postgres_url)
    if command != "analyse":  # a history holding one deposit, for the reading commands
        seeded = _accuse(
            work, "analyse", RECEIPT, "-s", SOURCE, "--sans-sortie", "--historique", address
        )
        assert seeded.returncode == 1, seeded.stderr.decode()
    _check(work, _runs(work, address)[command], ":***@")
