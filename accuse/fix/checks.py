"""Per-field XSD checks: a cell as the user wrote it, turned into the XSD's lexical form.

The same conversion serves the pre-export checks (every format) and the flux writer, so a row
that passes the checks is written exactly as checked. The Excel template v1.4 spellings
(OUI/NON, NILL, TIERS_DE_CONFIANCE, EQUIVALENCE_(DIPLOME_ETRANGER)) are accepted and mapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from accuse.cells import NILL_SPELLINGS, as_date, cell_text, is_blank, is_empty, is_nill, whole_date
from accuse.model import CellValue, FluxAction, SchemaVersion
from accuse.nir import mask, parse
from accuse.reference.fields import Field, by_key, composites
from accuse.reference.template import portal_spellings

NIL = object()  # the value of a nillable element written xsi:nil="true"

_DATE = re.compile(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])")
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")
_INTEGER = re.compile(r"[+-]?\d+")
_TRUE = {"true", "1", "oui", "vrai", "o", "yes"}
_FALSE = {"false", "0", "non", "faux", "n", "no"}
# The template's spellings that differ from the XSD (FORMAT.md §3.1; accuse/data/modele.toml).
TEMPLATE_TO_XSD = portal_spellings()
XSD_TO_TEMPLATE = {xsd: template for template, xsd in TEMPLATE_TO_XSD.items()}
# Codes Excel turned into numbers lose their leading zero: 1234 was "01234".
_PADDED = {"codeInsee": 5, "codePostal": 5, "codePostalCentreExamen": 5}


class FieldError(ValueError):
    """Why a value cannot be written for a field, as a French sentence, and the catalogue's
    whole-file family the portal would file the error under."""

    def __init__(self, message: str, family: str = "XSD_AUTRE") -> None:
        super().__init__(message)
        self.family = family


@dataclass(frozen=True)
class Problem:
    """A value the portal would reject, found before writing."""

    position: int | None  # the source row
    idTechnique: str
    champ: str  # dictionary key
    raison: str
    famille: str = "XSD_AUTRE"  # catalogue family of the XSD error it would cause

    def render(self) -> str:
        where = f"ligne {self.position}" if self.position is not None else "ligne ?"
        label = by_key()[self.champ].label if self.champ in by_key() else self.champ
        return f"{where} (id {self.idTechnique or '?'}), {label} [{self.champ}] : {self.raison}"


def xsd_value(key: str, value: CellValue) -> str | object | None:
    """The XSD lexical value of a cell: a string, NIL, or None when the element is left out.

    Raises FieldError with a French reason when the portal would reject it."""
    field = by_key()[key]
    # is_empty and is_nill, at once: this runs for every field of every row.
    stripped = value.strip() if isinstance(value, str) else None
    if value is None or stripped == "":
        if field.obligatoire and field.nillable:
            return NIL
        if field.obligatoire:
            raise FieldError("champ obligatoire vide.", "XSD_ABSENT")
        return None
    if stripped is not None and stripped.upper() in NILL_SPELLINGS:
        if field.nillable:
            return NIL
        if not field.obligatoire:
            return None  # the template writes NILL in optional columns too: leave it out
        raise FieldError("champ obligatoire : « NILL » (vide) n'est pas permis ici.", "XSD_NIL")
    return _convert(field, value)


def _convert(field: Field, value: CellValue) -> str:
    if field.type == "booleen":
        return _boolean(value)
    if field.type == "date":
        return _date(value)
    if field.type == "entier":
        return _integer(field, value)
    if field.type == "enum":
        return _enumeration(field, value)
    if field.type == "nir":
        return nir_value(value)
    return _text(field, value)


def nir_value(value: CellValue) -> str:
    """The 13 characters the XSD takes: spaces and dots dropped, a checked key removed.
    Reasons never quote the NIR in clear."""
    read = parse(value)
    if read.problem is not None:
        raise FieldError(read.problem, "XSD_FORMAT")
    if read.key_ok is False:
        raise FieldError(
            f"la clé du NIR ({mask(read.typed)}, 2 derniers chiffres) ne correspond pas "
            "aux 13 premiers caractères : un chiffre est faux, vérifiez le numéro sur la carte "
            "Vitale ou l'attestation de droits.",
            "XSD_FORMAT",
        )
    return read.nir13


def _boolean(value: CellValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = cell_text(value).strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    raise FieldError(
        f"« {cell_text(value)} » n'est pas un oui/non : attendu OUI ou NON.", "XSD_FORMAT"
    )


def _date(value: CellValue) -> str:
    date = as_date(value)
    if date is None:
        raise FieldError(f"« {cell_text(value)} » n'est pas une date (JJ/MM/AAAA).", "XSD_FORMAT")
    text = date.isoformat()
    if not _DATE.fullmatch(text):
        raise FieldError(f"date {date:%d/%m/%Y} hors des années 1900 à 2099.", "XSD_FORMAT")
    return text


def _stripped(value: CellValue) -> str:
    """cell_text(value).strip(), text cells (most of them) taken straight."""
    return value.strip() if type(value) is str else cell_text(value).strip()


def _integer(field: Field, value: CellValue) -> str:
    text = _stripped(value)
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        raise FieldError(f"« {text} » n'est pas un nombre entier.", "XSD_FORMAT")
    number = int(text)
    low, high = field.borne_min, field.borne_max
    if (low is not None and number < low) or (high is not None and number > high):
        raise FieldError(f"{number} hors des bornes permises ({low} à {high}).", "XSD_BORNES")
    return text


def _enumeration(field: Field, value: CellValue) -> str:
    text = _stripped(value)
    text = TEMPLATE_TO_XSD.get(text, text)
    if text not in field.valeurs:
        upper = TEMPLATE_TO_XSD.get(text.upper(), text.upper())
        if upper in field.valeurs:
            return upper
        raise FieldError(
            f"« {text} » n'est pas une valeur permise : {', '.join(field.valeurs)}.",
            "XSD_ENUMERATION",
        )
    return text


def _text(field: Field, value: CellValue) -> str:
    text = _stripped(value)
    width = _PADDED.get(field.key)
    if width and isinstance(value, int) and not isinstance(value, bool) and len(text) < width:
        text = text.zfill(width)
    length = len(text)
    if field.longueur is not None and length != field.longueur:
        raise FieldError(
            f"« {text} » fait {length} caractère(s) ; il en faut exactement {field.longueur}.",
            "XSD_LONGUEUR",
        )
    if field.min is not None and length < field.min:
        raise FieldError(
            f"« {text} » est trop court (au moins {field.min} caractère(s)).", "XSD_LONGUEUR"
        )
    if field.max is not None and length > field.max:
        raise FieldError(f"{length} caractères ; au plus {field.max} sont permis.", "XSD_LONGUEUR")
    return text


_PERSON = ("prenom1", "anneeNaissance", "sexe")


def branch(values: dict[str, CellValue], version: SchemaVersion = "1.1.5") -> str:
    """Which identificationTitulaire branch a row fills: "identifiantNational" when it has a
    NIR (XSD 1.1.5 only), "dossierFormation" for a CPF dossier without the holder's identity,
    else "titulaire"."""
    has_person = any(not is_empty(values.get(k)) for k in (*_PERSON, "nomNaissance"))
    if not is_empty(values.get("nir")) and (version != "1.1.2" or not has_person):
        return "identifiantNational"
    if not has_person and not is_empty(values.get("idDossier")):
        return "dossierFormation"
    return "titulaire"


@cache
def _branch_keys(choice: str) -> tuple[str, ...]:
    if choice == "identifiantNational":
        return ("nir", "nomNaissance")
    parent = "titulaire" if choice == "titulaire" else "dossier"
    return tuple(f.key for f in by_key().values() if f.parent == parent)


_PASSAGE_PARENTS = ("certification", "passage", "niveauNumerique", "resultat", "inscription")


@cache
def _passage_keys() -> tuple[str, ...]:
    """The fields a CREATION passage carries besides its identification, dictionary order."""
    return tuple(f.key for f in by_key().values() if f.parent in _PASSAGE_PARENTS)


_FRAME = ("type", "code", "natureDeposant", "idTechnique")
_REQUIRED_IN_BRANCH = {
    "titulaire": set(),
    "dossierFormation": {"idDossier", "nomTitulaire", "prenom1Titulaire"},
    "identifiantNational": {"nir", "nomNaissance"},
}
_BRANCH_NAMES = {
    "dossierFormation": "bloc dossier de formation",
    "identifiantNational": "identification par le NIR",
}


def converted(
    values: dict[str, CellValue],
    position: int | None,
    identifier: str,
    *,
    version: SchemaVersion = "1.1.5",
    action: FluxAction = "CREATION",
) -> tuple[dict[str, str | object | None], list[Problem]]:
    """A row's passage fields in XSD form, and the problems that keep some from it.

    A row with a NIR is identified by it (identifiantNational) unless ``version`` is 1.1.2,
    where its other identity fields are used; a SUPPRESSION keeps only the certification, the
    idTechnique and the identification. (A source's rows all have the same keys: its plan is
    made once, see Conversion.)"""
    return conversion(frozenset(values), version, action).convert(values, position, identifier)


# A step of a conversion plan: how one field of a row is converted.
_PLAIN = 0  # a cell of the row: its outcome depends on the value alone (cached per value)
_FIXED = 1  # no cell for it: the same problem on every row
_OTHER = 2  # depends on other cells too (birthplace, a whole « Date de naissance »)
# What a value gives for a field: its XSD form, or why it cannot be written.
_Outcome = tuple[str | object | None, tuple[str, str] | None]
CACHE_SIZE = 4096  # distinct values remembered per field (names, all distinct, fill it at once)
# (key, the branch's name when the key is required in it) -> (class, value) -> outcome
_outcomes: dict[tuple[str, str | None], dict[tuple[type, CellValue], _Outcome]] = {}
_UNSET = object()  # a result placeholder of a plan's template, always overwritten or removed


def _outcome(key: str, required_in: str | None, value: CellValue) -> _Outcome:
    """What a value gives for a field, as converted() tells it (no other cell involved)."""
    try:
        if required_in is not None and is_empty(value):
            raise FieldError(f"champ obligatoire vide ({required_in}).", "XSD_ABSENT")
        return xsd_value(key, value), None
    except FieldError as error:
        return None, (str(error), error.family)


def _cache(key: str, required_in: str | None) -> dict[tuple[type, CellValue], _Outcome]:
    cache = _outcomes.get((key, required_in))
    if cache is None:
        cache = _outcomes[(key, required_in)] = {}
    return cache


def _remember(
    cache: dict[tuple[type, CellValue], _Outcome],
    key: str,
    required_in: str | None,
    value: CellValue,
) -> _Outcome:
    found = _outcome(key, required_in, value)
    if len(cache) < CACHE_SIZE:
        cache[(value.__class__, value)] = found
    return found


def cached_outcome(key: str, required_in: str | None, value: CellValue) -> _Outcome:
    """_outcome, remembered per field for the first CACHE_SIZE distinct values: the same cell
    value always gives the same outcome. The value's class is part of the key (True == 1)."""
    cache = _cache(key, required_in)
    found = cache.get((value.__class__, value))
    return found if found is not None else _remember(cache, key, required_in, value)


@dataclass(frozen=True)
class _Plan:
    """How a row is converted once its branch is known: ``template`` holds every field in
    the order converted() gives them, the fields without a cell already converted; ``steps``
    (key, kind, the branch's name when the key is required in it, its outcomes' cache) say
    what each row still needs."""

    template: dict[str, str | object | None]
    steps: tuple[tuple[str, int, str | None, dict[tuple[type, CellValue], _Outcome]], ...]
    fixed: dict[str, tuple[str, str]]  # key -> (reason, family) of the _FIXED steps
    wholes: dict[str, str]  # field -> the whole « Date de naissance » column giving it
    choice: str  # the branch the fields are required by


class Conversion:
    """converted() for the rows of one source: the plan of each branch is made once from the
    keys its rows have, so a row only converts its own cells (each through cached_outcome)."""

    def __init__(self, keys: frozenset[str], version: SchemaVersion, action: FluxAction) -> None:
        self.keys = keys
        self.version: SchemaVersion = version
        self.action: FluxAction = action
        self._plans: dict[str, _Plan] = {}

    def _plan(self, choice: str) -> _Plan:
        keys = list(_FRAME) if self.action == "SUPPRESSION" else list(_passage_keys())
        keys += _branch_keys(choice)
        if self.version == "1.1.2" and choice == "identifiantNational":
            choice = "titulaire"
            keys = [k for k in keys if k != "nir"] + list(_branch_keys("titulaire"))
        wholes = {k: c.key for c in composites() if c.key in self.keys for k in c.donne}
        template: dict[str, str | object | None] = {}
        steps: list[tuple[str, int, str | None, dict[tuple[type, CellValue], _Outcome]]] = []
        fixed: dict[str, tuple[str, str]] = {}
        for key in dict.fromkeys(keys):  # a key listed twice gives the same, said once
            required_in = _BRANCH_NAMES[choice] if key in _REQUIRED_IN_BRANCH[choice] else None
            if key in wholes or key in ("codeInsee", "codePostal"):
                template[key] = _UNSET
                steps.append((key, _OTHER, None, {}))
            elif key in self.keys:
                template[key] = _UNSET
                steps.append((key, _PLAIN, required_in, _cache(key, required_in)))
            else:
                result, error = _outcome(key, required_in, None)
                if error is None:
                    template[key] = result
                else:
                    fixed[key] = error
                    steps.append((key, _FIXED, None, {}))
        return _Plan(template, tuple(steps), fixed, wholes, choice)

    def convert(
        self, values: dict[str, CellValue], position: int | None, identifier: str
    ) -> tuple[dict[str, str | object | None], list[Problem]]:
        """converted(values, position, identifier) for a row with exactly ``keys``."""
        choice = branch(values, self.version)
        plan = self._plans.get(choice)
        if plan is None:
            plan = self._plans[choice] = self._plan(choice)
        result = plan.template.copy()
        problems: list[Problem] = []
        if self.version == "1.1.2" and choice == "identifiantNational":
            problems.append(
                Problem(
                    position,
                    identifier,
                    "nir",
                    "un passage identifié par le seul NIR ne s'écrit qu'en XSD 1.1.5 : donnez "
                    "aussi prénom, sexe et année de naissance, ou écrivez le flux en 1.1.5.",
                )
            )
        for key, kind, required_in, known in plan.steps:
            if kind == _PLAIN:
                cell = values[key]
                found = known.get((cell.__class__, cell))
                if found is None:
                    found = _remember(known, key, required_in, cell)
                value, error = found
                if error is None:
                    result[key] = value
                    continue
                del result[key]
                champ = key
            elif kind == _FIXED:
                error = plan.fixed[key]
                champ = key
            else:
                try:
                    result[key] = _other(key, values, plan)
                    continue
                except FieldError as failure:
                    error = (str(failure), failure.family)
                    champ = plan.wholes.get(key) or key
                del result[key]
            problem = Problem(position, identifier, champ, error[0], error[1])
            if problem not in problems:
                problems.append(problem)
        return result, problems


def _other(key: str, values: dict[str, CellValue], plan: _Plan) -> str | object | None:
    """A field whose value depends on other cells: converted() as it always was."""
    value = values.get(key)
    whole = plan.wholes.get(key)
    if whole is not None and not is_blank(values[whole]):
        why = whole_date(values[whole]).problem
        if why is not None:
            shown = cell_text(values[whole]).strip()
            raise FieldError(f"{by_key()[whole].designation} « {shown} » {why}.", "XSD_FORMAT")
    if key in _REQUIRED_IN_BRANCH[plan.choice] and is_empty(value):
        raise FieldError(f"champ obligatoire vide ({_BRANCH_NAMES[plan.choice]}).", "XSD_ABSENT")
    if key in ("codeInsee", "codePostal"):
        return _birthplace(key, values)
    return xsd_value(key, value)


@lru_cache(maxsize=64)
def conversion(keys: frozenset[str], version: SchemaVersion, action: FluxAction) -> Conversion:
    """The Conversion of rows with these keys (one per source, in practice)."""
    return Conversion(keys, version, action)


def _birthplace(key: str, values: dict[str, CellValue]) -> str | object | None:
    """codeInsee wins over codePostal (CDC advice); with neither, codePostal is nil."""
    insee = values.get("codeInsee")
    has_insee = not is_empty(insee) and not is_nill(insee)
    if key == "codeInsee":
        return _convert(by_key()["codeInsee"], insee) if has_insee else None
    if has_insee:
        return None
    postal = values.get("codePostal")
    if is_empty(postal) or is_nill(postal):
        return NIL
    return _convert(by_key()["codePostal"], postal)


# (key, class, value) -> why an émetteur/certificateur/contrat id is refused, or None
_headers: dict[tuple[str, type, CellValue], tuple[str, str] | None] = {}


def cached_header(key: str, value: CellValue) -> tuple[str, str] | None:
    """(reason, family) when header_value refuses the value, else None; remembered for the
    first CACHE_SIZE distinct values (a file has one of each, repeated on every row)."""
    token = (key, value.__class__, value)
    if token in _headers:
        return _headers[token]
    try:
        header_value(key, value)
        said = None
    except FieldError as error:
        said = (str(error), error.family)
    if len(_headers) < CACHE_SIZE:
        _headers[token] = said
    return said


def header_value(key: str, value: CellValue) -> str:
    """An émetteur/certificateur/contrat id, checked; raises FieldError."""
    if is_empty(value) or is_nill(value):
        raise FieldError("champ obligatoire vide.", "XSD_ABSENT")
    return _text(by_key()[key], value)
