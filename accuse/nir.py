"""The NIR (numéro de sécurité sociale): its shape, its key, and its masked form.

The NIR is the most sensitive identifier in France. Everything that shows one to a person or
keeps one (terminal, report, JSON, history, messages) goes through ``mask`` or ``mask_in_text``;
only the user's own columns of corrections.xlsx and the re-exported files keep it in clear.

Layout of the 13 characters (FORMAT.md §3.2): sex (1 or 2), year YY, month MM, department (2
digits, or 2A/2B for Corsica), commune (3 digits; the country for people born abroad, department
99), order number (3 digits). A 15-character NIR ends with its 2-digit key,
97 - (number mod 97), where 2A counts as 19 and 2B as 18.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HIDDEN = "•"
# The XSD 1.1.5 pattern, anchored, lowercase 2a/2b accepted as the XSD does.
_XSD = re.compile(r"[12][0-9]{4}(?:2[abAB]|[0-9]{2})[0-9]{6}")
_SEPARATORS = re.compile(r"[\s.\-_/]")
# A NIR written inside some text, with optional single separators between its groups. Bounded
# length, no nested repetition: linear time on any input.
_S = r"[ .\-]?"
_DIGIT = re.compile(r"\d")  # what any() over str.isdigit finds, at C speed
_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])[1-478]{_S}[0-9]{{2}}{_S}[0-9]{{2}}{_S}(?:[0-9]{{2}}|2[abAB]){_S}"
    rf"[0-9]{{3}}{_S}[0-9]{{3}}(?:{_S}[0-9]{{2}})?(?![0-9A-Za-z])"
)


def normalise(value: object) -> str:
    """The NIR as typed, without spaces, dots or dashes, uppercased ("2A" for "2a")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SEPARATORS.sub("", "" if value is None else str(value)).upper()


def key_of(nir13: str) -> int:
    """The control key of a well-formed 13-character NIR."""
    number = int(nir13.upper().replace("2A", "19", 1).replace("2B", "18", 1))
    return 97 - number % 97


def mask(value: object) -> str:
    """A NIR shown without the part that identifies the person: '2 85 05 •• ••• •••'.

    Sex, year and month of birth stay readable (they help the user find the row); department,
    commune, order number and key are hidden. Anything else typed in a NIR column is hidden
    whole, its length only said."""
    text = normalise(value)
    if not text:
        return ""
    if len(text) in (13, 15) and text[:5].isdigit():
        shown = f"{text[0]} {text[1:3]} {text[3:5]} {HIDDEN * 2} {HIDDEN * 3} {HIDDEN * 3}"
        return shown + (f" {HIDDEN * 2}" if len(text) == 15 else "")
    return f"{HIDDEN * 4} ({len(text)} caractères masqués)"


def mask_in_text(text: str) -> str:
    """Free text (a receipt message, an XSD error) with every NIR-shaped number masked."""
    if not text or _DIGIT.search(text) is None:
        return text
    return _IN_TEXT.sub(lambda m: mask(m.group()), text)


@dataclass(frozen=True)
class Nir:
    """A NIR read from a cell: its 13 characters and what they say, or why it is malformed."""

    typed: str  # normalised, as typed (13 or 15 characters when well formed)
    problem: str | None = None  # a French sentence, never quoting the NIR in clear
    key_given: int | None = None  # the 2 last characters of a 15-character NIR
    key_ok: bool | None = None

    @property
    def well_formed(self) -> bool:
        return self.problem is None

    @property
    def nir13(self) -> str:
        return self.typed[:13]

    @property
    def sex(self) -> str:
        return "M" if self.typed[0] == "1" else "F"

    @property
    def year(self) -> int:
        return int(self.typed[1:3])

    @property
    def month(self) -> int | None:
        """The birth month, or None for the codes used when it is unknown (20-42, 50-99)."""
        month = int(self.typed[3:5])
        return month if 1 <= month <= 12 else None

    @property
    def department(self) -> str:
        return self.typed[5:7]

    @property
    def abroad(self) -> bool:
        return self.department == "99"

    @property
    def place(self) -> str:
        """The INSEE code of the birth commune (or 99 + country), digits 6 to 10."""
        return self.typed[5:10]


def parse(value: object) -> Nir:
    """Read a NIR cell; ``problem`` says in French what keeps it from the XSD 1.1.5 pattern."""
    text = normalise(value)
    shown = mask(text)
    if len(text) == 15 and _XSD.fullmatch(text[:13]):
        if not text[13:].isdigit():
            return Nir(text, f"le NIR ({shown}) a 15 caractères mais ne finit pas par 2 chiffres.")
        given, expected = int(text[13:]), key_of(text[:13])
        return Nir(text, None, given, given == expected)
    if _XSD.fullmatch(text):
        return Nir(text)
    if not text:
        return Nir(text, "le NIR est vide.")
    if len(text) not in (13, 15):
        return Nir(
            text,
            f"le NIR ({shown}) a {len(text)} caractères : il en faut 13 (sans la clé) ou 15 "
            "(avec la clé, qui sera retirée).",
        )
    if text[0] not in "12":
        provisional = " (numéro provisoire, refusé par le portail)" if text[0] in "3478" else ""
        return Nir(
            text,
            f"le NIR ({shown}) commence par « {text[0]} »{provisional} : le premier chiffre "
            "doit être 1 (homme) ou 2 (femme).",
        )
    department = text[5:7]
    if not (department.isdigit() or department in ("2A", "2B")):
        return Nir(
            text,
            f"le NIR ({shown}) a un département de naissance mal écrit (7e et 8e caractères) : "
            "2 chiffres, ou 2A / 2B pour la Corse.",
        )
    return Nir(
        text,
        f"le NIR ({shown}) ne contient pas que des chiffres (hors 2A / 2B pour la Corse).",
    )
