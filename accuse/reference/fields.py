"""The CDC data dictionary (accuse/data/champs.toml): one Field per template column."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from accuse.cells import whole_date
from accuse.model import CellValue
from accuse.text import fold, header_key

# The deposit schema's namespace, the same in XSD 1.1.2 and 1.1.5.
NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"

# parent of the columns accuse reads beside the passage data (an e-mail address): they have
# no dictionary id and no XSD element, and are never written into a flux.
OUTSIDE_XSD = "hors_xsd"


@dataclass(frozen=True)
class Field:
    key: str
    parent: str
    label: str
    type: str
    element: str = ""  # "" for a field outside the XSD
    id: str = ""  # the template's dictionary id ("8.1"), "" for a field outside the XSD
    obligatoire: bool = False
    nillable: bool = False
    min: int | None = None
    max: int | None = None
    longueur: int | None = None
    borne_min: int | None = None
    borne_max: int | None = None
    valeurs: tuple[str, ...] = ()
    alias: tuple[str, ...] = field(default=())
    nom: str = ""
    designation: str = ""
    mots: tuple[frozenset[str], ...] = field(default=())
    donne: tuple[str, ...] = ()  # type composite: the fields this one column holds together
    lu_comme: str = ""  # type composite: what the column is understood as, in the summary


@cache
def dictionary() -> tuple[Field, ...]:
    """Every field of the dictionary, in template column order."""
    raw = tomllib.loads(resources.files("accuse").joinpath("data/champs.toml").read_text("utf-8"))
    fields = []
    for entry in raw["champ"]:
        entry = dict(entry)
        entry["valeurs"] = tuple(entry.get("valeurs", ()))
        entry["alias"] = tuple(entry.get("alias", ()))
        entry["donne"] = tuple(entry.get("donne", ()))
        entry["mots"] = tuple(frozenset(words) for words in entry.get("mots", ()))
        fields.append(Field(**entry))
    return tuple(fields)


@cache
def by_key() -> dict[str, Field]:
    return {f.key: f for f in dictionary()}


@cache
def composites() -> tuple[Field, ...]:
    """The fields that stand for one column of the user's holding several fields together."""
    return tuple(f for f in dictionary() if f.donne)


def used_composites(columns: Collection[str]) -> tuple[Field, ...]:
    """The composite columns a file has that give its fields: only when the file has no column
    of its own for any of them (the template's split columns win over a whole one)."""
    return tuple(
        f for f in composites() if f.key in columns and not any(k in columns for k in f.donne)
    )


def set_aside_composites(columns: Collection[str]) -> tuple[Field, ...]:
    """The composite columns a file has but does not read, its split columns winning."""
    return tuple(f for f in composites() if f.key in columns and f not in used_composites(columns))


def row_fields(
    values: Sequence[CellValue], columns: Mapping[str, int], only: Iterable[str] | None = None
) -> dict[str, CellValue]:
    """A row's cells by dictionary key, with the fields a whole column gives split out of it
    (a « Date de naissance » gives jour, mois and année, None each when the cell is empty or
    no date: the composite's own key keeps the cell, to say why). ``only``: just these keys."""
    width = len(values)
    wanted = columns.keys() if only is None else [k for k in only if k in columns]
    found = {k: values[columns[k]] if columns[k] < width else None for k in wanted}
    for composite in set_aside_composites(columns):
        found.pop(composite.key, None)
    for composite in used_composites(columns):
        index = columns[composite.key]
        cell = values[index] if index < width else None
        found[composite.key] = cell
        day = whole_date(cell).date
        parts = (day.day, day.month, day.year) if day is not None else (None, None, None)
        for key, part in zip(composite.donne, parts, strict=True):
            found[key] = part
    return found


def composite_giving(key: str, columns: Collection[str]) -> str | None:
    """The composite column of a file that gives ``key``, when it is read for it."""
    return next((f.key for f in used_composites(columns) if key in f.donne), None)


def with_composites(keys: Iterable[str], columns: Collection[str]) -> set[str]:
    """Field keys, with the composite column that gives any of them, and the fields a marked
    composite gives: what to highlight, in the user's columns or field by field."""
    marked = set(keys)
    for composite in used_composites(columns):
        if composite.key in marked:
            marked.update(composite.donne)
        elif marked.intersection(composite.donne):
            marked.add(composite.key)
    return marked


@cache
def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for f in dictionary():
        for spelling in (f.key, f.label, *f.alias):
            index.setdefault(header_key(spelling), f.key)
    for f in dictionary():
        # The dictionary id ("8.1") wins over everything: it is unambiguous.
        if f.id:
            index[header_key(f.id)] = f.key
    return index


@cache
def _dictionary_ids() -> frozenset[str]:
    return frozenset(header_key(f.id) for f in dictionary() if f.id)


_WORD = re.compile(r"[a-z0-9]+")
# Words that say a column is about someone else than the holder, or not the value itself.
_OTHER_PERSON = frozenset({"pere", "mere", "conjoint", "parent", "tuteur"})


@cache
def _word_sets() -> tuple[tuple[frozenset[str], str], ...]:
    return tuple((words, f.key) for f in dictionary() for words in f.mots)


def _by_words(text: str) -> str | None:
    """The field whose word set is the largest one a header holds; None on a tie."""
    words = frozenset(_WORD.findall(fold(text)))
    if not words or words & _OTHER_PERSON:
        return None
    best: set[str] = set()
    size = 0
    for needed, key in _word_sets():
        if needed <= words:
            if len(needed) > size:
                best, size = {key}, len(needed)
            elif len(needed) == size:
                best.add(key)
    return next(iter(best)) if len(best) == 1 else None


def field_for_header(header: object) -> str | None:
    """The dictionary key a column header stands for, or None when it is not one of ours:
    the template's id or label, a known spelling, else the words it holds."""
    if header is None:
        return None
    text = str(header).strip()
    if not text:
        return None
    return _header_index().get(header_key(text)) or _by_words(text)


def understood_by_words(header: object) -> bool:
    """Whether a header was recognised by its words rather than as a known spelling."""
    text = "" if header is None else str(header).strip()
    return bool(text) and header_key(text) not in _header_index() and _by_words(text) is not None


def is_dictionary_id(value: object) -> bool:
    return isinstance(value, str) and header_key(value) in _dictionary_ids()


def plain_name(key: str) -> str:
    """How a field is named to the user ("Nom de naissance"); the key itself if it has no name."""
    spec = by_key().get(key)
    return (spec.nom or spec.label) if spec is not None else key


def designation(key: str) -> str:
    """A field named inside a sentence, with its article ("le nom de naissance")."""
    spec = by_key().get(key)
    return spec.designation if spec is not None and spec.designation else key
