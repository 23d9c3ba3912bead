"""Memory bounded by design, for the shapes tests/test_hostile_attacks.py does not try (issue 14):
40 MB receipts and flux made of chains of nested unknown elements (200 levels, under the
parser's limit, one chain after another), of 100,000 nested levels (past the limit, after 40 MB
of empty siblings), and of millions of empty children inside a passage. Each is read by
``analyse`` (receipt, or flux given as --source) or ``verifier``: the exit status and sentence
are today's, and the peak RSS of the command stays within a constant plus 3 × the file size
(measured in a subprocess, tests/hostile/rss.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.hostile.make_corpus import deep_flux, deep_receipt, wide_receipt
from tests.hostile.rss import measured
from tests.test_hostile_attacks import _BASE_MB

MEGABYTES = 40
TOO_DEEP = "imbrique plus de 256 niveaux d'éléments"

Make = Callable[[Path], list[object]]

# label -> (command's arguments, exit status, a fragment of what it says)
CASES: dict[str, tuple[Make, int, str]] = {
    "accusé, chaînes de 200 niveaux": (
        lambda d: ["analyse", deep_receipt(d / "recu.xml", MEGABYTES, 200)],
        0,
        "Accusé de traitement",
    ),
    "accusé, 100 000 niveaux dans un passage": (
        lambda d: ["analyse", deep_receipt(d / "recu.xml", MEGABYTES, 100_000, inside=True)],
        2,
        TOO_DEEP,
    ),
    "accusé, éléments vides dans un passage": (
        lambda d: ["analyse", wide_receipt(d / "recu.xml", MEGABYTES, deep=True)],
        1,
        "Accusé de traitement",
    ),
    "flux en source, chaînes de 200 niveaux": (
        lambda d: ["analyse", FIXTURES / "recu.xml", "-s", deep_flux(d / "flux.xml", MEGABYTES)],
        1,
        "Accusé de traitement",
    ),
    "flux en source, 100 000 niveaux": (
        lambda d: [
            "analyse",
            FIXTURES / "recu.xml",
            "-s",
            deep_flux(d / "flux.xml", MEGABYTES, 100_000),
        ],
        2,
        TOO_DEEP,
    ),
    "verifier, 100 000 niveaux": (
        lambda d: ["verifier", deep_flux(d / "flux.xml", MEGABYTES, 100_000, inside=False)],
        1,
        "Balise non fermée ou mal fermée",  # libxml2 stops at 256 levels: told as XML_BALISE
    ),
}


@pytest.mark.parametrize("label", list(CASES))
def test_memory_stays_bounded(tmp_path: Path, label: str) -> None:
    make, status_expected, fragment = CASES[label]
    args = make(tmp_path)
    env = {
        **os.environ,
        "ACCUSE_HISTORIQUE": str(tmp_path / "h.sqlite"),
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
    }
    command = [sys.executable, "-m", "accuse", *args, "--sans-sortie", "--sans-historique"]
    status, peak, stdout, stderr = measured(command, cwd=tmp_path, env=env)
    said = " ".join((stdout + stderr).decode().split())
    assert status == status_expected, said
    assert "Traceback" not in said
    assert fragment in said, said
    assert peak <= _BASE_MB + 3 * MEGABYTES, f"{label} : {peak} Mo"
    shutil.rmtree(tmp_path, ignore_errors=True)
