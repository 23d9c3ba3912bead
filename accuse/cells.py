"""What a cell means, however the user's file holds it."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeGuard

from accuse.model import CellValue

# JJ/MM/AAAA (csv, typed by hand, also with - or .) and AAAA-MM-JJ (flux XML, ISO), either
# possibly followed by a time.
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[T ].*)?")
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
# Excel's day 0 (1900 date system, with its leap-year bug already folded in).
EXCEL_EPOCH = dt.date(1899, 12, 30)
# A date cell that lost its format shows its serial number: plausible ones only (1950..2099).
_SERIALS = range(18264, 73051)


def as_date(value: CellValue) -> dt.date | None:
    """A date however it was written: a date cell, JJ/MM/AAAA, AAAA-MM-JJ or an Excel serial;
    None for anything else, impossible dates (31/02) included."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if float(value).is_integer() and int(value) in _SERIALS:
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    if isinstance(value, str):
        text = value.strip()
        for pattern, order in ((_DAY_FIRST, (3, 2, 1)), (_YEAR_FIRST, (1, 2, 3))):
            match = pattern.fullmatch(text)
            if match:
                try:
                    return dt.date(*(int(match.group(i)) for i in order))
                except ValueError:
                    return None
    return None


def cell_text(value: CellValue) -> str:
    """A cell as the user reads it: 1979262 not 1979262.0, dates as JJ/MM/AAAA."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M") if value.time() else value.strftime("%d/%m/%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def clean_cell(value: CellValue) -> CellValue:
    """A cell as kept: integral floats become ints (years, ids), empty strings become None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == "":
        return None
    return value


# The official template's "empty on purpose" (and the short form some users type).
NILL = "NILL"
NILL_SPELLINGS = frozenset({"NILL", "NIL"})


def is_empty(value: CellValue) -> bool:
    """Nothing in the cell: None or blank text."""
    return value is None or (isinstance(value, str) and not value.strip())


def is_nill(value: CellValue) -> TypeGuard[str]:
    """The template's NILL marker."""
    return isinstance(value, str) and value.strip().upper() in NILL_SPELLINGS


def is_blank(value: CellValue) -> bool:
    """Empty or NILL: the field carries no value either way."""
    return is_empty(value) or is_nill(value)
