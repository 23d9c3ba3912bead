"""The worksheet as LibreOffice renders it: every wrapped text inside its row (a real
LibreOffice converts it to PDF; no two words of the page may overlap).

Needs soffice (Debian package libreoffice-calc) and pdftotext (poppler-utils); skipped without
them, except in CI (the CI variable set), where they must be there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def _tools() -> tuple[str, str]:
    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        reason = "soffice ou pdftotext absent (apt-get install libreoffice-calc poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(f"test LibreOffice obligatoire en CI : {reason}")
        pytest.skip(reason)
    return soffice, pdftotext


def overlapping_words(bbox_html: str) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap on a page: text drawn over other text, as when a
    wrapped cell is taller than its row."""
    found: list[tuple[str, str]] = []
    for page in bbox_html.split("<page ")[1:]:
        words = [
            (float(a), float(b), float(c), float(d), text)
            for a, b, c, d, text in _WORD.findall(page)
        ]
        words.sort(key=lambda w: w[1])
        for index, (x0, y0, x1, y1, text) in enumerate(words):
            for other in words[index + 1 :]:
                if other[1] >= y1:
                    break
                width = min(x1, other[2]) - max(x0, other[0])
                height = min(y1, other[3]) - max(y0, other[1])
                smaller = min((y1 - y0), (other[3] - other[1]))
                if width > 1 and height > 0.3 * smaller:
                    found.append((text, other[4]))
    return found


def test_libreoffice_renders_the_worksheet_without_overflowing_text(tmp_path: Path) -> None:
    soffice, pdftotext = _tools()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            str(FIXTURES / "recu.xml"),
            "-s",
            str(FIXTURES / "source-plat.xlsx"),
            "--sortie",
            str(tmp_path / "sortie"),
            "--sans-historique",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    converted = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(tmp_path / "sortie" / "corrections.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = tmp_path / "pdf" / "corrections.pdf"
    assert pdf.is_file(), converted.stderr
    boxes = tmp_path / "mots.html"
    subprocess.run([pdftotext, "-bbox", str(pdf), str(boxes)], check=True, timeout=120)
    html = boxes.read_text(encoding="utf-8")
    assert "Titulaire" in html and "1960034" in html  # the pages hold the worksheet's text
    assert overlapping_words(html) == []
    # The instruction line is whole on the first page, not cut where the page ends.
    first_page = [w[4] for w in _WORD.findall(html.split("<page ")[1])]
    instruction = first_page[: first_page.index("Ligne")]  # the headers follow it
    assert " ".join(instruction) == (
        "Corrigez les cellules surlignées dans vos colonnes (à droite), enregistrez, fermez "
        "Excel, puis lancez dans ce dossier : accuse reexporter corrections.xlsx"
    )


def test_libreoffice_opens_the_worksheet_and_its_save_reexports(tmp_path: Path) -> None:
    """A user on LibreOffice: the worksheet opens whole (hidden bookkeeping, drop-down lists,
    autofilter, highlighted cells), is saved again as xlsx, edited, and re-exported. (Frozen
    panes are a window's view: a headless conversion has none and drops them, as it does for a
    workbook xlsxwriter wrote.)"""
    import openpyxl
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    from accuse.fix.workbook import FIX_HEADER_ROW, SHEET_BOOK, SHEET_FIX

    soffice, _ = _tools()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "accuse",
            "analyse",
            str(FIXTURES / "recu.xml"),
            "-s",
            str(FIXTURES / "source-plat.xlsx"),
            "--sortie",
            str(tmp_path / "sortie"),
            "--sans-historique",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    converted = subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "lo"),
            str(tmp_path / "sortie" / "corrections.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    saved = tmp_path / "lo" / "corrections.xlsx"
    assert saved.is_file(), converted.stderr
    book = CalamineWorkbook.from_path(str(saved))
    hidden = {m.name for m in book.sheets_metadata if m.visible == SheetVisibleEnum.Hidden}
    assert hidden == {SHEET_BOOK}
    workbook = openpyxl.load_workbook(saved)
    sheet = workbook[SHEET_FIX]
    assert sheet.auto_filter.ref.startswith("A2:")
    assert sheet["A1"].value.startswith("Corrigez les cellules surlignées")
    assert '"M,F"' in {v.formula1 for v in sheet.data_validations.dataValidation}
    header = [c.value for c in sheet[FIX_HEADER_ROW]]
    rows = list(sheet.iter_rows(min_row=FIX_HEADER_ROW + 1))
    assert any(c.fill.fgColor.rgb == "FFFFE699" for row in rows for c in row)
    row = next(r for r in rows if r[1].value == "1960012")
    row[header.index("Code")].value = "RNCP34567"
    workbook.save(saved)
    target = tmp_path / "redepot.xlsx"
    result = subprocess.run(
        [sys.executable, "-m", "accuse", "reexporter", str(saved), "-f", "xlsx", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = CalamineWorkbook.from_path(str(target)).get_sheet_by_index(0).to_python()
    records = [dict(zip(out[0], r, strict=False)) for r in out[1:]]
    assert [(str(r["Id Technique"]), r["Code"]) for r in records] == [("1960012", "RNCP34567")]
