"""Messages no family recognises: their shape, and a family to propose for them.

A shape is the message with its variable parts (ids, BCR codes, numbers, dates, quoted values,
NIRs) folded, so that 3,000 passages refused with the same new wording are one line. A
proposal is a ready-to-edit [[famille]] for the user's own catalogue, whose pattern is the
message escaped with those variable parts turned into the named groups the catalogue knows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from accuse.errors import InputError
from accuse.nir import mask_in_text as mask_nir
from accuse.reference.catalogue import TODO, Scope
from accuse.reference.motif import MotifError, compile_motif
from accuse.text import fold_aligned, inert, squeeze

# --- the variable parts of a message ---------------------------------------------------------

# Scanned on the folded message (lowercase, no accents). Each alternative is a bounded or
# single-class run: linear time.
_PARTS = re.compile(
    r"(?P<nir>[0-9] [0-9]{2} [0-9]{2} •• ••• •••(?: ••)?)"
    r"|(?P<dq>\"[^\"]*\")"
    r"|(?P<sq>(?<![^\s(\[])'[^'\s][^']*'(?=[\s.,;:)\]]|$)|(?<![^\s(\[])''(?=[\s.,;:)\]]|$))"
    r"|(?P<date>\b[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\b|\b[0-9]{4}-[0-9]{2}-[0-9]{2}(?:t[0-9:+.\-]+)?)"
    r"|(?P<bcr>\b[0-9]{2}[a-z]{3}[0-9]{3}\b)"
    r"|(?P<num>[^\s,;'\"]*[0-9](?:[^\s,;'\"]*[^\s,;'\".:])?)"
)
_PLACEHOLDER = {
    "nir": "<NIR>",
    "dq": '"<valeur>"',
    "sq": "'<valeur>'",
    "date": "<date>",
    "bcr": "<BCR>",
    "num": "<nombre>",
}
_NIR_PATTERN = r"[0-9][0-9ab .•\-]{11,26}[0-9•]"
_TOKEN = r"[^\s,;]*[^\s,;.:]"  # a word, without the punctuation that may follow it


def shape(message: str) -> str:
    """The message with its variable parts folded: what groups messages of one wording."""
    folded = fold_aligned(squeeze(mask_nir(message)))
    return _PARTS.sub(lambda m: _PLACEHOLDER[m.lastgroup or "num"], folded)


def _parts(folded: str) -> Iterator[tuple[str, str, str]]:
    """(literal text before, kind, the variable part) ..., then (the rest, "", "")."""
    position = 0
    for match in _PARTS.finditer(folded):
        yield folded[position : match.start()], match.lastgroup or "num", match.group()
        position = match.end()
    yield folded[position:], "", ""


_TECHNICAL = re.compile(r"[a-z][a-z0-9.\-]* : ")
_META = re.compile(r"([\\.^$|?*+()\[\]{}])")


def _escape(literal: str) -> str:
    return _META.sub(r"\\\1", literal)


def _name(kind: str, before: str, used: set[str]) -> str | None:
    """The catalogue's group name for a variable part, when still free."""
    words = before.split()
    last = words[-1].rpartition("'")[2] if words else ""  # "l'index" -> "index"
    wanted = "valeur"
    if kind == "bcr":
        wanted = "bcr"
    elif kind == "num" and last in ("partenaire", "id", "idtechnique", "identifiant"):
        wanted = "id"
    elif kind == "num" and last == "index":
        wanted = "index"
    elif kind == "sq" and last == "element":
        wanted = "element"
    elif kind == "nir":
        return None  # never captured: a hint would show it
    if wanted in used:
        return None
    used.add(wanted)
    return wanted


def pattern_for(message: str) -> str:
    """A catalogue pattern recognising the message and those differing only by their
    variable parts (as searched: lowercase, without accents)."""
    folded = fold_aligned(squeeze(mask_nir(message)))
    used: set[str] = set()
    pieces = []
    head = _TECHNICAL.match(folded)  # the validator's code (cvc-elt.1.a : ...) is no variable
    if head:
        pieces.append(_escape(head.group()))
        folded = folded[head.end() :]
    for before, kind, part in _parts(folded):
        if not kind:
            pieces.append(_escape(before.rstrip(" .;:")))
            break
        pieces.append(_escape(before))
        name = _name(kind, before, used)
        if kind == "nir":
            body = _NIR_PATTERN
        elif kind in ("dq", "sq"):
            quote = part[0]
            inner = f"[^{quote}]*"
            body = quote + (f"(?P<{name}>{inner})" if name else inner) + quote
        else:
            body = f"(?P<{name}>{_TOKEN})" if name else _TOKEN
        pieces.append(body)
    return "".join(pieces)


# --- a proposed family -----------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    code: str
    scope: Scope
    message: str  # NIR masked
    pattern: str
    captures: dict[str, str]
    toml: str


def _code(folded: str) -> str:
    words = [w for w in re.findall(r"[a-z]{4,}", folded) if w not in _STOP][:3]
    return "PERSO_" + ("_".join(words).upper() or "MESSAGE")


_STOP = frozenset(
    ("dans", "pour", "avec", "sans", "dont", "leur", "leurs", "cette", "sont", "plus", "base")
)


def _toml_text(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but TOML also forbids DEL raw)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_pattern(pattern: str) -> str:
    if "'''" not in pattern and not pattern.endswith("'") and pattern.isprintable():
        return f"'''{pattern}'''"
    return _toml_text(pattern)


MAX_MESSAGE = 4000  # characters of a message worth proposing a family for


def propose(message: str, scope: Scope, user_catalogue: Path) -> Proposal:
    """A [[famille]] for the user's catalogue recognising the message."""
    shown = squeeze(mask_nir(squeeze(message)[:MAX_MESSAGE]))
    if not fold_aligned(shown).strip(" .;:'\""):
        raise InputError("le message à proposer est vide : donnez le texte exact du portail.")
    folded = fold_aligned(shown)
    # A long message gives a pattern past the catalogue's limits: its beginning then does.
    for limit in (len(shown), 400, 150):
        try:
            pattern = pattern_for(shown[:limit])
            motif = compile_motif(pattern)
        except MotifError:
            continue
        spans = motif.search(folded.encode("utf-8"))
        if spans is not None:
            break
    else:  # a part the scanner misread: the beginning of the text, escaped
        pattern = _escape(folded[:150].rstrip(" .;:"))
        motif = compile_motif(pattern)
        spans = motif.search(folded.encode("utf-8"))
    assert spans is not None
    raw = folded.encode("utf-8")
    captures = {
        name: shown[len(raw[: spans[g][0]].decode()) : len(raw[: spans[g][1]].decode())]
        for name, g in motif.groups.items()
        if spans[g][0] >= 0
    }
    code = _code(folded)
    hint = " ; ".join(f"{n} : {{{n}}}" for n in captures) if captures else ""
    lines = [
        "# Famille proposée par accuse pour le message du portail (NIR masqué) :",
        f"#   {inert(shown[:300])}" + ("…" if len(shown) > 300 else ""),
        "# Ajoutez ce bloc à la fin de votre catalogue personnel (créez le fichier s'il n'existe",
        "# pas) :",
        f"#   {user_catalogue}",
        f"# Remplacez chaque « {TODO} », puis vérifiez avec :",
        f'#   accuse catalogue --verifier "{user_catalogue}"',
        "",
        "[[famille]]",
        f"code = {_toml_text(code)}",
        f"portee = {_toml_text(scope)}",
        f'titre = "{TODO} : un titre court pour ce refus"',
        f'explication = "{TODO} : ce que le portail a vérifié et pourquoi il a refusé."',
        f'actions = ["{TODO} : la première chose à faire pour corriger."]',
        '# Clés du dictionnaire des champs à vérifier, ex. ["nomNaissance", "prenom1"].',
        "champs = []",
        '# gravite : "information", "a_corriger" ou "bloquant" ; redeposer : "non",',
        '# "apres_correction" ou "fichier_entier".',
        f'gravite = "{"bloquant" if scope == "fichier" else "a_corriger"}"',
        f'redeposer = "{"fichier_entier" if scope == "fichier" else "apres_correction"}"',
        "# Le texte recherché (minuscules, sans accents) ; les parties variables sont des groupes",
        "# nommés (?P<nom>…) que l'indice peut citer entre accolades.",
        f"motifs = [{_toml_pattern(pattern)}]",
    ]
    if hint:
        lines.append(f"indice = {_toml_text(hint)}")
    lines += ["", "[[famille.exemples]]", f"message = {_toml_text(shown)}"]
    if captures:
        inner = ", ".join(f"{n} = {_toml_text(v)}" for n, v in captures.items())
        lines.append(f"captures = {{ {inner} }}")
    lines.append('source = "accusé de traitement reçu"')
    return Proposal(code, scope, shown, pattern, captures, "\n".join(lines) + "\n")
