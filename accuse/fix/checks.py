"""Per-field XSD checks: a cell as the user wrote it, turned into the XSD's lexical form.

The same conversion serves the pre-export checks (every format) and the flux writer, so a row
that passes the checks is written exactly as checked. The Excel template v1.4 spellings
(OUI/NON, NILL, TIERS_DE_CONFIANCE, EQUIVALENCE_(DIPLOME_ETRANGER)) are accepted and mapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

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
    idTechnique and the identification."""
    choice = branch(values, version)
    keys = list(_FRAME) if action == "SUPPRESSION" else list(_passage_keys())
    keys += _branch_keys(choice)
    result: dict[str, str | object | None] = {}
    problems: list[Problem] = []
    if version == "1.1.2" and choice == "identifiantNational":
        problems.append(
            Problem(
                position,
                identifier,
                "nir",
                "un passage identifié par le seul NIR ne s'écrit qu'en XSD 1.1.5 : donnez "
                "aussi prénom, sexe et année de naissance, ou écrivez le flux en 1.1.5.",
            )
        )
        choice = "titulaire"
        keys = [k for k in keys if k != "nir"] + list(_branch_keys("titulaire"))
    # A whole « Date de naissance » column gives day, month and year: its problems are its own.
    wholes = {k: c.key for c in composites() if c.key in values for k in c.donne}
    for key in keys:
        value = values.get(key)
        whole = wholes.get(key)
        try:
            if whole is not None and not is_blank(values[whole]):
                why = whole_date(values[whole]).problem
                if why is not None:
                    shown = cell_text(values[whole]).strip()
                    raise FieldError(
                        f"{by_key()[whole].designation} « {shown} » {why}.", "XSD_FORMAT"
                    )
            if key in _REQUIRED_IN_BRANCH[choice] and is_empty(value):
                raise FieldError(f"champ obligatoire vide ({_BRANCH_NAMES[choice]}).", "XSD_ABSENT")
            if key in ("codeInsee", "codePostal"):
                result[key] = _birthplace(key, values)
            else:
                result[key] = xsd_value(key, value)
        except FieldError as error:
            problem = Problem(position, identifier, whole or key, str(error), error.family)
            if problem not in problems:
                problems.append(problem)
    return result, problems


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


def header_value(key: str, value: CellValue) -> str:
    """An émetteur/certificateur/contrat id, checked; raises FieldError."""
    if is_empty(value) or is_nill(value):
        raise FieldError("champ obligatoire vide.", "XSD_ABSENT")
    return _text(by_key()[key], value)
