"""`accuse verifier` names a problem's field as the user knows it: the header of their column in a
spreadsheet or csv, the element in a flux, the official template's column their file lacks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from accuse.cli.app import app
from accuse.reference.fields import by_key
from tests.verify_support import planted, write


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ACCUSE_CATALOGUE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.chdir(tmp_path)


def _headers(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return path.read_text("utf-8-sig").splitlines()[0].split(";")
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return [str(c) for c in next(sheet.iter_rows())]


def _column_of(path: Path, key: str) -> str:
    spec = by_key()[key]
    known = {spec.label.lower(), key.lower(), *(a.lower() for a in spec.alias)}
    return next(h for h in _headers(path) if h.strip().lower() in known)


@pytest.mark.parametrize("kind", ["plat", "csv", "flux"])
def test_a_problem_names_the_users_column(kind: str, tmp_path: Path) -> None:
    rows, _ = planted(dt.date.today())
    path = write(kind, rows, tmp_path / "src")
    out = tmp_path / "sortie"
    result = CliRunner().invoke(
        app, ["verifier", str(path), "--sans-historique", "--lignes", "500", "--sortie", str(out)]
    )
    assert result.exit_code == 1, result.output
    line = next(x for x in result.stdout.splitlines() if "(F-DATES)" in x)
    page = (out / "verification.html").read_text("utf-8")
    cell = re.search(r'<td class="id">F-DATES</td><td[^>]*>([^<]*)</td>', page)
    assert cell is not None
    if kind == "flux":
        assert "dateFinValidite" in line
        assert cell.group(1) == "dateFinValidite"
    else:
        header = _column_of(path, "dateFinValidite")
        assert f"colonne « {header} »" in line
        assert "dateFinValidite" not in line
        assert cell.group(1) == header


def test_a_field_without_column_is_named_in_french(tmp_path: Path) -> None:
    rows, _ = planted(dt.date.today())
    path = write("csv", rows, tmp_path / "src")
    lines = path.read_text("utf-8-sig").splitlines()
    header = _column_of(path, "obtentionCertification")
    index = lines[0].split(";").index(header)
    # The column taken out of the csv (no value holds a semicolon in these rows).
    path.write_text(
        "\n".join(";".join(c for i, c in enumerate(x.split(";")) if i != index) for x in lines),
        "utf-8",
    )
    result = CliRunner().invoke(
        app, ["verifier", str(path), "--sans-historique", "--sans-sortie", "--lignes", "500"]
    )
    assert result.exit_code == 1, result.output
    said = f"colonne « {by_key()['obtentionCertification'].label} (absente du fichier) »"
    assert any(said in x and "(OK-1)" in x for x in result.stdout.splitlines()), result.stdout
