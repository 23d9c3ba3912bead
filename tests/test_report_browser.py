"""rapport.html in a real browser: Debian's headless Chromium driven by Playwright.

Never a browser download: /usr/bin/chromium (packages chromium and chromium-driver, installed
by .ci/run). Without it or without Playwright these tests skip with the reason, except under
CI (the CI variable set), where they fail: CI must not skip them. Screenshots land in
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from accuse.pipeline.analysis import Analysis, analyse
from accuse.pipeline.summary import verdict
from accuse.render.html import render_report, write_report
from tests.conftest import FIXTURES, ROOT
from tests.test_report import HOSTILE, hostile_set

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VISIBLE_ROWS = "section.groupe:not([hidden]) tbody.lignes tr"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} absent (apt-get install chromium chromium-driver)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright absent (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"tests navigateur obligatoires en CI : {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@dataclass
class Opened:
    page: object
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def rows(self) -> list[str]:
        return self.page.locator(VISIBLE_ROWS).all_inner_texts()

    def search(self, query: str) -> None:
        self.page.fill("#recherche", query)
        expected = "" if not query.strip() else f"« {query.strip()} »"
        self.page.wait_for_function(
            "q => q ? document.getElementById('etat').textContent.includes(q)"
            " : document.getElementById('etat').textContent === ''",
            arg=expected,
        )

    def shoot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.evaluate("window.scrollTo(0, 0)")  # the sticky toolbar back in its place
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def open_page(browser) -> Iterator:
    pages = []

    def opener(path: Path) -> Opened:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        opened = Opened(page)
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))

        def dialog(d) -> None:
            opened.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.as_uri())
        page.wait_for_selector("#outils:not([hidden])")
        pages.append(page)
        return opened

    yield opener
    for page in pages:
        page.close()


def _page(tmp_path: Path, analysis: Analysis, rows_shown: int | None = None) -> Path:
    target = tmp_path / "rapport.html"
    if rows_shown is None:
        write_report(analysis, target)
    else:
        target.write_text(render_report(analysis, rows_shown=rows_shown), "utf-8")
    return target


@pytest.fixture(scope="module")
def passages() -> Analysis:
    return analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx")


def test_verdict_counts_and_sections(tmp_path: Path, open_page, passages: Analysis) -> None:
    opened = open_page(_page(tmp_path, passages))
    page = opened.page
    assert page.locator("#verdict").inner_text().strip() == verdict(passages)
    counts = page.locator("table.compteurs").inner_text()
    assert "Passages acceptés\t17" in counts and "Passages refusés\t7" in counts
    codes = page.locator("section.famille").evaluate_all("s => s.map(e => e.dataset.code)")
    assert codes == [e.code for e, _ in passages.families()]
    assert len(opened.rows()) == 7
    assert page.locator("figure.graphique svg g.barre").count() == 7
    assert opened.shoot("rapport-navigateur.png").stat().st_size > 10_000
    assert opened.errors == [] and opened.dialogs == []


def test_search_filters_rows(tmp_path: Path, open_page, passages: Analysis) -> None:
    opened = open_page(_page(tmp_path, passages))
    opened.search("Lefebvre")
    rows = opened.rows()
    assert 1 <= len(rows) < 7 and all("Lefebvre" in r for r in rows)
    assert "correspond" in opened.page.locator("#etat").inner_text()
    opened.search("benoit")  # accents and case do not matter: "Benoît"
    assert [r.split("\t")[1] for r in opened.rows()] == ["202301-1"]
    opened.search("zzz-introuvable")
    assert opened.rows() == []
    assert "Aucune ligne" in opened.page.locator("#etat").inner_text()
    opened.search("")
    assert len(opened.rows()) == 7
    assert opened.errors == []


def test_family_filter(tmp_path: Path, open_page, passages: Analysis) -> None:
    opened = open_page(_page(tmp_path, passages))
    page = opened.page
    page.locator('input[data-filtre="1"]').uncheck()
    assert page.locator("#famille-1").is_hidden()
    assert page.locator("#famille-2").is_visible()
    assert len(opened.rows()) == 6
    page.click("#toutes")
    assert page.locator("#famille-1").is_visible() and len(opened.rows()) == 7
    assert opened.errors == []


def test_hostile_names_show_as_text(tmp_path: Path, open_page) -> None:
    analysis = analyse(*hostile_set(tmp_path))
    # One row per family as HTML: the others come from the embedded JSON, drawn by script.
    opened = open_page(_page(tmp_path, analysis, rows_shown=1))
    page = opened.page
    assert HOSTILE[0] in page.locator("#famille-1 tbody").inner_text()
    opened.search("onerror")
    shown = "\n".join(opened.rows())
    assert HOSTILE[1] in shown
    opened.search("alert(2)")
    assert "</script><script>alert(2)</script>" in "\n".join(opened.rows())
    opened.search("")
    page.locator("#famille-1 .pagination button").click()
    page.wait_for_timeout(300)  # time for an injected onerror/script to fire, if any
    assert page.locator("main img, main script").count() == 0
    assert opened.dialogs == []
    assert opened.errors == []
    opened.shoot("rapport-hostile.png")


def test_paging_through_embedded_rows(tmp_path: Path, open_page) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    facts = generate(tmp_path / "jeu", 300, 0.5, seed=3)
    analysis = analyse(tmp_path / "jeu" / "recu.xml", tmp_path / "jeu" / "source.csv")
    opened = open_page(_page(tmp_path, analysis, rows_shown=10))
    page = opened.page
    first = page.locator("section.famille").first
    total = int(first.get_attribute("data-total"))
    assert total > 20 and facts["ko"] == len(analysis.rejected)
    assert first.locator("tbody tr").count() == 10
    first.locator(".pagination button").click()
    assert first.locator("tbody tr").count() == 20
    # Rows drawn by script have the same columns as those of the template.
    cells = first.locator("tbody tr").evaluate_all("rs => rs.map(r => r.cells.length)")
    assert len(set(cells)) == 1 and cells[0] == first.locator("thead th").count()
    last = [r for r in analysis.rejected if r.code == first.get_attribute("data-code")][-1]
    opened.search(last.idTechnique)
    assert any(last.idTechnique in r for r in opened.rows())
    assert opened.errors == []


def test_whole_file_rejection_page(tmp_path: Path, open_page) -> None:
    analysis = analyse(FIXTURES / "recu-rejet.xml", FIXTURES / "flux.xml")
    opened = open_page(_page(tmp_path, analysis))
    page = opened.page
    assert page.locator("#verdict").inner_text().strip() == verdict(analysis)
    assert page.locator("#erreurs tbody tr").count() == 6
    opened.search("1960012")
    assert page.locator("#erreurs tbody tr").count() == 2
    opened.search("")
    page.locator('input[data-filtre="1"]').uncheck()  # the most frequent family: 2 errors
    assert page.locator("#erreurs tbody tr").count() == 4
    opened.shoot("rapport-rejet-navigateur.png")
    assert opened.errors == [] and opened.dialogs == []


def test_print_hides_the_tools(tmp_path: Path, open_page, passages: Analysis) -> None:
    opened = open_page(_page(tmp_path, passages))
    opened.page.emulate_media(media="print")
    assert opened.page.locator("#outils").is_hidden()
    assert opened.page.locator("#verdict").is_visible()
    assert opened.page.pdf()[:4] == b"%PDF"
