"""The README's « Limites et fichiers refusés » table tells the truth: for each row that can be
reproduced here, the command is run for real (subprocess) and the message it prints is the one
the README shows (file names and numbers aside).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.hostile import xlsb
from tests.hostile.make_corpus import far_cell_ods, far_cell_xls, far_cell_xlsb, far_cell_xlsx
from tests.test_hostile import run

RECEIPT = FIXTURES / "recu.xml"


def _table_messages() -> list[str]:
    """The message (last column, in backquotes) of every row of the table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Limites et fichiers refusés", 1)[1].split("\n## ", 1)[0]
    found = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| limite"):
            quoted = re.search(r"\| `(.+?)`[^`|]*\|\s*$", line)
            if quoted:
                found.append(quoted.group(1))
    return found


def _plain(text: str) -> str:
    """Spaces squeezed (the terminal wraps), every number a #."""
    return re.sub(r"\d+(?:[  ]\d{3})*", "#", " ".join(text.split()))


def _fifo(folder: Path) -> tuple[object, ...]:
    path = folder / "recu.xml"
    os.mkfifo(path)
    return ("analyse", path)


def _doctype(folder: Path) -> tuple[object, ...]:
    path = folder / "recu.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e "x">]>\n<r>&e;</r>\n')
    return ("analyse", path)


def _far_xlsx(folder: Path) -> tuple[object, ...]:
    return ("verifier", far_cell_xlsx(folder / "loin.xlsx", 1_048_575, 16_383))


def _damaged_xlsb(folder: Path) -> tuple[object, ...]:
    # A shared string past the end of the list: calamine would panic on it.
    path = far_cell_xlsb(
        folder / "abime.xlsb", 30, 1, xlsb.Raw(xlsb.CELL_SHARED, bytes(4) + b"\xff" * 4)
    )
    return ("verifier", path)


def _hint(folder: Path) -> tuple[object, ...]:
    path = folder / "perso.toml"
    path.write_text('[[famille]]\ncode = "DOUBLON"\nindice = "{id:>1500000000}"\n')
    return ("analyse", RECEIPT, "--catalogue", path)


def _formulas(folder: Path) -> tuple[object, ...]:
    import xlsxwriter

    path = folder / "formules.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Titulaires")
    for column, header in enumerate(["Id Technique", "Nom de naissance", "Prénom"]):
        sheet.write_string(0, column, header)
    for row in range(1, 6):  # stored value 0: never computed
        sheet.write_formula(row, 0, '="ID"&ROW()')
        sheet.write_string(row, 1, "Nom")
        sheet.write_string(row, 2, "Zoé")
    book.close()
    return ("analyse", RECEIPT, "-s", path)


def _toml(folder: Path) -> tuple[object, ...]:
    path = folder / "perso.toml"
    path.write_text("c = nope\n")
    return ("analyse", RECEIPT, "--catalogue", path)


def _long(folder: Path) -> tuple[object, ...]:
    return ("analyse", folder / ("n" * 300 + ".xml"))


def _locked(folder: Path) -> tuple[object, ...]:
    out = folder / "sortie"
    out.mkdir()
    # The test's own pid: alive as long as the command runs.
    (out / ".accuse-verrou").write_text(f"{os.getpid()}\n{socket.gethostname()}\n")
    return ("analyse", RECEIPT, "-o", out)


def _address(folder: Path) -> tuple[object, ...]:
    return ("analyse", RECEIPT, "--historique", "postgresql://u@serveur:pasunport/base")


# A fragment that names the README row -> how to make the command print its message.
TRIGGERS: dict[str, Callable[[Path], tuple[object, ...]]] = {
    "pas un fichier ordinaire": _fifo,
    "déclare un DOCTYPE": _doctype,
    "la cellule XFD1048576": _far_xlsx,
    "il contient des enregistrements tronqués ou incohérents": _damaged_xlsb,
    "une phrase d'indice ne contient que": _hint,
    "ne contient que des 0": _formulas,
    "ce n'est pas un fichier TOML valide": _toml,
    "le chemin ou le nom est trop long": _long,
    "une autre analyse d'accuse écrit en ce moment": _locked,
    "adresse d'historique illisible": _address,
}


def test_every_triggered_row_is_in_the_table() -> None:
    messages = _table_messages()
    assert len(messages) >= 15
    for fragment in TRIGGERS:
        assert any(fragment in m for m in messages), fragment


@pytest.mark.parametrize("fragment", list(TRIGGERS))
def test_the_table_shows_the_real_message(tmp_path: Path, fragment: str) -> None:
    (readme,) = [m for m in _table_messages() if fragment in m]
    args = TRIGGERS[fragment](tmp_path)
    work = tmp_path / "travail"
    work.mkdir()
    result = run(work, *args, stdin=subprocess.DEVNULL)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert _plain(readme) in _plain(stderr), (readme, stderr)


@pytest.mark.parametrize("kind", ["ods", "xls", "xlsb"])
def test_far_cells_of_other_kinds_say_the_same(tmp_path: Path, kind: str) -> None:
    (readme,) = [m for m in _table_messages() if "la cellule XFD1048576" in m]
    maker = {"ods": far_cell_ods, "xls": far_cell_xls, "xlsb": far_cell_xlsb}[kind]
    source = maker(
        tmp_path / f"loin.{kind}",
        65_535 if kind == "xls" else 1_048_575,
        255 if kind == "xls" else 16_383,
    )
    result = run(tmp_path, "verifier", source)
    told = _plain(result.stderr.decode())
    # The same sentence; only the cell named differs (IV65536 in an .xls).
    assert _plain(readme).split("est remplie", 1)[1] in told, told
    assert result.returncode == 2
