"""Text helpers for every layer: normalisation for matching, user text made safe to show."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "\u00a0": " "})


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def header_key(text: str) -> str:
    """A header reduced to letters, digits and dots: 'Id Technique' == 'id_technique'."""
    return re.sub(r"[^a-z0-9.]", "", fold(text))


def _fold_char(c: str) -> str:
    base = unicodedata.normalize("NFD", c)[0]
    low = base.lower()
    return low if len(low) == 1 else base


# One character for one character over Latin-1 and Latin Extended-A/B (what French text
# uses), applied by str.translate at C speed; rarer characters go through _fold_char.
_ALIGNED = {code: _fold_char(chr(code)) for code in range(0x250)}
_ALIGNED.update(_APOSTROPHES)


def fold_aligned(text: str) -> str:
    """fold() that keeps every character at its place, so a match on the folded text
    can be cut from the original (values keep their case and accents)."""
    folded = text.translate(_ALIGNED)
    if folded.isascii():
        return folded
    return "".join(_fold_char(c) for c in folded)


def xerces_code(message: str) -> str | None:
    """The validator's code before " : " in an XSD message (cvc-enumeration-valid, ...)."""
    head, sep, _ = message.partition(" : ")
    head = head.strip()
    return head if sep and head and " " not in head else None


def squeeze(text: str) -> str:
    """Runs of white space as one space, ends stripped."""
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lowercase, accent-free, single-spaced: how the portal's wording is compared."""
    folded = text.translate(_ALIGNED)
    if not folded.isascii():
        folded = strip_accents(folded).lower()
    return _SPACES.sub(" ", folded).strip()


# A spreadsheet opening a csv runs a cell that starts with one of these as a formula
# ("=cmd|' /C calc'!A0", "@SUM(1)"); a plain number such as -5 or +33 is no threat.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def looks_like_formula(text: str) -> bool:
    return text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text)


def formula_safe(text: str) -> str:
    """A csv cell a spreadsheet shows as text: a leading apostrophe before a formula start."""
    return "'" + text if looks_like_formula(text) else text


# C0/C1 controls but line breaks and tabs, line separators, and the bidirectional overrides
# that could disguise text in a terminal.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]"
)
# The same, line breaks and tabs included: for a name or a path shown on one line (a newline
# in a file name would fake a line of output).
_UNSAFE_ONE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]"
)


def inert(text: object, *, one_line: bool = False) -> str:
    """Outside text made safe to show in a terminal: control and direction characters become
    visible marks (ESC -> \\u001b); with ``one_line``, line breaks and tabs too. Every piece of
    text that comes from a file, a path, a variable or a server goes through here first."""
    unsafe = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return unsafe.sub(lambda m: f"\\u{ord(m.group()):04x}", "" if text is None else str(text))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count in (0, 1) else (plural_form or singular + "s")
    return f"{count} {word}"


def _plain(char: str) -> str:
    """A character a legacy console encoding may lack, in plain characters."""
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        if "HORIZONTAL" in name and "VERTICAL" not in name:
            return "-"
        if "VERTICAL" in name and "HORIZONTAL" not in name:
            return "|"
        return "+"
    if "ARROW" in name:
        return "<-" if "LEFTWARDS" in name else "->"
    if "FLAG" in name:
        return "!"
    if "BULLET" in name:
        return "*"
    if "ELLIPSIS" in name:
        return "..."
    if "DASH" in name:
        return "-"
    if "QUOTATION MARK" in name:
        return '"'
    letter = _LATIN_LETTER.match(name)
    if letter:  # Ł, ø, đ do not decompose: their base letter
        base = letter.group(2)
        return base.lower() if letter.group(1) == "SMALL" else base
    return strip_accents(char)


_LATIN_LETTER = re.compile(r"LATIN (SMALL|CAPITAL) LETTER ([A-Z]) WITH ")


def plain_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what a stream cannot encode is written in plain characters
    (→ as ->, ⚑ as !, box lines as + - |, Ł as L), and "?" when nothing closer exists."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start : error.end]:
        plain = _plain(char)
        try:
            plain.encode(error.encoding)
        except (UnicodeError, LookupError):
            plain = "?"
        out.append(plain or "?")
    return "".join(out), error.end
