"""rapport.html at scale: page size, and how Chromium copes, with N rejected rows (20 000).

Generates a coherent set with bench/generate.py (kept in bench/out/ between runs), analyses
it against the csv source, writes rapport.html, then opens it in headless Chromium (Debian's
/usr/bin/chromium through Playwright) and prints the figures. A measurement, not a test.

Usage: .venv/bin/python bench/report_scale.py [--ko 20000] [--passages 25000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from accuse.pipeline.analysis import analyse  # noqa: E402
from accuse.render.html import write_report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _browser(page_path: Path, query: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(page_path.as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_selector("#outils:not([hidden])")
        figures["ouverture_s"] = time.perf_counter() - started
        timing = page.evaluate(
            "() => { const t = performance.getEntriesByType('navigation')[0];"
            " return [t.domContentLoadedEventEnd, t.loadEventEnd]; }"
        )
        figures["domcontentloaded_ms"], figures["load_ms"] = timing
        figures["lignes_dans_le_dom"] = page.evaluate(
            "() => document.querySelectorAll('tbody.lignes tr').length"
        )
        # Time the search itself, without the 150 ms typing pause.
        for label, text in (("recherche_1_s", query), ("recherche_2_s", query[:-1])):
            started = time.perf_counter()
            page.fill("#recherche", text)
            page.wait_for_function(
                "q => document.getElementById('etat').textContent.includes(q)",
                arg=f"« {text} »",
            )
            figures[label] = time.perf_counter() - 0.15 - started
        figures["resultats"] = page.evaluate(
            "() => document.querySelectorAll('tbody.lignes tr').length"
        )
        page.fill("#recherche", "")
        page.wait_for_function("() => document.getElementById('etat').textContent === ''")
        button = page.locator(".pagination button").first
        started = time.perf_counter()
        button.click()
        page.wait_for_function(
            "() => document.querySelector('.pagination span').textContent.includes('à 200')"
        )
        figures["page_suivante_s"] = time.perf_counter() - started
        if errors:
            print("erreurs JavaScript :", errors)
        browser.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ko", type=int, default=20_000, help="passages refusés")
    parser.add_argument("--passages", type=int, default=25_000, help="passages en tout")
    args = parser.parse_args(argv)
    folder = HERE / "out" / f"rapport-{args.passages}-{args.ko}"
    if not (folder / "recu.xml").exists():
        started = time.perf_counter()
        generate(folder, args.passages, args.ko / args.passages, 0)
        print(f"jeu généré en {time.perf_counter() - started:.1f} s dans {folder}")
    started = time.perf_counter()
    analysis = analyse(folder / "recu.xml", folder / "source.csv")
    analysed = time.perf_counter() - started
    started = time.perf_counter()
    page = write_report(analysis, folder / "rapport.html")
    written = time.perf_counter() - started
    size = page.stat().st_size
    print(f"passages refusés      : {len(analysis.rejected)}")
    print(f"analyse               : {analysed:.2f} s")
    print(f"écriture du rapport   : {written:.2f} s")
    print(f"taille du rapport     : {size / 1e6:.2f} Mo ({size} octets)")
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} absent : mesures dans le navigateur ignorées")
        return 0
    # A name that exists in the data: the holder of the last rejected row.
    last = analysis.rejected[-1]
    assert last.row is not None and analysis.source is not None
    query = str(analysis.source.value(last.row, "nomNaissance"))
    for name, value in _browser(page, query).items():
        print(f"{name:<22}: {value:.3f}" if isinstance(value, float) else f"{name:<22}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
