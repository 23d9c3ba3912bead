"""Benchmark of accuse at portal scale, measured against the floor, in one run.

For each size it generates (or reuses) a coherent set with bench/generate.py, then times, each in
a fresh process so peak memory (RSS) is that command's own:

- the floor: python-calamine iterating the flat xlsx plus lxml iterparse over the receipt, and
  lxml iterparse alone over the flux XML;
- `accuse analyse` on the receipt alone, and with the xlsx, csv and flux XML sources;
- the same with the xlsx source and --sortie (worksheet + HTML report);
- `accuse reexporter` of that worksheet with 10 % of its rows edited, to xlsx and to XML.

It prints a table and writes resultats.json: median wall time over the repetitions, peak RSS, and
each case's ratio to its floor. POSIX only (peak RSS comes from wait4).

Usage: python bench/bench.py --passages 20000 50000 200000 --ko 0.1 --repetitions 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402  (bench/ is a folder of scripts)

FLOOR_XLSX = """
import sys
from lxml import etree
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0)
for row in sheet.iter_rows():
    pass
for _, element in etree.iterparse(sys.argv[2]):
    element.clear()
"""
FLOOR_FLUX = """
import sys
from lxml import etree
for _, element in etree.iterparse(sys.argv[1]):
    element.clear()
"""
EDIT_WORKSHEET = """
import sys
import openpyxl
from accuse.reference.fields import field_for_header
path = sys.argv[1]
book = openpyxl.load_workbook(path)
sheet = book["À corriger"]
header = [c.value for c in sheet[1]]
column = next(i for i, h in enumerate(header, 1) if field_for_header(h) == "nomNaissance")
for row in range(2, sheet.max_row + 1, 10):  # one row in ten
    cell = sheet.cell(row=row, column=column)
    cell.value = f"{cell.value or ''}X"
book.save(path)
"""

# case name -> (floor it is compared with, or None)
FLOORS = {
    "recu_seul": None,
    "source_xlsx": "plancher_xlsx",
    "source_csv": "plancher_xlsx",
    "source_flux": "plancher_flux",
    "sortie_xlsx": "plancher_xlsx",
    "reexport_xlsx": None,
    "reexport_xml": None,
}


def measure(command: list[str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one command run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} : code {process.returncode}\n{error}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports kilobytes


def accuse(*args: str) -> list[str]:
    return [sys.executable, "-m", "accuse", *args]


def prepare(size: int, ko: float, root: Path) -> Path:
    folder = root / f"jeu-{size}"
    facts = folder / "facts.json"
    if facts.exists():
        known = json.loads(facts.read_text("utf-8"))
        if known.get("passages") == size and known.get("taux_ko") == ko:
            return folder
    shutil.rmtree(folder, ignore_errors=True)
    generate(folder, size, ko, seed=1)
    return folder


def cases(folder: Path) -> dict[str, list[str]]:
    quiet = ("--sans-sortie", "--sans-historique")
    return {
        "plancher_xlsx": [sys.executable, "-c", FLOOR_XLSX, "source-plat.xlsx", "recu.xml"],
        "plancher_flux": [sys.executable, "-c", FLOOR_FLUX, "flux.xml"],
        "recu_seul": accuse("analyse", "recu.xml", *quiet),
        "source_xlsx": accuse("analyse", "recu.xml", "-s", "source-plat.xlsx", *quiet),
        "source_csv": accuse("analyse", "recu.xml", "-s", "source.csv", *quiet),
        "source_flux": accuse("analyse", "recu.xml", "-s", "flux.xml", *quiet),
        "sortie_xlsx": accuse(
            "analyse",
            "recu.xml",
            "-s",
            "source-plat.xlsx",
            "--sortie",
            "sortie",
            "--sans-historique",
        ),
        "reexport_xlsx": accuse(
            "reexporter",
            "edite/corrections.xlsx",
            "-f",
            "xlsx",
            "-o",
            "reexport.xlsx",
            "--forcer",
        ),
        "reexport_xml": accuse(
            "reexporter",
            "edite/corrections.xlsx",
            "-f",
            "xml",
            "-o",
            "reexport.xml",
            "--forcer",
        ),
    }


def edited_worksheet(folder: Path) -> None:
    """corrections.xlsx with one row in ten changed, made once per set (not timed)."""
    target = folder / "edite" / "corrections.xlsx"
    if target.exists():
        return
    subprocess.run(
        accuse(
            "analyse",
            "recu.xml",
            "-s",
            "source-plat.xlsx",
            "--sortie",
            "edite",
            "--sans-historique",
        ),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    subprocess.run([sys.executable, "-c", EDIT_WORKSHEET, str(target)], check=True)


def run_size(size: int, ko: float, repetitions: int, root: Path) -> dict:
    folder = prepare(size, ko, root)
    edited_worksheet(folder)
    results: dict[str, dict] = {}
    for name, command in cases(folder).items():
        runs = [measure(command, folder) for _ in range(repetitions)]
        results[name] = {
            "secondes": round(statistics.median(t for t, _ in runs), 3),
            "rss_mo": round(max(m for _, m in runs) / 2**20, 1),
        }
    for name, floor in FLOORS.items():
        if floor is not None:
            results[name]["ratio_plancher"] = round(
                results[name]["secondes"] / results[floor]["secondes"], 2
            )
    return {"passages": size, "taux_ko": ko, "cas": results}


def machine() -> dict:
    return {
        "systeme": platform.platform(),
        "processeur": platform.processor() or platform.machine(),
        "coeurs": os.cpu_count(),
        "python": platform.python_version(),
    }


def table(report: dict) -> str:
    names = list(report["tailles"][0]["cas"])
    lines = ["cas".ljust(16) + "".join(f"{s['passages']:>26}" for s in report["tailles"])]
    for name in names:
        cells = []
        for size in report["tailles"]:
            case = size["cas"][name]
            ratio = f" ×{case['ratio_plancher']}" if "ratio_plancher" in case else ""
            cells.append(f"{case['secondes']:7.2f} s {case['rss_mo']:6.0f} Mo{ratio:>7}")
        lines.append(name.ljust(16) + "".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mesure accuse à l'échelle du portail.")
    parser.add_argument(
        "--passages",
        type=int,
        nargs="+",
        default=[20_000, 50_000, 200_000],
        help="tailles des jeux (nombre de passages)",
    )
    parser.add_argument("--ko", type=float, default=0.1, help="part des passages refusés")
    parser.add_argument("--repetitions", type=int, default=3, help="mesures par cas (médiane)")
    parser.add_argument(
        "--sortie",
        type=Path,
        default=HERE / "out",
        help="dossier des jeux générés et de resultats.json",
    )
    args = parser.parse_args(argv)
    args.sortie.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "tailles": [run_size(n, args.ko, args.repetitions, args.sortie) for n in args.passages],
    }
    (args.sortie / "resultats.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), "utf-8"
    )
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
