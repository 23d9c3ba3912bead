"""The remediation catalogue (accuse/data/catalogue.toml): loading, merging, matching."""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from accuse.errors import InputError
from accuse.reference.fields import by_key
from accuse.text import fold_aligned, squeeze

Scope = Literal["passage", "fichier"]
_SCOPES: dict[str, Scope] = {"passage": "passage", "fichier": "fichier"}
UNKNOWN = {"passage": "MESSAGE_INCONNU", "fichier": "XSD_AUTRE"}
_GRAVITES = ("information", "a_corriger", "bloquant")
_REDEPOSER = ("non", "apres_correction", "fichier_entier")


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
    motifs: tuple[re.Pattern[str], ...] = ()
    codes_techniques: tuple[str, ...] = ()
    indices: tuple[str, ...] = ()  # hint sentences, the first whose parts are all known wins
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
            try:
                return template.format(**self.captures)
            except (KeyError, IndexError, ValueError):
                continue
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

    def get(self, code: str) -> CatalogueEntry | None:
        return next((e for e in self.entries if e.code == code), None)

    def of_scope(self, scope: Scope) -> list[CatalogueEntry]:
        return [e for e in self.entries if e.portee == scope]

    def classify(self, message: str, scope: Scope = "passage") -> Classification:
        """The family of a portal message; never fails (unknown messages have a family too)."""
        original = squeeze(message)
        folded = fold_aligned(original)
        technical = _technical_code(original) if scope == "fichier" else None
        if technical:
            for entry in self.of_scope(scope):
                for pattern in entry.codes_techniques:
                    if fnmatch.fnmatchcase(technical.lower(), pattern.lower()):
                        return Classification(
                            entry,
                            _captures(entry, original, folded),
                            f"code technique « {technical} » (règle « {pattern} »)",
                        )
        for entry in self.of_scope(scope):
            for motif in entry.motifs:
                match = motif.search(folded)
                if match:
                    reason = f"motif « {motif.pattern} »"
                    return Classification(entry, _cut(match, original), reason)
        fallback = self.get(UNKNOWN[scope])
        assert fallback is not None, "the shipped catalogue always has its fallback families"
        return Classification(fallback, {}, "aucun motif ne correspond")


def _technical_code(message: str) -> str | None:
    head, sep, _ = message.partition(" : ")
    head = head.strip()
    return head if sep and head and " " not in head else None


def _cut(match: re.Match[str], original: str) -> dict[str, str]:
    return {
        name: original[match.start(name) : match.end(name)]
        for name, value in match.groupdict().items()
        if value is not None
    }


def _captures(entry: CatalogueEntry, original: str, folded: str) -> dict[str, str]:
    for pattern in entry.motifs:
        match = pattern.search(folded)
        if match:
            return _cut(match, original)
    return {}


# --- loading -----------------------------------------------------------------------------


def user_catalogue_path() -> Path:
    """Where a user's own catalogue is looked for when --catalogue is not given."""
    env = os.environ.get("ACCUSE_CATALOGUE")
    if env:
        return Path(env)
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    return base / "accuse" / "catalogue.toml"


def load_catalogue(
    user_file: Path | None = None, *, use_default_user_file: bool = True
) -> Catalogue:
    """The shipped catalogue, with the user's entries (added or overriding by code) in front."""
    text = resources.files("accuse").joinpath("data/catalogue.toml").read_text("utf-8")
    shipped = _parse(tomllib.loads(text), "accuse", partial=False)
    if user_file is None and use_default_user_file:
        candidate = user_catalogue_path()
        user_file = candidate if candidate.is_file() else None
    if user_file is None:
        return shipped
    user_file = Path(user_file)
    try:
        raw = tomllib.loads(user_file.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError("catalogue personnel introuvable.", user_file) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(
            f"catalogue personnel illisible : ce n'est pas un fichier TOML valide ({error}).",
            user_file,
        ) from None
    own = _parse(raw, str(user_file), partial=True, base=shipped)
    own_codes = {e.code for e in own.entries}
    merged = own.entries + tuple(e for e in shipped.entries if e.code not in own_codes)
    return Catalogue(
        shipped.version, shipped.mis_a_jour, merged, (*shipped.sources, str(user_file))
    )


def _parse(raw: dict, origin: str, *, partial: bool, base: Catalogue | None = None) -> Catalogue:
    where = Path(origin) if origin != "accuse" else None
    families = raw.get("famille", [])
    if not isinstance(families, list):
        raise InputError("« famille » doit être une liste d'entrées [[famille]].", where)
    entries = []
    for position, item in enumerate(families, start=1):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise InputError(f"l'entrée n° {position} n'a pas de champ « code ».", where)
        inherited = base.get(code) if base else None
        entries.append(_entry(item, origin, inherited))
    version = str(raw.get("version", base.version if base else ""))
    updated = raw.get("mis_a_jour")
    if not partial and (not version or not isinstance(updated, dt.date)):
        raise InputError("le catalogue doit avoir « version » et « mis_a_jour ».", where)
    return Catalogue(version, updated if isinstance(updated, dt.date) else None, tuple(entries))


def _indices(
    item: dict[str, object],
    inherited: CatalogueEntry | None,
    fail: Callable[[str, str], InputError],
) -> tuple[str, ...]:
    if "indice" not in item:
        return inherited.indices if inherited else ()
    value = item["indice"]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail("indice", "doit être un texte ou une liste de textes.")
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
        for source in texts("motifs"):
            try:
                compiled.append(re.compile(source))
            except re.error as error:
                raise fail("motifs", f"expression « {source} » invalide ({error}).") from None
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
        origine=origin,
    )
