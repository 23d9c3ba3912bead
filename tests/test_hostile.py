"""Hostile and broken inputs, run through the real command in a subprocess (issue 7).

Each refused file must give exit status 2 and one French sentence on stderr naming the file,
with no traceback, no output written or half-written, the inputs untouched and no secret
leaked. Valid but unusual files (UTF-16, BOM, old .xls, merged headers, formulas, mixed csv
encodings) must be read right instead. The corpus comes from tests/hostile/make_corpus.py.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from accuse.fix.workbook import FIX_HEADER_ROW
from tests.conftest import FIXTURES
from tests.hostile.make_corpus import (
    FORMULA,
    HOSTILE_IDS,
    INJECTIONS,
    SCRIPT,
    SECRET,
    SUM,
    build,
    huge_text_node,
    zip_bomb,
)

# English a library might let through (its words, not French ones).
_ENGLISH = re.compile(
    r"\b(error|invalid|file|not found|directory|permission|denied|the|such|exception)\b", re.I
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("corpus"))


def run(cwd: Path, *args: object, **options) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ACCUSE_HISTORIQUE": str(cwd / "historique.sqlite"),
        "ACCUSE_CATALOGUE": str(cwd / "absent.toml"),
        "COLUMNS": "200",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "accuse", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        **options,
    )


def state(paths: list[Path]) -> dict[Path, tuple[str, int]]:
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}


def check_refused(
    result: subprocess.CompletedProcess, cwd: Path, named: str, *fragments: str
) -> str:
    """The refusal contract; returns the message."""
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert result.stdout == b""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    message = lines[0]
    assert message.startswith("Erreur : ") and message.endswith("."), message
    assert named in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert not _ENGLISH.search(message), message
    assert SECRET not in stderr
    outputs = [p for p in cwd.rglob("*") if p.name != "historique.sqlite"]
    assert all(p.is_dir() and not any(p.iterdir()) for p in outputs), outputs
    return message


REFUSED_RECEIPTS = [
    ("xml-entite-externe.xml", "DOCTYPE"),
    ("xml-milliard-de-rires.xml", "DOCTYPE"),
    ("xml-dtd-externe.xml", "DOCTYPE"),
    ("xml-profond.xml", "plus de 256 niveaux"),
    ("xml-tronque.xml", "tronqué"),
    ("xml-vide.xml", "vide"),
    ("xml-blanc.xml", "pas un fichier XML lisible"),
    ("xml-binaire.xml", "pas un fichier XML lisible"),
    ("xml-latin1-declare-utf8.xml", "encodage annoncé"),
    ("flux.xml", "flux de dépôt, pas un accusé de traitement"),
    ("accuse-forme-inconnue.xml", "aucun accusé de traitement connu"),
    ("racine-inconnue.xml", "« html » au lieu de « rapport »"),
    ("source-plat.xlsx", "pas un accusé de traitement"),
    ("source.csv", "fichier csv, pas un accusé de traitement"),
]


@pytest.mark.parametrize(("name", "expected"), REFUSED_RECEIPTS)
def test_refused_receipt(corpus: Path, tmp_path: Path, name: str, expected: str) -> None:
    receipt = corpus / name
    before = state([receipt])
    result = run(tmp_path, "analyse", receipt, "--source", corpus / "source.csv")
    check_refused(result, tmp_path, name, expected)
    assert state([receipt]) == before


REFUSED_SOURCES = [
    ("flux-entite-externe.xml", "DOCTYPE"),
    ("recu.xml", "accusé de traitement, pas une source"),
    ("xlsx-corrompu.xlsx", "classeur endommagé"),
    ("xlsx-chiffre.xlsx", "protégé par un mot de passe"),
    ("xls-faux.xls", "contient du texte"),
    ("xlsx-sans-entete.xlsx", "aucune feuille n'a de colonne d'identifiant technique"),
    ("xlsx-sans-id.xlsx", "aucune feuille n'a de colonne d'identifiant technique"),
    ("xlsx-deux-id.xlsx", "deux colonnes d'identifiant technique (colonne A et colonne F"),
    ("xlsx-feuille-vide.xlsx", "le classeur est vide"),
    ("xlsx-cellule-1mo.xlsx", "ligne 8, colonne B : une valeur de 1 048 576 caractères"),
    ("csv-cellule-1mo.csv", "ligne 8 : une valeur de plus de 131 072 caractères"),
]


@pytest.mark.parametrize(("name", "expected"), REFUSED_SOURCES)
def test_refused_source(corpus: Path, tmp_path: Path, name: str, expected: str) -> None:
    inputs = [corpus / "recu.xml", corpus / name]
    before = state(inputs)
    result = run(tmp_path, "analyse", *inputs[:1], "--source", inputs[1])
    check_refused(result, tmp_path, name, expected)
    assert state(inputs) == before


def test_big_hostile_files_are_refused(tmp_path: Path) -> None:
    """A 100 MB text node and an xlsx unpacking to 100 MB: generated here, never committed."""
    work = tmp_path / "travail"
    work.mkdir()
    node = huge_text_node(tmp_path / "xml-texte-100mo.xml")
    check_refused(run(work, "analyse", node), work, node.name, "plus de 10 Mo d'un seul tenant")
    node.unlink()
    bomb = zip_bomb(tmp_path / "xlsx-bombe.xlsx")
    result = run(work, "analyse", FIXTURES / "recu.xml", "--source", bomb)
    check_refused(result, work, bomb.name, "se décompresse en un volume anormal")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xlsx-corrompu.xlsx", "classeur endommagé"),
        ("xlsx-chiffre.xlsx", "protégé par un mot de passe"),
        ("source-plat.xlsx", "pas une feuille de corrections produite par « accuse analyse »"),
        ("recu.xml", "attend le fichier corrections.xlsx"),
    ],
)
def test_refused_worksheet(corpus: Path, tmp_path: Path, name: str, expected: str) -> None:
    before = state([corpus / name])
    result = run(tmp_path, "reexporter", corpus / name, "--sortie", tmp_path / "sortie.csv")
    check_refused(result, tmp_path, name, expected)
    assert state([corpus / name]) == before


def test_nothing_leaks_from_an_external_entity(corpus: Path, tmp_path: Path) -> None:
    for receipt in ("xml-entite-externe.xml", "xml-dtd-externe.xml"):
        result = run(tmp_path, "analyse", corpus / receipt, "--format", "json")
        assert SECRET.encode() not in result.stdout + result.stderr
    result = run(tmp_path, "analyse", corpus / "recu.xml", "-s", corpus / "flux-entite-externe.xml")
    assert SECRET.encode() not in result.stdout + result.stderr
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or SECRET.encode() not in path.read_bytes()


# --- valid but unusual: read, not refused --------------------------------------------------


def analysed(cwd: Path, receipt: Path, source: Path | None = None) -> dict:
    args = ["analyse", receipt, "--format", "json", "--sans-sortie"]
    result = run(cwd, *args, *(["--source", source] if source else []))
    assert result.returncode == 1, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["xml-utf16.xml", "xml-bom.xml"])
def test_unusual_receipt_encodings_are_read(corpus: Path, tmp_path: Path, name: str) -> None:
    document = analysed(tmp_path, corpus / name, corpus / "source.csv")
    assert document["totaux"]["ok"] == 17
    assert document["totaux"]["ko"] == 7
    assert document["totaux"]["ko_rapproches"] == 7
    assert document["accuse"]["idTraitement"] == "54169"


@pytest.mark.parametrize(
    "name",
    [
        "xls-ancien.xls",
        "xlsx-entetes-fusionnes.xlsx",
        "xlsx-formules.xlsx",
        "csv-encodages-melanges.csv",
    ],
)
def test_unusual_sources_are_read(corpus: Path, tmp_path: Path, name: str) -> None:
    document = analysed(tmp_path, corpus / "recu.xml", corpus / name)
    totals = document["totaux"]
    assert (totals["ko_rapproches"], totals["lignes_source"]) == (7, 24)
    names = {k["idTechnique"]: k["valeurs"].get("nomNaissance") for k in document["ko"]}
    expected = {"xlsx-formules.xlsx": "LEFEBVRE"}.get(name, "Lefebvre")
    assert names["1960020"] == expected  # a formula's value; a Windows-1252 line decoded
    if name == "csv-encodages-melanges.csv":
        # Ragged rows: a short one reads with its missing cells empty.
        assert all(v is None or "\ufffd" not in str(v) for v in names.values())


# --- outputs -------------------------------------------------------------------------------


def test_output_folder_that_is_an_input(corpus: Path, tmp_path: Path) -> None:
    inputs = [corpus / "recu.xml", corpus / "source.csv"]
    before = state(inputs)
    for target in inputs:
        result = run(tmp_path, "analyse", inputs[0], "-s", inputs[1], "--sortie", target)
        check_refused(result, tmp_path, target.name, "l'un de vos fichiers d'entrée")
    assert state(inputs) == before


def test_output_folder_under_a_file(corpus: Path, tmp_path: Path) -> None:
    """Root writes anywhere chmod forbids: a path through a regular file fails for everyone."""
    blocker = tmp_path / "un-fichier.txt"
    blocker.write_text("x")
    target = blocker / "sortie"
    result = run(tmp_path, "analyse", corpus / "recu.xml", "--sortie", target)
    check_refused_output(result, tmp_path, str(target), "pas un dossier")


def test_output_folder_that_is_an_existing_file(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "rapport.txt").write_text("x")
    result = run(tmp_path, "analyse", corpus / "recu.xml", "--sortie", "rapport.txt")
    check_refused_output(result, tmp_path, "rapport.txt", "désigne un fichier existant")


def _read_only(folder: Path) -> bool:
    try:
        (folder / "accuse-essai").mkdir()
    except OSError:
        return True
    (folder / "accuse-essai").rmdir()
    return False


@pytest.mark.skipif(not _read_only(Path("/sys")), reason="/sys n'est pas en lecture seule ici")
def test_output_folder_read_only(corpus: Path, tmp_path: Path) -> None:
    """chmod does not stop root (CI): /sys, mounted read-only in containers, does."""
    result = run(tmp_path, "analyse", corpus / "recu.xml", "--sortie", "/sys/accuse-sortie")
    check_refused_output(result, tmp_path, "/sys/accuse-sortie", "écriture impossible")


def check_refused_output(result, cwd: Path, named: str, *fragments: str) -> None:
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), stderr
    assert named in lines[0] and all(f in lines[0] for f in fragments), lines[0]
    assert not _ENGLISH.search(lines[0]), lines[0]
    assert not list(cwd.glob("accuse-*")) and not list(cwd.rglob("*.tmp"))


def _file_size_limit(limit: int):
    def limit_writes() -> None:
        # Writes past the limit then fail with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_writes


def test_full_disk(corpus: Path, tmp_path: Path) -> None:
    inputs = [corpus / "recu.xml", corpus / "source.csv"]
    before = state(inputs)
    result = run(
        tmp_path, "analyse", *inputs[:1], "-s", inputs[1], preexec_fn=_file_size_limit(2000)
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "disque plein" in stderr and "Libérez de la place" in stderr
    assert "Traceback" not in stderr
    # The output folder it created is removed again: nothing half-written anywhere.
    assert not list(tmp_path.glob("accuse-*")) and not list(tmp_path.rglob("*.tmp"))
    assert state(inputs) == before


def _big_set(folder: Path, rows: int) -> tuple[Path, Path]:
    message = "Aucun titulaire ne correspond aux critères obligatoires"
    ko = "".join(
        f"<passage><idTechnique>ID{n}</idTechnique><messageErreur>{message}</messageErreur>"
        "</passage>"
        for n in range(rows)
    )
    receipt = folder / "gros-recu.xml"
    receipt.write_text(
        f"<rapport><nomFichier>f.xml</nomFichier><PassagesKO>{ko}</PassagesKO></rapport>",
        encoding="utf-8",
    )
    source = folder / "gros.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Id Technique", "Nom de naissance", "Prénom", "Année de naissance"])
        writer.writerows([f"ID{n}", f"Nom{n}", "Zoé", "1990"] for n in range(rows))
    return receipt, source


def _children(pid: int) -> list[int]:
    """The processes ``pid`` has forked (Linux; none elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(n) for n in task.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def test_interrupted_write_keeps_the_good_files(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    good = run(tmp_path, "analyse", corpus / "recu.xml", "-s", corpus / "source.csv", "-o", out)
    assert good.returncode == 1, good.stderr.decode()
    kept = {name: (out / name).read_bytes() for name in ("corrections.xlsx", "rapport.html")}
    receipt, source = _big_set(tmp_path, 15_000)
    env = {**os.environ, "ACCUSE_HISTORIQUE": str(tmp_path / "h.sqlite")}
    command = [sys.executable, "-m", "accuse", "analyse", receipt, "-s", source, "-o", out]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".*.tmp")) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.005)
    children = _children(process.pid)  # the report's writer, forked by the run
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Orphaned, the report's writer finishes without putting its file in place: the next run
    # is started once it has stopped, so that what is listed below is that run's alone.
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.01)
    for name, content in kept.items():
        assert (out / name).read_bytes() == content, f"{name} changed by a killed run"
    assert openpyxl.load_workbook(out / "corrections.xlsx").sheetnames
    # The next run removes what the killed one left behind, and writes its own files.
    again = run(tmp_path, "analyse", corpus / "recu.xml", "-s", corpus / "source.csv", "-o", out)
    assert again.returncode == 1, again.stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == ["corrections.xlsx", "rapport.html"]


# --- injection -----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["injection-source.csv", "injection-source.xlsx"])
def test_injected_text_stays_inert(corpus: Path, tmp_path: Path, source: str) -> None:
    out = tmp_path / "sortie"
    result = run(
        tmp_path, "analyse", corpus / "injection-recu.xml", "-s", corpus / source, "-o", out
    )
    assert result.returncode == 1, result.stderr.decode()
    terminal = result.stdout.decode() + result.stderr.decode()
    for raw in ("\x1b", "\x07", "\x00", "\u202e"):
        assert raw not in terminal, repr(raw)
    assert "\\u202e" in terminal  # shown, not obeyed

    book = openpyxl.load_workbook(out / "corrections.xlsx")
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    for value in (FORMULA, SUM, SCRIPT, *HOSTILE_IDS):
        assert value in texts, value

    page = (out / "rapport.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "<b>id</b>" not in page
    assert "\u202e" not in page and "\x1b" not in page


def test_reexported_csv_cells_are_inert(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    receipt, source = corpus / "injection-recu.xml", corpus / "injection-source.csv"
    assert run(tmp_path, "analyse", receipt, "-s", source, "-o", out).returncode == 1
    worksheet = out / "corrections.xlsx"
    book = openpyxl.load_workbook(worksheet)
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    year = header.index("Année de naissance")
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1):
        row[year].value = "1989"  # a correction on every row, so every row comes out
        row[year].data_type = "s"
    book.save(worksheet)
    target = tmp_path / "corrige.csv"
    result = run(tmp_path, "reexporter", worksheet, "--format", "csv", "--forcer", "-o", target)
    assert result.returncode == 0, result.stderr.decode()
    printed = result.stdout.decode()
    assert "\u202e" not in printed and "apostrophe" in printed
    rows = list(csv.reader(target.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    cells = {c for r in rows[1:] for c in r[1:]}
    assert "'" + FORMULA in cells and "'" + SUM in cells and "'+1+1" in cells
    assert not any(c.startswith(("=", "@", "+")) for c in cells)
    # Ids are how the portal knows a passage: kept as they are, and named in a warning.
    assert {r[0] for r in rows[1:]} >= set(HOSTILE_IDS) - {"id\u202e99"}
    assert "=1+1" in printed and "identifiant" in printed
    assert len(INJECTIONS) + len(HOSTILE_IDS) == len(rows) - 1


# --- a bug of ours: an apology, never a traceback, unless --debug -----------------------------


def _boom(*args, **kwargs):
    raise RuntimeError("panne interne simulée")


@pytest.mark.parametrize(
    ("target", "args"),
    [
        (
            "accuse.pipeline.analysis.analyse",
            ["analyse", str(FIXTURES / "recu.xml"), "--sans-sortie"],
        ),
        ("accuse.fix.reexport.reexport", ["reexporter", str(FIXTURES / "source-plat.xlsx")]),
    ],
)
def test_unexpected_error_apologises(monkeypatch, tmp_path: Path, target: str, args) -> None:
    from typer.testing import CliRunner

    from accuse.cli.app import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCUSE_HISTORIQUE", str(tmp_path / "historique.sqlite"))
    monkeypatch.setattr(target, _boom)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3
    assert "erreur inattendue" in result.output and "--debug" in result.output
    assert "Traceback" not in result.output and "panne interne" not in result.output
    debug = CliRunner().invoke(app, [*args, "--debug"])
    assert isinstance(debug.exception, RuntimeError)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    script = (
        "import sys, accuse.pipeline.analysis as a\n"
        "def boom(*args, **kwargs): raise RuntimeError('panne interne simulée')\n"
        "a.analyse = boom\n"
        "from accuse.cli.app import main\n"
        "sys.argv = ['accuse', *sys.argv[1:]]\n"
        "main()\n"
    )
    receipt = str(FIXTURES / "recu.xml")
    plain = subprocess.run(
        [sys.executable, "-c", script, "analyse", receipt], cwd=tmp_path, capture_output=True
    )
    assert plain.returncode == 3 and b"Traceback" not in plain.stderr
    debug = subprocess.run(
        [sys.executable, "-c", script, "analyse", receipt, "--debug"],
        cwd=tmp_path,
        capture_output=True,
    )
    assert debug.returncode != 0
    assert "RuntimeError: panne interne simulée" in debug.stderr.decode()
