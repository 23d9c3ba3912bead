"""One whole « Date de naissance » column instead of the template's jour/mois/année: read as
the three fields by analyse (diagnosis, NIR cross-check, summary), verifier, generer,
reexporter and courriels; an unreadable date is told as such, naming the user's column."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from lxml import etree
from typer.testing import CliRunner

from accuse.cells import whole_date
from accuse.cli.app import app
from accuse.model import CellValue
from accuse.reference.fields import field_for_header, row_fields
from tests.conftest import FIXTURES, ROOT
from tests.verify_support import clean_passage, write

RECU = FIXTURES / "recu.xml"  # K4 1960034: born 10/05/1982, day and month swapped
SPLIT = ("Année de naissance", "Mois de naissance", "Jour de naissance")
NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
N3 = "Aucun titulaire ne correspond aux critères de reconciliation"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("ACCUSE_DEPOSANT", str(tmp_path / "config" / "deposant.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.chdir(tmp_path)


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def _merged(
    headers: list[Any],
    rows: list[list[Any]],
    title: str,
    cell: Callable[[Any, Any, Any], CellValue],
    keep_split: bool = False,
) -> tuple[list[Any], list[list[Any]]]:
    """The rows with the three birth columns merged into one whole date column."""
    year, month, day = (headers.index(h) for h in SPLIT)
    merged_headers = [*headers[:year], title, *headers[year:]] if keep_split else None
    out_rows = []
    for row in rows:
        value = cell(row[year], row[month], row[day])
        if keep_split:
            out_rows.append([*row[:year], value, *row[year:]])
        else:
            out_rows.append([*row[:year], value, *row[day + 1 :]])
    if merged_headers is None:
        merged_headers = [*headers[:year], title, *headers[day + 1 :]]
    return merged_headers, out_rows


def _real_date(year: Any, month: Any, day: Any) -> CellValue:
    try:
        return dt.datetime(int(year), int(month), int(day))
    except (TypeError, ValueError):
        return None  # K6: day and month NILL


def xlsx_source(
    folder: Path,
    origin: Path = FIXTURES / "source-plat.xlsx",
    title: str = "Date de naissance",
    cell: Callable[[Any, Any, Any], CellValue] = _real_date,
    keep_split: bool = False,
    changes: dict[str, CellValue] | None = None,
) -> Path:
    """An xlsx source like ``origin`` with one whole birth date column (real date cells)."""
    book = openpyxl.load_workbook(origin)
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    headers, data = _merged(rows[0], rows[1:], title, cell, keep_split)
    for row in data:
        if changes and str(row[0]) in changes:
            row[headers.index(title)] = changes[str(row[0])]
    out = openpyxl.Workbook()
    target = out.active
    assert target is not None
    target.title = sheet.title
    target.append(headers)
    for row in data:
        target.append(row)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "titulaires.xlsx"
    out.save(path)
    return path


def csv_source(
    folder: Path, title: str, texts: dict[str, str], extra: dict[str, str] | None = None
) -> Path:
    """fixtures/source.csv with one text birth date column: JJ/MM/AAAA, or ``texts`` by id."""
    with (FIXTURES / "source.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))

    def text(year: str, month: str, day: str) -> str:
        return f"{int(day):02d}/{int(month):02d}/{year}" if day.isdigit() else ""

    headers, data = _merged(rows[0], rows[1:], title, text)
    for row in data:
        if row[0] in texts:
            row[headers.index(title)] = texts[row[0]]
    if extra:
        headers.append("N° SS")
        for row in data:
            row.append(extra.get(row[0], ""))
    path = folder / "titulaires.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([headers, *data])
    return path


def analysed(receipt: Path, source: Path) -> dict[str, Any]:
    result = run("analyse", receipt, "-s", source, "--format", "json", "--sans-sortie")
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["idTechnique"]: r for r in doc["ko"]}


def said(rejected: dict[str, Any]) -> str:
    return " ".join(d["message"] for d in rejected["diagnostic"])


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(1985, 3, 15),
        dt.date(1985, 3, 15),
        31121,  # the Excel serial of 15/03/1985, a date cell that lost its format
        31121.0,
        "15/03/1985",
        "15-03-1985",
        "15.03.1985",
        "1985-03-15",
        " 15 / 03 / 1985 ",
        "15/3/1985",
        "15/03/1985 00:00:00",
    ],
)
def test_every_way_users_write_a_birth_date(value: CellValue) -> None:
    assert whole_date(value).date == dt.date(1985, 3, 15)
    assert whole_date(value).problem is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("31/02/1985", "n'existe pas"),
        ("15/13/1985", "n'existe pas"),
        ("15/03/85", "année sur 2 chiffres (« 85 ») : 1985 ou 2085"),
        (1985, "ne donne que l'année"),
        ("mars 1985", "n'est pas une date lisible"),
        (True, "n'est pas une date lisible"),
    ],
)
def test_what_is_no_date_says_why(value: CellValue, problem: str) -> None:
    read = whole_date(value)
    assert read.date is None and read.problem is not None and problem in read.problem


def test_an_empty_cell_is_no_date_and_no_problem() -> None:
    assert whole_date(None) == whole_date("  ") == whole_date("NILL") == whole_date(None)
    assert whole_date(None).date is None and whole_date(None).problem is None


@pytest.mark.parametrize(
    "header",
    ["Date de naissance", "Né(e) le", "Née le", "DDN", "Date naissance", "date_naissance"],
)
def test_whole_date_headers(header: str) -> None:
    assert field_for_header(header) == "dateNaissance"


def test_split_headers_and_others_are_unchanged() -> None:
    assert field_for_header("Jour de naissance") == "jourNaissance"
    assert field_for_header("Année de naissance") == "anneeNaissance"
    assert field_for_header("Lieu de naissance") == "libelleCommuneNaissance"
    assert field_for_header("Date de naissance du père") is None


def test_the_split_columns_win_over_a_whole_one() -> None:
    columns = {"dateNaissance": 0, "anneeNaissance": 1}
    assert row_fields(("12/05/1985", 1984), columns) == {"anneeNaissance": 1984}
    whole = row_fields(("12/05/1985",), {"dateNaissance": 0})
    assert (whole["jourNaissance"], whole["moisNaissance"], whole["anneeNaissance"]) == (
        12,
        5,
        1985,
    )


# --- analyse ----------------------------------------------------------------------------------


def test_xlsx_with_real_date_cells_is_diagnosed_as_with_three_columns(tmp_path: Path) -> None:
    source = xlsx_source(tmp_path, title="Né(e) le")
    doc = analysed(RECU, source)
    understood = {c["entete"]: c for c in doc["source"]["colonnes_comprises"]}
    assert understood["Né(e) le"]["champ"] == "dateNaissance"
    assert understood["Né(e) le"]["libelle"] == "jour, mois et année de naissance (8.8, 8.7, 8.6)"
    rows = by_id(doc)
    # K4: the same swap as with three columns, read out of the whole date.
    k4 = rows["1960034"]
    assert {k: k4["valeurs"][k] for k in ("jourNaissance", "moisNaissance", "anneeNaissance")} == {
        "jourNaissance": 10,
        "moisNaissance": 5,
        "anneeNaissance": 1982,
    }
    assert "pourraient être inversés" in said(k4)
    for rejected in doc["ko"]:
        assert "pas de colonne pour" not in said(rejected), rejected
        if rejected["idTechnique"] != "1960059":
            assert "naissance est vide" not in said(rejected), rejected
    # K6 has no day nor month (NILL): its whole date cell is empty, said once for the column.
    k6 = rows["1960059"]["diagnostic"]
    assert [d["champ"] for d in k6 if "vide" in d["message"]] == ["dateNaissance"]
    assert "La date de naissance est vide" in said(rows["1960059"])


def test_the_terminal_says_how_the_column_was_understood(tmp_path: Path) -> None:
    source = xlsx_source(tmp_path, title="Né(e) le")
    result = run("analyse", RECU, "-s", source, "--sans-sortie")
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "« Né(e) le » = jour, mois et année de naissance (8.8, 8.7, 8.6)" in flat
    assert "Ignorées : « Né(e) le »" not in flat


def test_csv_text_dates_and_unreadable_ones(tmp_path: Path) -> None:
    texts = {
        "1960020": "26.01.1991",
        "1960034": " 10 - 05 - 1982 ",
        "1960049": "31/02/1982",
        "1960059": "15/03/69",
    }
    doc = analysed(RECU, csv_source(tmp_path, "Date naissance", texts))
    rows = by_id(doc)
    assert rows["1960020"]["valeurs"]["anneeNaissance"] == 1991
    assert rows["1960020"]["valeurs"]["moisNaissance"] == 1
    assert "pourraient être inversés" in said(rows["1960034"])
    impossible = "La date de naissance « 31/02/1982 » (colonne « Date naissance ») n'existe pas"
    assert impossible in said(rows["1960049"])
    two_digits = said(rows["1960059"])
    assert "(colonne « Date naissance ») a une année sur 2 chiffres (« 69 »)" in two_digits
    assert "1969 ou 2069" in two_digits
    for rejected in doc["ko"]:
        assert "naissance est vide" not in said(rejected), rejected


def test_nir_year_and_month_are_checked_against_the_whole_date(tmp_path: Path) -> None:
    # Inès Lacroix (1960049) was born on 08/09/1982: a NIR of August 1982, then of 1983.
    nirs = {"1960049": "2820813008123", "1960020": "2830113008123"}
    source = csv_source(tmp_path, "Date de naissance", {}, extra=nirs)
    rows = by_id(analysed(RECU, source))
    month = [d for d in rows["1960049"]["diagnostic"] if d["champ"] == "moisNaissance"]
    assert month and "Le mois de naissance (9) ne correspond pas au NIR" in month[0]["message"]
    year = [d for d in rows["1960020"]["diagnostic"] if d["champ"] == "anneeNaissance"]
    assert year and "L'année de naissance 1991 ne correspond pas au NIR" in year[0]["message"]
    assert all("2820813008123" not in said(r) for r in rows.values())


def test_both_whole_and_split_columns_the_split_ones_win(tmp_path: Path) -> None:
    source = xlsx_source(
        tmp_path, keep_split=True, cell=lambda *_: "31/02/1900"
    )  # a wrong whole date the split columns make harmless
    doc = analysed(RECU, source)
    understood = {c["entete"]: c["libelle"] for c in doc["source"]["colonnes_comprises"]}
    assert understood["Date de naissance"] == (
        "jour, mois et année de naissance, non lue : « Jour de naissance », "
        "« Mois de naissance », « Année de naissance » ont priorité"
    )
    k4 = by_id(doc)["1960034"]
    assert k4["valeurs"]["anneeNaissance"] == 1982 and "dateNaissance" not in k4["valeurs"]
    assert all("31/02/1900" not in said(r) for r in doc["ko"])


# --- verifier, generer ------------------------------------------------------------------------


def _clean_rows() -> list[dict[str, Any]]:
    today = dt.date.today()
    rows = [clean_passage(f"G-{n}", today) for n in range(1, 4)]
    rows[1].update(anneeNaissance=1979, moisNaissance=11, jourNaissance=3)
    return rows


def test_generer_fills_the_three_fields_from_a_whole_date(tmp_path: Path) -> None:
    plain = write("plat", _clean_rows(), tmp_path / "gen")
    source = xlsx_source(tmp_path / "src", origin=plain, title="DDN")
    result = run("generer", source, "--sans-historique", "--sortie", tmp_path / "flux.xml")
    assert result.exit_code == 0, result.output
    tree = etree.parse(str(tmp_path / "flux.xml"))
    for version in ("1.1.2", "1.1.5"):
        schema = etree.XMLSchema(etree.parse(str(ROOT / f"accuse/data/flux-xsd-{version}.xsd")))
        assert schema.validate(tree), (version, list(schema.error_log)[:3])
    births = {
        p.findtext("cpf:idTechnique", namespaces=NS): tuple(
            p.findtext(f".//cpf:{k}", namespaces=NS)
            for k in ("jourNaissance", "moisNaissance", "anneeNaissance")
        )
        for p in tree.iterfind(".//cpf:passageCertification", NS)
    }
    assert births == {
        "G-1": ("17", "4", "1990"),
        "G-2": ("3", "11", "1979"),
        "G-3": ("17", "4", "1990"),
    }


def test_verifier_names_the_column_of_an_impossible_date(tmp_path: Path) -> None:
    plain = write("plat", _clean_rows(), tmp_path / "gen")
    source = xlsx_source(
        tmp_path / "src", origin=plain, title="Né(e) le", changes={"G-2": "31/02/1979"}
    )
    result = run("verifier", source, "--format", "json", "--sans-sortie", "--sans-historique")
    doc = json.loads(result.stdout)
    problems = [p for p in doc["problemes"] if p["gravite"] == "bloquant"]
    assert [(p["idTechnique"], p["champ"]) for p in problems] == [("G-2", "dateNaissance")]
    assert re.match(
        r"Colonne « Né\(e\) le » \([A-Z]\) : la date de naissance « 31/02/1979 » n'existe pas",
        problems[0]["message"],
    )
    blocked = run("generer", source, "--sans-historique")
    assert blocked.exit_code != 0
    assert not list(source.parent.glob("*.xml"))


# --- reexporter ---------------------------------------------------------------------------------


def _receipt(folder: Path, ids: list[str]) -> Path:
    passages = "".join(
        f"<passage><idTechnique>{i}</idTechnique><messageErreur>{N3}</messageErreur></passage>"
        for i in ids
    )
    path = folder / "recu.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><rapport><nomFichier>f.xml</nomFichier>'
        f"<PassagesKO>{passages}</PassagesKO><PassagesOK/></rapport>",
        "utf-8",
    )
    return path


def _header_row(sheet: Any) -> int:
    """The row of the worksheet's headers (an instruction line may stand above them)."""
    return next(n for n in (1, 2, 3) if "Id technique" in [c.value for c in sheet[n]])


def _edit(worksheet: Path, header: str, values: dict[str, CellValue]) -> None:
    book = openpyxl.load_workbook(worksheet)
    sheet = book["À corriger"]
    first = _header_row(sheet)
    titles = [c.value for c in sheet[first]]
    column, ids = titles.index(header) + 1, titles.index("Id technique") + 1
    for row in range(first + 1, sheet.max_row + 1):
        identifier = sheet.cell(row, ids).value
        if identifier in values:
            sheet.cell(row, column).value = values[identifier]
    book.save(worksheet)


def test_reexporter_keeps_the_whole_column_and_fills_the_flux(tmp_path: Path) -> None:
    plain = write("plat", _clean_rows(), tmp_path / "gen")
    source = xlsx_source(
        tmp_path / "src", origin=plain, title="Né(e) le", changes={"G-2": "31/02/1979"}
    )
    out = tmp_path / "sortie"
    result = run("analyse", _receipt(tmp_path, ["G-2"]), "-s", source, "-o", out)
    assert result.exit_code == 1, result.output
    worksheet = out / "corrections.xlsx"
    _edit(worksheet, "Né(e) le", {"G-2": dt.datetime(1979, 2, 28)})
    # In the source's layout: the user's column, as edited, a date cell.
    result = run("reexporter", worksheet, "--sortie", tmp_path / "corrige.xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "corrige.xlsx")
    sheet = book.active
    assert sheet is not None
    titles = [c.value for c in sheet[1]]
    assert "Né(e) le" in titles and not set(SPLIT) & set(titles)
    assert sheet.cell(2, titles.index("Né(e) le") + 1).value == dt.datetime(1979, 2, 28)
    # As a flux: the three fields, valid against the XSD.
    result = run("reexporter", worksheet, "--format", "xml", "--sortie", tmp_path / "c.xml")
    assert result.exit_code == 0, result.output
    tree = etree.parse(str(tmp_path / "c.xml"))
    schema = etree.XMLSchema(etree.parse(str(ROOT / "accuse/data/flux-xsd-1.1.5.xsd")))
    assert schema.validate(tree), list(schema.error_log)[:3]
    parts = ("jourNaissance", "moisNaissance", "anneeNaissance")
    assert [tree.findtext(f".//cpf:{k}", namespaces=NS) for k in parts] == ["28", "2", "1979"]


def test_reexporter_refuses_a_date_still_impossible_naming_the_column(tmp_path: Path) -> None:
    plain = write("plat", _clean_rows(), tmp_path / "gen")
    source = xlsx_source(tmp_path / "src", origin=plain, title="Né(e) le")
    out = tmp_path / "sortie"
    run("analyse", _receipt(tmp_path, ["G-2"]), "-s", source, "-o", out)
    _edit(out / "corrections.xlsx", "Né(e) le", {"G-2": "30/02/1979"})
    result = run("reexporter", out / "corrections.xlsx", "--format", "xml")
    assert result.exit_code == 2
    assert "la date de naissance « 30/02/1979 » n'existe pas" in " ".join(result.output.split())
    assert not list(out.glob("*-reexport.*"))


def test_csv_reexport_writes_the_date_back_in_the_users_form(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Date de naissance", {"1960034": "10.05.1982"})
    out = tmp_path / "sortie"
    run("analyse", RECU, "-s", source, "-o", out)
    _edit(out / "corrections.xlsx", "Date de naissance", {"1960034": "05.10.1982"})
    result = run("reexporter", out / "corrections.xlsx", "--sortie", tmp_path / "c.csv")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "c.csv").read_bytes().decode("utf-8-sig")
    lines = list(csv.reader(text.splitlines(), delimiter=";"))
    column = lines[0].index("Date de naissance")
    assert [line[column] for line in lines[1:] if line[0] == "1960034"] == ["05.10.1982"]


# --- courriels --------------------------------------------------------------------------------


def test_courriels_identity_line_shows_the_date(tmp_path: Path) -> None:
    source = csv_source(tmp_path, "Date de naissance", {})
    book = list(csv.reader(source.read_text("utf-8-sig").splitlines(), delimiter=";"))
    book[0].append("Courriel")
    for number, row in enumerate(book[1:], start=1):
        row.append(f"titulaire{number}@exemple.fr")
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(book)
    result = run("courriels", RECU, "-s", source, "-o", tmp_path / "mails")
    assert result.exit_code == 0, result.output
    drafts = {p.name: p for p in (tmp_path / "mails").glob("*.eml")}
    message = email.message_from_bytes(
        drafts["courriel-ligne-13.eml"].read_bytes(), policy=email.policy.default
    )
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Date de naissance (jour/mois/année) : 10/5/1982" in str(body.get_content())


def test_the_worksheet_marks_the_whole_column_for_a_birth_date_refusal(tmp_path: Path) -> None:
    source = xlsx_source(tmp_path, title="Né(e) le")
    run("analyse", RECU, "-s", source, "-o", tmp_path / "sortie")
    sheet = openpyxl.load_workbook(tmp_path / "sortie" / "corrections.xlsx")["À corriger"]
    first = _header_row(sheet)
    titles = [c.value for c in sheet[first]]
    column, ids = titles.index("Né(e) le"), titles.index("Id technique")
    rows = sheet.iter_rows(min_row=first + 1)
    fills = {r[ids].value: r[column].fill.fgColor.rgb for r in rows}
    plain = fills["1960012"]  # certification refusal: the birth date is not in question
    assert fills["1960034"] != plain  # K4, day and month: the whole date column is marked
    assert fills["1960049"] == plain  # K5, birthplace level: the date is not marked
