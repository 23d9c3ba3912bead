"""The `accuse` command line: text and JSON output, exit codes, French errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accuse.cli.app import app
from tests.conftest import FIXTURES, write


@pytest.fixture(autouse=True)
def _no_user_catalogue(monkeypatch, tmp_path: Path) -> None:
    # A developer's own catalogue must not change what the tests see.
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "200")  # Rich wraps at the width: keep sentences whole
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_text_summary_with_source() -> None:
    result = run(
        "analyse",
        str(FIXTURES / "recu.xml"),
        "--source",
        str(FIXTURES / "source-plat.xlsx"),
        "--sans-sortie",
    )
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "7 passages sur 24 ont été refusés par la Caisse des Dépôts" in out
    assert "6 sont à corriger et à redéposer, 1 était déjà enregistré" in out
    assert "54169" in out  # idTraitement
    assert "Titulaire introuvable avec le jour et le mois de naissance" in out
    assert "pourraient être inversés" in out  # a row finding
    assert "Traceback" not in result.output


def test_json_document() -> None:
    result = run(
        "analyse",
        str(FIXTURES / "recu.xml"),
        "-s",
        str(FIXTURES / "flux.xml"),
        "--format",
        "json",
        "--sans-sortie",
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["accuse"] == {
        "fichier": str(FIXTURES / "recu.xml"),
        "type": "passages",
        "nomFichier": document["accuse"]["nomFichier"],
        "idFlux": "b4093df2-13f5-4b7f-ba7e-3140cfd9000f",
        "idTraitement": "54169",
        "idDemande": None,
    }
    totals = document["totaux"]
    assert (totals["ok"], totals["ko"], totals["ko_rapproches"], totals["ko_introuvables"]) == (
        17,
        7,
        7,
        0,
    )
    assert (totals["lignes_source"], totals["absents_accuse"]) == (24, 0)
    dates = next(k for k in document["ko"] if k["idTechnique"] == "1960071")
    assert dates["code"] == "DATES_INCOHERENTES"
    assert dates["ligne_source"] == 970
    assert dates["titre"] == "Dates incohérentes"
    assert dates["actions"] and dates["diagnostic"]
    assert all({"champ", "message"} <= set(d) for d in dates["diagnostic"])
    assert document["erreurs_fichier"] == []


def test_json_whole_file_rejection() -> None:
    result = run(
        "analyse",
        str(FIXTURES / "recu-rejet.xml"),
        "-s",
        str(FIXTURES / "flux.xml"),
        "-f",
        "json",
        "--sans-sortie",
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["accuse"]["type"] == "rejet_fichier"
    assert document["accuse"]["idDemande"] == "1993"
    errors = document["erreurs_fichier"]
    assert [e["code_technique"] for e in errors] == [
        None,
        "cvc-enumeration-valid",
        "cvc-type.3.1.3",
        "cvc-pattern-valid",
        "cvc-length-valid",
        "cvc-complex-type.2.4.b",
    ]
    assert [e["idTechnique"] for e in errors][:2] == [None, "1960012"]
    assert errors[1]["code"] == "XSD_ENUMERATION"
    assert errors[1]["ligne"] == 198 and errors[1]["colonne"] == 43


def test_nothing_rejected_exits_zero(tmp_path: Path) -> None:
    receipt = write(
        tmp_path / "ok.xml",
        "<rapport><nomFichier>f</nomFichier><PassagesOK>"
        "<idTechnique>1</idTechnique></PassagesOK></rapport>",
    )
    result = run("analyse", str(receipt), "--sans-sortie")
    assert result.exit_code == 0
    assert "Le passage a été accepté par la Caisse des Dépôts : rien à corriger." in result.stdout


def test_unknown_message_is_shown_whole() -> None:
    result = run("analyse", str(FIXTURES / "recu-variantes.xml"), "--sans-sortie", "-f", "json")
    document = json.loads(result.stdout)
    unknown = next(k for k in document["ko"] if k["code"] == "MESSAGE_INCONNU")
    assert unknown["message"] == "Le format du fichier de preuve est inconnu du référentiel"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["fixtures/flux.xml"], "flux de dépôt, pas un accusé de traitement"),
        (
            ["fixtures/recu.xml", "-s", "fixtures/recu-rejet.xml"],
            "accusé de traitement, pas une source",
        ),
        (["absent.xml"], "introuvable"),
        (
            ["fixtures/recu.xml", "-s", "fixtures/source-plat.xlsx", "--feuille", "Nope"],
            "n'existe pas",
        ),
    ],
)
def test_bad_inputs_exit_2_with_one_french_sentence(args: list[str], expected: str) -> None:
    args = [str(FIXTURES.parent / a) if a.startswith("fixtures/") else a for a in args]
    result = run("analyse", *args, "--sans-sortie")
    assert result.exit_code == 2
    assert expected in result.stderr
    assert result.stderr.startswith("Erreur : ")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_catalogue_command() -> None:
    listing = run("catalogue")
    assert listing.exit_code == 0
    assert "TITULAIRE_INTROUVABLE_N3" in listing.stdout and "XSD_ENUMERATION" in listing.stdout
    one = run("catalogue", "doublon")
    assert one.exit_code == 0 and "Passage déjà enregistré" in one.stdout
    match = run(
        "catalogue", "--message", "Aucun titulaire ne correspond aux critères de réconciliation"
    )
    assert "TITULAIRE_INTROUVABLE_N3" in match.stdout
    xsd = run(
        "catalogue",
        "-m",
        "cvc-enumeration-valid : La valeur 'H' n'est pas un facet valide par rapport à l'énumération '[M, F]'.",
    )
    assert "XSD_ENUMERATION" in xsd.stdout and "valeurs possibles M, F" in xsd.stdout
    missing = run("catalogue", "INCONNU")
    assert missing.exit_code == 2 and "aucune famille" in missing.stderr


def test_help_is_french() -> None:
    result = run("analyse", "--help")
    assert result.exit_code == 0
    assert "accusé de traitement" in result.stdout and "--colonne-id" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["analyse"], "il manque l'argument ACCUSÉ."),
        (["analyse", "r.xml", "--nope"], "option inconnue : --nope."),
        (["anlyse"], "commande inconnue : anlyse (vouliez-vous dire analyse ?)."),
        (["analyse", "r.xml", "-f", "xml2"], "la valeur « xml2 » n'est pas permise pour --format"),
        (["analyse", "r.xml", "--lignes", "0"], "--lignes attend un nombre supérieur ou égal à 1."),
        (["reexporter", "a.xlsx", "b"], "argument en trop : b."),
    ],
)
def test_usage_errors_are_french(args: list[str], expected: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "accuse", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Erreur : ")
    assert expected in done.stderr
    assert "Error" not in done.stderr and "Usage" not in done.stderr
    assert done.stdout == ""


def test_version_and_help_exit_zero() -> None:
    import subprocess
    import sys

    version = subprocess.run(
        [sys.executable, "-m", "accuse", "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0 and version.stdout.startswith("accuse ")
    helped = subprocess.run(
        [sys.executable, "-m", "accuse", "analyse", "-h"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert helped.returncode == 0 and "--source" in helped.stdout
    assert "Affiche cette aide" in helped.stdout and "Show this message" not in helped.stdout
