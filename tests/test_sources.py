"""Source readers: spreadsheets (flat and template v1.4), csv, flux XML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from accuse.errors import InputError
from accuse.read.sources import prefetch_source, read_source
from tests.conftest import write


def _xlsx(path: Path, rows: list[list[object]], start_row: int = 1, title: str = "Feuil1") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=start_row + offset, column=column, value=value)
    book.save(path)
    return path


def test_flat_xlsx_numeric_ids_leading_zeros_dates_and_positions(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "s.xlsx",
        [
            ["Id Technique", "Nom de naissance", "Prénom", "Date Debut Validite"],
            [1979262, "MARTIN", "Léa", dt.datetime(2024, 6, 30)],
            ["0000-0042", "DURAND", "Jean-Pierre", dt.datetime(2024, 7, 1)],
            [None, None, None, None],
            ["202006-2510", "Petit", "Anne", None],
        ],
        start_row=3,
    )
    source = read_source(path, wanted={"1979262", "0000-0042"})
    assert source.kind == "tableur" and source.layout == "plat"
    assert source.header_row == 3
    # Excel numbers rows from 1 and the data starts at row 4; the empty row 6 is skipped.
    assert source.positions == {"1979262": [4], "0000-0042": [5], "202006-2510": [7]}
    assert source.row_count == 3
    assert set(source.rows) == {4, 5}  # only the wanted rows are kept whole
    row = source.rows[4]
    assert row.idTechnique == "1979262"
    assert source.value(row, "nomNaissance") == "MARTIN"
    assert source.value(row, "prenom1") == "Léa"
    assert source.value(row, "dateDebutValidite") == dt.date(2024, 6, 30)  # a date, not a number
    assert source.headers[:2] == ["Id Technique", "Nom de naissance"]


def test_sheet_choice_and_errors(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "rien ici"
    data = book.create_sheet("Titulaires")
    data.append(["idTechnique", "nomNaissance"])
    data.append(["A1", "X"])
    path = tmp_path / "multi.xlsx"
    book.save(path)
    assert read_source(path).sheet == "Titulaires"  # first sheet with an id column
    with pytest.raises(InputError, match="feuille « Absente » n'existe pas"):
        read_source(path, sheet="Absente")
    with pytest.raises(InputError, match="la feuille « Notes » n'a pas de colonne"):
        read_source(path, sheet="Notes")


def test_id_column_by_name_and_two_id_columns(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "s.xlsx", [["Réf. passage", "Nom"], ["X-1", "A"]])
    with pytest.raises(InputError, match="--colonne-id"):
        read_source(path)
    assert list(read_source(path, id_column="réf passage").positions) == ["X-1"]
    twice = _xlsx(tmp_path / "d.xlsx", [["Id Technique", "id_technique"], ["1", "1"]])
    with pytest.raises(InputError, match="deux colonnes d'identifiant"):
        read_source(twice)


@pytest.mark.parametrize(
    ("encoding", "separator"), [("utf-8-sig", ";"), ("utf-8", ","), ("cp1252", ";")]
)
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, separator: str) -> None:
    lines = [
        separator.join(["Id Technique", "Nom de naissance", "Prénom"]),
        separator.join(["0000-0042", "Hélène", "Zoé"]),
        separator.join(["1979262", '"DE LA, FONTAINE"', "Émile"]),
    ]
    path = tmp_path / "s.csv"
    path.write_bytes("\r\n".join(lines).encode(encoding))
    source = read_source(path)
    assert source.kind == "csv"
    assert source.positions == {"0000-0042": [2], "1979262": [3]}
    assert source.value(source.rows[2], "nomNaissance") == "Hélène"
    assert source.value(source.rows[3], "nomNaissance") == "DE LA, FONTAINE"
    assert source.value(source.rows[3], "prenom1") == "Émile"


def test_csv_multiline_cell_keeps_start_line(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", 'idTechnique;commentaire\n1;"deux\nlignes"\n2;x\n')
    assert read_source(path).positions == {"1": [2], "2": [4]}


def test_template_layout_official_file(shared: Path) -> None:
    source = read_source(shared / "modele-excel-accrochage-certificateurs-1.4.xlsx")
    assert source.layout == "modele_v1.4"
    assert source.sheet == "Tableau declaration"
    assert source.header_row == 13
    assert source.headers[9] == "Id Technique"
    assert source.columns["idTechnique"] == 9
    # Ids come from row 12 even where labels repeat ("Id Client" / "Id Client 2").
    assert source.columns["idClientEmetteur"] == 3
    assert source.columns["idClientCertificateur"] == 4
    assert source.row_count == 0  # the example row (18) is not data


def test_flux_source_rows_and_spans(shared: Path) -> None:
    # Spans are worked out when lines are asked for (a whole-file rejection to place).
    source = read_source(shared / "flux-exemple-officiel.xml")
    assert source.passage_spans == []
    spans = read_source(shared / "flux-exemple-officiel.xml", lines=[1]).passage_spans
    assert source.kind == "flux"
    assert [s[2] for s in spans] == [
        "db855769-bcd6-4253-93cf-e666db666c0a",
        "10c54fd2-f3a3-4dea-b975-4d7258bd10b3",
        "0785a873-acf7-4632-ad7b-b11cfff05b13",
    ]
    lines = (shared / "flux-exemple-officiel.xml").read_text("utf-8").splitlines()
    for start, end, _ in spans:
        assert "<cpf:passageCertification>" in lines[start - 1]
        assert "</cpf:passageCertification>" in lines[end - 1]
    first = source.rows[16]
    assert source.value(first, "code") == "RNCP19117"
    assert source.value(first, "nomNaissance") == "Dupont"
    assert source.value(first, "codeInsee") == "31555"
    assert source.value(first, "dateFinValidite") == "NILL"
    assert source.flux_header["idClientEmetteur"] == "AB123CDE"
    assert source.flux_header["idContrat"] == "2560080000127J"


def test_receipt_given_as_source(tmp_path: Path) -> None:
    path = write(tmp_path / "r.xml", "<rapport><nomFichier>x</nomFichier></rapport>")
    with pytest.raises(InputError, match="accusé de traitement, pas une source"):
        read_source(path)


def test_unsupported_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="non pris en charge"):
        read_source(write(tmp_path / "s.pdf", "%PDF"))
    with pytest.raises(InputError, match="classeur endommagé"):
        read_source(write(tmp_path / "s.xlsx", "pas un zip"))  # not an archive at all
    with pytest.raises(InputError, match="vide"):
        read_source(write(tmp_path / "s.csv", ""))


def test_csv_mixed_encodings_and_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "mixte.csv"
    path.write_bytes(
        b"idTechnique;nomNaissance;prenom1\n"
        + "1;Hélène;Zoé\n".encode()
        + "2;Jérôme;Loïc\n".encode("cp1252")
        + b"3\n"  # ragged: a short row
        + "4;Noël;Ève;en trop\n".encode()
    )
    source = read_source(path)
    assert list(source.positions) == ["1", "2", "3", "4"]
    assert source.value(source.rows[2], "nomNaissance") == "Hélène"
    assert source.value(source.rows[3], "nomNaissance") == "Jérôme"
    assert source.value(source.rows[4], "nomNaissance") is None
    assert source.value(source.rows[5], "prenom1") == "Ève"


def test_csv_utf16_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes("Id Technique\tNom Naissance\r\n0000-0042\tÉlodie\r\n".encode("utf-16"))
    source = read_source(path)
    assert source.positions == {"0000-0042": [2]}
    assert source.value(source.rows[2], "nomNaissance") == "Élodie"


def test_encrypted_and_swollen_workbooks_are_refused(tmp_path: Path) -> None:
    import zipfile

    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 512)
    with pytest.raises(InputError, match="protégé par un mot de passe"):
        read_source(encrypted)
    base = _xlsx(tmp_path / "base.xlsx", [["idTechnique"], ["1"]])
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(base) as original, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for item in original.infolist():
            z.writestr(item, original.read(item.filename))
        z.writestr("xl/media/padding.bin", b"\0" * (80 * 2**20))
    with pytest.raises(InputError, match="volume anormal"):
        read_source(bomb)


def test_prefetched_sheet_reads_the_same_and_fails_the_same(tmp_path: Path) -> None:
    """The sheet loaded in a thread while the receipt is parsed gives the same source, also
    when the first sheet has no id column, and its failures reach the user as without it."""
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "rien ici"
    data = book.create_sheet("Titulaires")
    data.append(["idTechnique", "nomNaissance"])
    data.append(["A1", "X"])
    data.append(["B2", "Y"])
    path = tmp_path / "multi.xlsx"
    book.save(path)
    for sheet in (None, "Titulaires"):
        plain = read_source(path, {"B2"}, sheet=sheet)
        fetched = read_source(path, {"B2"}, sheet=sheet, prefetched=prefetch_source(path, sheet))
        assert fetched.sheet == plain.sheet == "Titulaires"
        assert fetched.rows == plain.rows and fetched.positions == plain.positions
    with pytest.raises(InputError, match="feuille « Absente » n'existe pas"):
        read_source(path, sheet="Absente", prefetched=prefetch_source(path, "Absente"))
    broken = write(tmp_path / "s.xlsx", "pas un zip")
    with pytest.raises(InputError, match="classeur endommagé"):
        read_source(broken, prefetched=prefetch_source(broken))
    assert prefetch_source(write(tmp_path / "s.csv", "idTechnique\nA1\n")) is None
