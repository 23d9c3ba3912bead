"""Withdrawing passages: accuse retirer writes a SUPPRESSION flux, the history records what its
receipt says was withdrawn; re-export keeps the NIR branch and drops a checked key."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.fix.fluxwriter import schema
from accuse.fix.reexport import reexport
from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.history.store import accepted_ids, load
from accuse.history.tracking import compute
from accuse.nir import key_of
from accuse.pipeline.analysis import analyse
from accuse.render.worksheet import SHEET_FIX, write_worksheet
from tests.conftest import FIXTURES, write

NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
CREATION = FIXTURES / "flux-2026-creation.xml"
SUPPRESSION = FIXTURES / "flux-2026-suppression.xml"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def _passages(path: Path) -> list[etree._Element]:
    return list(etree.parse(str(path)).iterfind(".//cpf:passageCertification", NS))


def test_retirer_from_the_deposited_flux(tmp_path: Path) -> None:
    source = Path(shutil.copy(CREATION, tmp_path / "depot.xml"))
    result = run("retirer", str(source), "--id", "ID_TECHNIQUE_01", "--id", "ID_TECHNIQUE_03")
    assert result.exit_code == 0, result.output
    target = tmp_path / "depot-suppression.xml"
    assert f"Écrit : {target}" in result.stdout.replace("\n", "")
    tree = etree.parse(str(target))
    assert schema("1.1.5").validate(tree), schema("1.1.5").error_log
    root = tree.getroot()
    assert root.findtext("cpf:action", namespaces=NS) == "SUPPRESSION"
    assert root.findtext(".//cpf:emetteur/cpf:idClient", namespaces=NS) == "04VHF013"
    assert root.findtext(".//cpf:idContrat", namespaces=NS) == "MCFCER091220241"
    passages = _passages(target)
    assert [p.findtext("cpf:idTechnique", namespaces=NS) for p in passages] == [
        "ID_TECHNIQUE_01",
        "ID_TECHNIQUE_03",
    ]
    for passage in passages:
        assert [etree.QName(c).localname for c in passage] == [
            "idTechnique",
            "identificationTitulaire",
        ]
    assert passages[1].findtext(".//cpf:nir", namespaces=NS) == "1111111111111"
    assert source.read_bytes() == CREATION.read_bytes()
    # The NIR is in the file the user deposits, never in what the terminal shows.
    assert "1111111111111" not in result.stdout


def test_retirer_from_a_csv_with_ids_file(tmp_path: Path) -> None:
    ids = write(tmp_path / "ids.txt", "# à retirer\n202301-1\n\n1960020\n")
    target = tmp_path / "retrait.xml"
    result = run(
        "retirer",
        str(FIXTURES / "source.csv"),
        "--ids-fichier",
        str(ids),
        "--sortie",
        str(target),
        "--id-client",
        "03VML243",
        "--id-client-certificateur",
        "E564ACB0",
        "--id-contrat",
        "MCFCER000209",
    )
    assert result.exit_code == 0, result.output
    tree = etree.parse(str(target))
    assert schema("1.1.5").validate(tree), schema("1.1.5").error_log
    names = [p.findtext(".//cpf:nomNaissance", namespaces=NS) for p in _passages(target)]
    assert len(names) == 2 and all(names)


def test_retirer_refuses_an_unknown_id_and_writes_nothing(tmp_path: Path) -> None:
    source = Path(shutil.copy(CREATION, tmp_path / "depot.xml"))
    result = run("retirer", str(source), "--id", "ID_TECHNIQUE_01", "--id", "INCONNU")
    assert result.exit_code == 2
    assert "INCONNU" in result.stderr and "rien n'a été écrit" in result.stderr
    assert not (tmp_path / "depot-suppression.xml").exists()
    nothing = run("retirer", str(source))
    assert nothing.exit_code == 2 and "--id" in nothing.stderr


def _accept_all(tmp_path: Path) -> Path:
    ok = "".join(f"<idTechnique>ID_TECHNIQUE_0{i}</idTechnique>" for i in (1, 2, 3))
    return write(
        tmp_path / "recu-creation.xml",
        f"<rapport><nomFichier>flux-2026-creation.xml</nomFichier>"
        "<idFlux>dbef0895-cd51-421e-bb8c-a9028eebb21a</idFlux>"
        f"<PassagesOK>{ok}</PassagesOK></rapport>",
    )


def test_the_history_records_what_was_withdrawn(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    first = run(
        "analyse",
        str(_accept_all(tmp_path)),
        "-s",
        str(CREATION),
        "--sans-sortie",
        "--historique",
        str(history),
    )
    assert first.exit_code == 0, first.output
    assert accepted_ids(history)[1] == {"ID_TECHNIQUE_01", "ID_TECHNIQUE_02", "ID_TECHNIQUE_03"}
    receipt = FIXTURES / "recu-2026-suppression.xml"
    second = run(
        "analyse",
        str(receipt),
        "-s",
        str(SUPPRESSION),
        "--sans-sortie",
        "--historique",
        str(history),
    )
    assert second.exit_code == 1
    # Withdrawn: no longer held by the portal, so depositing them again is no doublon.
    assert accepted_ids(history)[1] == {"ID_TECHNIQUE_02"}
    tracking = compute(load(history))
    assert [p.idTechnique for p in tracking.withdrawn] == ["ID_TECHNIQUE_03", "ID_TECHNIQUE_01"]
    # A refused withdrawal is no rejected deposit to correct.
    assert tracking.still_rejected == []
    suivi = run("suivi", "--historique", str(history))
    flat = " ".join(suivi.stdout.split())
    assert "2 passages retirés par un flux de suppression : ID_TECHNIQUE_03" in flat
    receipts = run("suivi", "--recus", "--historique", str(history))
    assert "suppression de passages" in " ".join(receipts.stdout.split())


def test_a_suppression_receipt_first_analysed_alone(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    receipt = FIXTURES / "recu-2026-suppression.xml"
    run("analyse", str(receipt), "--sans-sortie", "--historique", str(history))
    assert load(history).withdrawals == []
    run(
        "analyse",
        str(receipt),
        "-s",
        str(SUPPRESSION),
        "--sans-sortie",
        "--historique",
        str(history),
    )
    loaded = load(history)
    assert {w.idTechnique for w in loaded.withdrawals if w.status == "OK"} == {
        "ID_TECHNIQUE_01",
        "ID_TECHNIQUE_03",
    }
    assert compute(loaded).still_rejected == []


# --- re-export with a NIR ----------------------------------------------------------------------


def _nir_worksheet(tmp_path: Path) -> Path:
    nir13 = "2850531555123"
    source = write(
        tmp_path / "s.csv",
        "Id Technique;NIR;Nom de naissance;Prénom;Sexe;Année de naissance;Mois de naissance;"
        "Jour de naissance;Code INSEE de naissance;Code;Type;Obtention Certification;"
        "Donnee Certifiee;Date Debut Validite;Presence Niveau Langue Euro;"
        "Presence Niveau Numerique Euro;Id Client;Id Client 2;Id Contrat\n"
        f"P1;{nir13}{key_of(nir13):02d};Durand;Marie;M;1985;5;12;31555;RNCP34567;RNCP;"
        "PAR_ADMISSION;OUI;01/06/2024;NON;NON;03VML243;E564ACB0;MCFCER000209\n",
    )
    receipt = write(
        tmp_path / "r.xml",
        "<rapport><PassagesKO><passage><idTechnique>P1</idTechnique><messageErreur>Aucun "
        "titulaire ne correspond aux critères obligatoires</messageErreur></passage>"
        "</PassagesKO></rapport>",
    )
    analysis = analyse(receipt, source)
    sheet = write_worksheet(analysis, tmp_path / "corrections.xlsx", [receipt, source])
    book = openpyxl.load_workbook(sheet)
    fix = book[SHEET_FIX]
    header = [c.value for c in fix[FIX_HEADER_ROW]]
    fix.cell(
        row=FIX_HEADER_ROW + 1, column=header.index("Sexe") + 1
    ).value = "F"  # the NIR said a woman
    book.save(sheet)
    return sheet


def test_reexport_keeps_the_nir_branch_and_drops_the_checked_key(tmp_path: Path) -> None:
    sheet = _nir_worksheet(tmp_path)
    result = reexport(sheet, format="xml", target=tmp_path / "a.xml")
    assert result.schema == "1.1.5"
    tree = etree.parse(str(tmp_path / "a.xml"))
    assert schema("1.1.5").validate(tree), schema("1.1.5").error_log
    assert tree.findtext(".//cpf:identifiantNational/cpf:nir", namespaces=NS) == "2850531555123"
    older = reexport(sheet, format="xml", target=tmp_path / "b.xml", schema="1.1.2")
    assert older.schema == "1.1.2"
    tree = etree.parse(str(tmp_path / "b.xml"))
    assert schema("1.1.2").validate(tree), schema("1.1.2").error_log
    assert tree.find(".//cpf:titulaire", NS) is not None
    assert tree.findtext(".//cpf:sexe", namespaces=NS) == "F"
    # The user's own re-exported columns keep the NIR as they typed it.
    again = reexport(sheet, format="csv", target=tmp_path / "c.csv")
    assert again.written and "2850531555123" in (tmp_path / "c.csv").read_text("utf-8-sig")


def test_a_2026_flux_reexported_stays_115(tmp_path: Path) -> None:
    source = Path(shutil.copy(CREATION, tmp_path / "depot.xml"))
    receipt = Path(shutil.copy(FIXTURES / "recu-2026-creation.xml", tmp_path / "r.xml"))
    analysis = analyse(receipt, source)
    sheet = write_worksheet(analysis, tmp_path / "corrections.xlsx", [receipt, source])
    book = openpyxl.load_workbook(sheet)
    fix = book[SHEET_FIX]
    header = [c.value for c in fix[FIX_HEADER_ROW]]
    for row in fix.iter_rows(min_row=FIX_HEADER_ROW + 1):
        if row[header.index("idTechnique")].value == "ID_TECHNIQUE_03":
            row[header.index("nomNaissance")].value = "Durand"
    book.save(sheet)
    result = reexport(sheet, target=tmp_path / "out.xml")
    assert result.schema == "1.1.5"
    tree = etree.parse(str(tmp_path / "out.xml"))
    assert schema("1.1.5").validate(tree), schema("1.1.5").error_log
    national = tree.find(".//cpf:identifiantNational", NS)
    assert national is not None
    assert national.findtext("cpf:nomNaissance", namespaces=NS) == "Durand"
