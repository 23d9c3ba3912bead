"""The catalogue's patterns, run by RE2: time linear in the message's length, whatever the
pattern (shipped or written by a user), and memory bounded per pattern.

Python's `re` backtracks: `date de fin .* inferieure .* date de debut` took a minute on a
48 KB message. RE2 never backtracks; it refuses at compile time what would need it
(back-references, look-arounds), and it caps a compiled pattern's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

MAX_SOURCE = 2000  # characters in one pattern: a portal message is a sentence
# RE2 instructions in one compiled pattern. Matching time is linear in the text, times the
# pattern's size when RE2 falls back from its DFA: [a-z]{999}x[a-z]{999} (2,003) or
# [\p{L}]{300} (359,000) would make that factor huge. The shipped patterns are under 200, one
# proposed for a 400-character message about 450.
MAX_PROGRAM = 1500
_MAX_MEM = 4 << 20  # bytes per compiled pattern (RE2's default is 8 MiB)


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own (English) message on stderr
    options.max_mem = _MAX_MEM
    return options


_OPTIONS = _options()


class MotifError(ValueError):
    """A pattern RE2 cannot run: the French reason."""


# RE2's (English) reasons, told in French; anything else is quoted as detail.
_REASONS = (
    ("missing )", "une parenthèse ouvrante « ( » n'est pas fermée"),
    ("unexpected )", "une parenthèse fermante « ) » n'a pas d'ouvrante"),
    ("missing ]", "un crochet « [ » n'est pas fermé"),
    (
        "invalid perl operator: (?=",
        "les assertions (?=…), (?!…), (?<=…), (?<!…) ne sont pas permises",
    ),
    (
        "invalid perl operator: (?!",
        "les assertions (?=…), (?!…), (?<=…), (?<!…) ne sont pas permises",
    ),
    (
        "invalid perl operator: (?<",
        "les assertions (?=…), (?!…), (?<=…), (?<!…) ne sont pas permises",
    ),
    ("invalid perl operator: (?P=", "les références arrière (?P=nom) ne sont pas permises"),
    ("invalid escape sequence: \\1", "les références arrière (\\1…\\9) ne sont pas permises"),
    ("invalid repetition size", "une répétition {n} dépasse 1000"),
    ("bad repetition operator", "une répétition est mal placée ou trop imbriquée"),
    ("missing argument to repetition operator", "un « * », « + » ou « ? » ne suit rien"),
    ("pattern too large", "l'expression est trop grande"),
    ("invalid named capture group", "un nom de groupe (?P<nom>…) n'est pas valide"),
    ("duplicate capture group name", "deux groupes portent le même nom"),
)


def _french(detail: str) -> str:
    for prefix, french in _REASONS:
        if detail.startswith(prefix):
            return french
    return f"expression non reconnue ({detail})"


@dataclass(frozen=True)
class Motif:
    """One compiled pattern and its named groups."""

    source: str
    regexp: Any = field(repr=False, compare=False)  # re2's compiled pattern (untyped library)

    @property
    def size(self) -> int:
        """RE2 instructions: what one character of text costs at worst."""
        return int(self.regexp.programsize)

    @property
    def groups(self) -> dict[str, int]:
        return dict(self.regexp.groupindex)

    def search(self, folded: bytes) -> list[tuple[int, int]] | None:
        """The byte spans of the whole match and each group ((-1, -1) when a group did not
        take part), or None."""
        match = self.regexp.search(folded)
        if match is None:
            return None
        return [match.span(i) for i in range(self.regexp.groups + 1)]


def compile_motif(source: str) -> Motif:
    if len(source) > MAX_SOURCE:
        raise MotifError(f"l'expression fait {len(source)} caractères (au plus {MAX_SOURCE})")
    try:
        regexp = re2.compile(source, _OPTIONS)
    except re2.error as error:
        raw = error.args[0] if error.args else b""
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise MotifError(_french(detail)) from None
    if regexp.programsize > MAX_PROGRAM:
        raise MotifError(
            f"l'expression est trop complexe ({regexp.programsize} instructions, au plus "
            f"{MAX_PROGRAM}) : évitez les grandes répétitions {{n}} et les classes \\p{{…}}"
        )
    return Motif(source, regexp)


class FirstMatch:
    """Which of an ordered list of patterns is the first to match a text.

    One RE2 set scans the text once for all of them; when the set cannot answer (its memory
    budget spent on a hostile text, or no pattern matched) the patterns are tried in turn,
    still each in linear time.
    """

    def __init__(self, motifs: Sequence[Motif]) -> None:
        self._motifs = list(motifs)
        self._set: Any = None
        if not self._motifs:
            return
        candidate = re2.Set.SearchSet(_OPTIONS)
        try:
            for motif in self._motifs:
                candidate.Add(motif.source)
            candidate.Compile()
        except re2.error:
            return  # each pattern compiled alone; the loop below will do
        self._set = candidate

    def find(self, folded: bytes) -> tuple[int, list[tuple[int, int]]] | None:
        """(index of the first pattern that matches, its spans), or None."""
        if self._set is not None:
            hits = self._set.Match(folded)
            if hits:
                for index in sorted(hits):
                    spans = self._motifs[index].search(folded)
                    if spans is not None:
                        return index, spans
        for index, motif in enumerate(self._motifs):
            spans = motif.search(folded)
            if spans is not None:
                return index, spans
        return None
