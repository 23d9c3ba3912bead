"""INSEE communes and countries, as shipped in the CDC template (built by tools/extract_insee.py).

Codes are 5-character strings: "01053", "2A004", "75115"; countries "99xxx".
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from itertools import accumulate
from typing import NamedTuple

from accuse.text import fold

COMMUNES_FILE = "data/insee-communes.csv.gz"
PAYS_FILE = "data/insee-pays.csv.gz"
FRANCE = "XXXXX"  # INSEE's own marker for France and its territories in the country list


class Commune(NamedTuple):  # a tuple: 37,000 of them are built at first use
    code: str
    type: str  # COM (commune), ARM (arrondissement municipal), COMD (déléguée), COMA (associée)
    libelle: str
    parent: str  # for ARM/COMD/COMA: the code of the commune it belongs to


def _rows(name: str) -> list[list[str]]:
    """The data rows, header skipped (its column order is the one the loaders expect)."""
    raw = resources.files("accuse").joinpath(name).read_bytes()
    rows = csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8")), delimiter=";")
    next(rows, None)
    return list(rows)


@cache
def _communes() -> dict[str, tuple[Commune, ...]]:
    """Code -> its entries, the commune itself (COM/ARM) first: a code may also name a
    delegated commune (Arboys en Bugey 01015 is also the old Arbignieu)."""
    by_code: dict[str, list[Commune]] = {}
    for code, kind, libelle, parent in _rows(COMMUNES_FILE):
        by_code.setdefault(code, []).append(Commune(code, kind, libelle, parent))
    order = {"COM": 0, "ARM": 0, "COMD": 1, "COMA": 1}
    return {
        code: tuple(v) if len(v) == 1 else tuple(sorted(v, key=lambda e: order.get(e.type, 2)))
        for code, v in by_code.items()
    }


@cache
def _countries() -> dict[str, tuple[tuple[str, str], ...]]:
    """Code -> (actualité, libellé) pairs, the current country (actualité 1) first."""
    by_code: dict[str, list[tuple[str, str]]] = {}
    for code, actuel, libelle in _rows(PAYS_FILE):
        by_code.setdefault(code, []).append((actuel, libelle))
    return {c: tuple(sorted(v, key=lambda e: e[0] != "1")) for c, v in by_code.items()}


def prepare() -> None:
    """Read the INSEE lists now rather than at the first check that needs them."""
    _communes()
    _countries()
    _name_haystack()


def communes(code: str) -> tuple[Commune, ...]:
    return _communes().get(code.strip().upper(), ())


def commune_label(code: str) -> str | None:
    found = communes(code)
    return found[0].libelle if found else None


def is_commune_code(code: str) -> bool:
    return bool(communes(code))


def country_label(code: str) -> str | None:
    found = _countries().get(code.strip())
    return found[0][1] if found and code.strip() != FRANCE else None


def country_labels(code: str) -> tuple[str, ...]:
    return tuple(label for _, label in _countries().get(code.strip(), ()))


def is_country_code(code: str) -> bool:
    return code.strip() != FRANCE and code.strip() in _countries()


@cache
def _french_keys() -> frozenset[str]:
    return frozenset({"france", "fr", "fra", *(place_key(n) for n in country_labels(FRANCE))})


@cache
def _codes_by_country_key() -> dict[str, frozenset[str]]:
    """Each country name, reduced by place_key, to the 99xxx codes that bear it (built once:
    a verification asks for thousands of rows)."""
    index: dict[str, set[str]] = {}
    for code, entries in _countries().items():
        if code != FRANCE:
            for _, name in entries:
                index.setdefault(place_key(name), set()).add(code)
    return {key: frozenset(codes) for key, codes in index.items()}


def is_french_country_label(label: str) -> bool:
    """'France', 'Réunion', 'Guadeloupe'...: a birth there takes a commune code, not 99xxx."""
    return place_key(label) in _french_keys()


def country_code_for_label(label: str) -> str | None:
    """The 99xxx code of a country written in full ('Maroc' -> '99350'), when unambiguous."""
    found = _codes_by_country_key().get(place_key(label), frozenset())
    return next(iter(found)) if len(found) == 1 else None


# Postal codes of Paris, Lyon and Marseille arrondissements, and their INSEE codes.
_PLM_POSTAL = (
    (re.compile(r"750(0[1-9]|1[0-9]|20)"), "751"),
    (re.compile(r"6900[1-9]"), "6938"),
    (re.compile(r"130(0[1-9]|1[0-6])"), "132"),
)


def arrondissement_for_postal(code: str) -> str | None:
    """INSEE code of the arrondissement a Paris/Lyon/Marseille postal code stands for:
    75015 -> 75115, 69003 -> 69383, 13008 -> 13208."""
    code = code.strip()
    for pattern, prefix in _PLM_POSTAL:
        if pattern.fullmatch(code):
            return prefix + code[len(prefix) :]
    return None


def lost_leading_zero(code: str) -> str | None:
    """The five-digit code a spreadsheet turned into a four-digit number (1053 for 01053, 1000
    for 01000): departments 01 to 09 begin with a zero that a number cannot keep."""
    code = code.strip()
    if re.fullmatch(r"[1-9]\d{3}", code):
        return "0" + code
    return None


def looks_like_postal_code(code: str) -> bool:
    """Five digits that are no INSEE code but fit a French postal code: department prefix
    (20 for Corsica, whose INSEE codes use 2A/2B) and not a country code."""
    code = code.strip()
    if not re.fullmatch(r"\d{5}", code) or is_commune_code(code):
        return False
    dep = int(code[:2])
    if dep == 97:
        return code[2] in "123456"
    return 1 <= dep <= 95


_PARENS = re.compile(r"\(.*?\)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_ORDINAL = re.compile(r"\b(\d+)(?:er|ere|eme|e|nd|nde)?\b")
_SAINTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
# Articles and little words users add or drop ("Les Sables-d'Olonne", "Sables d Olonne").
_SMALL_WORDS = {"le", "la", "les", "l", "d", "de", "du", "des", "arrondissement", "arr", "cedex"}


def place_key(label: str) -> str:
    """A place name reduced for comparison: 'ST-ÉTIENNE (42)' == 'Saint Etienne',
    'Paris 15e Arrondissement' == 'PARIS 15'."""
    text = _NOT_ALNUM.sub(" ", fold(_PARENS.sub(" ", label)))
    text = _ORDINAL.sub(r"\1", text)
    words = [_SAINTS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w not in _SMALL_WORDS)


@lru_cache(maxsize=4096)  # asked for every row of a verified file; communes repeat
def commune_matches(code: str, label: str) -> bool:
    """Whether a written commune name fits the code: the commune itself, a delegated or
    associated commune sharing the code, or the city of an arrondissement ('Paris' for 75115)."""
    wanted = place_key(label)
    if not wanted:
        return True
    names = []
    for entry in communes(code):
        names.append(entry.libelle)
        if entry.type == "ARM" and entry.parent:
            names.extend(e.libelle for e in communes(entry.parent))
    return any(place_key(name) == wanted for name in names)


@cache
def _name_haystack() -> tuple[str, list[int], list[tuple[str, str]]]:
    """Every commune name folded, in one string searched at C speed, with where each starts:
    a name lookup reduces only the few names that contain its rarest word, instead of building
    an index of 37,000 reduced names at first use (over a second of start-up)."""
    entries = [(code, entry.libelle) for code, found in _communes().items() for entry in found]
    folded = fold("|".join(name for _, name in entries)).split("|")
    if len(folded) != len(entries):  # a name holding the separator: fold them one by one
        folded = [fold(name) for _, name in entries]
    starts = [0, *accumulate(len(name) + 1 for name in folded)]
    return "|".join(folded), starts, entries


@lru_cache(maxsize=4096)  # bounded: the labels come from untrusted rows
def _codes_by_key(wanted: str) -> tuple[str, ...]:
    """The codes of the communes whose reduced name is `wanted`, in the file's order."""
    haystack, starts, entries = _name_haystack()
    # Every word of a reduced name is in its folded name, except 'saint' (written 'st').
    words = [w for w in wanted.split() if w not in _SAINTS.values()]
    if not words:
        indexes: Iterable[int] = range(len(entries))
    else:
        needle = max(words, key=len)
        found: set[int] = set()
        at = haystack.find(needle)
        while at >= 0:
            found.add(bisect_right(starts, at) - 1)
            at = haystack.find(needle, at + 1)
        indexes = sorted(found)
    codes: list[str] = []
    for index in indexes:
        code, name = entries[index]
        if code not in codes and place_key(name) == wanted:
            codes.append(code)
    return tuple(codes)


def codes_for_name(label: str, department: str | None = None) -> tuple[str, ...]:
    """INSEE codes of the communes with that name, within a department when given
    ('31' or '2A'; '20' stands for both Corsican departments)."""
    wanted = place_key(label)
    codes = _codes_by_key(wanted) if wanted else ()
    if department is None:
        return codes
    prefixes = ("2A", "2B") if department == "20" else (department,)
    return tuple(c for c in codes if c.startswith(prefixes))
