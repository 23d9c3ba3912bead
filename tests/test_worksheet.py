"""corrections.xlsx: sheets, values as read, formula safety, validations, bookkeeping."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.pipeline.analysis import Analysis, analyse
from accuse.render.worksheet import (
    PREFIX,
    SHEET_BOOK,
    SHEET_FIX,
    SHEET_SUMMARY,
    SHEET_UNMATCHED,
    write_worksheet,
)
from tests.conftest import FIXTURES, write

FORMULA_LIKE = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1"]


def _analyse(tmp_path: Path, receipt: str, source: str | None) -> Analysis:
    """Analyse copies of the fixtures, so nothing is ever written beside the originals."""
    copied = shutil.copy(FIXTURES / receipt, tmp_path / receipt)
    source_copy = shutil.copy(FIXTURES / source, tmp_path / source) if source else None
    return analyse(Path(copied), Path(source_copy) if source_copy else None)


def _sheet_rows(path: Path, name: str = SHEET_FIX) -> list[tuple]:
    """A sheet's rows; for "À corriger", from its headers on (row 1 is the instruction)."""
    book = openpyxl.load_workbook(path)
    rows = list(book[name].iter_rows(values_only=True))
    return rows[FIX_HEADER_ROW - 1 :] if name == SHEET_FIX else rows


def _column(header: tuple, title: str) -> int:
    return header.index(title)


def _validations(sheet) -> dict[str, str]:
    """Column header -> list formula of each data validation."""
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    found = {}
    for validation in sheet.data_validations.dataValidation:
        for cells in validation.sqref.ranges:
            assert cells.min_row == FIX_HEADER_ROW + 1 and cells.max_row == sheet.max_row
            found[header[cells.min_col - 1]] = validation.formula1
    return found


def test_flat_source_sheets_layout_and_styles(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, "recu.xml", "source-plat.xlsx")
    target = write_worksheet(analysis, tmp_path / "corrections.xlsx", [analysis.receipt.path])
    book = openpyxl.load_workbook(target)
    # "Doublons": the DOUBLON 202301-1, with a cell for a new id if it is another passage.
    assert book.sheetnames == [SHEET_FIX, SHEET_SUMMARY, SHEET_UNMATCHED, "Doublons", SHEET_BOOK]
    assert book[SHEET_BOOK].sheet_state == "hidden"
    sheet = book[SHEET_FIX]
    # Row 1: what to do, in one line, up to the command to run; the headers are on row 2.
    assert FIX_HEADER_ROW == 2
    instruction = sheet["A1"].value
    assert instruction.startswith("Corrigez les cellules surlignées dans vos colonnes")
    assert "enregistrez, fermez Excel" in instruction
    assert instruction.endswith("accuse reexporter corrections.xlsx")
    assert "A1:C1" in {str(r) for r in sheet.merged_cells.ranges}  # a printed page wide
    assert sheet.row_dimensions[1].height == 45  # its three lines
    assert sheet["A1"].alignment.wrap_text
    header = [c.value for c in sheet[2]]
    assert header[: len(PREFIX)] == PREFIX
    assert header[len(PREFIX) :] == analysis.source.headers  # the user's own headers
    assert sheet.freeze_panes == "C3"
    assert sheet.auto_filter.ref.startswith("A2:")
    ids = [sheet.cell(row=r, column=2).value for r in range(3, sheet.max_row + 1)]
    # 7 KO, the DOUBLON 202301-1 is not to be fixed.
    assert ids == ["1960012", "1960020", "1960034", "1960049", "1960059", "1960071"]
    # The id column of the source: a number cell in the source, text here.
    id_cell = sheet.cell(row=3, column=len(PREFIX) + 1 + _column(tuple(header[6:]), "Id Technique"))
    assert id_cell.value == "1960012" and id_cell.data_type == "s"
    # A real date stays a date with a day/month/year format.
    begin = sheet.cell(row=3, column=header.index("Date Debut Validite") + 1)
    assert isinstance(begin.value, dt.datetime) and begin.number_format == "dd/mm/yyyy"
    # The family's fields are highlighted: code for CERTIFICATION_INCONNUE, not the name.
    code = sheet.cell(row=3, column=header.index("Code") + 1)
    name = sheet.cell(row=3, column=header.index("Nom de naissance") + 1)
    assert code.fill.fgColor.rgb.endswith("FFE699")
    assert name.fill.fgColor.rgb in (None, "00000000")
    assert sheet.cell(row=3, column=4).alignment.wrap_text  # "Que faire" wraps
    # Validation lists where the XSD has an enumeration, in the source's spelling (OUI/NON).
    by_header = _validations(sheet)
    assert by_header["Sexe"] == '"M,F"'
    assert by_header["Donnee Certifiee"] == '"OUI,NON"'
    assert "NILL" in by_header["Mention Validee"]
    summary = _sheet_rows(target, SHEET_SUMMARY)
    labels = {row[0]: row[1] for row in summary if row and row[0]}
    assert labels["Passages refusés"] == 7 and labels["Passages acceptés"] == 17
    assert labels["Id du traitement (idTraitement)"] == "54169"
    families = {row[1]: row[2] for row in summary if row and row[1] in ("DOUBLON",)}
    assert families == {"DOUBLON": 1}


def test_template_source_uses_template_spellings(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, "recu.xml", "source-modele.xlsx")
    target = write_worksheet(analysis, tmp_path / "c.xlsx", [])
    formulas = _validations(openpyxl.load_workbook(target)[SHEET_FIX])
    assert "TIERS_DE_CONFIANCE" in formulas["Nature Deposant"]
    assert "EQUIVALENCE_(DIPLOME_ETRANGER)" in formulas["Modalite Acces"]
    assert formulas["Presence Niveau Langue Euro"] == '"OUI,NON"'


def test_receipt_only_lists_the_rejections_with_their_family(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, "recu.xml", None)
    target = write_worksheet(analysis, tmp_path / "c.xlsx", [])
    rows = _sheet_rows(target)
    instruction = openpyxl.load_workbook(target)[SHEET_FIX]["A1"].value
    assert "relancez « accuse analyse » avec --source" in instruction  # nothing to correct here
    assert rows[0] == tuple(PREFIX)
    assert [r[1] for r in rows[1:]][:2] == ["1960012", "1960020"]
    assert rows[1][2] == "Certification non reconnue"
    assert rows[1][0] is None  # no source, no source row
    unmatched = _sheet_rows(target, SHEET_UNMATCHED)
    assert "Aucun fichier source" in unmatched[0][0]


def test_whole_file_rejection_lists_errors_with_flux_values(tmp_path: Path) -> None:
    analysis = _analyse(tmp_path, "recu-rejet.xml", "flux.xml")
    target = write_worksheet(analysis, tmp_path / "c.xlsx", [])
    rows = _sheet_rows(target)
    header = rows[0]
    assert header[6:8] == ("Ligne de l'erreur", "Colonne de l'erreur")
    by_line = {r[6]: r for r in rows[1:]}
    assert set(by_line) == {2, 198, 369, 611, 853}
    sexe = next(r for r in rows[1:] if r[2] == "Valeur hors de la liste autorisée")
    assert sexe[1] == "1960012" and sexe[6] == 198
    assert sexe[header.index("nomNaissance")]  # the passage's own values, to fix here
    assert sexe[header.index("idTechnique")] == "1960012"
    assert by_line[2][1] is None  # the comment is outside any passage


def _numbered_source(tmp_path: Path) -> tuple[Path, Path]:
    """A flat source with formula-like names, a numeric id, leading zeros and dates."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(
        ["Id Technique", "Nom de naissance", "Prénom", "Code Insee", "Date Debut Validite"]
    )
    sheet.append([1979262, FORMULA_LIKE[0], FORMULA_LIKE[1], "01234", dt.datetime(2024, 6, 30)])
    sheet.append(["0000-0042", FORMULA_LIKE[2], FORMULA_LIKE[3], "02A004", dt.datetime(2023, 1, 2)])
    for row in sheet.iter_rows(min_row=2):
        for cell in row[1:3]:
            cell.data_type = "s"  # openpyxl would take "=..." for a formula otherwise
    source = tmp_path / "titulaires.xlsx"
    book.save(source)
    receipt = write(
        tmp_path / "recu.xml",
        """<?xml version="1.0" encoding="UTF-8"?>
<rapport><nomFichier>f.xml</nomFichier><idFlux>x</idFlux><idTraitement>1</idTraitement>
<PassagesKO>
<passage><idTechnique>1979262</idTechnique><messageErreur>Aucun titulaire ne correspond aux critères obligatoires</messageErreur></passage>
<passage><idTechnique>0000-0042</idTechnique><messageErreur>Plusieurs titulaires ont été identifiés</messageErreur></passage>
</PassagesKO><PassagesOK/></rapport>""",
    )
    return receipt, source


def test_formula_like_text_numeric_ids_leading_zeros_and_dates(tmp_path: Path) -> None:
    receipt, source = _numbered_source(tmp_path)
    analysis = analyse(receipt, source)
    target = write_worksheet(analysis, tmp_path / "c.xlsx", [receipt, source])
    sheet = openpyxl.load_workbook(target)[SHEET_FIX]
    first = len(PREFIX) + 1
    data = (FIX_HEADER_ROW + 1, FIX_HEADER_ROW + 2)
    cells = [[sheet.cell(row=r, column=first + c) for c in range(5)] for r in data]
    assert [c.value for c in cells[0][:4]] == ["1979262", *FORMULA_LIKE[:2], "01234"]
    assert [c.value for c in cells[1][:4]] == ["0000-0042", *FORMULA_LIKE[2:], "02A004"]
    for row in cells:
        assert all(c.data_type == "s" for c in row[:4])  # text, never 'f' nor 'n'
        assert isinstance(row[4].value, dt.datetime) and row[4].is_date
    hidden = openpyxl.load_workbook(target)[SHEET_BOOK]
    texts = [c.value for row in hidden.iter_rows() for c in row if c.data_type == "f"]
    assert texts == []


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    from accuse.errors import InputError

    analysis = _analyse(tmp_path, "recu.xml", "source.csv")
    with pytest.raises(InputError, match="fichiers d'entrée"):
        write_worksheet(analysis, analysis.source.path, [analysis.source.path])
    assert analysis.source.path.read_bytes() == (FIXTURES / "source.csv").read_bytes()


def test_twenty_thousand_rejections_are_all_written(tmp_path: Path) -> None:
    """Scale, not speed (speed is the benchmark's): every rejected row reaches the sheet."""
    count = 20_000
    header = "Id Technique;Nom de naissance;Prénom;Sexe;Annee Naissance;Date Debut Validite\n"
    lines = [f"ID-{i:05d};NOM{i};Prénom;M;1990;30/06/2024\n" for i in range(count)]
    source = write(tmp_path / "s.csv", header + "".join(lines))
    passages = "".join(
        f"<passage><idTechnique>ID-{i:05d}</idTechnique><messageErreur>Aucun titulaire ne "
        "correspond aux critères obligatoires</messageErreur></passage>"
        for i in range(count)
    )
    receipt = write(tmp_path / "r.xml", f"<rapport><PassagesKO>{passages}</PassagesKO></rapport>")
    analysis = analyse(receipt, source)
    target = write_worksheet(analysis, tmp_path / "c.xlsx", [])
    rows = CalamineWorkbook.from_path(str(target)).get_sheet_by_name(SHEET_FIX).to_python()
    ids = {str(r[1]) for r in rows[FIX_HEADER_ROW:] if r and r[1]}
    assert {f"ID-{i:05d}" for i in range(count)} <= ids
