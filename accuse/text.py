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
