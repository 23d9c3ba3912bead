"""The outputs other tools and people rely on, pinned: a renamed key, sheet, column or a dropped
terminal section fails here.

- JSON: the `--format json` documents of `analyse`, `suivi` (and `--recus`; `--stats` in
  test_stats.py) and `verifier` are validated against the JSON Schemas kept in
  accuse/data/schemas/ (every object closed with additionalProperties: false, every key
  required). The tests at the end mutate a real
  document (a key renamed, a key dropped, another format version) and see the schema reject it.
- xlsx: the sheets and column titles of corrections.xlsx, suivi.xlsx and a re-export, written
  out here as literals (not taken from the code's constants, which would change with them).
- Terminal: the sections of the `accuse analyse` summary, in their order.
"""

from __future__ import annotations

import copy
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import openpyxl
import pytest
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.history.tracking import FORMAT_VERSION as SUIVI_FORMAT
from accuse.render.jsondoc import FORMAT_VERSION as ANALYSE_FORMAT
from tests.conftest import FIXTURES, write
from tests.test_reexport import _edit


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def schema(name: str) -> dict:
    text = resources.files("accuse").joinpath(f"data/schemas/{name}.json").read_text("utf-8")
    loaded: dict = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def errors(name: str, document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(
        schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def analyse_json(*args: str | Path) -> dict:
    result = run("analyse", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    document: dict = json.loads(result.stdout)
    return document


# --- JSON documents -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("recu.xml", "--source", "source-plat.xlsx"),
        ("recu.xml", "--source", "source-modele.xlsx"),
        ("recu.xml", "--source", "source.csv"),
        ("recu.xml", "--source", "flux.xml"),
        ("recu.xml",),
        ("recu-rejet.xml", "--source", "flux.xml"),
        ("recu-rejet.xml",),
        ("recu-variantes.xml",),
        ("recu-vide.xml",),
        ("recu-reel-pix.xml",),
    ],
)
def test_analyse_documents_follow_the_schema(args: tuple[str, ...]) -> None:
    given = [FIXTURES / a if not a.startswith("-") else a for a in args]
    document = analyse_json(*given)
    assert errors("analyse", document) == []
    assert document["format"] == ANALYSE_FORMAT


def test_analyse_document_with_every_optional_part(tmp_path: Path) -> None:
    """A source with an unmatched id, a row absent from the receipt and a duplicated id."""
    receipt = write(
        tmp_path / "r.xml",
        "<rapport><PassagesKO>"
        "<passage><idTechnique>A1</idTechnique><messageErreur>Aucun titulaire ne correspond "
        "aux critères obligatoires</messageErreur></passage>"
        "<passage><idTechnique>ZZ</idTechnique><messageErreur>Message jamais vu"
        "</messageErreur></passage>"
        "</PassagesKO><PassagesOK><idTechnique>B2</idTechnique></PassagesOK></rapport>",
    )
    source = write(
        tmp_path / "s.csv",
        "Id Technique;Nom de naissance;Prénom\nA1;Dupont;Jean\nA1;Dupont;Jean\nB2;X;Y\nC3;Z;W\n",
    )
    document = analyse_json(receipt, "--source", source, "--sortie", tmp_path / "out")
    assert document["introuvables"] == ["ZZ"]
    assert document["absents_accuse"] and document["doublons_source"]
    assert document["fichiers_ecrits"]
    assert "valeurs" in document["ko"][0]
    assert errors("analyse", document) == []


def _history(tmp_path: Path) -> Path:
    store = tmp_path / "h.sqlite"
    for receipt in ("recu.xml", "recu-rejet.xml"):
        result = run(
            "analyse",
            FIXTURES / receipt,
            "-s",
            FIXTURES / "flux.xml",
            "--sans-sortie",
            "--historique",
            store,
        )
        assert result.exit_code == 1, result.output
    return store


def test_suivi_documents_follow_the_schema(tmp_path: Path) -> None:
    empty = json.loads(run("suivi", "--historique", tmp_path / "vide.sqlite", "-f", "json").stdout)
    assert errors("suivi", empty) == []
    store = _history(tmp_path)
    result = run("suivi", "--historique", store, "-f", "json", "--sortie", tmp_path / "s.xlsx")
    document = json.loads(result.stdout)
    assert document["encore_refuses"] and document["accuses"] and document["fichiers_ecrits"]
    assert errors("suivi", document) == []
    assert document["format"] == SUIVI_FORMAT
    received = json.loads(run("suivi", "--historique", store, "--recus", "-f", "json").stdout)
    assert [r["type"] for r in received["accuses"]] == ["passages", "rejet_fichier"]
    assert errors("suivi-recus", received) == []


def test_resolved_passages_follow_the_schema(tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    first = write(
        tmp_path / "r1.xml",
        "<rapport><idTraitement>1</idTraitement><PassagesKO>"
        "<passage><idTechnique>A1</idTechnique><messageErreur>Aucun titulaire ne "
        "correspond aux critères obligatoires</messageErreur></passage></PassagesKO>"
        "<PassagesOK/></rapport>",
    )
    second = write(
        tmp_path / "r2.xml",
        "<rapport><idTraitement>2</idTraitement><PassagesKO/>"
        "<PassagesOK><idTechnique>A1</idTechnique></PassagesOK></rapport>",
    )
    for receipt in (first, second):
        run("analyse", receipt, "--sans-sortie", "--historique", store)
    document = json.loads(run("suivi", "--historique", store, "-f", "json").stdout)
    assert [r["idTechnique"] for r in document["resolus"]] == ["A1"]
    assert errors("suivi", document) == []


def test_verifier_documents_follow_the_schema(tmp_path: Path) -> None:
    risky = write(
        tmp_path / "titulaires.csv",
        "Id Technique;Nom de naissance;Prénom;Sexe;Année de naissance;Code Insee\n"
        "A1;Dupont;Jean Pierre;X;1990;31000\n",
    )
    for given in (FIXTURES / "flux.xml", FIXTURES / "source-plat.xlsx", risky):
        result = run("verifier", given, "--format", "json", "--sans-sortie", "--sans-historique")
        assert result.exit_code in (0, 1), result.output
        document = json.loads(result.stdout)
        assert errors("verifier", document) == [], given.name
    assert document["problemes"], "the csv has problems to pin"
    renamed = _renamed(document, ["problemes", 0, "gravite"], "severite")
    assert errors("verifier", renamed)


# --- the schemas can fail ---------------------------------------------------------------------


def _renamed(document: dict, path: list[str | int], new: str) -> dict:
    changed = copy.deepcopy(document)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[new] = parent.pop(path[-1])  # type: ignore[call-overload]
    return changed


def test_a_renamed_or_dropped_analyse_key_is_rejected() -> None:
    document = analyse_json(FIXTURES / "recu.xml", "--source", FIXTURES / "source.csv")
    assert errors("analyse", document) == []
    renamed = _renamed(document, ["doublons_source"], "doublons")
    assert any("doublons_source" in e for e in errors("analyse", renamed))
    assert any("doublons" in e for e in errors("analyse", renamed))
    nested = _renamed(document, ["ko", 0, "diagnostic"], "constats")
    assert errors("analyse", nested)
    dropped = copy.deepcopy(document)
    del dropped["totaux"]["a_corriger"]
    assert any("a_corriger" in e for e in errors("analyse", dropped))
    newer = {**document, "format": ANALYSE_FORMAT + 1}
    assert errors("analyse", newer)
    wrong_type = copy.deepcopy(document)
    wrong_type["ko"][0]["ligne_source"] = "6"
    assert errors("analyse", wrong_type)


def test_a_renamed_or_dropped_suivi_key_is_rejected(tmp_path: Path) -> None:
    document = json.loads(run("suivi", "--historique", _history(tmp_path), "-f", "json").stdout)
    assert errors("suivi", document) == []
    assert errors("suivi", _renamed(document, ["encore_refuses", 0, "echeance"], "deadline"))
    dropped = copy.deepcopy(document)
    del dropped["synthese"]
    assert any("synthese" in e for e in errors("suivi", dropped))
    assert errors("suivi-recus", {**document, "format": 1})  # the full document is not --recus


# --- xlsx -------------------------------------------------------------------------------------

FIX_PREFIX = [
    "Ligne source",
    "Id technique",
    "Famille",
    "Que faire",
    "Constats",
    "Message du portail",
]
SUMMARY_LABELS = [
    "Synthèse de l'accusé de traitement",
    "Accusé de traitement",
    "Fichier déposé (nomFichier)",
    "Id du flux (idFlux)",
    "Id du traitement (idTraitement)",
    "Fichier source",
    "Analysé le",
    "Passages acceptés",
    "Passages refusés",
    "À corriger et redéposer",
    "Déjà enregistrés (ne pas renvoyer)",
    "Refus introuvables dans la source",
    "Lignes de la source absentes de l'accusé",
]
DOUBLONS_HEADER = (
    "Ligne source",
    "Id technique",
    "Constats",
    "Message du portail",
    "Nouvel identifiant technique",
)
FAMILY_HEADER = ("Famille", "Code", "Nombre", "À redéposer", "Explication", "Que faire")
UNMATCHED_TITLES = [
    "Refus de l'accusé introuvables dans la source",
    "Lignes de la source absentes de l'accusé",
]
BOOK_KEYS = {
    "format",
    "accuse",
    "forme",
    "idFlux",
    "prefixe",
    "ligne_entete_corrections",
    "non_redeposables",
    "bcr_emetteur",
    "source",
    "execution",  # the run identity, shared with rapport.html
}
BOOK_SOURCE_KEYS = {
    "chemin",
    "nom",
    "type",
    "disposition",
    "feuille",
    "ligne_entete",
    "entetes",
    "colonnes",
    "empreinte",
    "taille",
    "entete_flux",
    "orthographe",
    "schema",  # a flux source's XSD version, kept by the re-export
    "action",
}


def _sheets(path: Path) -> list[tuple[str, str]]:
    return [(s.title, s.sheet_state) for s in openpyxl.load_workbook(path).worksheets]


def _fix_header(path: Path) -> list[object]:
    """The headers of "À corriger": row 2, under the instruction line."""
    rows = openpyxl.load_workbook(path)["À corriger"].iter_rows(min_row=2, max_row=2)
    return [c.value for c in next(rows)]


def _first_row(path: Path, sheet: str) -> list[object]:
    return [c.value for c in next(openpyxl.load_workbook(path)[sheet].iter_rows(max_row=1))]


def _column_a(path: Path, sheet: str) -> list[str]:
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)
    return [r[0] for r in rows if isinstance(r[0], str)]


def _source_headers(path: Path) -> list[object]:
    return _first_row(path, "Titulaires")


def test_corrections_sheets_and_columns(tmp_path: Path) -> None:
    source = Path(shutil.copy(FIXTURES / "source-plat.xlsx", tmp_path / "source-plat.xlsx"))
    result = run("analyse", FIXTURES / "recu.xml", "-s", source, "-o", tmp_path / "out")
    assert result.exit_code == 1, result.output
    book = tmp_path / "out" / "corrections.xlsx"
    assert _sheets(book) == [
        ("À corriger", "visible"),
        ("Synthèse", "visible"),
        ("Non rapprochés", "visible"),
        ("Doublons", "visible"),
        ("accuse_suivi", "hidden"),
    ]
    assert _fix_header(book) == FIX_PREFIX + _source_headers(source)
    doublons = list(openpyxl.load_workbook(book)["Doublons"].iter_rows(values_only=True))
    assert doublons[1] == DOUBLONS_HEADER
    labels = _column_a(book, "Synthèse")
    assert [label for label in labels if label in SUMMARY_LABELS] == SUMMARY_LABELS
    rows = list(openpyxl.load_workbook(book)["Synthèse"].iter_rows(values_only=True))
    assert FAMILY_HEADER in rows
    assert [t for t in _column_a(book, "Non rapprochés") if t in UNMATCHED_TITLES] == (
        UNMATCHED_TITLES
    )
    assert _first_row(book, "Non rapprochés")[0] == UNMATCHED_TITLES[0]
    hidden = {
        r[0]: r[1]
        for r in openpyxl.load_workbook(book)["accuse_suivi"].iter_rows(values_only=True)
        if r[0] != "#lignes" and isinstance(r[0], str)
    }
    assert set(hidden) == BOOK_KEYS
    assert set(json.loads(hidden["source"])) == BOOK_SOURCE_KEYS


def test_corrections_of_a_whole_file_rejection(tmp_path: Path) -> None:
    result = run(
        "analyse", FIXTURES / "recu-rejet.xml", "-s", FIXTURES / "flux.xml", "-o", tmp_path / "out"
    )
    assert result.exit_code == 1, result.output
    book = tmp_path / "out" / "corrections.xlsx"
    assert [name for name, _ in _sheets(book)] == [
        "À corriger",
        "Synthèse",
        "Non rapprochés",
        "accuse_suivi",
    ]
    header = _fix_header(book)
    assert header[:8] == [*FIX_PREFIX, "Ligne de l'erreur", "Colonne de l'erreur"]
    assert "Erreurs du fichier entier" in _column_a(book, "Synthèse")


def test_suivi_workbook_sheets_and_columns(tmp_path: Path) -> None:
    target = tmp_path / "suivi.xlsx"
    result = run("suivi", "--historique", _history(tmp_path), "--sortie", target)
    assert result.exit_code == 0, result.output
    assert [name for name, _ in _sheets(target)] == ["Encore refusés", "Résolus", "Accusés"]
    assert _first_row(target, "Encore refusés") == [
        "Urgence",
        "idTechnique",
        "Titulaire",
        "Code certification",
        "Famille",
        "Message du portail",
        "Dépôts refusés",
        "Refusé à 2 dépôts ou plus",
        "Premier refus",
        "Dernier refus",
        "Date de début de validité",
        "Échéance",
        "Jours restants",
        "Accusés",
    ]
    assert _first_row(target, "Résolus") == [
        "idTechnique",
        "Titulaire",
        "Dépôts refusés",
        "Dernier refus",
        "Accepté le",
        "Comment",
    ]
    assert _first_row(target, "Accusés") == [
        "Analysé le",
        "Accusé",
        "Type",
        "Fichier déposé",
        "idFlux",
        "idTraitement",
        "idDemande",
        "Source",
        "Acceptés",
        "Refusés",
        "Erreurs de structure",
        "Date de l'accusé",
    ]


def test_reexported_workbook_keeps_the_source_sheet_and_columns(tmp_path: Path) -> None:
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    source = Path(shutil.copy(FIXTURES / "source-plat.xlsx", tmp_path / "source-plat.xlsx"))
    assert run("analyse", receipt, "-s", source, "-o", tmp_path / "out").exit_code == 1
    book = tmp_path / "out" / "corrections.xlsx"
    _edit(book, {"1960012": {"Code": "RNCP34567"}})
    result = run("reexporter", book, "--format", "xlsx", "--sortie", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output
    written = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert written.sheetnames == ["Titulaires"]
    assert _first_row(tmp_path / "r.xlsx", "Titulaires") == _source_headers(source)


# --- terminal -----------------------------------------------------------------------------

PASSAGE_SECTIONS = [
    "Accusé de traitement",
    "7 passages sur 24 ont été refusés",
    "Chiffres",
    "Passages acceptés",
    "Refus retrouvés dans la source",
    "Refus par famille",
    "Passage déjà enregistré (doublon) — 1 passage(s)",
    "Dates incohérentes — 1 passage(s)",
    "Historique :",
]
WHOLE_FILE_SECTIONS = [
    "Accusé de traitement",
    "Le fichier entier a été refusé",
    "Chiffres",
    "Erreurs de structure",
    "Erreurs de structure, dans l'ordre du fichier",
    "Le portail ne signale en général que les 100 premières erreurs",
    "Donnée mal formatée — 2 erreur(s)",
    "Historique :",
]
SOURCE_PROBLEMS = [
    "Refus introuvables dans la source (1) : ZZ",
    "Lignes de la source absentes de l'accusé (1) : ligne 5 (C3)",
    "Identifiants présents plusieurs fois dans la source : A1 (lignes 2, 3)",
]


def _in_order(text: str, sections: list[str]) -> list[str]:
    """The sections missing or out of order (empty when all are there in order)."""
    wrong, at = [], 0
    for section in sections:
        found = text.find(section, at)
        if found < 0:
            wrong.append(section)
        else:
            at = found + len(section)
    return wrong


def test_terminal_sections_of_a_passage_receipt() -> None:
    result = run("analyse", FIXTURES / "recu.xml", "-s", FIXTURES / "source.csv", "--sans-sortie")
    assert _in_order(result.stdout, PASSAGE_SECTIONS) == []


def test_terminal_sections_of_a_whole_file_rejection() -> None:
    result = run(
        "analyse", FIXTURES / "recu-rejet.xml", "-s", FIXTURES / "flux.xml", "--sans-sortie"
    )
    assert _in_order(result.stdout, WHOLE_FILE_SECTIONS) == []


def test_terminal_sections_about_the_source(tmp_path: Path) -> None:
    receipt = write(
        tmp_path / "r.xml",
        "<rapport><PassagesKO>"
        "<passage><idTechnique>A1</idTechnique><messageErreur>x</messageErreur>"
        "</passage><passage><idTechnique>ZZ</idTechnique><messageErreur>x"
        "</messageErreur></passage></PassagesKO><PassagesOK><idTechnique>B2"
        "</idTechnique></PassagesOK></rapport>",
    )
    source = write(tmp_path / "s.csv", "Id Technique;Nom\nA1;D\nA1;D\nB2;X\nC3;Z\n")
    result = run("analyse", receipt, "-s", source, "--sans-sortie")
    assert _in_order(result.stdout, SOURCE_PROBLEMS) == []


def test_a_dropped_section_is_seen() -> None:
    """The order check can fail: the whole-file error table removed from real output."""
    result = run(
        "analyse", FIXTURES / "recu-rejet.xml", "-s", FIXTURES / "flux.xml", "--sans-sortie"
    )
    without = result.stdout.replace("Erreurs de structure, dans l'ordre du fichier", "")
    assert _in_order(without, WHOLE_FILE_SECTIONS) == [
        "Erreurs de structure, dans l'ordre du fichier"
    ]
