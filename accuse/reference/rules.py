"""What `accuse verifier` knows beyond the catalogue (accuse/data/verification.toml): how lxml's
XSD errors map to the portal's codes, which syntax errors are which family, its own rules."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Gravite = Literal["bloquant", "risque"]


@dataclass(frozen=True)
class XsdMapping:
    libxml2: str
    code: str  # the Xerces code the catalogue's codes_techniques know
    si: str = ""
    valeurs: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    titre: str
    gravite: Gravite


@dataclass(frozen=True)
class VerificationData:
    xsd: tuple[XsdMapping, ...]
    syntax: tuple[tuple[str, str], ...]  # (words of libxml2's message, catalogue family)
    rules: dict[str, Rule]
    creation: tuple[str, ...]
    soon_days: int

    def xsd_code(self, type_name: str, message: str) -> XsdMapping | None:
        for mapping in self.xsd:
            if mapping.libxml2 != type_name:
                continue
            if mapping.si and mapping.si not in message:
                continue
            return mapping
        return None

    def syntax_family(self, message: str) -> str:
        low = message.lower()
        return next(family for words, family in self.syntax if words in low)


@cache
def verification_data() -> VerificationData:
    text = resources.files("accuse").joinpath("data/verification.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    xsd = tuple(
        XsdMapping(
            libxml2=item["libxml2"],
            code=item["code"],
            si=item.get("si", ""),
            valeurs=re.compile(item["valeurs"]) if "valeurs" in item else None,
        )
        for item in raw["xsd"]
    )
    syntax = tuple((item["motif"].lower(), item["famille"]) for item in raw["syntaxe"])
    rules = {r["code"]: Rule(r["code"], r["titre"], r["gravite"]) for r in raw["regle"]}
    return VerificationData(
        xsd, syntax, rules, tuple(raw["creation"]), int(raw["echeance_proche_jours"])
    )
