"""xlsx, xlsm, xls and ods sources, read with python-calamine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from python_calamine import CalamineWorkbook

from accuse.errors import InputError
from accuse.model import Source
from accuse.sources.table import HEADER_SCAN_ROWS, Row, collect, find_header, scan

SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


def _rows(sheet) -> Iterator[Row]:
    # calamine starts the range at the first used cell; Excel numbers rows from 1.
    first = sheet.start[0] + 1 if sheet.start else 1
    for offset, cells in enumerate(sheet.iter_rows()):
        yield first + offset, cells


def _open(path: Path) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own types, one per format
        raise InputError(
            "classeur illisible : le fichier est endommagé, protégé par un mot de passe, ou "
            f"n'est pas un vrai classeur {path.suffix.lstrip('.')} ({type(error).__name__}).",
            path,
        ) from None


def read_spreadsheet(
    path: Path, wanted: set[str] | None, sheet_name: str | None, id_column: str | None
) -> Source:
    workbook = _open(path)
    names = list(workbook.sheet_names)
    if sheet_name is not None and sheet_name not in names:
        raise InputError(
            f"la feuille « {sheet_name} » n'existe pas. Feuilles du classeur : "
            + ", ".join(f"« {n} »" for n in names),
            path,
        )
    candidates = [sheet_name] if sheet_name is not None else names
    for name in candidates:
        try:
            sheet = workbook.get_sheet_by_name(name)
            rows = _rows(sheet)
            scanned = scan(rows)
        except Exception as error:
            raise InputError(
                f"la feuille « {name} » est illisible ({type(error).__name__}).", path
            ) from None
        header = find_header(scanned, path, id_column, f"feuille « {name} »")
        if header is None:
            continue
        return collect(
            path=path, kind="tableur", sheet=name, header=header, scanned=scanned,
            rest=rows, wanted=wanted,
        )
    target = f"« {id_column} »" if id_column else "d'identifiant technique (idTechnique, Id Technique, 5.1…)"
    where = f"la feuille « {sheet_name} » n'a pas" if sheet_name else "aucune feuille n'a"
    raise InputError(
        f"{where} de colonne {target} dans ses {HEADER_SCAN_ROWS} premières lignes. "
        "Indiquez la colonne avec --colonne-id, ou la feuille avec --feuille.",
        path,
    )
