"""The receipt parser on both shapes and on what real files vary in."""

from __future__ import annotations

from pathlib import Path

import pytest

from accuse.errors import InputError
from accuse.read.receipt import parse_receipt
from tests.conftest import FIXTURES, write

REAL = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
    <nomFichier>pix-cpf-export-20231016-223239.xml</nomFichier>
    <idFlux>4df76fd4-0915-46df-8c56-525506af35be</idFlux>
    <idTraitement>67598</idTraitement>
    <PassagesKO>
        <passage>
            <idTechnique>1979262</idTechnique>
            <messageErreur>Aucun titulaire ne correspond aux critères obligatoires</messageErreur>
        </passage>
        <passage>
            <idTechnique>202006-2510</idTechnique>
            <messageErreur>Plusieurs titulaires ont été identifiés</messageErreur>
        </passage>
    </PassagesKO>
    <PassagesOK>
        <idTechnique>0000-0042</idTechnique>
        <idTechnique>1964200</idTechnique>
    </PassagesOK>
</rapport>
"""


def test_real_shape(tmp_path: Path) -> None:
    receipt = parse_receipt(write(tmp_path / "r.xml", REAL))
    assert receipt.shape == "passages"
    assert receipt.nomFichier == "pix-cpf-export-20231016-223239.xml"
    assert receipt.idFlux == "4df76fd4-0915-46df-8c56-525506af35be"
    assert receipt.idTraitement == "67598"
    assert receipt.idDemande is None
    assert [p.idTechnique for p in receipt.rejected] == ["1979262", "202006-2510"]
    assert receipt.rejected[1].message == "Plusieurs titulaires ont été identifiés"
    # Ids are strings exactly as written, leading zeros included.
    assert receipt.accepted_ids == ["0000-0042", "1964200"]


def test_prefixed_root_iddemande_whitespace_and_unknown_elements(tmp_path: Path) -> None:
    text = """<?xml version="1.0" encoding="ISO-8859-1"?>
<ns2:rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
  <ns2:nomFichier>depot.xml</ns2:nomFichier>
  <ns2:idDemande> 1710 </ns2:idDemande>
  <ns2:dateTraitement>2024-01-01</ns2:dateTraitement>
  <ns2:PassagesKO>
    <ns2:passage>
      <ns2:idTechnique>
         0000-0042
      </ns2:idTechnique>
      <ns2:messageErreur>Réponse inattendue du système</ns2:messageErreur>
      <ns2:autre>ignoré</ns2:autre>
    </ns2:passage>
  </ns2:PassagesKO>
  <ns2:PassagesOK/>
</ns2:rapport>
"""
    receipt = parse_receipt(write(tmp_path / "r.xml", text, "latin-1"))
    assert receipt.idDemande == "1710"
    assert receipt.rejected[0].idTechnique == "0000-0042"
    assert receipt.rejected[0].message == "Réponse inattendue du système"
    assert receipt.accepted_ids == []


def test_default_namespace_and_absent_sections(tmp_path: Path) -> None:
    text = (
        '<rapport xmlns="urn:cdc:cpf:pc5:rapport:schema"><nomFichier>f.xml</nomFichier></rapport>'
    )
    receipt = parse_receipt(write(tmp_path / "r.xml", text))
    assert receipt.shape == "passages"
    assert receipt.rejected == [] and receipt.accepted_ids == []
    assert receipt.nomFichier == "f.xml"


def test_whole_file_rejection(tmp_path: Path) -> None:
    text = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
  <nomFichier>xsdCommentaireInterdit.xml</nomFichier>
  <idDemande>472</idDemande>
  <erreurs>
    <erreur>
      <type>XSD</type>
      <message>cvc-enumeration-valid : La valeur 'H' n'est pas un facet valide par rapport à l'énumération '[M, F]'. Il doit s'agir d'une valeur provenant de l'énumération.</message>
      <ligne>42</ligne>
      <colonne>31</colonne>
    </erreur>
    <erreur>
      <type>XSD</type>
      <message>La chaîne "--" n'est pas autorisée dans les commentaires.</message>
      <ligne>3</ligne>
      <colonne>7</colonne>
    </erreur>
  </erreurs>
</rapport>
"""
    receipt = parse_receipt(write(tmp_path / "r.xml", text))
    assert receipt.shape == "rejet_fichier"
    assert receipt.idDemande == "472"
    first, second = receipt.file_errors
    assert (first.type, first.ligne, first.colonne) == ("XSD", 42, 31)
    assert first.code_technique == "cvc-enumeration-valid"
    assert second.code_technique is None


def test_flux_given_as_receipt_is_named(tmp_path: Path) -> None:
    text = (
        '<cpf:flux xmlns:cpf="urn:cdc:cpf:pc5:schema:1.0.0"><cpf:idFlux>x</cpf:idFlux></cpf:flux>'
    )
    with pytest.raises(InputError, match="flux de dépôt, pas un accusé de traitement"):
        parse_receipt(write(tmp_path / "flux.xml", text))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "vide"),
        (b"<rapport><nomFichier>x</nom", "XML lisible"),
        (b"PK\x03\x04\x00\x00binary", "classeur"),
        (b"<autre/>", "racine"),
        (b"<rapport><truc/></rapport>", "aucun accusé de traitement connu"),
    ],
)
def test_unusable_receipts(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "r.xml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as caught:
        parse_receipt(path)
    assert caught.value.path == path


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("MOT-DE-PASSE")
    text = f"""<?xml version="1.0"?>
<!DOCTYPE rapport [<!ENTITY xxe SYSTEM "file://{secret}">]>
<rapport><nomFichier>&xxe;</nomFichier></rapport>"""
    with pytest.raises(InputError, match="DOCTYPE") as caught:
        parse_receipt(write(tmp_path / "r.xml", text))
    assert "MOT-DE-PASSE" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="introuvable"):
        parse_receipt(tmp_path / "absent.xml")


def test_committed_real_receipt() -> None:
    receipt = parse_receipt(FIXTURES / "recu-reel-pix.xml")
    assert receipt.idTraitement == "67598"
    assert [p.idTechnique for p in receipt.rejected] == ["1979262", "1996215", "1983189"]
    assert receipt.accepted_ids == ["1968666", "1964200"]
