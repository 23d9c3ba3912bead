"""`accuse verifier`: planted faults in every source kind, each rule once, clean rows untouched;
the JSON shape; history; unusable files; verification.html."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accuse.cli.app import app
from tests.conftest import FIXTURES
from tests.verify_support import KINDS, clean_passage, generator, planted, write

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def verify_json(path: Path, *extra: str) -> tuple[int, dict]:
    result = run("verifier", str(path), "--format", "json", "--sans-sortie", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("kind", KINDS)
def test_each_planted_fault_found_once_and_clean_rows_untouched(kind: str, tmp_path: Path):
    rows, expected = planted(TODAY)
    if kind == "flux":
        # A flux without obtentionCertification reads as XSD 1.1.5, where it is optional:
        # the portal still requires it to create a passage.
        expected[("OBLIGATOIRE_CREATION", "F-ABSENT")] = expected.pop(("XSD_ABSENT", "F-ABSENT"))
    path = write(kind, rows, tmp_path / "src")
    code, doc = verify_json(path, "--sans-historique")
    assert code == 1  # something blocks
    assert doc["schema"] == "1.1.5"  # the flux's own version; the newest for a sheet
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    rows_per_rule: dict[str, set[int]] = defaultdict(set)
    for problem in doc["problemes"]:
        found[(problem["code"], problem["idTechnique"])].add(problem["gravite"])
        rows_per_rule[problem["code"]].add(problem["ligne"])
    assert {key: {g} for key, g in expected.items()} == dict(found)
    # Each rule is triggered by one row only.
    assert all(len(lines) == 1 for lines in rows_per_rule.values()), rows_per_rule
    assert doc["totaux"]["passages"] == len(rows)
    assert doc["totaux"]["bloquants"] == sum(
        1 for p in doc["problemes"] if p["gravite"] == "bloquant"
    )
    # The duplicate is told on its second row, not on the first.
    duplicate = next(p for p in doc["problemes"] if p["code"] == "IDTECHNIQUE_EN_DOUBLE")
    lines = sorted(p["ligne"] for p in doc["problemes"] if p["idTechnique"] == "OK-2")
    assert lines == [duplicate["ligne"]]


@pytest.mark.parametrize("kind", KINDS)
def test_fields_named_by_xsd_element_and_rows_as_the_user_sees_them(kind: str, tmp_path: Path):
    rows, _ = planted(TODAY)
    path = write(kind, rows, tmp_path / "src")
    _, doc = verify_json(path, "--sans-historique")
    by_id = {(p["code"], p["idTechnique"]): p for p in doc["problemes"]}
    assert by_id[("XSD_ENUMERATION", "F-ENUM")]["champ"] == "sexe"
    assert by_id[("XSD_LONGUEUR", "F-LONG")]["champ"] == "codePostalCentreExamen"
    assert by_id[("DATES_INCOHERENTES", "F-DATES")]["champ"] == "dateFinValidite"
    absent = "OBLIGATOIRE_CREATION" if kind == "flux" else "XSD_ABSENT"
    assert by_id[(absent, "F-ABSENT")]["champ"] == "obtentionCertification"
    assert by_id[("TITULAIRE_INTROUVABLE_N3", "R-POSTAL")]["champ"] == "codeInsee"
    assert "31000" in by_id[("TITULAIRE_INTROUVABLE_N3", "R-POSTAL")]["message"]
    enum = by_id[("XSD_ENUMERATION", "F-ENUM")]
    assert "« H »" in enum["message"] and "M" in enum["message"]
    line = enum["ligne"]
    if kind == "plat":
        assert line == 2 + [p["idTechnique"] for p in rows].index("F-ENUM")
        assert "Colonne « Sexe » (J)" in enum["message"]
    elif kind == "modele":
        assert line == 21 + [p["idTechnique"] for p in rows].index("F-ENUM")
    elif kind == "csv":
        assert line == 2 + [p["idTechnique"] for p in rows].index("F-ENUM")
    else:
        text = path.read_text("utf-8").splitlines()
        assert "<cpf:sexe>H</cpf:sexe>" in text[line - 1]


def test_clean_file_is_ready_and_exit_0(tmp_path: Path):
    rows = [clean_passage(f"OK-{n}", TODAY) for n in range(5)]
    for kind in KINDS:
        path = write(kind, rows, tmp_path / kind)
        code, doc = verify_json(path, "--sans-historique")
        assert (code, doc["verdict"], doc["problemes"]) == (0, "pret", []), kind
        assert doc["schema"] == ("1.1.2" if kind == "flux" else "1.1.5"), kind
        assert doc["totaux"] == {"passages": 5, "bloquants": 0, "risques": 0}


def test_risks_alone_exit_0(tmp_path: Path):
    rows = [clean_passage("OK-1", TODAY), clean_passage("R-1", TODAY)]
    rows[1]["prenom1"] = "Jean Pierre"
    code, doc = verify_json(write("csv", rows, tmp_path), "--sans-historique")
    assert code == 0
    assert doc["verdict"] == "pret"
    assert doc["totaux"]["risques"] == 1 and doc["totaux"]["bloquants"] == 0


def test_json_shape_is_the_contract(tmp_path: Path):
    rows, _ = planted(TODAY)
    _, doc = verify_json(write("flux", rows, tmp_path), "--sans-historique")
    assert list(doc) == ["format", "verdict", "schema", "totaux", "problemes"]
    assert doc["verdict"] in ("pret", "a_corriger")
    assert doc["schema"] in ("1.1.2", "1.1.5")
    assert list(doc["totaux"]) == ["passages", "bloquants", "risques"]
    assert all(isinstance(v, int) for v in doc["totaux"].values())
    keys = ["idTechnique", "ligne", "champ", "code", "gravite", "message"]
    for problem in doc["problemes"]:
        assert list(problem) == keys
        assert isinstance(problem["idTechnique"], str | None)
        assert isinstance(problem["ligne"], int | None)
        assert isinstance(problem["champ"], str | None)
        assert isinstance(problem["code"], str) and problem["code"]
        assert problem["gravite"] in ("bloquant", "risque")
        assert isinstance(problem["message"], str) and problem["message"]


def _record_accepted(tmp_path: Path, ident: str) -> Path:
    history = tmp_path / "historique.sqlite"
    receipt = tmp_path / "recu-ancien.xml"
    receipt.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rapport><nomFichier>ancien.xml</nomFichier>'
        f"<PassagesOK><idTechnique>{ident}</idTechnique></PassagesOK></rapport>",
        "utf-8",
    )
    result = run("analyse", str(receipt), "--sans-sortie", "--historique", str(history))
    assert result.exit_code == 0, result.output
    return history


def test_history_says_already_accepted_passages_will_be_doublons(tmp_path: Path):
    history = _record_accepted(tmp_path, "OK-2")
    rows = [clean_passage(f"OK-{n}", TODAY) for n in range(1, 4)]
    path = write("csv", rows, tmp_path / "src")
    code, doc = verify_json(path, "--historique", str(history))
    assert code == 0  # a risk: the same passage must simply not be sent again
    assert [(p["code"], p["idTechnique"], p["gravite"]) for p in doc["problemes"]] == [
        ("DEJA_ACCEPTE", "OK-2", "risque")
    ]
    _, without = verify_json(path, "--sans-historique")
    assert without["problemes"] == []


def test_text_summary(tmp_path: Path):
    rows, _ = planted(TODAY)
    path = write("plat", rows, tmp_path / "src")
    result = run("verifier", str(path), "--sans-historique", "--lignes", "3")
    assert result.exit_code == 1
    out = result.stdout
    assert "À corriger avant le dépôt : 10 problèmes bloquants" in out
    assert "Valeur hors de la liste autorisée" in out  # counts per rule, catalogue titles
    assert "TITULAIRE_INTROUVABLE_N1" in out
    assert "Premiers problèmes" in out and "[bloquant]" in out
    html = tmp_path / "accuse-source-plat" / "verification.html"
    assert f"Écrit : {html}" in out.replace("\n", "")
    page = html.read_text("utf-8")
    assert "À corriger avant le dépôt" in page
    assert "F-ENUM" in page and "Jean Pierre" in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_html_escapes_what_comes_from_the_file(tmp_path: Path):
    rows = [clean_passage("<b>x</b>", TODAY)]
    rows[0]["prenom1"] = "<script>alert(1)</script>"
    path = write("csv", rows, tmp_path)
    result = run("verifier", str(path), "--sans-historique", "--sortie", str(tmp_path / "out"))
    assert result.exit_code in (0, 1), result.output
    page = (tmp_path / "out" / "verification.html").read_text("utf-8")
    assert "<script>alert" not in page and "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_broken_flux_is_told_not_refused(tmp_path: Path):
    flux = tmp_path / "flux.xml"
    data = (FIXTURES / "flux.xml").read_text("utf-8")
    flux.write_text(data.replace("</cpf:nomNaissance>", "</cpf:nomNaissanc>", 1), "utf-8")
    code, doc = verify_json(flux, "--sans-historique")
    assert code == 1
    assert [p["code"] for p in doc["problemes"]] == ["XML_BALISE"]
    assert doc["problemes"][0]["ligne"] == 35


def test_wrong_root_stops_like_the_portal(tmp_path: Path):
    flux = tmp_path / "flux.xml"
    data = (FIXTURES / "flux.xml").read_text("utf-8")
    flux.write_text(data.replace("cpf:flux", "cpf:flx"), "utf-8")
    code, doc = verify_json(flux, "--sans-historique")
    assert code == 1
    assert [(p["code"], p["champ"]) for p in doc["problemes"]] == [("XSD_VERSION", "flx")]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("absent.xlsx", None, "introuvable"),
        ("recu.xml", (FIXTURES / "recu.xml").read_text("utf-8"), "accusé de traitement"),
        ("vide.csv", "", "vide"),
    ],
)
def test_unusable_input_exit_2(tmp_path: Path, name: str, content: str | None, words: str):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, "utf-8")
    result = run("verifier", str(path), "--sans-historique")
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert not (tmp_path / f"accuse-{path.stem}").exists()


@pytest.mark.parametrize("kind", ("plat", "modele", "csv"))
def test_rows_without_id_and_mixed_nature_block(kind: str, tmp_path: Path):
    rows = [clean_passage(f"OK-{n}", TODAY) for n in range(1, 4)]
    rows[1]["natureDeposant"] = "TIERS_CONFIANCE"  # same certification as OK-1
    orphan = clean_passage("", TODAY)
    del orphan["idTechnique"]
    rows.append(orphan)
    code, doc = verify_json(write(kind, rows, tmp_path), "--sans-historique")
    assert code == 1
    got = sorted((p["code"], p["idTechnique"]) for p in doc["problemes"])
    assert got == [("IDTECHNIQUE_ABSENT", None), ("NATURE_DEPOSANT_MELEE", "OK-2")]
    first = {"plat": 2, "modele": 21, "csv": 2}[kind]
    orphan_line = next(p["ligne"] for p in doc["problemes"] if p["code"] == "IDTECHNIQUE_ABSENT")
    assert orphan_line == first + 3


# --- XSD 1.1.5: the 2026 kit, the NIR, SUPPRESSION -------------------------------------------

NIR_SEEN = "1111111111111"  # the NIR of the CDC's 2026 examples


def _outputs(path: Path, tmp_path: Path) -> tuple[int, dict, str]:
    """(exit code, JSON document, text summary + verification.html) of one verification."""
    code, doc = verify_json(path, "--sans-historique")
    text = run("verifier", str(path), "--sans-historique", "--sortie", str(tmp_path / "out"))
    page = (tmp_path / "out" / "verification.html").read_text("utf-8")
    return code, doc, text.stdout + text.stderr + page


def test_official_2026_creation_is_checked_as_1_1_5_without_showing_the_nir(tmp_path: Path):
    code, doc, shown = _outputs(FIXTURES / "flux-2026-creation.xml", tmp_path)
    assert doc["schema"] == "1.1.5"
    assert not [p for p in doc["problemes"] if p["code"].startswith(("XSD_", "XML_"))]
    # FORMAT.md: its values are not consistent with the business rules (VAE way, no VAE).
    vae = [p for p in doc["problemes"] if p["code"] == "CHAMP_CONDITIONNEL"]
    assert vae and all(p["champ"] == "voieAccessVAE" for p in vae)
    assert code == 1
    assert NIR_SEEN not in json.dumps(doc) and NIR_SEEN not in shown


def test_official_2026_suppression_is_not_asked_for_creation_data(tmp_path: Path):
    _, doc, shown = _outputs(FIXTURES / "flux-2026-suppression.xml", tmp_path)
    assert doc["schema"] == "1.1.5"
    codes = {p["code"] for p in doc["problemes"]}
    assert not codes & {"OBLIGATOIRE_CREATION", "ECHEANCE_DEPASSEE", "ECHEANCE_PROCHE"}
    assert not codes & {"TITULAIRES_MULTIPLES", "DATES_INCOHERENTES", "CHAMP_CONDITIONNEL"}
    assert NIR_SEEN not in json.dumps(doc) and NIR_SEEN not in shown


def test_1_1_5_flux_valid_but_missing_creation_data_blocks(tmp_path: Path):
    data = (FIXTURES / "flux-2026-creation.xml").read_text("utf-8")
    start = data.index("<cpf:dateDebutValidite>")
    end = data.index("</cpf:dateDebutValidite>", start) + len("</cpf:dateDebutValidite>")
    flux = tmp_path / "flux.xml"
    flux.write_text(data[:start] + data[end:], "utf-8")
    code, doc = verify_json(flux, "--sans-historique")
    assert code == 1
    missing = [p for p in doc["problemes"] if p["code"] == "OBLIGATOIRE_CREATION"]
    assert [(p["champ"], p["gravite"]) for p in missing] == [("dateDebutValidite", "bloquant")]
    assert not [p for p in doc["problemes"] if p["code"].startswith("XSD_")]


def test_a_nir_that_contradicts_the_row_is_a_masked_risk(tmp_path: Path):
    gen = generator()
    rows = [clean_passage("N-1", TODAY), clean_passage("N-2", TODAY)]
    # Claire Durand, F, born April 1990 in Toulouse (31555): a NIR of a man born in 1985.
    nirs = {"N-1": "2900431555123", "N-2": "1850431555123"}
    path = tmp_path / "nir.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow([h for _k, h in gen.FLAT_COLUMNS] + ["NIR"])
        for p in rows:
            cells = [gen._csv_value(k, p[k]) if k in p else "" for k, _h in gen.FLAT_COLUMNS]
            out.writerow([*cells, nirs[p["idTechnique"]]])
    code, doc, shown = _outputs(path, tmp_path)
    assert code == 0  # a risk, not a certainty
    risks = {(p["code"], p["idTechnique"]) for p in doc["problemes"]}
    assert ("TITULAIRE_INTROUVABLE_N1", "N-2") in risks
    assert not any(i == "N-1" for _c, i in risks)
    for nir in nirs.values():
        assert nir not in json.dumps(doc) and nir not in shown
