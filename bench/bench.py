"""Benchmark of accuse at portal scale, measured against the floor, in one run.

For each size it generates (or reuses) a coherent set with bench/generate.py, then times, each in
a fresh process so peak memory (RSS) is that command's own, the commands as users type them:

- the floors: python-calamine iterating the narrow flat xlsx (a dozen columns) and the wide
  official template (51 columns), each plus lxml iterparse over the receipt; calamine alone over
  each sheet (the floor of the pre-deposit commands); lxml iterparse alone over the flux XML;
- `accuse analyse` as typed by a user (worksheet, report and history: the default), on the narrow
  and the wide source; the same with --sans-sortie --sans-historique, in text and in JSON; on the
  csv and flux XML sources; on the receipt alone;
- `accuse reexporter` of that worksheet with 10 % of its rows edited, to xlsx and to XML;
- `accuse verifier` and `accuse generer` on the narrow and wide sources;
- `accuse suivi` over a history of five times the set's passages (a million at 200,000);
- a batch: twelve monthly receipts of 50,000 passages (--lot-passages) recorded into one
  history, whatever the set's size: the same file deposited again each month with its
  corrections (see monthly_receipts);
- the peer: what a user would write instead, a short pandas script (read_excel with calamine,
  merge with the receipt's rejected ids, to_excel of those rows with xlsxwriter).

It prints a table with the python-calamine and lxml versions and writes resultats.json: median
wall time over the repetitions, peak RSS, and each case's ratio to its floor (time and memory).
A command that is not available in this version of accuse is reported as such, not timed.
POSIX only (peak RSS comes from wait4).

Usage: python bench/bench.py --passages 20000 50000 200000 --ko 0.1 --repetitions 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import _technical_id, _write_receipt, generate  # noqa: E402  (bench/: scripts)

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
FLOOR_SHEET = """
import sys
from python_calamine import CalamineWorkbook
sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0)
for row in sheet.iter_rows():
    pass
"""
PEER_PANDAS = """
import sys
import pandas as pd
from lxml import etree
source = pd.read_excel(sys.argv[1], engine="calamine", dtype=str)
ko = []
for _, element in etree.iterparse(sys.argv[2], tag="{*}passage"):
    parent = element.getparent()
    if parent is not None and etree.QName(parent).localname == "PassagesKO":
        ident = element.findtext("{*}idTechnique") or element.findtext("idTechnique")
        ko.append({"idTechnique": ident, "message": element.findtext("{*}messageErreur")})
    element.clear()
column = next(c for c in source.columns if "technique" in str(c).lower())
rejected = pd.DataFrame(ko).merge(source, left_on="idTechnique", right_on=column)
rejected.to_excel(sys.argv[3], engine="xlsxwriter", index=False)
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
from accuse.fix.workbook import FIX_HEADER_ROW, SHEET_FIX
from accuse.reference.fields import field_for_header
path = sys.argv[1]
book = openpyxl.load_workbook(path)
sheet = book[SHEET_FIX]
header = [c.value for c in sheet[FIX_HEADER_ROW]]
column = next(i for i, h in enumerate(header, 1) if field_for_header(h) == "nomNaissance")
for row in range(FIX_HEADER_ROW + 1, sheet.max_row + 1, 10):  # one row in ten
    cell = sheet.cell(row=row, column=column)
    cell.value = f"{cell.value or ''}X"
book.save(path)
"""

# case name -> floor it is compared with (None: no floor, reported alone)
FLOORS = {
    "defaut_xlsx": "plancher_xlsx",
    "defaut_modele": "plancher_modele",
    "texte_xlsx": "plancher_xlsx",
    "json_xlsx": "plancher_xlsx",
    "source_csv": "plancher_xlsx",
    "source_flux": "plancher_flux",
    "recu_seul": None,
    "reexport_xlsx": None,
    "reexport_xml": None,
    "verifier_xlsx": "plancher_feuille",
    "verifier_modele": "plancher_feuille_modele",
    "generer_xlsx": "plancher_feuille",
    "generer_modele": "plancher_feuille_modele",
    "suivi_historique": None,
    "lot_12_accuses": None,
    "pair_pandas": "plancher_xlsx",
}
HISTORY_COPIES = 5  # suivi is timed over this many recorded copies of the set's receipt
BATCH = 12  # monthly receipts of the batch case
BATCH_PASSAGES = 50_000  # passages of each monthly receipt, whatever the set's size
BATCH_FIXED = 0.7  # part of last month's rejections accepted once corrected and re-deposited
BATCH_RENEWED = 0.1  # part of the holders that change from one month to the next
# Real portal wordings ({id}: the passage's idTechnique), the rejections of the batch.
BATCH_MESSAGES = (
    "Aucun titulaire ne correspond aux critères obligatoires",
    "Aucun titulaire ne correspond aux critères obligatoires enrichis du jour et du mois de "
    "naissance",
    "Plusieurs titulaires ont été identifiés",
    "Le statut de la certification avec le bcr émetteur 03VML243, l'id technique partenaire "
    "{id} et l'index 0 est KO",
    "La date de fin de validité est inférieure à date de début de validité pour le passage "
    "certification avec le bcr émetteur 03VML243 et l'id technique partenaire {id}",
)


class Unavailable(Exception):
    """The command does not exist in this version of accuse (usage error, exit 2)."""


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one command run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.returncode == 2 and any(w in error for w in ("inconnue", "argument en trop")):
        raise Unavailable(error)
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


@dataclass
class Case:
    command: list[str]
    # Paths removed before each run, so every run starts as a user's first one would (a fresh
    # output folder, a fresh history: a recorded receipt is otherwise recognised and skipped).
    fresh: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


def cases(folder: Path, batch: Path) -> dict[str, Case]:
    quiet = ("--sans-sortie", "--sans-historique")
    history = {"ACCUSE_HISTORIQUE": str(folder / "historique-defaut.sqlite")}
    receipts = sorted(str(p.relative_to(folder)) for p in batch.glob("*.xml"))
    return {
        "plancher_xlsx": Case([sys.executable, "-c", FLOOR_XLSX, "source-plat.xlsx", "recu.xml"]),
        "plancher_modele": Case(
            [sys.executable, "-c", FLOOR_XLSX, "source-modele.xlsx", "recu.xml"]
        ),
        "plancher_feuille": Case([sys.executable, "-c", FLOOR_SHEET, "source-plat.xlsx"]),
        "plancher_feuille_modele": Case([sys.executable, "-c", FLOOR_SHEET, "source-modele.xlsx"]),
        "plancher_flux": Case([sys.executable, "-c", FLOOR_FLUX, "flux.xml"]),
        # As a user types it: worksheet, report and history, all defaults but the folder name.
        "defaut_xlsx": Case(
            accuse("analyse", "recu.xml", "-s", "source-plat.xlsx", "--sortie", "defaut"),
            fresh=("defaut", "historique-defaut.sqlite"),
            env=history,
        ),
        "defaut_modele": Case(
            accuse("analyse", "recu.xml", "-s", "source-modele.xlsx", "--sortie", "defaut-m"),
            fresh=("defaut-m", "historique-defaut.sqlite"),
            env=history,
        ),
        "texte_xlsx": Case(accuse("analyse", "recu.xml", "-s", "source-plat.xlsx", *quiet)),
        "json_xlsx": Case(
            accuse("analyse", "recu.xml", "-s", "source-plat.xlsx", "--format", "json", *quiet)
        ),
        "source_csv": Case(accuse("analyse", "recu.xml", "-s", "source.csv", *quiet)),
        "source_flux": Case(accuse("analyse", "recu.xml", "-s", "flux.xml", *quiet)),
        "recu_seul": Case(accuse("analyse", "recu.xml", *quiet)),
        "reexport_xlsx": Case(
            accuse(
                "reexporter",
                "edite/corrections.xlsx",
                "-f",
                "xlsx",
                "-o",
                "reexport.xlsx",
                "--forcer",
            ),
            fresh=("reexport.xlsx",),
        ),
        "reexport_xml": Case(
            accuse(
                "reexporter",
                "edite/corrections.xlsx",
                "-f",
                "xml",
                "-o",
                "reexport.xml",
                "--forcer",
            ),
            fresh=("reexport.xml",),
        ),
        "verifier_xlsx": Case(
            accuse("verifier", "source-plat.xlsx", "--sans-historique", "--sortie", "verif")
        ),
        "verifier_modele": Case(
            accuse("verifier", "source-modele.xlsx", "--sans-historique", "--sortie", "verif-m")
        ),
        "generer_xlsx": Case(
            accuse("generer", "source-plat.xlsx", "--sans-historique", "--forcer", "-o", "g.xml"),
            fresh=("g.xml", "g-*.xml"),
        ),
        "generer_modele": Case(
            accuse(
                "generer", "source-modele.xlsx", "--sans-historique", "--forcer", "-o", "gm.xml"
            ),
            fresh=("gm.xml", "gm-*.xml"),
        ),
        "suivi_historique": Case(
            accuse("suivi", "--historique", "historique-suivi.sqlite", "--format", "json")
        ),
        "lot_12_accuses": Case(
            accuse("analyse", *receipts, "--sans-sortie"),
            fresh=("historique-lot.sqlite",),
            env={"ACCUSE_HISTORIQUE": str(folder / "historique-lot.sqlite")},
        ),
        "pair_pandas": Case(
            [sys.executable, "-c", PEER_PANDAS, "source-plat.xlsx", "recu.xml", "pair.xlsx"],
            fresh=("pair.xlsx",),
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


def monthly_copy(receipt: Path, target: Path, month: int) -> None:
    """The receipt again under a dated portal name, one byte apart so the history keeps it."""
    data = receipt.read_bytes().rstrip() + f"\n<!-- mois {month} -->\n".encode()
    target.write_bytes(data)


def monthly_receipts(target: Path, passages: int, ko: float, seed: int = 1) -> None:
    """BATCH receipts of ``passages`` each, one per month (its date in its portal name), as a
    certifier's year goes when the same file is deposited again each month with its
    corrections: mostly the same holders from one month to the next (BATCH_RENEWED of them
    new), last month's rejections corrected (BATCH_FIXED of them accepted, the others refused
    again with the same message), and new rejections among the others, so that about ``ko``
    of each receipt is rejected."""
    rng = random.Random(f"{seed}:lot:{passages}")
    renewed = max(1, round(passages * BATCH_RENEWED))
    pool = [_technical_id(rng, i) for i in range(passages + renewed * (BATCH - 1))]
    wanted = round(passages * ko)
    rejected: dict[str, str] = {}  # idTechnique -> message of last month's rejections
    target.mkdir(parents=True, exist_ok=True)
    for month in range(1, BATCH + 1):
        start = (month - 1) * renewed
        deposited = pool[start : start + passages]
        present = set(deposited)
        still = {
            i: message
            for i, message in rejected.items()
            if rng.random() >= BATCH_FIXED and i in present
        }
        others = [i for i in deposited if i not in rejected]
        for i in rng.sample(others, max(0, min(len(others), wanted - len(still)))):
            still[i] = rng.choice(BATCH_MESSAGES).format(id=i)
        kos = [{"idTechnique": i, "message": m} for i, m in still.items()]
        name = f"Accusé de traitement_flux-{month:02d}.xml_2026{month:02d}15.xml"
        flux = f"lot-{seed}-{month:02d}-{rng.randrange(16**8):08x}"
        _write_receipt(
            target / name, flux, 70_000 + month, kos, [i for i in deposited if i not in still]
        )
        rejected = still


def histories(folder: Path, batch: Path, batch_size: int, ko: float) -> None:
    """The batch's monthly receipts and suivi's big history, made once per set (not timed)."""
    if not batch.is_dir():
        monthly_receipts(batch, batch_size, ko)
    store = folder / "historique-suivi.sqlite"
    if store_is_current(store):
        return
    for stale in (store, *(store.with_name(store.name + end) for end in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)  # an earlier accuse's format: suivi would not time ours
    copies = folder / "copies"
    copies.mkdir(exist_ok=True)
    for month in range(1, HISTORY_COPIES + 1):
        copy = copies / f"Accusé de traitement_flux.xml_2025{month:02d}15.xml"
        monthly_copy(folder / "recu.xml", copy, month)
        subprocess.run(
            accuse("analyse", str(copy), "-s", "source-plat.xlsx", "--sans-sortie"),
            cwd=folder,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "ACCUSE_HISTORIQUE": str(store)},
            check=False,
        )


def store_is_current(store: Path) -> bool:
    """The history exists in this accuse's format. One kept from a run of an earlier version is
    read by suivi as it stands (without the later indexes), so it would time that version."""
    import sqlite3

    from accuse.history.store import SCHEMA_VERSION

    if not store.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True)) as con:
            (version,) = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.Error:
        return False
    return bool(version == SCHEMA_VERSION)


def _clear(folder: Path, names: tuple[str, ...]) -> None:
    # Patterns too: generer splits a big flux into g-1.xml, g-2.xml… that a rerun must not meet.
    for name in names:
        for path in folder.glob(name):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def run_size(size: int, ko: float, repetitions: int, root: Path, batch_size: int) -> dict:
    folder = prepare(size, ko, root)
    edited_worksheet(folder)
    batch = folder / f"lot-{batch_size}"
    histories(folder, batch, batch_size, ko)
    results: dict[str, dict] = {}
    for name, case in cases(folder, batch).items():
        runs = []
        try:
            for _ in range(repetitions):
                _clear(folder, case.fresh)
                runs.append(measure(case.command, folder, case.env))
        except Unavailable:
            results[name] = {"indisponible": True}
            continue
        results[name] = {
            "secondes": round(statistics.median(t for t, _ in runs), 3),
            "rss_mo": round(max(m for _, m in runs) / 2**20, 1),
        }
    for name, floor in FLOORS.items():
        if floor is None or "secondes" not in results.get(name, {}):
            continue
        results[name]["plancher"] = floor
        results[name]["ratio_plancher"] = round(
            results[name]["secondes"] / results[floor]["secondes"], 2
        )
        results[name]["ratio_rss"] = round(results[name]["rss_mo"] / results[floor]["rss_mo"], 2)
    return {"passages": size, "taux_ko": ko, "cas": results}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("python-calamine", "lxml", "xlsxwriter", "accuse")}


def machine() -> dict:
    return {
        "systeme": platform.platform(),
        "processeur": platform.processor() or platform.machine(),
        "coeurs": os.cpu_count(),
        "python": platform.python_version(),
    }


def table(report: dict) -> str:
    names = list(report["tailles"][0]["cas"])
    lines = [" ".join(f"{k} {v}" for k, v in report["versions"].items())]
    lines.append("cas".ljust(24) + "".join(f"{s['passages']:>26}" for s in report["tailles"]))
    for name in names:
        cells = []
        for size in report["tailles"]:
            case = size["cas"][name]
            if case.get("indisponible"):
                cells.append("indisponible")
                continue
            ratio = f" ×{case['ratio_plancher']}" if "ratio_plancher" in case else ""
            cells.append(f"{case['secondes']:7.2f} s {case['rss_mo']:6.0f} Mo{ratio:>7}")
        lines.append(name.ljust(24) + "".join(f"{c:>26}" for c in cells))
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
        "--lot-passages",
        type=int,
        default=BATCH_PASSAGES,
        help="passages de chacun des 12 accusés mensuels du lot",
    )
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
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "lot": {"accuses": BATCH, "passages_par_accuse": args.lot_passages},
        "tailles": [
            run_size(n, args.ko, args.repetitions, args.sortie, args.lot_passages)
            for n in args.passages
        ],
    }
    (args.sortie / "resultats.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), "utf-8"
    )
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
