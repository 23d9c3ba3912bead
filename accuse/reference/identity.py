"""How a holder's identity is shown to them (accuse/data/courriels.toml), and which refusal
families only the holder can settle."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from accuse.reference.fields import plain_name


@dataclass(frozen=True)
class IdentityLineSpec:
    """One line of the identity block of an e-mail to a holder."""

    label: str
    keys: tuple[str, ...]  # dictionary keys (champs.toml) shown on this line
    separator: str = " "
    meanings: tuple[tuple[str, str], ...] = ()  # coded value -> what it means
    code: bool = False  # a code the holder is not expected to know: never asked for when empty


@dataclass(frozen=True)
class HolderMailData:
    families: tuple[str, ...]  # catalogue codes of the identity refusals
    lines: tuple[IdentityLineSpec, ...]


@cache
def holder_mail_data() -> HolderMailData:
    text = resources.files("accuse").joinpath("data/courriels.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    lines = tuple(
        IdentityLineSpec(
            label=item.get("libelle") or plain_name(item["champs"][0]),
            keys=tuple(item["champs"]),
            separator=item.get("separateur", " "),
            meanings=tuple(item.get("valeurs", {}).items()),
            code=bool(item.get("code", False)),
        )
        for item in raw["ligne"]
    )
    return HolderMailData(tuple(raw["familles"]), lines)
