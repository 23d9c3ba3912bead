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
