"""Text normalisation shared by header recognition and message matching."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "\u00a0": " "})


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lowercase, accent-free, single-spaced: how the portal's wording is compared."""
    text = strip_accents(text.translate(_APOSTROPHES)).lower()
    return _SPACES.sub(" ", text).strip()


def header_key(text: str) -> str:
    """A header reduced to letters, digits and dots: 'Id Technique' == 'id_technique'."""
    return re.sub(r"[^a-z0-9.]", "", fold(text))


def _fold_char(c: str) -> str:
    base = unicodedata.normalize("NFD", c)[0]
    low = base.lower()
    return low if len(low) == 1 else base


def fold_aligned(text: str) -> str:
    """fold() that keeps every character at its place, so a match on the folded text
    can be cut from the original (values keep their case and accents)."""
    return "".join(_fold_char(c) for c in text.translate(_APOSTROPHES))


def squeeze(text: str) -> str:
    """Runs of white space as one space, ends stripped."""
    return _SPACES.sub(" ", text).strip()
