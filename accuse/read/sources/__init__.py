"""Readers of the user's own file: spreadsheet, csv or the deposited flux XML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accuse.errors import InputError
from accuse.files import require_regular_file
from accuse.model import Source, SourceRow
from accuse.progress import SILENT, Progress
from accuse.read.sources.csvfile import read_csv
from accuse.read.sources.flux import read_flux
from accuse.read.sources.spreadsheet import SUFFIXES, Prefetch, read_spreadsheet


def prefetch_source(path: Path, sheet: str | None = None) -> Prefetch | None:
    """Start loading a spreadsheet source's sheet in a thread (see Prefetch), to hand to
    read_source later; None for any other file, which read_source examines as usual."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES or not path.is_file() or path.stat().st_size == 0:
        return None
    return Prefetch(path, sheet)


def read_source(
    path: Path,
    wanted: set[str] | None = None,
    *,
    sheet: str | None = None,
    id_column: str | None = None,
    lines: list[int] | None = None,
    progress: Progress = SILENT,
    prefetched: Prefetch | None = None,
    visit: Callable[[Source, SourceRow], None] | None = None,
) -> Source:
    """Read a source; rows whose idTechnique is in ``wanted`` are kept whole (all when None).

    ``lines`` (flux XML only) also keeps the passages enclosing those lines of the file.
    ``prefetched``: what prefetch_source started for this path and sheet.
    ``visit`` (spreadsheet and csv only): each row that would be kept is handed to it, in file
    order, instead of being kept in ``Source.rows``: memory stays that of the ids."""
    path = Path(path)
    if require_regular_file(path, "votre fichier source") == 0:
        raise InputError("le fichier source est vide.", path)
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return read_spreadsheet(path, wanted, sheet, id_column, progress, prefetched, visit)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path, wanted, id_column, progress, visit)
    if suffix == ".xml":
        if visit is not None:
            raise ValueError("a flux source is read whole: its rows are known at its end")
        return read_flux(path, wanted, lines, progress)
    raise InputError(
        f"type de fichier « {path.suffix or 'sans extension'} » non pris en charge comme source : "
        "donnez un classeur (.xlsx, .xls, .ods), un fichier .csv ou le flux XML déposé.",
        path,
    )
