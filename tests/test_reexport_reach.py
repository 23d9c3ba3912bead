"""accuse reexporter in a real user's hands: a correction that does not cure the refusal is
caught, a source with few columns can still go back in its own layout, the sheet's columns
can be moved, and messages speak the sheet's language."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
from lxml import etree
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.fix.workbook import FIX_HEADER_ROW
from accuse.pipeline.analysis import analyse
from accuse.render.worksheet import SHEET_FIX, write_worksheet
from tests.conftest import FIXTURES, write
from tests.test_loop import NS, _next_receipt, accuse, edit


def _worksheet(tmp_path: Path, source: str = "flux.xml") -> Path:
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    copy = Path(shutil.copy(FIXTURES / source, tmp_path / source))
    return write_worksheet(analyse(receipt, copy), tmp_path / "corrections.xlsx", [receipt, copy])


def _reexport(*args: str | Path) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["reexporter", *map(str, args)])
    return done.exit_code, done.output


def test_a_correction_that_keeps_the_cause_of_the_refusal_is_refused(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path)
    edit(
        worksheet,
        {
            # still before the start date (12/03/2022)
            "1960071": {"dateFinValidite": dt.datetime(2021, 12, 1)},
            "1960012": {"code": "RNCP 34567"},  # a space: the XSD lets it through
            "1960034": {"jourNaissance": "31", "moisNaissance": "02"},  # 31/02
        },
    )
    target = tmp_path / "n.xml"
    code, output = _reexport(worksheet, "--sortie", target)
    assert code == 2, output
    assert not target.exists()
    assert "3 ligne(s) seraient refusées" in output
    assert "ligne 8 de la feuille « À corriger »" in output and "antérieure" in output
    assert "colonne « code »" in output and "espaces" in output
    assert "31/02" in output or "02/31" in output or "n'existe" in output
    code, output = _reexport(worksheet, "--sortie", target, "--forcer")
    assert code == 0, output
    assert target.exists() and "Attention (--forcer)" in output


def test_a_type_that_contradicts_the_code_is_refused_and_a_suspicion_only_warned(
    tmp_path: Path,
) -> None:
    worksheet = _worksheet(tmp_path)
    edit(worksheet, {"1960012": {"code": "RNCP34567", "type": "RS"}})
    code, output = _reexport(worksheet, "--sortie", tmp_path / "n.xml")
    assert code == 2 and "ne correspond pas au préfixe" in output, output
    edit(worksheet, {"1960012": {"code": "RNCP34567", "type": "RNCP"}})
    code, output = _reexport(worksheet, "--sortie", tmp_path / "n.xml")
    # Well written: written, with the remaining doubt said (the certification must be active).
    assert code == 0, output
    assert "à vérifier" in output and "France compétences" in output


def test_a_source_with_only_some_columns_goes_back_in_its_own_layout(tmp_path: Path) -> None:
    header = "Id Technique;Nom de naissance;Prénom;Sexe;Année de naissance;Date Debut Validite\n"
    rows = "1960020;Lefebvre;Julie;F;1984;12/03/2022\n1960034;Morel;Paul;M;1990;01/04/2022\n"
    source = write(tmp_path / "export.csv", header + rows)
    receipt = write(
        tmp_path / "recu.xml",
        "<rapport><PassagesKO>"
        "<passage><idTechnique>1960020</idTechnique><messageErreur>Aucun titulaire ne correspond "
        "aux critères obligatoires</messageErreur></passage>"
        "<passage><idTechnique>1960034</idTechnique><messageErreur>Aucun titulaire ne correspond "
        "aux critères obligatoires</messageErreur></passage>"
        "</PassagesKO></rapport>",
    )
    worksheet = write_worksheet(
        analyse(receipt, source), tmp_path / "corrections.xlsx", [receipt, source]
    )
    edit(worksheet, {"1960020": {"Nom de naissance": "Durand"}})
    code, output = _reexport(worksheet, "--sortie", tmp_path / "n.csv")
    assert code == 0, output
    assert "champ obligatoire vide" not in output
    assert output.count("n'a pas de colonne pour") == 1  # said once, not per row
    text = (tmp_path / "n.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1].startswith("1960020;Durand;Julie")
    # The XML flux still needs every field the XSD requires.
    code, output = _reexport(worksheet, "--format", "xml", "--sortie", tmp_path / "n.xml")
    assert code == 2 and "champ obligatoire vide" in output


def _rewrite(path: Path, change: Callable[[list[list]], list[list]]) -> None:
    """Rebuild the "À corriger" sheet's columns as ``change(columns)`` orders them."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    rows = list(sheet.iter_rows(min_row=FIX_HEADER_ROW, values_only=True))
    columns = change([list(c) for c in zip(*rows, strict=True)])
    for row in sheet.iter_rows(min_row=FIX_HEADER_ROW):  # the instruction line stays
        for cell in row:
            cell.value = None
    for x, column in enumerate(columns, start=1):
        for y, value in enumerate(column, start=FIX_HEADER_ROW):
            sheet.cell(row=y, column=x).value = value
    book.save(path)


def test_accuse_columns_may_go_user_columns_are_named(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    edit(worksheet, {"1960012": {"Code": "RNCP34567"}})

    def drop_ours_and_move_theirs(columns: list[list]) -> list[list]:
        kept = [c for c in columns if c[0] not in ("Que faire", "Constats", "Famille")]
        code = next(c for c in kept if c[0] == "Code")
        kept.remove(code)
        return [code, *kept]  # the user's "Code" column moved to the front

    _rewrite(worksheet, drop_ours_and_move_theirs)
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "n.csv")
    assert code == 0, output
    assert "Lignes corrigées réexportées : 1." in output
    assert "RNCP34567" in (tmp_path / "n.csv").read_bytes().decode("utf-8-sig")
    _rewrite(worksheet, lambda columns: [c for c in columns if c[0] != "Prénom"])
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "m.csv")
    assert code == 2
    assert "« Prénom »" in output and not (tmp_path / "m.csv").exists()


def test_a_worksheet_open_or_not_saved_in_excel_is_said(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path)
    code, output = _reexport(worksheet)
    assert code == 1
    assert "n'a pas été enregistrée depuis l'analyse" in output
    assert "enregistrez et fermez le fichier dans Excel" in output
    (tmp_path / "~$corrections.xlsx").write_bytes(b"\0" * 165)
    code, output = _reexport(worksheet)
    assert code == 2
    assert "encore ouvert" in output and "enregistrez et fermez le fichier dans Excel" in output


def test_a_source_corrected_instead_of_the_sheet_goes_out_with_tous(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source.csv")
    source = tmp_path / "source.csv"
    text = source.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
    header = lines[0].split(";")
    code, end = header.index("Code"), header.index("Date Fin Validite")
    for number, line in enumerate(lines):
        cells = line.split(";")
        if cells[0] == "1960012":
            cells[code] = "RNCP34567"
        if cells[0] == "1960071":
            cells[end] = "12/03/2026"
        lines[number] = ";".join(cells)
    source.write_bytes(("\n".join(lines)).encode("utf-8-sig"))
    # The dead end of old: the source changed, so nothing could be re-exported.
    code_, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "n.csv")
    assert code_ == 2 and "--tous" in output
    code_, output = _reexport(
        worksheet, "--tous", "--format", "csv", "--sortie", tmp_path / "n.csv"
    )
    assert code_ == 0, output
    table = (tmp_path / "n.csv").read_bytes().decode("utf-8-sig").splitlines()
    ids = [row.split(";")[0] for row in table[1:]]
    assert sorted(ids) == ["1960012", "1960020", "1960034", "1960049", "1960059", "1960071"]
    assert "RNCP34567" in next(row for row in table if row.startswith("1960012"))


def test_passages_refused_twice_are_one_option_away(tmp_path: Path) -> None:
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    source = Path(shutil.copy(FIXTURES / "source-plat.xlsx", tmp_path / "source-plat.xlsx"))
    first = accuse("analyse", receipt, "--source", source, "--sortie", tmp_path / "a")
    assert first.returncode == 1, first.stderr
    second = _next_receipt(receipt, {"1960012", "1960071"}, tmp_path / "recu-2.xml")
    again = accuse("analyse", second, "--source", source, "--sortie", tmp_path / "b")
    assert again.returncode == 1, again.stderr
    target = tmp_path / "deux-fois.xlsx"
    done = accuse(
        "reexporter",
        tmp_path / "b" / "corrections.xlsx",
        "--refuses-plusieurs-fois",
        "--sortie",
        target,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    ids = sorted(str(r[rows[0].index("Id Technique")]) for r in rows[1:])
    assert ids == ["1960020", "1960034", "1960049", "1960059"]


def test_missing_flux_codes_come_from_the_receipt_then_options_then_memory(
    tmp_path: Path,
) -> None:
    # The user's csv without its three code columns (BCR émetteur, certificateur, contrat).
    text = (FIXTURES / "source.csv").read_bytes().decode("utf-8-sig")
    dropped = ("BCR emetteur", "BCR certificateur", "Id Contrat")
    lines = [line.split(";") for line in text.splitlines()]
    keep = [i for i, title in enumerate(lines[0]) if title not in dropped]
    source = write(
        tmp_path / "sans-codes.csv",
        "\ufeff" + "\n".join(";".join(cells[i] for i in keep) for cells in lines) + "\n",
    )
    receipt = Path(shutil.copy(FIXTURES / "recu.xml", tmp_path / "recu.xml"))
    worksheet = write_worksheet(
        analyse(receipt, source), tmp_path / "corrections.xlsx", [receipt, source]
    )
    edit(worksheet, {"1960071": {"Date Fin Validite": "NILL"}})
    target = tmp_path / "n.xml"
    code, output = _reexport(worksheet, "--format", "xml", "--sortie", target)
    assert code == 2
    # The émetteur is named in the receipt's messages (bcr émetteur 03VML243): not asked.
    assert "--id-client-certificateur" in output and "--id-contrat" in output
    assert "--id-client " not in output and "--id-client)" not in output
    code, output = _reexport(
        worksheet,
        "--format",
        "xml",
        "--sortie",
        target,
        "--id-client-certificateur",
        "E564ACB0",
        "--id-contrat",
        "MCFCER000209",
    )
    assert code == 0, output
    config = tmp_path / "config" / "deposant.toml"  # ACCUSE_DEPOSANT, set by conftest
    assert str(config) in output.replace("\n", "") and config.is_file()
    tree = etree.parse(str(target))
    assert tree.xpath("//cpf:emetteur/cpf:idClient/text()", namespaces=NS) == ["03VML243"]
    target.unlink()
    # Next time, no option needed: the codes were remembered.
    code, output = _reexport(worksheet, "--format", "xml", "--sortie", target)
    assert code == 0, output
    again = etree.parse(str(target))
    contract = again.xpath("//cpf:certificateur/cpf:idContrat/text()", namespaces=NS)
    assert contract == ["MCFCER000209"]


def _type_new_id(worksheet: Path, identifier: str, new: str) -> None:
    book = openpyxl.load_workbook(worksheet)
    sheet = book["Doublons"]
    rows = list(sheet.iter_rows())
    header = next(r for r in rows if r[0].value == "Ligne source")
    column = [c.value for c in header].index("Nouvel identifiant technique")
    for row in rows:
        if row[1].value == identifier:
            row[column].value = new
            row[column].data_type = "s"
    book.save(worksheet)


def test_a_doublon_that_is_another_passage_goes_out_under_a_new_id(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    doublons = list(openpyxl.load_workbook(worksheet)["Doublons"].iter_rows(values_only=True))
    assert any(r[1] == "202301-1" for r in doublons)  # listed, with a cell for a new id
    _type_new_id(worksheet, "202301-1", "1960012")  # already another row's id
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "n.csv")
    assert code == 2 and "« 1960012 »" in output and "déjà celui d'une autre ligne" in output
    _type_new_id(worksheet, "202301-1", "202301-1B")
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "n.csv")
    assert code == 0, output
    assert "202301-1 → 202301-1B" in output
    table = (tmp_path / "n.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert len(table) == 2 and table[1].startswith("202301-1B;Benoît")


def _as_before_the_instruction_line(path: Path) -> None:
    """The worksheet as accuse wrote it before row 1 held an instruction: headers on row 1,
    no header row in the bookkeeping sheet."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    for merged in list(sheet.merged_cells.ranges):
        sheet.unmerge_cells(str(merged))
    sheet.delete_rows(1)
    hidden = book["accuse_suivi"]
    keys = [c.value for c in hidden["A"]]
    hidden.delete_rows(keys.index("ligne_entete_corrections") + 1)
    book.save(path)


def _delete_first_line(path: Path) -> None:
    """The user deletes the instruction line: the headers move up to row 1."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    for merged in list(sheet.merged_cells.ranges):
        sheet.unmerge_cells(str(merged))
    sheet.delete_rows(1)
    book.save(path)


def test_the_headers_row_is_the_recorded_one_the_instruction_line_above_them(
    tmp_path: Path,
) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    sheet = openpyxl.load_workbook(worksheet)[SHEET_FIX]
    assert "accuse reexporter corrections.xlsx" in sheet["A1"].value
    assert sheet.cell(FIX_HEADER_ROW, 1).value == "Ligne source"
    edit(worksheet, {"1960020": {"Sexe": "H"}})  # row 4 of the sheet the user sees
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "a.csv")
    assert code == 2 and "ligne 4 de la feuille « À corriger »" in output, output


def test_a_worksheet_made_before_the_instruction_line_still_reexports(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    edit(worksheet, {"1960012": {"Code": "RNCP34567"}, "1960020": {"Sexe": "H"}})
    _as_before_the_instruction_line(worksheet)
    sheet = openpyxl.load_workbook(worksheet)[SHEET_FIX]
    assert sheet["A1"].value == "Ligne source" and sheet["B3"].value == "1960020"
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "a.csv")
    # The row numbers are still the ones the user sees: 1960020 is on row 3 of that sheet.
    assert code == 2 and "ligne 3 de la feuille « À corriger »" in output, output
    _fix_sexe_on_row(worksheet, 3)
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "b.csv")
    assert code == 0, output
    assert "Lignes corrigées réexportées : 2." in output
    text = (tmp_path / "b.csv").read_bytes().decode("utf-8-sig")
    assert "RNCP34567" in text and "1960020" in text


def test_the_instruction_line_deleted_by_the_user_is_noticed(tmp_path: Path) -> None:
    worksheet = _worksheet(tmp_path, "source-plat.xlsx")
    edit(worksheet, {"1960012": {"Code": "RNCP34567"}, "1960020": {"Sexe": "H"}})
    _delete_first_line(worksheet)
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "a.csv")
    assert code == 2 and "ligne 3 de la feuille « À corriger »" in output, output
    _fix_sexe_on_row(worksheet, 3)
    code, output = _reexport(worksheet, "--format", "csv", "--sortie", tmp_path / "b.csv")
    assert code == 0 and "Lignes corrigées réexportées : 2." in output, output


def _fix_sexe_on_row(path: Path, row: int) -> None:
    """Type M (the source says F) in the Sexe column of a row, the headers on row 1."""
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_FIX]
    header = [c.value for c in sheet[1]]
    sheet.cell(row, header.index("Sexe") + 1).value = "M"
    book.save(path)
