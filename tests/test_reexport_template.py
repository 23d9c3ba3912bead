"""accuse reexporter in the official Excel template v1.4's layout keeps the template whole: its
other sheets with their values, the drop-down lists of its data sheet (with the values the
portal accepts), and the corrected rows, in a workbook LibreOffice opens."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import FIXTURES
from tests.test_libreoffice import _tools
from tests.test_loop import accuse, edit

TEMPLATE = "modele-excel-accrochage-certificateurs-1.4.xlsx"
DATA = "Tableau declaration"
OTHERS = ["Dictionnaire", "Communes", "Pays", "Tables"]


def _user_template(shared: Path, tmp_path: Path) -> Path:
    """The official template, as a user fills it: the fixture's 24 passages typed from row 21
    (with the template's TIERS_DE_CONFIANCE), everything else of the template untouched."""
    book = openpyxl.load_workbook(shared / TEMPLATE)
    sheet = book[DATA]
    rows = openpyxl.load_workbook(FIXTURES / "source-modele.xlsx")[DATA].iter_rows(min_row=21)
    for number, row in enumerate(rows, start=21):
        for column, cell in enumerate(row, start=1):
            sheet.cell(number, column).value = cell.value
    target = tmp_path / "declaration.xlsx"
    book.save(target)
    return target


def _values(path: Path, name: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def _validations(sheet) -> dict[str, str]:
    """The data sheet's header (row 13) -> formula of the drop-down list on its data rows."""
    header = [c.value for c in sheet[13]]
    found = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type != "list":
            continue
        for cells in validation.sqref.ranges:
            if cells.min_row >= 21:  # the data rows, not the template's example row
                found[header[cells.min_col - 1]] = validation.formula1
    return found


def _list_values(book: openpyxl.Workbook, formula: str) -> list[object]:
    """The values a list formula offers: a named range of the workbook, or inline values."""
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet_name, cells = book.defined_names[formula].attr_text.split("!")
    return [c.value for (c,) in book[sheet_name.strip("'")][cells.replace("$", "")]]


def test_reexport_in_the_template_keeps_it_whole(shared: Path, tmp_path: Path) -> None:
    source = _user_template(shared, tmp_path)
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    out = tmp_path / "sortie"
    done = accuse("analyse", receipt, "-s", source, "-o", out, "--sans-historique")
    assert done.returncode == 1, done.stderr
    worksheet = out / "corrections.xlsx"
    edit(worksheet, {"1960012": {"Code": "RNCP34567"}})
    target = tmp_path / "redepot.xlsx"
    done = accuse("reexporter", worksheet, "--format", "xlsx", "--sortie", target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Modèle Excel v1.4 gardé en entier" in done.stdout
    assert "TIERS_DE_CONFIANCE → TIERS_CONFIANCE" in done.stdout

    book = openpyxl.load_workbook(target)
    original = openpyxl.load_workbook(shared / TEMPLATE)
    assert book.sheetnames == [DATA, *OTHERS]
    # The other sheets, with their values; Tables holds the portal's two spellings.
    for name in ["Dictionnaire", "Communes", "Pays"]:
        assert _values(target, name) == _values(shared / TEMPLATE, name), name
    tables, expected = _values(target, "Tables"), _values(shared / TEMPLATE, "Tables")
    expected[8][2] = "TIERS_CONFIANCE"  # C9
    expected[19][5] = "EQUIVALENCE_DIPLOME_ETRANGER"  # F20
    assert tables == expected
    # The drop-down lists on the template's columns, offering what the portal accepts.
    ours = _validations(book[DATA])
    template_columns = {
        original[DATA].cell(13, cells.min_col).value
        for validation in original[DATA].data_validations.dataValidation
        if validation.type == "list"
        for cells in validation.sqref.ranges
    }
    assert set(ours) == template_columns
    assert _list_values(book, ours["Nature Deposant"]) == ["CERTIFICATEUR", "TIERS_CONFIANCE"]
    access = _list_values(book, ours["Modalite Acces"])
    assert (
        "EQUIVALENCE_DIPLOME_ETRANGER" in access and "EQUIVALENCE_(DIPLOME_ETRANGER)" not in access
    )
    assert _list_values(book, ours["Sexe"]) == ["F", "M"]
    assert len(_list_values(book, ours["Annee Naissance"])) == 200
    # The block above the data as the template has it, then the corrected row only.
    sheet = book[DATA]
    top = [list(r) for r in sheet.iter_rows(max_row=20, values_only=True)]
    assert top == [list(r) for r in original[DATA].iter_rows(max_row=20, values_only=True)]
    header = [c.value for c in sheet[13]]
    rows = [r for r in sheet.iter_rows(min_row=21, values_only=True) if any(r)]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=False))
    assert str(row["Id Technique"]) == "1960012" and row["Code"] == "RNCP34567"
    assert row["Nature Deposant"] == "TIERS_CONFIANCE"

    # LibreOffice opens it: its data sheet converted to csv holds the corrected row.
    soffice, _ = _tools()
    converted = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path / "lo"),
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    written = tmp_path / "lo" / "redepot.csv"
    assert written.is_file(), converted.stderr
    table = list(csv.reader(written.read_text("utf-8", errors="replace").splitlines()))
    assert any("1960012" in line and "RNCP34567" in line for line in table)


def test_a_template_without_its_lists_sheet_says_so(tmp_path: Path) -> None:
    """The fixture keeps only the template's data sheet: no list to point at."""
    source = Path(shutil.copy(FIXTURES / "source-modele.xlsx", tmp_path / "source-modele.xlsx"))
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    out = tmp_path / "sortie"
    assert accuse("analyse", receipt, "-s", source, "-o", out, "--sans-historique").returncode == 1
    edit(out / "corrections.xlsx", {"1960012": {"Code": "RNCP34567"}})
    target = tmp_path / "redepot.xlsx"
    done = accuse("reexporter", out / "corrections.xlsx", "--sortie", target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Listes déroulantes non remises faute de la feuille « Tables »" in done.stdout
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == [DATA]
    assert _validations(book[DATA]) == {"Competence Id": '"1,2,3,4,5,6"'}


@pytest.mark.parametrize("value", ["TIERS_DE_CONFIANCE", "EQUIVALENCE_(DIPLOME_ETRANGER)"])
def test_the_template_spellings_are_data(value: str) -> None:
    from accuse.reference.template import portal_spellings

    assert value in portal_spellings()
