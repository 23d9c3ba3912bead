"""The remediation catalogue (accuse/data/catalogue.toml): loading, merging, matching."""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import string
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from accuse.errors import InputError
from accuse.files import os_reason, require_regular_file, toml_reason
from accuse.reference.fields import by_key
from accuse.reference.motif import FirstMatch, Motif, MotifError, compile_motif
from accuse.text import fold_aligned, squeeze, xerces_code

Scope = Literal["passage", "fichier"]
_SCOPES: dict[str, Scope] = {"passage": "passage", "fichier": "fichier"}
UNKNOWN: dict[Scope, str] = {"passage": "MESSAGE_INCONNU", "fichier": "XSD_AUTRE"}
_GRAVITES = ("information", "a_corriger", "bloquant")
_REDEPOSER = ("non", "apres_correction", "fichier_entier")


@dataclass(frozen=True)
class Example:
    """A real portal message a family must recognise, and what it must cut from it."""

    message: str
    captures: tuple[tuple[str, str], ...] = ()
    source: str = ""  # where the message was seen (guide, real receipt)


@dataclass(frozen=True)
class Change:
    """One release of the shipped catalogue: what changed in the explanations."""

    version: str
    date: dt.date
    changements: tuple[str, ...]


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    portee: Scope
    titre: str
    explication: str
    actions: tuple[str, ...]
    champs: tuple[str, ...]
    gravite: str
    redeposer: str
    redeposer_detail: str = ""
    motifs: tuple[Motif, ...] = ()
    codes_techniques: tuple[str, ...] = ()
    indices: tuple[str, ...] = ()  # hint sentences, the first whose parts are all known wins
    exemples: tuple[Example, ...] = ()
    origine: str = "accuse"  # "accuse" or the path of the user's catalogue


@dataclass(frozen=True)
class Classification:
    entry: CatalogueEntry
    captures: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def code(self) -> str:
        return self.entry.code

    @property
    def hint(self) -> str:
        """The entry's first hint whose parts the message named, or ""."""
        for template in self.entry.indices:
            filled = fill_hint(template, self.captures)
            if filled is not None:
                return filled
        return ""

    def with_captures(self, **extra: str) -> Classification:
        """The same classification knowing more (e.g. the element found at the error line)."""
        return Classification(self.entry, {**extra, **self.captures}, self.reason)


@dataclass(frozen=True)
class Catalogue:
    version: str
    mis_a_jour: dt.date | None
    entries: tuple[CatalogueEntry, ...]
    sources: tuple[str, ...] = ("accuse",)
    journal: tuple[Change, ...] = ()  # newest first

    def get(self, code: str) -> CatalogueEntry | None:
        return next((e for e in self.entries if e.code == code), None)

    def of_scope(self, scope: Scope) -> list[CatalogueEntry]:
        return [e for e in self.entries if e.portee == scope]

    @cached_property
    def _rules(self) -> dict[Scope, tuple[list[tuple[CatalogueEntry, Motif]], FirstMatch]]:
        """Per scope, every (family, pattern) in trying order and one matcher over them."""
        rules: dict[Scope, tuple[list[tuple[CatalogueEntry, Motif]], FirstMatch]] = {}
        for scope in UNKNOWN:
            pairs = [(e, m) for e in self.of_scope(scope) for m in e.motifs]
            rules[scope] = (pairs, FirstMatch([m for _, m in pairs]))
        return rules

    def classify(self, message: str, scope: Scope = "passage") -> Classification:
        """The family of a portal message; never fails (unknown messages have a family too).

        Linear in the message's length: RE2 runs the patterns (see reference/motif.py)."""
        original = squeeze(message)[:MAX_MATCHED]
        folded = fold_aligned(original)
        text = folded.encode("utf-8")
        technical = xerces_code(original) if scope == "fichier" else None
        if technical:
            for entry in self.of_scope(scope):
                for pattern in entry.codes_techniques:
                    if fnmatch.fnmatchcase(technical.lower(), pattern.lower()):
                        return Classification(
                            entry,
                            _captures(entry, original, folded, text),
                            f"code technique « {technical} »",
                        )
        pairs, matcher = self._rules[scope]
        found = matcher.find(text)
        if found is not None:
            index, spans = found
            entry, motif = pairs[index]
            rank = entry.motifs.index(motif) + 1
            return Classification(
                entry,
                _cut(motif, spans, original, folded, text),
                f"texte reconnu par la règle n° {rank} de la famille {entry.code}",
            )
        fallback = self.get(UNKNOWN[scope])
        assert fallback is not None, "the shipped catalogue always has its fallback families"
        return Classification(fallback, {}, "aucune famille ne reconnaît ce texte")


def _cut(
    motif: Motif, spans: list[tuple[int, int]], original: str, folded: str, text: bytes
) -> dict[str, str]:
    """The named groups, cut from the original message (its case and accents kept)."""
    ascii_only = len(text) == len(folded)  # byte offsets are then character offsets

    def char(offset: int) -> int:
        return offset if ascii_only else len(text[:offset].decode("utf-8"))

    captures = {}
    for name, group in motif.groups.items():
        start, end = spans[group]
        if start >= 0:
            captures[name] = original[char(start) : char(end)]
    return captures


def _captures(entry: CatalogueEntry, original: str, folded: str, text: bytes) -> dict[str, str]:
    for motif in entry.motifs:
        spans = motif.search(text)
        if spans is not None:
            return _cut(motif, spans, original, folded, text)
    return {}


# --- hints: plain {name} fields only -----------------------------------------------------


def hint_fields(template: str) -> list[str]:
    """The names a hint sentence uses; ValueError when it is more than text and {name}s
    (a width such as {id:>1500000000} would allocate gigabytes, {id.x} reads attributes)."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(
                name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            )
        names.append(name)
    return names


def fill_hint(template: str, captures: dict[str, str]) -> str | None:
    """The hint with its names replaced, or None when one of them is not known."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            if name not in captures:
                return None
            parts.append(captures[name])
    return "".join(parts)


# --- loading -----------------------------------------------------------------------------


def user_config_folder() -> Path:
    """The user's accuse folder (own catalogue, own e-mail templates): ~/.config/accuse,
    %APPDATA%\\accuse under Windows."""
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "accuse"


def user_catalogue_path() -> Path:
    """Where a user's own catalogue is looked for when --catalogue is not given."""
    env = os.environ.get("ACCUSE_CATALOGUE")
    if env:
        return Path(env)
    return user_config_folder() / "catalogue.toml"


MAX_USER_BYTES = 1 << 20  # a user catalogue of a few dozen families is a few kilobytes
MAX_USER_MOTIFS = 1000  # each compiled pattern holds up to a few MiB
MAX_USER_PROGRAM = 20_000  # RE2 instructions over all its patterns (the shipped: about 2,000)
MAX_MATCHED = 20_000  # characters of a message searched: a portal message is a sentence


def load_shipped() -> Catalogue:
    text = resources.files("accuse").joinpath("data/catalogue.toml").read_text("utf-8")
    return _parse(tomllib.loads(text), "accuse", partial=False)


def load_catalogue(
    user_file: Path | None = None, *, use_default_user_file: bool = True
) -> Catalogue:
    """The shipped catalogue, with the user's entries (added or overriding by code) in front."""
    shipped = load_shipped()
    if user_file is None and use_default_user_file:
        candidate = user_catalogue_path()
        # A FIFO or device named by ACCUSE_CATALOGUE is refused below, not silently skipped.
        user_file = candidate if candidate.exists() else None
    if user_file is None:
        return shipped
    own = read_user_catalogue(Path(user_file), shipped)
    return merge(shipped, own)


def merge(shipped: Catalogue, own: Catalogue) -> Catalogue:
    own_codes = {e.code for e in own.entries}
    merged = own.entries + tuple(e for e in shipped.entries if e.code not in own_codes)
    return Catalogue(
        shipped.version,
        shipped.mis_a_jour,
        merged,
        (*shipped.sources, *own.sources),
        shipped.journal,
    )


def read_user_catalogue(path: Path, shipped: Catalogue) -> Catalogue:
    """A user's catalogue alone (its entries completed by the shipped ones they override)."""
    require_regular_file(path, "le catalogue personnel")  # a FIFO would hang the open
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_USER_BYTES + 1)
    except FileNotFoundError:
        raise InputError("catalogue personnel introuvable.", path) from None
    except OSError as error:
        raise InputError(f"catalogue personnel illisible ({os_reason(error)}).", path) from None
    if len(data) > MAX_USER_BYTES:
        raise InputError(
            f"catalogue personnel trop gros (plus de {MAX_USER_BYTES // 1024} Ko) : un "
            "catalogue de quelques dizaines de familles fait quelques kilo-octets.",
            path,
        )
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(
            "catalogue personnel illisible : il n'est pas enregistré en UTF-8.", path
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            "catalogue personnel illisible : ce n'est pas un fichier TOML valide "
            f"({toml_reason(error)}).",
            path,
        ) from None
    except RecursionError:
        raise InputError(
            "catalogue personnel illisible : des listes ou des tables y sont imbriquées trop "
            "profondément.",
            path,
        ) from None
    own = _parse(raw, str(path), partial=True, base=shipped)
    count = sum(len(e.motifs) for e in own.entries)
    if count > MAX_USER_MOTIFS:
        raise InputError(
            f"catalogue personnel trop grand : {count} motifs (au plus {MAX_USER_MOTIFS}).", path
        )
    size = sum(m.size for e in own.entries for m in e.motifs)
    if size > MAX_USER_PROGRAM:
        raise InputError(
            f"catalogue personnel trop complexe : ses motifs font ensemble {size} instructions "
            f"(au plus {MAX_USER_PROGRAM}) ; simplifiez les plus longs.",
            path,
        )
    return Catalogue(own.version, own.mis_a_jour, own.entries, (str(path),))


def _parse(raw: dict, origin: str, *, partial: bool, base: Catalogue | None = None) -> Catalogue:
    where = Path(origin) if origin != "accuse" else None
    families = raw.get("famille", [])
    if not isinstance(families, list):
        raise InputError("« famille » doit être une liste d'entrées [[famille]].", where)
    entries = []
    seen: set[str] = set()
    for position, item in enumerate(families, start=1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise InputError(f"l'entrée n° {position} n'a pas de champ « code ».", where)
        if code in seen:
            raise InputError(f"la famille « {code} » est définie deux fois.", where)
        seen.add(code)
        inherited = base.get(code) if base else None
        entries.append(_entry(item, origin, inherited))
    version = str(raw.get("version", base.version if base else ""))
    updated = raw.get("mis_a_jour")
    if not partial and (not version or not isinstance(updated, dt.date)):
        raise InputError("le catalogue doit avoir « version » et « mis_a_jour ».", where)
    journal = _journal(raw.get("journal", []), where) if not partial else ()
    return Catalogue(
        version,
        updated if isinstance(updated, dt.date) else None,
        tuple(entries),
        journal=journal,
    )


def _journal(raw: object, where: Path | None) -> tuple[Change, ...]:
    if not isinstance(raw, list):
        raise InputError("« journal » doit être une liste d'entrées [[journal]].", where)
    changes = []
    for item in raw:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("version"), str)
            and isinstance(item.get("date"), dt.date)
            and isinstance(item.get("changements"), list)
            and all(isinstance(c, str) for c in item["changements"])
        ):
            raise InputError(
                "chaque [[journal]] a une « version », une « date » et des « changements ».",
                where,
            )
        changes.append(Change(item["version"], item["date"], tuple(item["changements"])))
    return tuple(changes)


def _indices(
    item: dict, inherited: CatalogueEntry | None, fail: Callable[[str, str], InputError]
) -> tuple[str, ...]:
    if "indice" not in item:
        return inherited.indices if inherited else ()
    value = item["indice"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail("indice", "doit être un texte ou une liste de textes.")
    for template in values:
        try:
            hint_fields(template)
        except ValueError as error:
            shown = str(error)[:40]
            raise fail(
                "indice",
                f"« {{{shown}}} » n'est pas permis : une phrase d'indice ne contient que du texte "
                "et des noms entre accolades, comme {id} ou {valeur} (doublez « {{ » et « }} » "
                "pour écrire une accolade).",
            ) from None
    return tuple(values)


def _entry(item: dict, origin: str, inherited: CatalogueEntry | None) -> CatalogueEntry:
    code = item["code"]
    where = Path(origin) if origin != "accuse" else None

    def fail(field_name: str, why: str) -> InputError:
        return InputError(f"entrée « {code} », champ « {field_name} » : {why}", where)

    def text(name: str, required: bool = True) -> str:
        if name not in item:
            if inherited is not None:
                return getattr(inherited, name)
            if required:
                raise fail(name, "obligatoire et absent.")
            return ""
        value = item[name]
        if not isinstance(value, str) or (required and not value.strip()):
            raise fail(name, "doit être un texte non vide.")
        return value

    def texts(name: str) -> tuple[str, ...]:
        if name not in item:
            if inherited is not None:
                return tuple(getattr(inherited, name))
            return ()
        value = item[name]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(name, "doit être une liste de textes.")
        return tuple(value)

    portee_text = text("portee")
    portee = _SCOPES.get(portee_text)
    if portee is None:
        raise fail(
            "portee", f"« {portee_text} » n'est pas permis : valeurs possibles passage, fichier."
        )
    gravite = text("gravite")
    if gravite not in _GRAVITES:
        raise fail(
            "gravite", f"« {gravite} » n'est pas permis : valeurs possibles {', '.join(_GRAVITES)}."
        )
    redeposer = text("redeposer")
    if redeposer not in _REDEPOSER:
        raise fail(
            "redeposer",
            f"« {redeposer} » n'est pas permis : valeurs possibles {', '.join(_REDEPOSER)}.",
        )
    champs = texts("champs")
    unknown = [c for c in champs if c not in by_key()]
    if unknown:
        raise fail("champs", f"champ(s) inconnu(s) du dictionnaire : {', '.join(unknown)}.")
    if "motifs" in item:
        compiled = []
        for number, source in enumerate(texts("motifs"), start=1):
            try:
                compiled.append(compile_motif(source))
            except MotifError as error:
                raise fail("motifs", f"l'expression n° {number} est refusée : {error}.") from None
        motifs = tuple(compiled)
    else:
        motifs = inherited.motifs if inherited else ()
    return CatalogueEntry(
        code=code,
        portee=portee,
        titre=text("titre"),
        explication=text("explication"),
        actions=texts("actions"),
        champs=champs,
        gravite=gravite,
        redeposer=redeposer,
        redeposer_detail=text("redeposer_detail", required=False),
        motifs=motifs,
        codes_techniques=texts("codes_techniques"),
        indices=_indices(item, inherited, fail),
        exemples=_examples(item, inherited, fail),
        origine=origin,
    )


def _examples(
    item: dict, inherited: CatalogueEntry | None, fail: Callable[[str, str], InputError]
) -> tuple[Example, ...]:
    if "exemples" not in item:
        return inherited.exemples if inherited else ()
    raw = item["exemples"]
    if not isinstance(raw, list):
        raise fail("exemples", "doit être une liste d'entrées [[famille.exemples]].")
    examples = []
    for number, example in enumerate(raw, start=1):
        message = example.get("message") if isinstance(example, dict) else None
        if not isinstance(message, str) or not message.strip():
            raise fail("exemples", f"l'exemple n° {number} n'a pas de « message ».")
        captures = example.get("captures", {})
        if not isinstance(captures, dict) or not all(isinstance(v, str) for v in captures.values()):
            raise fail(
                "exemples",
                f"l'exemple n° {number} : « captures » doit associer des noms à des textes.",
            )
        source = example.get("source", "")
        if not isinstance(source, str):
            raise fail("exemples", f"l'exemple n° {number} : « source » doit être un texte.")
        examples.append(Example(message, tuple(captures.items()), source))
    return tuple(examples)


# --- examples: every family proven on real messages ----------------------------------------


@dataclass(frozen=True)
class ExampleCheck:
    """How the catalogue handles one family's example."""

    family: CatalogueEntry
    example: Example
    found: Classification
    also: tuple[str, ...]  # the other families whose rules recognise it too

    @property
    def problems(self) -> list[str]:
        """What is wrong, in French (empty: the example proves its family)."""
        problems = []
        if self.found.code != self.family.code:
            problems.append(f"reconnu par la famille {self.found.code}, pas par {self.family.code}")
        if self.also:
            problems.append("reconnu aussi par " + ", ".join(self.also))
        if self.found.code == self.family.code:
            expected = dict(self.example.captures)
            got = self.found.captures
            for name in sorted(set(expected) | set(got)):
                if expected.get(name) != got.get(name):
                    want = f"« {expected[name]} »" if name in expected else "rien"
                    have = f"« {got[name]} »" if name in got else "rien"
                    problems.append(f"{name} : attendu {want}, obtenu {have}")
        return problems


def recognising(catalogue: Catalogue, message: str, scope: Scope) -> list[str]:
    """Every family whose rules (technical code or pattern) recognise the message."""
    original = squeeze(message)[:MAX_MATCHED]
    text = fold_aligned(original).encode("utf-8")
    technical = xerces_code(original) if scope == "fichier" else None
    codes = []
    for entry in catalogue.of_scope(scope):
        by_code = technical is not None and any(
            fnmatch.fnmatchcase(technical.lower(), p.lower()) for p in entry.codes_techniques
        )
        if by_code or any(m.search(text) is not None for m in entry.motifs):
            codes.append(entry.code)
    return codes


def check_examples(
    catalogue: Catalogue, entries: tuple[CatalogueEntry, ...] | None = None
) -> list[ExampleCheck]:
    """Each example of the given families (all by default), classified by the catalogue."""
    checks = []
    for entry in catalogue.entries if entries is None else entries:
        for example in entry.exemples:
            found = catalogue.classify(example.message, entry.portee)
            others = recognising(catalogue, example.message, entry.portee)
            also = tuple(code for code in others if code != entry.code)
            checks.append(ExampleCheck(entry, example, found, also))
    return checks


# --- checking a user's catalogue -----------------------------------------------------------

TODO = "À COMPLÉTER"  # what a proposed family leaves for the user to write


@dataclass(frozen=True)
class EntryVerification:
    entry: CatalogueEntry
    replaces: CatalogueEntry | None  # the shipped family of the same code, if any
    checks: tuple[ExampleCheck, ...]
    unfinished: tuple[str, ...]  # fields still holding TODO

    @property
    def ok(self) -> bool:
        return not self.unfinished and all(not c.problems for c in self.checks)


@dataclass(frozen=True)
class Verification:
    path: Path
    entries: tuple[EntryVerification, ...]
    taken: tuple[ExampleCheck, ...]  # shipped families' examples the user's families now take

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries) and not self.taken


def verify_user_catalogue(path: Path) -> Verification:
    """Check a user's catalogue without analysing anything (InputError when unusable)."""
    shipped = load_shipped()
    own = read_user_catalogue(path, shipped)
    merged = merge(shipped, own)
    entries = []
    for entry in own.entries:
        unfinished = tuple(
            name
            for name in ("titre", "explication", "redeposer_detail")
            if TODO in getattr(entry, name)
        ) + (("actions",) if any(TODO in a for a in entry.actions) else ())
        checks = tuple(check_examples(merged, (entry,)))
        entries.append(EntryVerification(entry, shipped.get(entry.code), checks, unfinished))
    own_codes = {e.code for e in own.entries}
    kept = tuple(e for e in shipped.entries if e.code not in own_codes)
    taken = tuple(c for c in check_examples(merged, kept) if c.found.code != c.family.code)
    return Verification(path, tuple(entries), taken)
