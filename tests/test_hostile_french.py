"""No English from libraries reaches the user (issue 14): OS errors, the TOML parser's
messages, met for real in a subprocess, come out as French sentences (the common cases
translated, through accuse/files.py `os_reason` and `toml_reason`, the rest quoted as a detail).

The tests run as root, where chmod denies nothing: the errors are made with a directory where
a file is expected, a path under a regular file, a name too long for the file system.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from accuse.fix.workbook import FIX_HEADER_ROW
from tests.conftest import FIXTURES
from tests.test_hostile import _ENGLISH, check_refused_output, run

RECEIPT = FIXTURES / "recu.xml"
SOURCE = FIXTURES / "source.csv"
LONG = "n" * 300  # longer than any file system allows a name (255 bytes)

# Words of the system's and the parser's own messages, in English.
_LIBRARY_ENGLISH = re.compile(
    r"Errno|File name too long|Not a directory|Is a directory|No such file|Permission denied|"
    r"Read-only file system|Expected|Invalid|Unclosed|Unterminated|Cannot|Illegal|Duplicate|"
    r"\(at line|Traceback",
)


def _one_french_line(result: subprocess.CompletedProcess, *fragments: str) -> str:
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), stderr
    message = lines[0]
    for fragment in fragments:
        assert fragment in message, message
    assert not _LIBRARY_ENGLISH.search(message), message
    assert not _ENGLISH.search(message), message
    return message


@pytest.mark.parametrize(
    "args",
    [
        ("analyse", RECEIPT, "-s", SOURCE, "-o", LONG),
        ("analyse", f"{LONG}.xml"),
        ("analyse", RECEIPT, "-s", f"{LONG}.csv"),
        ("analyse", RECEIPT, "--historique", f"{LONG}.sqlite"),
        ("analyse", RECEIPT, "--catalogue", f"{LONG}.toml"),
        ("suivi", "--historique", f"{LONG}.sqlite"),
        ("verifier", SOURCE, "-o", LONG),
        ("verifier", f"{LONG}.csv"),
        ("reexporter", f"{LONG}.xlsx"),
    ],
    ids=lambda args: "-".join(str(a)[:12] for a in args[:1] + args[-2:-1]),
)
def test_a_name_too_long_is_told_in_french(tmp_path: Path, args: tuple[object, ...]) -> None:
    result = run(tmp_path, *args)
    _one_french_line(result, "le chemin ou le nom est trop long")
    assert not [p for p in tmp_path.iterdir() if p.name != "historique.sqlite"]


def test_an_output_folder_under_a_file_is_told_in_french(tmp_path: Path) -> None:
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    result = run(tmp_path, "analyse", RECEIPT, "-o", tmp_path / "fichier" / "sortie")
    check_refused_output(result, tmp_path, "sortie", "une partie de ce chemin est un fichier")
    assert not _LIBRARY_ENGLISH.search(result.stderr.decode())


@pytest.mark.parametrize("role", ["accusé", "source", "catalogue"])
def test_an_input_under_a_file_is_told_in_french(tmp_path: Path, role: str) -> None:
    under = tmp_path / "fichier"
    under.write_text("x", encoding="utf-8")
    missing = under / "entree.xml"
    args: tuple[object, ...] = {
        "accusé": ("analyse", missing),
        "source": ("analyse", RECEIPT, "-s", missing),
        "catalogue": ("analyse", RECEIPT, "--catalogue", missing),
    }[role]
    result = run(tmp_path, *args)
    _one_french_line(result, "entree.xml", "une partie de ce chemin est un fichier")


def test_a_folder_given_as_the_reexport_target_is_told_in_french(tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    done = run(tmp_path, "analyse", RECEIPT, "-s", SOURCE, "-o", out)
    assert done.returncode == 1, done.stderr.decode()
    worksheet = out / "corrections.xlsx"
    # A correction, so that re-export has a row to write.
    import openpyxl

    book = openpyxl.load_workbook(worksheet)
    sheet = book["À corriger"]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    sheet.cell(FIX_HEADER_ROW + 1, header.index("Prénom") + 1, "Corrigé")
    book.save(worksheet)
    folder = tmp_path / "un-dossier.csv"
    folder.mkdir()
    result = run(tmp_path, "reexporter", worksheet, "--sortie", folder, "--forcer")
    message = _one_french_line(result, "écriture impossible")
    assert "c'est un dossier ; il faut ici un nom de fichier" in message, message
    assert list(folder.iterdir()) == []


BROKEN_TOML = [
    ('[[familles]]\ncode = "X"\ntitre = [1,\n', "à la fin du fichier : "),
    ("[a]\nb = 1\n[a]\n", "ligne 3, colonne 3 : une table est déclarée deux fois"),
    ("c = nope\n", "ligne 1, colonne 5 : valeur incompréhensible"),
    (
        'c = "pas fermé\n',
        "ligne 1, colonne 15 : caractère non permis dans un texte entre guillemets (un retour",
    ),
    ("c = 1\nc = 2\n", "ligne 2, colonne 6 : une clé reçoit deux valeurs"),
    ("c 1\n", "ligne 1, colonne 3 : il manque « = » après une clé"),
    ("[table\n", "ligne 1, colonne 7 : il manque « ] » à la fin d'un nom de table"),
    ('c = "a\\qb"\n', "une barre oblique inverse « \\ » doit être doublée"),
]


@pytest.mark.parametrize(("text", "said"), BROKEN_TOML)
def test_a_broken_catalogue_is_told_in_french(tmp_path: Path, text: str, said: str) -> None:
    catalogue = tmp_path / "perso.toml"
    catalogue.write_text(text, encoding="utf-8")
    result = run(tmp_path, "analyse", RECEIPT, "--catalogue", catalogue)
    _one_french_line(result, "perso.toml", "ce n'est pas un fichier TOML valide", said)


def test_a_history_folder_that_cannot_be_made_is_told_in_french(tmp_path: Path) -> None:
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ACCUSE_HISTORIQUE", "ACCUSE_CATALOGUE")
    }
    # The default history lives in the data folder: here, under a regular file.
    env |= {"XDG_DATA_HOME": str(tmp_path / "fichier" / "donnees"), "COLUMNS": "300"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    result = subprocess.run(
        [sys.executable, "-m", "accuse", "analyse", RECEIPT, "--sans-sortie"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
    )
    said = " ".join(result.stdout.decode().split())
    assert result.returncode == 1, result.stderr.decode()
    assert "impossible de créer le dossier de l'historique" in said, said
    assert "(une partie de ce chemin est un fichier, pas un dossier)" in said, said
    assert not _LIBRARY_ENGLISH.search(said), said
