"""The CDC data dictionary (accuse/data/champs.toml): one Field per template column."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from accuse.text import header_key

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


@cache
def dictionary() -> tuple[Field, ...]:
    """Every field of the dictionary, in template column order."""
    raw = tomllib.loads(resources.files("accuse").joinpath("data/champs.toml").read_text("utf-8"))
    fields = []
    for entry in raw["champ"]:
        entry = dict(entry)
        entry["valeurs"] = tuple(entry.get("valeurs", ()))
        entry["alias"] = tuple(entry.get("alias", ()))
        fields.append(Field(**entry))
    return tuple(fields)


@cache
def by_key() -> dict[str, Field]:
    return {f.key: f for f in dictionary()}


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


def field_for_header(header: object) -> str | None:
    """The dictionary key a column header stands for, or None when it is not one of ours."""
    if header is None:
        return None
    text = str(header).strip()
    if not text:
        return None
    return _header_index().get(header_key(text))


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
