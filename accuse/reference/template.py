"""The official Excel template v1.4 as re-export writes it back (accuse/data/modele.toml): the
template's spellings the portal refuses, and the drop-down lists of its data sheet."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from accuse.reference.fields import by_key


@dataclass(frozen=True)
class TemplateList:
    """One drop-down list of the template's data sheet: a named range of the lists sheet
    (``name``, ``sheet``, ``cells`` as A1 references), or values written out in full."""

    key: str  # the column's key in the fields dictionary
    name: str = ""
    sheet: str = ""
    first: str = ""  # "$C$8"
    last: str = ""  # "$C$9"
    values: tuple[str, ...] = ()


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("accuse").joinpath("data/modele.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def portal_spellings() -> dict[str, str]:
    """The template's value -> the value the portal accepts (TIERS_DE_CONFIANCE ->
    TIERS_CONFIANCE)."""
    return {str(k): str(v) for k, v in _raw()["orthographe_portail"].items()}


def lists_sheet() -> str:
    return str(_raw()["feuille_listes"])


@cache
def template_lists() -> tuple[TemplateList, ...]:
    lists = []
    for entry in _raw()["liste"]:
        key = str(entry["champ"])
        if key not in by_key():
            raise ValueError(f"modele.toml: champ inconnu {key!r}")
        if "plage" in entry:
            sheet, cells = str(entry["plage"]).split("!")
            first, last = cells.split(":")
            lists.append(TemplateList(key, str(entry["nom"]), sheet, first, last))
        else:
            lists.append(TemplateList(key, values=tuple(str(v) for v in entry["valeurs"])))
    return tuple(lists)
