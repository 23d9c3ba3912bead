"""accuse reexporter: only the corrected rows, in the source's layout or as an XSD-valid flux."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.errors import InputError
from accuse.fix.checks import NIL, xsd_value
from accuse.fix.fluxwriter import FluxHeader, build_flux, schema, serialise, validation_errors
from accuse.fix.reexport import reexport
from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.pipeline.analysis import analyse
from accuse.render.worksheet import SHEET_FIX, write_worksheet
from tests.conftest import FIXTURES
from tests.test_worksheet import FORMULA_LIKE, _numbered_source

NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
# Per fixture: the header of the code, of the birth year and of the start date columns.
COLUMNS = {
    "source-plat.xlsx": ("Code", "Année de naissance", "Date Debut Validite"),
    "source-modele.xlsx": ("Code", "Annee Naissance", "Date Debut Validite"),
    "source.csv": ("Code", "Année de naissance", "Date Debut Validite"),
    "flux.xml": ("code", "anneeNaissance", "dateDebutValidite"),
}


def _worksheet(tmp_path: Path, source: str, receipt: str = "recu.xml") -> Path:
    receipt_copy = Path(shutil.copy(FIXTURES / receipt, tmp_path / receipt))
    source_copy = Path(shutil.copy(FIXTURES / source, tmp_path / source))
    analysis = analyse(receipt_copy, source_copy)
    return write_worksheet(analysis, tmp_path / "corrections.xlsx", [receipt_copy, source_copy])


def _edit(path: Path, changes: dict[str, dict[str, object]]) -> None:
    """Set cells of "À corriger" by idTechnique and column header, as a user would."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1):
        for title, value in changes.get(row[1].value, {}).items():
            cell = row[header.index(title)]
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)


def _same_date_again(path: Path, identifier: str, title: str) -> None:
    """Retype a date cell to the very same day: no correction."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1):
        if row[1].value == identifier:
            cell = row[header.index(title)]
            day = cell.value
            assert isinstance(day, dt.date)  # csv and flux text dates are shown as dates too
            cell.value = dt.datetime(day.year, day.month, day.day)
            cell.number_format = "yyyy-mm-dd"
    book.save(path)


def _xlsx_ids(path: Path, source: str) -> list[tuple]:
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    if source == "source-modele.xlsx":
        start = next(i for i, r in enumerate(rows) if r[1] and "Commencez" in str(r[1])) + 1
        header = rows[12]
        return [dict(zip(header, r, strict=False)) for r in rows[start:]]
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


@pytest.mark.parametrize("source", list(COLUMNS))
def test_end_to_end_only_the_edited_rows_come_out(tmp_path: Path, source: str) -> None:
    code, year, begin = COLUMNS[source]
    worksheet = _worksheet(tmp_path, source)
    _edit(worksheet, {"1960012": {code: "RNCP34567"}, "1960020": {year: 1980}})
    _same_date_again(worksheet, "1960034", begin)  # same day retyped: not a change
    # xlsx
    result = reexport(worksheet, format="xlsx")
    assert result.target == tmp_path / "corrections-reexport.xlsx"
    assert [r.idTechnique for r in result.exported] == ["1960012", "1960020"]
    assert {i for _, i in result.untouched} == {"1960034", "1960049", "1960059", "1960071"}
    assert result.never == 1  # the DOUBLON
    rows = _xlsx_ids(result.target, source)
    id_title = "idTechnique" if source == "flux.xml" else "Id Technique"
    assert [str(r[id_title]) for r in rows] == ["1960012", "1960020"]
    assert rows[0][code] == "RNCP34567" and int(rows[1][year]) == 1980
    assert isinstance(rows[0][begin], dt.datetime)  # dates stay dates
    if source == "source-modele.xlsx":
        original = list(
            openpyxl.load_workbook(FIXTURES / source).active.iter_rows(max_row=20, values_only=True)
        )
        written = list(
            openpyxl.load_workbook(result.target).active.iter_rows(max_row=20, values_only=True)
        )
        assert [r[:51] for r in written] == [r[:51] for r in original]  # header block kept
    # csv
    result = reexport(worksheet, format="csv")
    text = result.target.read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(table) == 3
    assert [r[table[0].index(id_title)] for r in table[1:]] == ["1960012", "1960020"]
    assert table[1][table[0].index(code)] == "RNCP34567"
    # xml
    result = reexport(worksheet, format="xml")
    tree = etree.parse(str(result.target))
    assert schema().validate(tree), schema().error_log
    assert tree.xpath("//cpf:passageCertification/cpf:idTechnique/text()", namespaces=NS) == [
        "1960012",
        "1960020",
    ]
    assert tree.xpath("//cpf:emetteur/cpf:idClient/text()", namespaces=NS) == ["03VML243"]
    assert tree.xpath("//cpf:certificateur/cpf:idContrat/text()", namespaces=NS) == ["MCFCER000209"]
    codes = tree.xpath("//cpf:certification/cpf:code/text()", namespaces=NS)
    assert codes == sorted(set(codes)) and "RNCP34567" in codes  # grouped by certification
    stamp = tree.xpath("//cpf:horodatage/text()", namespaces=NS)[0]
    assert len(stamp) == 25 and stamp[19] in "+-" and stamp[22] == ":"


def test_official_xsd_in_shared_matches_the_shipped_copy(shared: Path) -> None:
    shipped = Path(__file__).resolve().parent.parent / "accuse" / "data" / "flux-xsd-1.1.2.xsd"
    assert shipped.read_bytes() == (shared / "flux-xsd-1.1.2.xsd").read_bytes()


def test_formula_like_values_stay_text_through_reexport(tmp_path: Path) -> None:
    receipt, source = _numbered_source(tmp_path)
    analysis = analyse(receipt, source)
    worksheet = write_worksheet(analysis, tmp_path / "c.xlsx", [receipt, source])
    _edit(worksheet, {"1979262": {"Code Insee": "01235"}, "0000-0042": {"Prénom": "-2"}})
    result = reexport(worksheet, format="xlsx", force=True)  # fields the XSD needs are absent
    sheet = openpyxl.load_workbook(result.target).active
    rows = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in rows[0][:4]] == ["1979262", FORMULA_LIKE[0], FORMULA_LIKE[1], "01235"]
    assert [c.value for c in rows[1][:4]] == ["0000-0042", FORMULA_LIKE[2], "-2", "02A004"]
    assert all(c.data_type == "s" for row in rows for c in row[:4])
    assert rows[0][4].is_date and rows[0][4].value == dt.datetime(2024, 6, 30)


def test_invalid_field_is_reported_and_nothing_written(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    _edit(worksheet, {"1960020": {"Sexe": "H", "Nom de naissance": "X" * 61}})
    target = tmp_path / "sortie.xml"
    with pytest.raises(InputError) as caught:
        reexport(worksheet, format="xml", target=target)
    message = caught.value.render()
    # In the sheet's words: its row number, the column as the user's file heads it.
    assert (
        "ligne 4 de la feuille « À corriger » (ligne 8 de votre fichier, id 1960020), "
        "colonne « Sexe » : « H » n'est pas une valeur permise"
    ) in message
    assert "colonne « Nom de naissance » : 61 caractères ; au plus 60" in message
    assert "[sexe]" not in message and "Nom Naissance" not in message
    assert not target.exists()
    forced = reexport(worksheet, format="csv", target=tmp_path / "f.csv", force=True)
    assert forced.written and len(forced.forced_problems) == 2


def test_changed_source_is_refused_unless_forced(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source.csv")
    _edit(worksheet, {"1960012": {"Code": "RNCP34567"}})
    source = tmp_path / "source.csv"
    source.write_bytes(source.read_bytes() + b"\r\n")
    with pytest.raises(InputError, match="a changé depuis la création"):
        reexport(worksheet)
    assert not (tmp_path / "corrections-reexport.csv").exists()
    result = reexport(worksheet, force=True)
    assert result.target == tmp_path / "corrections-reexport.csv"
    assert any("a changé" in w for w in result.warnings)


def test_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source.csv")
    _edit(worksheet, {"1960012": {"Code": "RNCP34567"}})
    before = (tmp_path / "source.csv").read_bytes()
    for target in (tmp_path / "source.csv", worksheet):
        with pytest.raises(InputError, match="fichiers d'entrée"):
            reexport(worksheet, format="csv", target=target)
    assert (tmp_path / "source.csv").read_bytes() == before


def test_cli_exit_codes_and_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    worksheet = _worksheet(tmp_path, "flux.xml")
    untouched = runner.invoke(app, ["reexporter", str(worksheet)])
    assert untouched.exit_code == 1, untouched.output
    assert "rien à réexporter" in untouched.output
    _edit(worksheet, {"1960071": {"dateFinValidite": "NILL"}})
    done = runner.invoke(app, ["reexporter", str(worksheet), "--sortie", str(tmp_path / "n.xml")])
    assert done.exit_code == 0, done.output
    assert "Lignes corrigées réexportées : 1." in done.output
    assert "doublons), jamais renvoyés : 1" in done.output
    # The command ends with what to do with the flux: deposit it, then analyse its receipt.
    assert done.output.rstrip().splitlines()[-1] == (
        f"Étape suivante : déposez {tmp_path / 'n.xml'} sur le portail de "
        "la Caisse des Dépôts ; à réception de l'accusé, lancez : accuse analyse "
        f'"<accusé reçu>" --source "{tmp_path / "n.xml"}"'
    )
    as_csv = runner.invoke(app, ["reexporter", str(worksheet), "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    written = worksheet.with_name("corrections-reexport.csv")
    assert written.is_file()
    assert (
        as_csv.output.rstrip()
        .splitlines()[-1]
        .endswith(f'faites-en le flux XML à déposer avec : accuse generer "{written}"')
    )
    tree = etree.parse(str(tmp_path / "n.xml"))
    nil = tree.xpath(
        "//cpf:dateFinValidite/@xsi:nil",
        namespaces={**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"},
    )
    assert nil == ["true"]
    refused = runner.invoke(app, ["reexporter", str(tmp_path / "source.csv")])
    assert refused.exit_code == 2


def test_receipt_only_worksheet_cannot_be_reexported(tmp_path: Path) -> None:
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    worksheet = write_worksheet(analyse(receipt), tmp_path / "c.xlsx", [receipt])
    with pytest.raises(InputError, match="sans fichier source"):
        reexport(worksheet)


def test_whole_file_rejection_resends_every_passage_corrected(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "flux.xml", receipt="recu-rejet.xml")
    _edit(worksheet, {"1960043": {"codeInsee": "75056"}})
    result = reexport(worksheet, format="xml")
    tree = etree.parse(str(result.target))
    assert schema().validate(tree), schema().error_log
    assert len(tree.xpath("//cpf:passageCertification", namespaces=NS)) == 24
    insee = tree.xpath(
        "//cpf:passageCertification[cpf:idTechnique='1960043']//cpf:codeInsee/text()",
        namespaces=NS,
    )
    assert insee == ["75056"]


@pytest.mark.parametrize(
    ("key", "given", "expected"),
    [
        ("donneeCertifiee", "OUI", "true"),
        ("presenceNiveauLangueEuro", "NON", "false"),
        ("dateFinValidite", "NILL", NIL),
        ("natureDeposant", "TIERS_DE_CONFIANCE", "TIERS_CONFIANCE"),
        ("modaliteAcces", "EQUIVALENCE_(DIPLOME_ETRANGER)", "EQUIVALENCE_DIPLOME_ETRANGER"),
        ("dateDebutValidite", 45473, "2024-06-30"),  # an Excel serial
        ("dateDebutValidite", "30/06/2024", "2024-06-30"),
        ("dateDebutValidite", dt.datetime(2024, 6, 30), "2024-06-30"),
        ("moisNaissance", "05", "05"),
        ("codeInsee", 1234, "01234"),  # Excel dropped the leading zero
        ("libelleOption", None, None),
        ("scoring", None, NIL),
    ],
)
def test_template_mismatches_and_formats(key: str, given: object, expected: object) -> None:
    assert xsd_value(key, given) == expected


def test_dossier_branch_and_postal_code_are_valid_flux() -> None:
    common = {
        "type": "RS",
        "code": "RS5678",
        "obtentionCertification": "PAR_ADMISSION",
        "donneeCertifiee": "true",
        "dateDebutValidite": "2024-01-02",
        "dateFinValidite": NIL,
        "presenceNiveauLangueEuro": "false",
        "presenceNiveauNumeriqueEuro": "false",
        "scoring": NIL,
        "mentionValidee": NIL,
        "modaliteAcces": NIL,
    }
    dossier = {
        **common,
        "idTechnique": "A",
        "idDossier": "1234567890123",
        "nomTitulaire": "X",
        "prenom1Titulaire": "Y",
    }
    person = {
        **common,
        "idTechnique": "B",
        "nomNaissance": "N",
        "nomUsage": NIL,
        "prenom1": "P",
        "anneeNaissance": "1990",
        "moisNaissance": NIL,
        "jourNaissance": NIL,
        "sexe": "F",
        "codePostal": "13008",
    }
    data = serialise(
        build_flux(FluxHeader("03VML243", "E564ACB0", "MCFCER000209"), [dossier, person])
    )
    assert validation_errors(data) == []
    tree = etree.fromstring(data)
    assert tree.xpath("//cpf:dossierFormation/cpf:idDossier/text()", namespaces=NS) == [
        "1234567890123"
    ]
    assert tree.xpath("//cpf:codePostalNaissance/cpf:codePostal/text()", namespaces=NS) == ["13008"]


def test_flux_ids_from_options_win_and_missing_ones_are_named() -> None:
    from accuse.fix.reexport import ExportRow, _flux_header

    rows = [ExportRow(2, "A", ["03VML243"])]
    header, problems = _flux_header(rows, {}, {"idClientEmetteur": 0}, {"idContrat": "C-1"})
    assert header is None
    assert [(p.champ, p.raison) for p in problems] == [
        (
            "idClientCertificateur",
            "inconnu : ni la source ni les options ne le donnent ; indiquez-le avec "
            "--id-client-certificateur (il sera retenu pour la prochaine fois).",
        )
    ]
    options = {
        "idClientEmetteur": "11111111",
        "idClientCertificateur": "E564ACB0",
        "idContrat": "C-1",
    }
    header, problems = _flux_header(rows, {}, {"idClientEmetteur": 0}, options)
    assert problems == [] and header.idClientEmetteur == "11111111"


def test_rows_left_alone_are_named_by_their_row_in_the_worksheet(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    _edit(worksheet, {"1960012": {"Code": "RNCP34567"}})
    sheet = openpyxl.load_workbook(worksheet)[SHEET_FIX]
    rows = {row[1].value: row[0].row for row in sheet.iter_rows(min_row=FIX_HEADER_ROW + 1)}
    result = CliRunner().invoke(app, ["reexporter", str(worksheet), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    line = " ".join(next(x for x in result.output.split("\n\n") if "non corrigées" in x).split())
    assert f"« {SHEET_FIX} »" in line
    for identifier in ("1960034", "1960049"):
        assert f"ligne {rows[identifier]} ({identifier})" in line
    source_rows = {i: p for p, i in reexport(worksheet, format="xlsx").untouched}
    assert rows["1960034"] != source_rows["1960034"]  # the two numberings differ here
