"""csv sources: UTF-8 (with or without BOM) or Windows-1252, ';' or ',' separated."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from accuse.errors import InputError
from accuse.model import Source
from accuse.progress import SILENT, Progress
from accuse.sources.table import (
    HEADER_SCAN_ROWS,
    Row,
    collect,
    find_header,
    id_column_wanted,
    scan,
)

_SNIFF_BYTES = 64 * 1024


def _encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows-1252 (Excel's French csv)."""
    decoder = io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", errors="strict")
    try:
        while decoder.read(1 << 20):
            pass
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        decoder.close()


def _delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:HEADER_SCAN_ROWS]
    semicolons = sum(line.count(";") for line in lines)
    commas = sum(line.count(",") for line in lines)
    tabs = sum(line.count("\t") for line in lines)
    best = max((semicolons, ";"), (commas, ","), (tabs, "\t"))
    return best[1] if best[0] else ";"


def _rows(handle: io.TextIOWrapper, delimiter: str, progress: Progress) -> Iterator[Row]:
    reader = csv.reader(handle, delimiter=delimiter)
    line = 1
    for cells in reader:
        if not line % 2048:
            progress.update(handle.buffer.tell())
        # A quoted cell may span lines: the row sits at the line where it starts.
        yield line, [c if c != "" else None for c in cells]
        line = reader.line_num + 1


def read_csv(
    path: Path, wanted: set[str] | None, id_column: str | None, progress: Progress = SILENT
) -> Source:
    encoding = _encoding(path)
    try:
        with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
            delimiter = _delimiter(handle.read(_SNIFF_BYTES))
            handle.seek(0)
            progress.start(f"Lecture de {path.name}", path.stat().st_size)
            rows = _rows(handle, delimiter, progress)
            scanned = scan(rows)
            header = find_header(scanned, path, id_column, "fichier csv")
            if header is None:
                raise InputError(
                    f"aucune colonne {id_column_wanted(id_column)} dans les "
                    f"{HEADER_SCAN_ROWS} premières lignes. "
                    "Indiquez la colonne avec --colonne-id.",
                    path,
                )
            return collect(
                path=path,
                kind="csv",
                sheet=None,
                header=header,
                scanned=scanned,
                rest=rows,
                wanted=wanted,
            )
    except csv.Error as error:
        raise InputError(f"fichier csv illisible ({error}).", path) from None
    finally:
        progress.finish()
