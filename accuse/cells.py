"""What a cell means, however the user's file holds it."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
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


# A whole date in one cell, as users type it: JJ/MM/AAAA with /, - or . (or spaces), a 2-digit
# year, AAAA-MM-JJ, possibly followed by a time. Spaces are normalised before matching, so no
# pattern has two quantifiers competing for the same characters.
_WHOLE_DAY_FIRST = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4}|\d{2})(?: \d{1,2}:\d{2}.*)?")
_WHOLE_YEAR_FIRST = re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[T ]\d{1,2}:\d{2}.*)?")
_AROUND_SEPARATOR = re.compile(r" ?([/.\-]) ?")
# Excel serials of 1900-01-01 .. 2099-12-31; a bare 1900..2099 reads as a year, not a serial.
_WHOLE_SERIALS = range(2, 73051)
_YEARS = range(1900, 2100)


@dataclass(frozen=True)
class WholeDate:
    """What one cell holding a whole date gives: the date, or why it gives none."""

    date: dt.date | None = None
    # why the value is no date, as a clause that follows the value in a sentence
    # (« la date de naissance « 31/02/1985 » n'existe pas »); None for a date or an empty cell
    problem: str | None = None


def whole_date(value: CellValue) -> WholeDate:
    """A date cell, an Excel serial or a date typed as text, told apart from what is not one."""
    if is_blank(value):
        return WholeDate()
    if isinstance(value, dt.datetime):
        return WholeDate(value.date())
    if isinstance(value, dt.date):
        return WholeDate(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer():
            return WholeDate(problem=_NOT_A_DATE)
        number = int(value)
        if number in _YEARS:
            return WholeDate(problem="ne donne que l'année : indiquez la date entière (JJ/MM/AAAA)")
        if number in _WHOLE_SERIALS:
            return WholeDate(EXCEL_EPOCH + dt.timedelta(days=number))
        return WholeDate(problem=_NOT_A_DATE)
    if not isinstance(value, str):
        return WholeDate(problem=_NOT_A_DATE)
    text = _AROUND_SEPARATOR.sub(r"\1", " ".join(value.split()))
    match = _WHOLE_DAY_FIRST.fullmatch(text)
    if match:
        day, month, year = (int(match.group(i)) for i in (1, 2, 3))
        if len(match.group(3)) == 2:
            return WholeDate(
                problem=f"a une année sur 2 chiffres (« {match.group(3)} ») : 19{match.group(3)} "
                f"ou 20{match.group(3)} ? Écrivez l'année sur 4 chiffres (JJ/MM/AAAA)"
            )
    else:
        match = _WHOLE_YEAR_FIRST.fullmatch(text)
        if match is None:
            return WholeDate(problem=_NOT_A_DATE)
        year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    try:
        return WholeDate(dt.date(year, month, day))
    except ValueError:
        return WholeDate(problem="n'existe pas : vérifiez le jour et le mois (JJ/MM/AAAA)")


_NOT_A_DATE = "n'est pas une date lisible : écrivez-la JJ/MM/AAAA (par exemple 15/03/1985)"


def column_letters(index: int) -> str:
    """A column's letters as spreadsheets show them, counted from 0: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
