"""The 2026 deposit format: XSD 1.1.5 read and written, the NIR branch, SUPPRESSION flux."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.fix.checks import FieldError, converted, nir_value
from accuse.fix.fluxwriter import (
    FluxError,
    FluxHeader,
    build_flux,
    needed_version,
    schema,
    serialise,
    validation_errors,
)
from accuse.model import Source
from accuse.nir import key_of, mask, mask_in_text, parse
from accuse.pipeline.analysis import analyse
from accuse.read.sources import read_source
from tests.conftest import FIXTURES, write

NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
CREATION = FIXTURES / "flux-2026-creation.xml"
SUPPRESSION = FIXTURES / "flux-2026-suppression.xml"
HEADER = FluxHeader("04VHF013", "04VHF013", "MCFCER091220241")
NOW = dt.datetime(2026, 4, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def with_key(nir13: str) -> str:
    return f"{nir13}{key_of(nir13):02d}"


def _values(source: Source, identifier: str) -> dict[str, object]:
    row = source.row_for(identifier)
    assert row is not None
    return {k: row.values[i] for k, i in source.columns.items()}


def _valid(data: bytes, version: str) -> bool:
    return schema(version).validate(etree.fromstring(data).getroottree())  # type: ignore[arg-type]


# --- the official files ------------------------------------------------------------------------


def test_official_examples_are_valid_under_115_only() -> None:
    for path in (CREATION, SUPPRESSION):
        tree = etree.parse(str(path))
        assert schema("1.1.5").validate(tree), schema("1.1.5").error_log
        assert not schema("1.1.2").validate(tree)
    old = etree.parse(str(FIXTURES / "flux.xml"))
    assert schema("1.1.5").validate(old) and schema("1.1.2").validate(old)


def test_reads_the_2026_creation_example() -> None:
    source = read_source(CREATION)
    assert source.action == "CREATION"
    assert source.schema_version == "1.1.5"
    assert set(source.schema_features) == {"action", "identifiantNational"}
    assert source.row_count == 3
    nir_row = _values(source, "ID_TECHNIQUE_03")
    assert nir_row["nir"] == "1111111111111"
    assert nir_row["nomNaissance"] == "nomNaissance"
    assert nir_row["prenom1"] is None
    # Children in the example's own order (verbatim before modalitesInscription, the level
    # before its presence flag) all land in their columns.
    first = _values(source, "ID_TECHNIQUE_01")
    assert first["niveauLangueEuropeen"] == "A1"
    assert first["verbatim"] == "Commentaire01"
    assert first["modaliteAcces"] == "FORMATION_INITIALE_APPRENTISSAGE"
    assert first["codeInsee"] == "12345"
    assert _values(source, "ID_TECHNIQUE_02")["idDossier"] == "000000000"


def test_reads_the_2026_suppression_example() -> None:
    source = read_source(SUPPRESSION)
    assert source.action == "SUPPRESSION"
    assert source.schema_version == "1.1.5"
    assert "facultatifs" in source.schema_features
    values = _values(source, "ID_TECHNIQUE_01")
    assert values["sexe"] == "F" and values["code"] == "RNCP11556"
    assert values["dateDebutValidite"] is None


def test_an_old_flux_reads_as_112() -> None:
    source = read_source(FIXTURES / "flux.xml")
    assert source.action == "CREATION"
    assert source.schema_version == "1.1.2"
    assert source.schema_features == ()


def test_action_anywhere_and_a_nil_start_date(tmp_path: Path) -> None:
    text = CREATION.read_text("utf-8")
    moved = text.replace("\t<cpf:action>CREATION</cpf:action>\n", "").replace(
        "</cpf:emetteur>", "</cpf:emetteur>\n<cpf:action>SUPPRESSION</cpf:action>"
    )
    moved = moved.replace(
        "<cpf:dateDebutValidite>2020-12-12</cpf:dateDebutValidite>",
        '<cpf:dateDebutValidite xsi:nil="true"/>',
        1,
    )
    path = write(tmp_path / "flux.xml", moved)
    assert schema("1.1.5").validate(etree.parse(str(path)))
    source = read_source(path)
    assert source.action == "SUPPRESSION"
    assert "nil" in source.schema_features
    assert _values(source, "ID_TECHNIQUE_01")["dateDebutValidite"] == "NILL"


def test_a_feature_used_only_by_the_last_of_many_alike_passages_is_seen(tmp_path: Path) -> None:
    # 24 passages of the same few shapes: the reader remembers shapes, never their values.
    text = (FIXTURES / "flux.xml").read_text("utf-8")
    head, _, last = text.rpartition("<cpf:dateDebutValidite>")
    last = '<cpf:dateDebutValidite xsi:nil="true"/>' + last.split("</cpf:dateDebutValidite>", 1)[1]
    path = write(tmp_path / "flux.xml", head + last)
    source = read_source(path)
    assert source.schema_version == "1.1.5" and source.schema_features == ("nil",)
    untouched = read_source(FIXTURES / "flux.xml")
    assert untouched.schema_features == ()


# --- the writer --------------------------------------------------------------------------------


def _passages(path: Path, version: str = "1.1.5", action: str = "CREATION") -> list:
    source = read_source(path)
    rows = []
    for identifier in ("ID_TECHNIQUE_01", "ID_TECHNIQUE_02", "ID_TECHNIQUE_03"):
        passage, problems = converted(
            _values(source, identifier),  # type: ignore[arg-type]
            None,
            identifier,
            version=version,  # type: ignore[arg-type]
            action=action,  # type: ignore[arg-type]
        )
        assert problems == [], problems
        rows.append(passage)
    return rows


def test_creation_written_as_115_keeps_the_nir_branch() -> None:
    passages = _passages(CREATION)
    assert needed_version(passages) == "1.1.5"
    data = serialise(build_flux(HEADER, passages, NOW, version="1.1.5"))
    assert validation_errors(data, version="1.1.5") == []
    assert not _valid(data, "1.1.2")
    root = etree.fromstring(data)
    assert root.findtext("cpf:action", namespaces=NS) == "CREATION"
    national = root.find(".//cpf:identifiantNational", NS)
    assert national is not None
    assert national.findtext("cpf:nir", namespaces=NS) == "1111111111111"
    assert national.findtext("cpf:nomNaissance", namespaces=NS) == "nomNaissance"
    branches = [
        etree.QName(e[0]).localname for e in root.iterfind(".//cpf:identificationTitulaire", NS)
    ]
    assert branches == ["titulaire", "dossierFormation", "identifiantNational"]


def test_a_112_flux_stays_112() -> None:
    source = read_source(FIXTURES / "flux.xml")
    passages = []
    for identifier in list(source.positions)[:5]:
        passage, problems = converted(_values(source, identifier), None, identifier)  # type: ignore[arg-type]
        assert problems == []
        passages.append(passage)
    assert needed_version(passages) == "1.1.2"
    data = serialise(build_flux(HEADER, passages, NOW, version="1.1.2"))
    assert validation_errors(data, version="1.1.2") == []
    assert etree.fromstring(data).find("cpf:action", NS) is None


def test_suppression_flux_like_the_official_example() -> None:
    passages = _passages(SUPPRESSION, action="SUPPRESSION")
    assert needed_version(passages, "SUPPRESSION") == "1.1.5"
    data = serialise(build_flux(HEADER, passages, NOW, version="1.1.5", action="SUPPRESSION"))
    assert validation_errors(data, version="1.1.5") == []
    root = etree.fromstring(data)
    assert root.findtext("cpf:action", namespaces=NS) == "SUPPRESSION"
    certification = root.find(".//cpf:certification", NS)
    assert certification is not None
    assert certification.findtext("cpf:code", namespaces=NS) == "RNCP11556"
    for passage in root.iterfind(".//cpf:passageCertification", NS):
        assert [etree.QName(c).localname for c in passage] == [
            "idTechnique",
            "identificationTitulaire",
        ]
    # The same passages as the CDC's own example, branch by branch.
    official = etree.parse(str(SUPPRESSION)).getroot()
    for ours, theirs in zip(
        root.iterfind(".//cpf:identificationTitulaire", NS),
        official.iterfind(".//cpf:identificationTitulaire", NS),
        strict=True,
    ):
        assert etree.QName(ours[0]).localname == etree.QName(theirs[0]).localname
    # A creation row read as a suppression keeps nothing of the passage but its id.
    creation_as_suppression = _passages(CREATION, action="SUPPRESSION")
    assert "dateDebutValidite" not in creation_as_suppression[0]


def test_112_cannot_hold_a_suppression_or_a_nir() -> None:
    passages = _passages(CREATION)
    with pytest.raises(FluxError):
        build_flux(HEADER, passages, NOW, version="1.1.2")
    with pytest.raises(FluxError):
        build_flux(HEADER, passages[:1], NOW, version="1.1.2", action="SUPPRESSION")


def test_nir_row_written_for_112_uses_the_other_identity_fields() -> None:
    values = _values(read_source(CREATION), "ID_TECHNIQUE_01")
    values["nir"] = "2850575123456"
    for_115, _ = converted(values, None, "ID_TECHNIQUE_01")  # type: ignore[arg-type]
    assert for_115["nir"] == "2850575123456" and "prenom1" not in for_115
    for_112, problems = converted(values, None, "ID_TECHNIQUE_01", version="1.1.2")  # type: ignore[arg-type]
    assert problems == [] and "nir" not in for_112 and for_112["prenom1"] == "Prénom1"


def test_validation_errors_check_the_root_and_mask_nirs() -> None:
    lone = b'<cpf:nomNaissance xmlns:cpf="urn:cdc:cpf:pc5:schema:1.0.0">X</cpf:nomNaissance>'
    assert schema("1.1.5").validate(etree.fromstring(lone).getroottree())
    assert validation_errors(lone, version="1.1.5") != []
    passages = _passages(CREATION)
    secret = with_key("2850575123456")
    passages[2]["nir"] = secret  # a 15-character NIR the XSD refuses, quoted in its message
    data = serialise(build_flux(HEADER, passages, NOW, version="1.1.5"))
    errors = validation_errors(data, version="1.1.5")
    assert errors and any("2 85 05" in e for e in errors)
    assert not any(secret in e or "2850575123456" in e for e in errors)


# --- the NIR itself ----------------------------------------------------------------------------


def test_key_and_corsica() -> None:
    assert key_of("2550814168025") == 97 - 2550814168025 % 97
    assert key_of("185052A123456") == 97 - 1850519123456 % 97
    assert key_of("185052B123456") == 97 - 1850518123456 % 97
    good = with_key("185052A123456")
    assert parse(good).key_ok is True
    assert parse(good.lower()).key_ok is True
    bad = good[:13] + f"{(int(good[13:]) + 1) % 100:02d}"
    assert parse(bad).key_ok is False


def test_nir_value_drops_a_checked_key_and_refuses_a_wrong_one() -> None:
    good = with_key("2850575123456")
    spaced = f"{good[0]} {good[1:3]} {good[3:5]} {good[5:7]} {good[7:10]} {good[10:13]} {good[13:]}"
    assert nir_value(spaced) == "2850575123456"
    assert nir_value("2.85.05.2a.123.456") == "285052A123456"
    wrong = good[:13] + ("00" if good[13:] != "00" else "01")
    with pytest.raises(FieldError) as caught:
        nir_value(wrong)
    assert "clé" in str(caught.value) and good[:13] not in str(caught.value)
    for typed, word in (
        ("285057512345", "12 caractères"),
        ("3850575123456", "commence par « 3 »"),
        ("2850575X23456", "que des chiffres"),
        ("28505AB123456", "département"),
    ):
        with pytest.raises(FieldError) as caught:
            nir_value(typed)
        assert word in str(caught.value)
        assert typed not in str(caught.value)


def test_mask() -> None:
    assert mask("2850575123456") == "2 85 05 •• ••• •••"
    assert mask(with_key("2850575123456")) == "2 85 05 •• ••• ••• ••"
    assert "123" not in mask("12345678")
    text = "La valeur '2 85 05 75 123 456 78' et 185052A123456, l'id 1559735."
    masked = mask_in_text(text)
    assert "75 123" not in masked and "2A123456" not in masked and "1559735" in masked


# --- analysing a 2026 deposit ------------------------------------------------------------------


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_a_2026_flux_as_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    receipt = FIXTURES / "recu-2026-creation.xml"
    analysis = analyse(receipt, CREATION)
    by_id = {r.idTechnique: r for r in analysis.rejected}
    nir_passage = by_id["ID_TECHNIQUE_03"]
    assert nir_passage.code == "MESSAGE_INCONNU"
    assert "1111111111111" not in nir_passage.message  # masked as soon as it is read
    assert nir_passage.row is not None
    # Identified by its NIR: never told that its first name or sex is empty.
    assert not any(f.champ in ("prenom1", "sexe", "anneeNaissance") for f in nir_passage.findings)
    result = _run("analyse", str(receipt), "-s", str(CREATION), "--sans-sortie")
    assert result.exit_code == 1
    flat = " ".join(result.stdout.split())
    assert "XSD 1.1.5 (élément « action », passages identifiés par le NIR" in flat
    assert "au NIR 1 11 11 •• ••• ••• transmis" in flat
    assert "1111111111111" not in result.stdout + result.stderr
    document = json.loads(
        _run("analyse", str(receipt), "-s", str(CREATION), "-f", "json", "--sans-sortie").stdout
    )
    assert document["source"]["schema"] == "1.1.5" and document["source"]["action"] == "CREATION"
    values = next(k for k in document["ko"] if k["idTechnique"] == "ID_TECHNIQUE_03")["valeurs"]
    assert values["nir"] == "1 11 11 •• ••• •••"


def test_the_receipt_of_a_suppression_is_analysed_like_any_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    receipt = FIXTURES / "recu-2026-suppression.xml"
    analysis = analyse(receipt, SUPPRESSION)
    (refused,) = analysis.rejected
    assert refused.code == "MESSAGE_INCONNU"
    assert refused.message == "Le passage certification à supprimer est introuvable"
    # A suppression carries no dates nor scores: their absence explains nothing.
    assert refused.findings == ()
    result = _run("analyse", str(receipt), "-s", str(SUPPRESSION), "--sans-sortie")
    flat = " ".join(result.stdout.split())
    assert "action SUPPRESSION (retrait de passages)" in flat
    assert "Le passage certification à supprimer est introuvable" in flat
