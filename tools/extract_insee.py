"""Build accuse/data/insee-communes.csv.gz and insee-pays.csv.gz from the official template.

    python tools/extract_insee.py [modele-excel-accrochage-certificateurs-1.4.xlsx]

The CDC template ships the INSEE lists it expects (communes 2021, pays 2022) on its sheets
"Communes" and "Pays". Excel stored the codes as numbers, so leading zeros are restored here.
Output: UTF-8, ';'-separated, one header line, gzip with a fixed mtime so rebuilds are identical.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

from python_calamine import CalamineWorkbook

DEFAULT_TEMPLATE = Path("/work/shared/cdc/modele-excel-accrochage-certificateurs-1.4.xlsx")
DATA = Path(__file__).resolve().parent.parent / "accuse" / "data"
# Current communes, Paris/Lyon/Marseille arrondissements, and delegated/associated communes:
# someone born in a commune since merged may still carry its code.
COMMUNE_TYPES = ("COM", "ARM", "COMD", "COMA")


def text(cell: object) -> str:
    """A cell as text: Excel turned '01001' into 1001.0, so floats lose their '.0'."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip() if cell is not None else ""


def header_index(rows: list[list[object]], first: str, second: str) -> int:
    """The row holding the table headers (the sheets start with a dictionary of the columns)."""
    for i, row in enumerate(rows):
        if len(row) > 1 and text(row[0]) == first and text(row[1]) == second:
            return i
    raise SystemExit(f"en-tête {first};{second} introuvable")


def communes(rows: list[list[object]]) -> list[tuple[str, str, str, str]]:
    start = header_index(rows, "TYPECOM", "COM")
    cols = {text(name): i for i, name in enumerate(rows[start])}
    out = []
    for row in rows[start + 1 :]:
        kind = text(row[cols["TYPECOM"]])
        if kind not in COMMUNE_TYPES:
            continue
        code = text(row[cols["COM"]]).zfill(5)  # "2A004" stays, 1001 -> "01001"
        parent = text(row[cols["COMPARENT"]])
        out.append((code, kind, text(row[cols["LIBELLE"]]), parent.zfill(5) if parent else ""))
    return out


def pays(rows: list[list[object]]) -> list[tuple[str, str, str]]:
    start = header_index(rows, "COG", "ACTUAL")
    cols = {text(name): i for i, name in enumerate(rows[start])}
    out = []
    for row in rows[start + 1 :]:
        cog = text(row[cols["COG"]])
        if not cog:
            continue
        # The template keeps only the last 3 digits of the COG (101 for 99101); France and its
        # overseas territories have no country code and are marked "XXX" (kept as XXXXX).
        code = "XXXXX" if cog.upper().startswith("X") else "99" + cog.zfill(3)
        out.append((code, text(row[cols["ACTUAL"]]), text(row[cols["LIBCOG"]])))
    return out


def write(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as zipped,
    ):
        zipped.write(buffer.getvalue().encode("utf-8"))
    print(f"{path.name}: {len(rows)} lignes, {path.stat().st_size} octets")


def main(argv: list[str]) -> None:
    template = Path(argv[0]) if argv else DEFAULT_TEMPLATE
    book = CalamineWorkbook.from_path(str(template))
    write(
        DATA / "insee-communes.csv.gz",
        ("code", "type", "libelle", "parent"),
        communes(book.get_sheet_by_name("Communes").to_python()),
    )
    write(
        DATA / "insee-pays.csv.gz",
        ("code", "actuel", "libelle"),
        pays(book.get_sheet_by_name("Pays").to_python()),
    )


if __name__ == "__main__":
    main(sys.argv[1:])
