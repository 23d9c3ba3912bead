"""csv sources: UTF-8 (with or without BOM), Windows-1252 or UTF-16; ';', ',' or tab."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from accuse.errors import InputError
from accuse.model import Source
from accuse.progress import SILENT, Progress
from accuse.read.sources.table import (
    HEADER_SCAN_ROWS,
    Row,
    Visitor,
    collect,
    find_header,
    id_column_wanted,
    scan,
    too_long,
)


def dialect(path: Path) -> tuple[str, str]:
    """(encoding, separator) of a csv, for writing a file the user's tools read the same way:
    UTF-8 (with BOM, as Excel likes it) unless some line is not UTF-8, then Windows-1252."""
    with path.open("rb") as handle:
        sample = "".join(islice(_decoded_lines(handle), HEADER_SCAN_ROWS))
        handle.seek(0)
        if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16", _delimiter(sample)
        handle.seek(0)
        encoding = "utf-8-sig"
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                encoding = "cp1252"
                break
    return encoding, _delimiter(sample)


def _delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:HEADER_SCAN_ROWS]
    semicolons = sum(line.count(";") for line in lines)
    commas = sum(line.count(",") for line in lines)
    tabs = sum(line.count("\t") for line in lines)
    best = max((semicolons, ";"), (commas, ","), (tabs, "\t"))
    return best[1] if best[0] else ";"


def _decoded_lines(handle: BinaryIO) -> Iterator[str]:
    """Lines decoded one by one: UTF-8 where they are, Windows-1252 elsewhere, so a file
    pasted together from two sources (a real case) reads right on every line."""
    head = handle.read(2)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # Excel's "texte Unicode" export.
        # Rare and small: decoded whole, so the caller's file handle stays its own.
        handle.seek(0)
        yield from io.StringIO(handle.read().decode("utf-16"), newline="")
        return
    handle.seek(0)
    first = True
    for raw in handle:
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace")


# Excel's own width: a wider line is no table of passages, and its cells would all be held.
MAX_COLUMNS = 16_384
_WIDE = f"{MAX_COLUMNS:,}".replace(",", " ")


def _bounded(lines: Iterator[str], delimiter: str, path: Path) -> Iterator[str]:
    """Lines refused before the csv module splits them when they would hold more cells than
    a spreadsheet has columns (a file of separators would otherwise be held cell by cell)."""
    for number, line in enumerate(lines, start=1):
        if line.count(delimiter) >= MAX_COLUMNS:
            raise InputError(
                f"la ligne {number} du fichier csv a plus de {_WIDE} colonnes, plus "
                "qu'un tableur n'en a : ce n'est pas un tableau de passages. Vérifiez le fichier "
                "(séparateur, guillemets) et enregistrez-le à nouveau depuis votre tableur.",
                path,
            )
        yield line


def _rows(handle: BinaryIO, delimiter: str, progress: Progress, path: Path) -> Iterator[Row]:
    reader = csv.reader(_bounded(_decoded_lines(handle), delimiter, path), delimiter=delimiter)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                # The csv module stops at 131,072 characters, before the cell check can.
                limit = csv.field_size_limit()
                raise too_long(limit, f"ligne {line}", path, at_least=True) from None
            raise InputError(
                f"fichier csv illisible à la ligne {line}. Ouvrez-le dans un tableur et "
                "enregistrez-le à nouveau au format csv.",
                path,
            ) from None
        if not line % 2048:
            progress.update(handle.tell())
        # A quoted cell may span lines: the row sits at the line where it starts.
        yield line, [c if c != "" else None for c in cells]
        line = reader.line_num + 1


def read_csv(
    path: Path,
    wanted: set[str] | None,
    id_column: str | None,
    progress: Progress = SILENT,
    visit: Visitor | None = None,
) -> Source:
    try:
        with path.open("rb") as handle:
            sample = "".join(islice(_decoded_lines(handle), HEADER_SCAN_ROWS))
            delimiter = _delimiter(sample)
            handle.seek(0)
            progress.start(f"Lecture de {path.name}", path.stat().st_size)
            rows = _rows(handle, delimiter, progress, path)
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
                visit=visit,
            )
    except UnicodeError:
        raise InputError(
            "fichier csv illisible : il commence comme un texte UTF-16 mais la suite est "
            "endommagée. Enregistrez-le à nouveau depuis votre tableur (csv UTF-8).",
            path,
        ) from None
    finally:
        progress.finish()
