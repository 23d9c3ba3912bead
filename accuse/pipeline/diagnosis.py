"""Row-level checks that point at the likely culprit of a rejected passage.

`diagnose(code, idTechnique, values, context)` looks at the user's source row of a KO passage
and returns Findings: what was seen and why it MAY explain the rejection, in plain French.
The checks follow the portal's matching funnel (FORMAT.md §2.1): level 1 = birth name,
first first-name, sex, birth year; level 2 adds day and month; level 3 adds the birthplace and
every optional item. A family only gets the checks of the data its level looks at.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from accuse.cells import NILL_SPELLINGS, as_date, is_nill, whole_date
from accuse.model import CellValue, DiagnosisContext, Finding
from accuse.nir import Nir
from accuse.nir import mask as mask_nir
from accuse.nir import parse as parse_nir
from accuse.reference import geo
from accuse.reference.fields import composites, designation
from accuse.text import fold

# Patterns compiled once (the checks run on every row of a verified file).
_WHOLE_NUMBER = re.compile(r"\d+(\.0+)?")
_LETTERS = re.compile(r"[a-z]+")
_SPACED_HYPHEN = re.compile(r"\s-|-\s")
_AROUND_HYPHEN = re.compile(r"\s*-\s*")
_NAME_SEPARATORS = re.compile(r"[\s,;/+&]+")
_SPACE = re.compile(r"\s")
_FOUR_DIGITS = re.compile(r"\d{4}")
_FIVE_DIGITS = re.compile(r"\d{5}")
_COUNTRY_CODE = re.compile(r"99\d{3}")

LEVEL1 = ("nomNaissance", "prenom1", "sexe", "anneeNaissance")
LEVEL2 = ("moisNaissance", "jourNaissance")
GENERIC_MANDATORY = (*LEVEL1, "type", "code", "dateDebutValidite")
MIN_AGE = 15


# --- Reading the row ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    values: Mapping[str, CellValue]
    context: DiagnosisContext
    # Each cell as raw() and text() give it, worked out once: the checks ask ~35 times a row.
    _raw: dict[str, CellValue] = field(default_factory=dict, init=False, compare=False)
    _text: dict[str, str | None] = field(default_factory=dict, init=False, compare=False)

    def raw(self, key: str) -> CellValue:
        """The cell, or None when it is blank (cells.is_blank, inlined)."""
        known = self._raw
        if key in known:
            return known[key]
        value = self.values.get(key)
        if isinstance(value, str):
            text = value.strip()
            if not text or text.upper() in NILL_SPELLINGS:
                value = None
        known[key] = value
        return value

    def text(self, key: str) -> str | None:
        known = self._text
        if key in known:
            return known[key]
        text = known[key] = _as_text(self.raw(key))
        return text

    def has_column(self, key: str) -> bool:
        return key in self.values or key in self.context.columns

    def columns_known(self) -> bool:
        """Whether the source was read at all: without it, absent columns prove nothing."""
        return bool(self.values) or bool(self.context.columns)

    def whole(self, key: str) -> str | None:
        """The composite column (a whole « Date de naissance ») this row's ``key`` comes from."""
        return next((c.key for c in composites() if key in c.donne and c.key in self.values), None)


MEMO_SIZE = 4096  # distinct inputs remembered per memoised check


def _cells(row: Row, keys: tuple[str, ...]) -> tuple[object, ...]:
    """What a check reads of a row, as a memo's key: each cell as raw() gives it, with its
    class (True == 1 == 1.0, yet a check may tell them apart)."""
    cells = tuple(map(row.raw, keys))
    return (cells, tuple(map(type, cells)))


class Memoised:
    """A check whose findings depend only on the cells ``keys`` (as raw() gives them) and,
    when given, on what ``also`` says of the row, remembered for the first MEMO_SIZE distinct
    inputs (birthplaces, certifications, first names repeat from row to row). Each call gets
    its own list."""

    def __init__(
        self,
        check: Callable[[Row], list[Finding]],
        *keys: str,
        also: Callable[[Row], bool] | None = None,
    ) -> None:
        self.check = check
        self.keys = keys
        self.also = also
        self.memo: dict[tuple[object, ...], list[Finding]] = {}

    def __call__(self, row: Row) -> list[Finding]:
        token = _cells(row, self.keys)
        if self.also is not None:
            token += (self.also(row),)
        found = self.memo.get(token)
        if found is None:
            found = self.check(row)
            if len(self.memo) < MEMO_SIZE:
                self.memo[token] = found
        return list(found)


def _as_text(value: CellValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _as_int(value: CellValue) -> int | None:
    """An integer typed as 5, 5.0, '05' or ' 1985 '; None for anything else (dates included)."""
    if isinstance(value, bool | dt.date):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(float(value.strip()))
    return None


def _jjmmaaaa(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _said(key: str) -> str:
    return designation(key)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _de(name: str | None) -> str:
    """'de Toulouse', "d'Ajaccio", 'du Havre': French elision before a place name."""
    name = name or ""
    folded = fold(name)
    if folded.startswith("le "):
        return "du " + name[3:]
    if folded.startswith("les "):
        return "des " + name[4:]
    return ("d'" if folded[:1] in tuple("aeiouyh") else "de ") + name


# --- Missing data ---------------------------------------------------------------------------


def _missing(row: Row, keys: Iterable[str], why: str) -> list[Finding]:
    """Empty or absent fields. An absent column is only reported when the source was read."""
    found: list[Finding] = []
    for key in keys:
        if row.raw(key) is not None:
            continue
        whole = row.whole(key)
        if whole is not None:
            # One sentence for the whole column; an unreadable one is _whole_dates' to tell.
            said = Finding(
                whole, f"{_cap(_said(whole))} est vide{_marker(row.values[whole])} : {why}"
            )
            if row.raw(whole) is None and said not in found:
                found.append(said)
        elif row.has_column(key):
            shown = _marker(row.values.get(key))
            found.append(Finding(key, f"{_cap(_said(key))} est vide{shown} : {why}"))
        elif row.columns_known():
            found.append(
                Finding(key, f"Votre fichier n'a pas de colonne pour {_said(key)} : {why}")
            )
    return found


def _marker(value: CellValue) -> str:
    if is_nill(value):
        return f" (« {value.strip()} »)"
    return ""


def _uses_dossier(row: Row) -> bool:
    """Block 9 (CPF dossier number) identifies the holder instead of block 8."""
    return row.text("idDossier") is not None and row.text("nomNaissance") is None


def _uses_nir(row: Row) -> bool:
    """The identifiantNational branch: a NIR and none of the other level-1 identity data."""
    return row.raw("nir") is not None and all(
        row.raw(k) is None for k in ("prenom1", "sexe", "anneeNaissance")
    )


def _missing_level1(row: Row) -> list[Finding]:
    if _uses_dossier(row):
        why = "il est obligatoire quand le titulaire est identifié par son dossier de formation."
        return _missing(row, ("nomTitulaire", "prenom1Titulaire"), why)
    if _uses_nir(row):
        why = (
            "avec le NIR, le nom de naissance est la seule autre donnée qui identifie le titulaire."
        )
        return _missing(row, ("nomNaissance",), why)
    keys = list(LEVEL1)
    if row.text("nomUsage") is not None:
        keys.remove("nomNaissance")  # _names says it better
    why = (
        "c'est une donnée obligatoire pour retrouver le titulaire, ce qui peut expliquer le refus."
    )
    return _missing(row, keys, why)


def _missing_level2(row: Row) -> list[Finding]:
    why = (
        "le portail s'en sert pour départager les personnes de même nom, prénom, sexe et "
        "année de naissance, ce qui peut expliquer le refus."
    )
    return _missing(row, LEVEL2, why)


def _missing_place(row: Row) -> list[Finding]:
    if row.raw("codeInsee") is not None or row.raw("codePostal") is not None:
        return []
    return [
        Finding(
            "codeInsee",
            "Ni le code INSEE ni le code postal de la commune de naissance ne sont renseignés : "
            "le lieu de naissance sert à départager les homonymes, ce qui peut expliquer le refus.",
        )
    ]


def _discriminators(row: Row) -> list[Finding]:
    """For 'Plusieurs titulaires': data that would single the holder out."""
    why = "l'ajouter aiderait le portail à distinguer le titulaire parmi ses homonymes."
    found = _missing(row, LEVEL2, why)
    if row.raw("codeInsee") is None and row.raw("codePostal") is None:
        found.append(
            Finding(
                "codeInsee",
                f"Le code INSEE de la commune de naissance n'est pas renseigné : {why}",
            )
        )
    if row.raw("prenom2") is None:
        found.append(
            Finding(
                "prenom2",
                "Aucun deuxième prénom n'est renseigné : si le titulaire en a un, "
                "l'ajouter aiderait à le distinguer.",
            )
        )
    return found


def _generic_missing(row: Row) -> list[Finding]:
    """For unknown messages: only mandatory fields left empty in an existing column (for a
    SUPPRESSION or a passage identified by its NIR, only what its branch holds)."""
    found: list[Finding] = []
    keys: tuple[str, ...] = GENERIC_MANDATORY
    if row.context.action == "SUPPRESSION" or _uses_nir(row):
        keys = ("nomNaissance",) if _uses_nir(row) else ()
    for key in keys:
        whole = row.whole(key)
        if whole is not None:
            if row.raw(whole) is None and all(f.champ != whole for f in found):
                found.append(
                    Finding(
                        whole,
                        f"{_cap(_said(whole))} est vide{_marker(row.values[whole])} : c'est une "
                        "donnée obligatoire, ce qui peut expliquer le refus.",
                    )
                )
        elif key in row.values and row.raw(key) is None:
            found.append(
                Finding(
                    key,
                    f"{_cap(_said(key))} est vide{_marker(row.values.get(key))} : c'est une "
                    "donnée obligatoire, ce qui peut expliquer le refus.",
                )
            )
    return found


# --- Names ----------------------------------------------------------------------------------

_SPOUSE_WORDS = {"epouse", "epse", "ep", "nee", "veuve", "vve", "divorcee", "dite"}
_ODD_CHARS = re.compile(r"[^\w\s'’-]|\d|_")


def _words(text: str) -> list[str]:
    return _LETTERS.findall(fold(text))


def _names(row: Row, same_is_suspect: bool = True) -> list[Finding]:
    if _uses_dossier(row):
        return []
    birth, usage = row.text("nomNaissance"), row.text("nomUsage")
    if birth is None:
        if usage is None:
            return []
        return [
            Finding(
                "nomNaissance",
                f"Le nom de naissance est vide alors que le nom d'usage « {usage} » est rempli : "
                "le portail cherche le titulaire par son nom de naissance, indiquez-le même s'il "
                "diffère du nom d'usage.",
            )
        ]
    found = []
    if _SPOUSE_WORDS & set(_words(birth)):
        found.append(
            Finding(
                "nomNaissance",
                f"Le nom de naissance « {birth} » semble contenir aussi un nom d'épouse ou une "
                "mention (épouse, née…) : n'y laissez que le nom de naissance et mettez l'autre "
                "nom dans le nom d'usage.",
            )
        )
    elif usage is not None:
        found.extend(_birth_vs_usage(row, birth, usage, same_is_suspect))
    if _ODD_CHARS.search(birth):
        found.append(_odd_characters("nomNaissance", birth))
    return found


def _birth_vs_usage(row: Row, birth: str, usage: str, same_is_suspect: bool) -> list[Finding]:
    same = _words(birth) == _words(usage)
    if same and same_is_suspect and (row.text("sexe") or "").upper() == "F":
        return [
            Finding(
                "nomNaissance",
                f"Le nom de naissance et le nom d'usage sont identiques (« {birth} ») : si la "
                "titulaire porte le nom de son conjoint, vérifiez que ce n'est pas ce nom qui a "
                "été mis comme nom de naissance.",
            )
        ]
    birth_words, usage_words = _words(birth), _words(usage)
    if not same and usage_words and _contains(birth_words, usage_words):
        return [
            Finding(
                "nomNaissance",
                f"Le nom de naissance « {birth} » contient le nom d'usage « {usage} » : "
                "vérifiez qu'il s'agit bien du nom de naissance et non d'un nom d'usage composé.",
            )
        ]
    return []


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i : i + n] == part for i in range(len(words) - n + 1))


def _odd_characters(key: str, value: str) -> Finding:
    return Finding(
        key,
        f"{_cap(_said(key))} « {value} » contient des chiffres ou des signes inattendus : "
        "vérifiez-le sur une pièce d'état civil.",
    )


# --- First names ----------------------------------------------------------------------------

# Compound first names usually written with a hyphen (folded). The matching counts hyphens.
COMPOSES = frozenset(
    """
    jean-pierre jean-paul jean-louis jean-marc jean-luc jean-michel jean-claude jean-francois
    jean-baptiste jean-jacques jean-charles jean-philippe jean-yves jean-marie jean-christophe
    jean-noel jean-guy jean-daniel jean-sebastien jean-eudes jean-rene jean-bernard jean-max
    pierre-yves pierre-alexandre pierre-louis pierre-antoine pierre-marie pierre-henri
    paul-henri paul-emile louis-marie charles-henri francois-xavier marc-antoine
    marie-claire marie-christine marie-france marie-laure marie-pierre marie-therese
    marie-helene marie-josee marie-noelle marie-paule marie-line marie-anne marie-ange
    marie-louise marie-odile marie-agnes marie-jeanne marie-madeleine marie-eve marie-lou
    marie-amelie marie-caroline marie-sophie marie-alix marie-charlotte marie-christelle
    anne-marie anne-sophie anne-laure anne-claire anne-lise anne-charlotte anne-cecile
    anne-catherine anne-so lou-anne
    """.split()  # noqa: SIM905
)
# First parts that make a compound name likely even when the pair is not listed.
COMPOSE_STARTS = frozenset({"jean", "marie", "anne", "pierre", "louis", "paul"})
_LIST_SEPARATORS = re.compile(r"[,;/+&]")


def _first_names(row: Row) -> list[Finding]:
    if _uses_dossier(row):
        return []
    first = row.text("prenom1")
    if first is None:
        return []
    found = []
    second = row.text("prenom2")
    parts = first.split()
    if _SPACED_HYPHEN.search(first):
        found.append(
            Finding(
                "prenom1",
                f"Le premier prénom « {first} » a des espaces autour du tiret : écrivez-le comme "
                "à l'état civil, sans espace (« " + _AROUND_HYPHEN.sub("-", first) + " »).",
            )
        )
    elif _LIST_SEPARATORS.search(first) or len(parts) >= 3:
        head = _NAME_SEPARATORS.split(first)[0]
        found.append(
            Finding(
                "prenom1",
                f"Le premier prénom « {first} » semble contenir plusieurs prénoms : n'y mettez "
                f"que le premier (« {head} ») ; les suivants vont dans le deuxième et le "
                "troisième prénom.",
            )
        )
    elif second is not None and len(_words(first)) > 1 and _includes(first, second):
        found.append(
            Finding(
                "prenom1",
                f"Le premier prénom « {first} » contient aussi le deuxième prénom « {second} » : "
                "le portail compare le premier prénom seul, vérifiez-le.",
            )
        )
    elif len(parts) == 2:
        found.append(_space_in_first_name(first, parts))
    elif "-" in first and second is None:
        found.extend(_hyphen_in_first_name(first))
    if _ODD_CHARS.search(first.replace(",", "").replace(";", "").replace("/", "")):
        found.append(_odd_characters("prenom1", first))
    return found


def _includes(first: str, second: str) -> bool:
    return _contains(_words(first), _words(second))


def _space_in_first_name(first: str, parts: list[str]) -> Finding:
    hyphenated = "-".join(parts)
    key = "-".join(_words(first))
    if key in COMPOSES or fold(parts[0]) in COMPOSE_STARTS:
        return Finding(
            "prenom1",
            f"Le premier prénom « {first} » est écrit avec une espace : ce prénom composé "
            f"s'écrit d'ordinaire avec un tiret (« {hyphenated} »), et le portail tient compte "
            "des tirets ; vérifiez l'orthographe exacte sur une pièce d'état civil.",
        )
    return Finding(
        "prenom1",
        f"Le premier prénom « {first} » contient une espace : s'il s'agit d'un prénom composé, "
        f"l'état civil l'écrit peut-être avec un tiret (« {hyphenated} ») ; s'il s'agit de deux "
        f"prénoms, mettez seulement « {parts[0]} » ici et « {parts[1]} » en deuxième prénom.",
    )


def _hyphen_in_first_name(first: str) -> list[Finding]:
    words = _words(first)
    if "-".join(words) in COMPOSES or (words and words[0] in COMPOSE_STARTS):
        return []
    head = first.split("-")[0]
    return [
        Finding(
            "prenom1",
            f"Le premier prénom « {first} » contient un tiret : c'est juste s'il s'agit d'un "
            "prénom composé à l'état civil ; s'il s'agit de deux prénoms distincts, mettez "
            f"seulement « {head} » ici et l'autre en deuxième prénom.",
        )
    ]


def _optional_first_names(row: Row) -> list[Finding]:
    """Level 3 compares every item sent: a wrong optional one may spoil the match."""
    first, second, third = row.text("prenom1"), row.text("prenom2"), row.text("prenom3")
    found = []
    if first and second and _words(first) == _words(second):
        found.append(
            Finding(
                "prenom2",
                f"Le deuxième prénom reprend le premier (« {second} ») : s'il n'y a pas d'autre "
                "prénom, laissez-le vide, une donnée facultative fausse peut faire échouer la "
                "recherche.",
            )
        )
    elif second and third is None and (_LIST_SEPARATORS.search(second) or len(second.split()) > 1):
        found.append(
            Finding(
                "prenom2",
                f"Le deuxième prénom « {second} » semble contenir plusieurs prénoms : le "
                "suivant va dans le troisième prénom.",
            )
        )
    return found


# --- Sex, birth date ------------------------------------------------------------------------

_SEXES = {
    "h": "M",
    "homme": "M",
    "masculin": "M",
    "1": "M",
    "mr": "M",
    "m.": "M",
    "garcon": "M",
    "femme": "F",
    "feminin": "F",
    "2": "F",
    "mme": "F",
    "mlle": "F",
    "fille": "F",
}


def _sexe(row: Row) -> list[Finding]:
    value = row.text("sexe")
    if value is None or value in ("M", "F"):
        return []
    folded = fold(value)
    if folded in ("m", "f"):
        return [
            Finding(
                "sexe",
                f"Le sexe « {value} » est en minuscule : la valeur attendue est "
                f"{folded.upper()}, en majuscule.",
                sure=True,
            )
        ]
    guess = _SEXES.get(folded)
    hint = f" : indiquez plutôt {guess}" if guess else " (M pour un homme, F pour une femme)"
    return [
        Finding(
            "sexe", f"Le sexe « {value} » n'est pas une valeur attendue (M ou F){hint}.", sure=True
        )
    ]


def _reference_date(row: Row) -> tuple[dt.date, str]:
    start = as_date(row.raw("dateDebutValidite"))
    if start is not None:
        said = _REFERENCES.get(start)
        if said is None:
            said = f"à la date de début de validité ({_jjmmaaaa(start)})"
            if len(_REFERENCES) < MEMO_SIZE:
                _REFERENCES[start] = said
        return start, said
    return dt.date.today(), "aujourd'hui"


_REFERENCES: dict[dt.date, str] = {}  # a start date -> how _reference_date says it


def _birth_year(row: Row) -> list[Finding]:
    raw = row.raw("anneeNaissance")
    if raw is None or _uses_dossier(row):
        return []
    year = _as_int(raw)
    shown = _as_text(raw)
    if year is None:
        return [
            Finding(
                "anneeNaissance",
                f"L'année de naissance « {shown} » n'est pas une "
                "année sur 4 chiffres (par exemple 1985).",
                sure=True,
            )
        ]
    if year < 100:
        return [
            Finding(
                "anneeNaissance",
                f"L'année de naissance « {shown} » est écrite sur "
                "2 chiffres : elle doit l'être sur 4 (par exemple 1985).",
                sure=True,
            )
        ]
    if not 1900 <= year <= 2099:
        return [
            Finding(
                "anneeNaissance",
                f"L'année de naissance {year} est hors de la plage "
                "acceptée (1900 à 2099) : vérifiez-la.",
                sure=True,
            )
        ]
    reference, when = _reference_date(row)
    if year > reference.year:
        later = "est postérieure " + when if when.startswith("à") else "est dans le futur"
        return [Finding("anneeNaissance", f"L'année de naissance {year} {later} : vérifiez-la.")]
    if reference.year - year < MIN_AGE:
        return [
            Finding(
                "anneeNaissance",
                f"L'année de naissance {year} donnerait au titulaire moins de {MIN_AGE} ans "
                f"{when} : vérifiez qu'il ne s'agit pas de l'année de l'examen ou d'une autre "
                "date.",
            )
        ]
    return []


def _whole_dates(row: Row) -> list[Finding]:
    """A whole « Date de naissance » column whose cell gives no date (31/02/1985, 15/03/85)."""
    found = []
    for composite in composites():
        raw = row.raw(composite.key)
        problem = whole_date(raw).problem if raw is not None else None
        if problem is not None:
            header = row.context.headers.get(composite.key)
            column = f" (colonne « {header} »)" if header else ""
            found.append(
                Finding(
                    composite.key,
                    f"{_cap(_said(composite.key))} « {_as_text(raw)} »{column} {problem}.",
                    sure=True,
                )
            )
    return found


def _day_month(row: Row, swap: bool) -> list[Finding]:
    """Invalid day or month, impossible dates (31/02), and, for level 2, a possible swap."""
    raw_day, raw_month = row.raw("jourNaissance"), row.raw("moisNaissance")
    day, month = _as_int(raw_day), _as_int(raw_month)
    found = []
    for key, raw, value in (("jourNaissance", raw_day, day), ("moisNaissance", raw_month, month)):
        if raw is not None and value is None:
            found.append(
                Finding(
                    key,
                    f"{_cap(_said(key))} « {_as_text(raw)} » n'est pas un "
                    "nombre : indiquez-le en chiffres.",
                    sure=True,
                )
            )
    if found or day is None or month is None:
        return found
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and month <= 31:
            return [
                Finding(
                    "moisNaissance",
                    f"Le mois de naissance ({month}) n'existe pas, "
                    f"alors que le jour ({day}) pourrait être un mois : le jour et le "
                    "mois ont sans doute été inversés.",
                    sure=True,
                )
            ]
        return [
            Finding(
                "moisNaissance",
                f"Le mois de naissance ({month}) n'est pas un mois valide (1 à 12).",
                sure=True,
            )
        ]
    year = _as_int(row.raw("anneeNaissance"))
    leap_safe = year if year is not None and 1 <= year <= 9999 else 2000
    if not 1 <= day <= calendar.monthrange(leap_safe, month)[1]:
        return [
            Finding(
                "jourNaissance",
                f"La date de naissance {day:02d}/{month:02d} n'existe "
                "pas : vérifiez le jour et le mois.",
                sure=True,
            )
        ]
    if swap and day <= 12 and day != month:
        return [
            Finding(
                "jourNaissance",
                f"Le jour ({day}) et le mois ({month}) de naissance pourraient être inversés : "
                f"vérifiez sur une pièce d'état civil si la date est le {day:02d}/{month:02d} "
                f"ou le {month:02d}/{day:02d}.",
            )
        ]
    return []


# --- Birthplace -----------------------------------------------------------------------------

FRANCE_CODES = {"100", "99100", "FR", "FRA", "XXX", "XXXXX"}
# Whole-city codes whose births are recorded by arrondissement.
PLM = {
    "75056": ("Paris", "75101 à 75120"),
    "69123": ("Lyon", "69381 à 69389"),
    "13055": ("Marseille", "13201 à 13216"),
}
_INSEE_SHAPE = re.compile(r"(\d{2}|2[AB])\d{3}")


@dataclass(frozen=True)
class PlaceCode:
    code: str
    shown: str  # how to name it to the user, with a word on the lost leading zero


def _place_code(raw: CellValue) -> PlaceCode | None:
    text = _as_text(raw)
    if text is None:
        return None
    code = _SPACE.sub("", text).upper()
    if _FOUR_DIGITS.fullmatch(code):
        # A spreadsheet stored 01053 as the number 1053.
        padded = code.zfill(5)
        why = (
            "le tableur a sans doute effacé le zéro initial"
            if isinstance(raw, int | float)
            else "complété d'un zéro initial"
        )
        return PlaceCode(padded, f"{padded} (saisi « {text} » : {why})")
    return PlaceCode(code, code)


def _foreign_country(row: Row) -> tuple[str | None, str | None]:
    """(3-digit country code, label) when the row says the holder was born outside France."""
    code = _as_text(row.raw("codePaysNaissance"))
    if code is not None:
        code = _SPACE.sub("", code).upper()
        code = code.zfill(3) if code.isdigit() and len(code) < 3 else code
        code = code[2:] if _COUNTRY_CODE.fullmatch(code) else code
    label = row.text("libellePaysNaissance")
    foreign_code = code if code is not None and code not in FRANCE_CODES else None
    foreign_label = label if label is not None and not geo.is_french_country_label(label) else None
    if foreign_code is None and foreign_label is None:
        return None, None
    return foreign_code, foreign_label


def _country_hint(code3: str | None, label: str | None) -> str:
    """'99350 pour MAROC' from whatever the row gives."""
    code = f"99{code3}" if code3 and code3.isdigit() else None
    if code is None and label is not None:
        code = geo.country_code_for_label(label)
    name = geo.country_label(code) if code else None
    if code and name:
        return f" (ici {code} pour {name})"
    return ""


def _birthplace(row: Row) -> list[Finding]:
    place = _place_code(row.raw("codeInsee"))
    if place is None:
        postal = _as_text(row.raw("codePostal"))
        return _postal_only(row, postal) if postal else []
    if not _INSEE_SHAPE.fullmatch(place.code):
        return [
            Finding(
                "codeInsee",
                f"Le code de naissance « {place.shown} » n'a pas la forme "
                "d'un code INSEE (5 caractères, par exemple 31555 ou 2A004).",
            )
        ]
    if place.code.startswith("99"):
        return _abroad(row, place)
    code3, label = _foreign_country(row)
    if code3 or label:
        country = label or code3
        return [
            Finding(
                "codeInsee",
                f"Le pays de naissance indiqué (« {country} ») n'est pas la France, mais le code "
                f"de naissance {place.shown} est celui d'une commune française : pour une "
                "naissance à l'étranger, le code INSEE attendu est celui du pays, 5 chiffres "
                f"commençant par 99{_country_hint(code3, label)}.",
            )
        ]
    if geo.is_commune_code(place.code):
        return _known_commune(row, place)
    return _unknown_commune(row, place)


def _abroad(row: Row, place: PlaceCode) -> list[Finding]:
    code = place.code
    if code == "99100":
        return [
            Finding(
                "codeInsee",
                "Le code de naissance 99100 désigne la France : pour une "
                "naissance en France, indiquez le code INSEE de la commune.",
            )
        ]
    if not geo.is_country_code(code):
        return [
            Finding(
                "codeInsee",
                f"Le code de naissance {place.shown} commence par 99 mais "
                "n'est pas un code pays INSEE connu : vérifiez-le.",
            )
        ]
    name = geo.country_label(code) or ""
    found = []
    code3, label = _foreign_country(row)
    if code3 is not None and code3 != code[2:]:
        found.append(
            Finding(
                "codePaysNaissance",
                f"Le code pays ({code3}) ne correspond pas au code INSEE du pays de naissance "
                f"({code}, {name}) : pour une naissance à l'étranger, le code pays reprend ses "
                f"3 derniers chiffres ({code[2:]}).",
            )
        )
    label = row.text("libellePaysNaissance")
    if label is not None:
        expected = geo.country_code_for_label(label)
        if geo.is_french_country_label(label) or (expected is not None and expected != code):
            found.append(
                Finding(
                    "libellePaysNaissance",
                    f"Le pays de naissance « {label} » ne correspond pas au code {code} "
                    f"({name}) : vérifiez lequel des deux est juste.",
                )
            )
    return found


def _known_commune(row: Row, place: PlaceCode) -> list[Finding]:
    code = place.code
    found = []
    if code in PLM:
        city, span = PLM[code]
        found.append(
            Finding(
                "codeInsee",
                f"Le code {place.shown} désigne {city} dans son ensemble : pour une naissance à "
                f"{city}, l'état civil retient l'arrondissement, dont le code INSEE va de {span} ; "
                "indiquer l'arrondissement peut aider à retrouver le titulaire.",
            )
        )
    label = row.text("libelleCommuneNaissance")
    if label is not None and not geo.commune_matches(code, label):
        found.append(_name_mismatch(place, label))
    return found


def _name_mismatch(place: PlaceCode, label: str) -> Finding:
    code = place.code
    actual = geo.commune_label(code)
    arrondissement = geo.arrondissement_for_postal(code)
    if arrondissement and geo.commune_matches(arrondissement, label):
        return Finding(
            "codeInsee",
            f"Le code {place.shown} est le code INSEE {_de(actual)}, mais aussi le code postal de "
            f"« {label} » : le code INSEE {_de(geo.commune_label(arrondissement))} est "
            f"{arrondissement}.",
        )
    return Finding(
        "libelleCommuneNaissance",
        f"La commune de naissance « {label} » ne correspond pas au code INSEE {place.shown}, "
        f"qui est celui {_de(actual)}{_codes_hint(label, code[:2])} : vérifiez lequel des deux "
        "est juste.",
    )


def _codes_hint(label: str, department: str | None) -> str:
    """' ; « Toulouse » a pour code INSEE 31555' when the name leads to few communes."""
    codes = geo.codes_for_name(label, department) if department else ()
    codes = codes or geo.codes_for_name(label)
    if not codes or len(codes) > 3:
        return ""
    return f" (« {label} » a pour code INSEE {' ou '.join(codes)})"


def _department(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def _unknown_commune(row: Row, place: PlaceCode) -> list[Finding]:
    code, label = place.code, row.text("libelleCommuneNaissance")
    if geo.looks_like_postal_code(code):
        arrondissement = geo.arrondissement_for_postal(code)
        if arrondissement:
            hint = f" ; celui {_de(geo.commune_label(arrondissement))} est {arrondissement}"
        elif label and (codes := geo.codes_for_name(label, _department(code))):
            hint = f" ; celui {_de(label)} est {' ou '.join(codes[:3])}"
        else:
            hint = " (par exemple Toulouse : 31555, et non 31000)"
        corsica = " (en Corse, il commence par 2A ou 2B)" if code.startswith("20") else ""
        return [
            Finding(
                "codeInsee",
                f"Le code {place.shown} n'est pas un code INSEE de commune mais ressemble à un "
                f"code postal : le code INSEE est différent{corsica}{hint}.",
            )
        ]
    return [
        Finding(
            "codeInsee",
            f"Le code {place.shown} ne figure pas dans la liste des communes INSEE fournie avec "
            "le modèle de la Caisse des Dépôts : vérifiez-le.",
        )
    ]


def _postal_only(row: Row, postal: str) -> list[Finding]:
    code3, label = _foreign_country(row)
    if code3 or label:
        return [
            Finding(
                "codeInsee",
                f"Le pays de naissance indiqué (« {label or code3} ») n'est pas la France : "
                "pour une naissance à l'étranger, mettez dans le code INSEE de naissance le code "
                f"du pays, 5 chiffres commençant par 99{_country_hint(code3, label)}, plutôt "
                "qu'un code postal.",
            )
        ]
    commune = row.text("libelleCommuneNaissance")
    hint = ""
    digits = _SPACE.sub("", postal)
    digits = geo.lost_leading_zero(digits) or digits
    arrondissement = geo.arrondissement_for_postal(digits)
    if arrondissement:
        hint = f" ({geo.commune_label(arrondissement)} : {arrondissement})"
    elif commune and _FIVE_DIGITS.fullmatch(digits):
        codes = geo.codes_for_name(commune, _department(digits))
        hint = f" (« {commune} » : {' ou '.join(codes[:3])})" if codes else ""
    return [
        Finding(
            "codePostal",
            f"Le lieu de naissance n'est donné que par un code postal ({postal}) : la Caisse des "
            f"Dépôts recommande le code INSEE de la commune{hint}, plus sûr pour retrouver le "
            "titulaire.",
        )
    ]


def _lost_zero(row: Row) -> list[Finding]:
    """A birth place code a spreadsheet stored as a number: its leading zero is gone."""
    found: list[Finding] = []
    text = _as_text(row.raw("codeInsee"))
    padded = geo.lost_leading_zero(text) if text is not None else None
    if text is not None and padded is not None and geo.is_commune_code(padded):
        found.append(
            Finding(
                "codeInsee",
                f"Le code INSEE de naissance « {text} » n'a que 4 chiffres : le tableur a sans "
                f"doute effacé son zéro initial. Code probable : {padded} "
                f"({geo.commune_label(padded)}). Corrigez la cellule et mettez la colonne au "
                "format Texte pour garder le zéro.",
            )
        )
    postal = _as_text(row.raw("codePostal"))
    padded = geo.lost_leading_zero(postal) if postal is not None else None
    if postal is not None and padded is not None:
        label = row.text("libelleCommuneNaissance")
        codes = geo.codes_for_name(label, padded[:2]) if label else ()
        insee = f" (code INSEE de « {label} » : {' ou '.join(codes[:3])})" if codes else ""
        found.append(
            Finding(
                "codePostal",
                f"Le code postal de naissance « {postal} » n'a que 4 chiffres : le tableur a sans "
                f"doute effacé son zéro initial. Code probable : {padded}{insee}. Corrigez la "
                "cellule et mettez la colonne au format Texte pour garder le zéro.",
            )
        )
    return found


# --- Dates, certification, duplicates -------------------------------------------------------

DATE_PAIRS = (
    ("dateDebutValidite", "dateFinValidite", "validité"),
    ("dateDebutExamen", "dateFinExamen", "d'examen"),
)


def _dates(row: Row) -> list[Finding]:
    found: list[Finding] = []
    pairs = []
    for start_key, end_key, what in DATE_PAIRS:
        start, end = _read_date(row, start_key, found), _read_date(row, end_key, found)
        if start and end:
            pairs.append((start_key, end_key, what, start, end))
    for _start_key, end_key, what, start, end in pairs:
        if end < start:
            of = "de " + what if what == "validité" else what
            tail = ", ou vide si la certification n'expire pas." if what == "validité" else "."
            found.append(
                Finding(
                    end_key,
                    f"La date de fin {of} ({_jjmmaaaa(end)}) est antérieure à la date de début "
                    f"{of} ({_jjmmaaaa(start)}) : ce qui correspond à ce refus ; la fin doit "
                    f"être égale ou postérieure au début{tail}",
                    sure=True,
                )
            )
    if not found and pairs:
        found.append(_dates_in_order(pairs))
    return found


def _read_date(row: Row, key: str, found: list[Finding]) -> dt.date | None:
    raw = row.raw(key)
    if raw is None:
        return None
    value = as_date(raw)
    if value is None:
        found.append(
            Finding(
                key,
                f"{_cap(_said(key))} « {_as_text(raw)} » n'est pas une date "
                "lisible (attendu JJ/MM/AAAA).",
                sure=True,
            )
        )
    return value


def _swapped(day: dt.date) -> dt.date | None:
    try:
        return day.replace(day=day.month, month=day.day) if day.day <= 12 else None
    except ValueError:
        return None


def _dates_in_order(pairs: list[tuple[str, str, str, dt.date, dt.date]]) -> Finding:
    """The file looks right: the deposited file may differ, e.g. day and month swapped."""
    for start_key, end_key, _what, start, end in pairs:
        for key, candidate in ((start_key, _swapped(start)), (end_key, _swapped(end))):
            if candidate is None:
                continue
            s, e = (candidate, end) if key == start_key else (start, candidate)
            if e < s:
                return Finding(
                    key,
                    f"Dans votre fichier, {_said(key)} se lit "
                    f"{_jjmmaaaa(start if key == start_key else end)} et les dates sont dans le "
                    "bon ordre ; lue avec le jour et le mois inversés, elles ne le seraient plus : "
                    "vérifiez le format des dates du fichier déposé.",
                )
    return Finding(
        None,
        "Dans votre fichier, les dates de début et de fin de ce passage sont dans le bon ordre : "
        "vérifiez que le fichier déposé contenait bien ces dates (une conversion a pu les "
        "modifier).",
    )


_CERT_CODE = re.compile(r"(?P<prefix>rncp|rs)(?P<sep>[^0-9a-z]*)(?P<number>\d+)", re.IGNORECASE)


def _certification(row: Row, confirm: bool = True) -> list[Finding]:
    raw = row.raw("code")
    kind = row.text("type")
    if raw is None:
        return _missing(row, ("code",), "le portail ne peut pas reconnaître la certification.")
    written = _as_text(raw) or ""
    original = raw if isinstance(raw, str) else written
    compact = _SPACE.sub("", written)
    found = []
    if original != original.strip() or compact != written:
        found.append(
            Finding(
                "code",
                f"Le code de la certification « {original} » contient des "
                f"espaces : écrivez-le sans espace (« {compact} »).",
                sure=True,
            )
        )
    match = _CERT_CODE.fullmatch(compact)
    if compact.isdigit():
        found.append(_no_prefix(compact, kind))
    elif match is None:
        found.append(
            Finding(
                "code",
                f"Le code « {written} » ne ressemble pas à un code de "
                "certification (RNCP ou RS suivi du numéro, par exemple "
                "RNCP34567 ou RS5678).",
                sure=True,
            )
        )
    else:
        found.extend(_prefix_checks(match, kind))
    found.extend(_type_checks(kind, match))
    if not found and confirm:
        found.append(
            Finding(
                "code",
                f"Le code « {written} » et le type « {kind} » sont bien écrits : vérifiez sur "
                "France compétences que cette certification est active et rattachée à votre "
                "habilitation.",
            )
        )
    return found


def _no_prefix(number: str, kind: str | None) -> Finding:
    prefix = (kind or "").strip().upper()
    example = (
        f"ici « {prefix}{number} »"
        if prefix in ("RNCP", "RS")
        else (f"par exemple RNCP{number} ou RS{number}")
    )
    return Finding(
        "code",
        f"Le code de la certification « {number} » n'a pas de préfixe : le portail attend RNCP "
        f"ou RS suivi du numéro France compétences ({example}).",
        sure=True,
    )


def _prefix_checks(match: re.Match[str], kind: str | None) -> list[Finding]:
    prefix, sep, number = match["prefix"], match["sep"], match["number"]
    good = f"{prefix.upper()}{number}"
    found = []
    if sep:
        found.append(
            Finding(
                "code",
                f"Le code « {match[0]} » contient un séparateur entre le "
                f"préfixe et le numéro : écrivez « {good} ».",
                sure=True,
            )
        )
    if prefix != prefix.upper():
        found.append(
            Finding(
                "code",
                f"Le préfixe du code « {match[0]} » est en minuscules : écrivez « {good} ».",
                sure=True,
            )
        )
    type_word = fold(kind or "").upper()
    if type_word in ("RNCP", "RS") and type_word != prefix.upper():
        found.append(
            Finding(
                "type",
                f"Le type « {kind} » ne correspond pas au préfixe du code « {match[0]} » : un "
                "code RNCP va avec le type RNCP, un code RS avec le type RS.",
                sure=True,
            )
        )
    return found


def _type_checks(kind: str | None, match: re.Match[str] | None) -> list[Finding]:
    if kind is None:
        return [
            Finding("type", "Le type de certification est vide : indiquez RNCP ou RS.", sure=True)
        ]
    if kind in ("RNCP", "RS"):
        return []
    upper = fold(kind).upper()
    if upper in ("RNCP", "RS"):
        return [
            Finding(
                "type",
                f"Le type « {kind} » doit s'écrire exactement {upper}, en "
                "majuscules et sans espace.",
                sure=True,
            )
        ]
    expected = f" (ici {match['prefix'].upper()})" if match else ""
    return [
        Finding(
            "type",
            f"Le type « {kind} » n'est pas l'une des valeurs attendues, RNCP ou RS{expected}.",
            sure=True,
        )
    ]


def _doublon(row: Row, id_technique: str) -> list[Finding]:
    context = row.context
    found = []
    if id_technique in context.accepted_ids:
        found.append(
            Finding(
                "idTechnique",
                "Ce passage figure aussi parmi les passages acceptés de cet accusé : il est déjà "
                "enregistré, rien à renvoyer.",
            )
        )
    positions = context.source_positions.get(id_technique, [])
    if len(positions) > 1:
        lines = ", ".join(str(p) for p in positions)
        found.append(
            Finding(
                "idTechnique",
                f"Cet identifiant technique apparaît {len(positions)} fois dans votre fichier "
                f"(lignes {lines}) : une seule de ces lignes a pu être enregistrée ; si ce sont "
                "des passages différents, donnez à chacun un identifiant distinct.",
            )
        )
    if not found:
        # Without a source, only the receipt is known: say nothing about the user's file.
        seen = (
            "Cet identifiant technique n'apparaît qu'une fois dans votre fichier et pas parmi "
            "les passages acceptés de cet accusé"
            if positions
            else "Cet identifiant technique ne figure pas parmi les passages acceptés de cet accusé"
        )
        found.append(
            Finding(
                "idTechnique",
                f"{seen} : il a donc sans doute été enregistré lors d'un dépôt précédent ; s'il "
                "s'agit du même passage, rien à renvoyer, sinon donnez-lui un nouvel identifiant.",
            )
        )
    return found


# --- Families -------------------------------------------------------------------------------

Check = Callable[[Row], list[Finding]]


# --- The NIR ----------------------------------------------------------------------------------
# Messages never quote the NIR: its masked form only (accuse.nir.mask), and no digit of the
# part the mask hides.


def _nir_format(row: Row) -> list[Finding]:
    raw = row.raw("nir")
    if raw is None:
        return []
    read = parse_nir(raw)
    shown = mask_nir(read.typed)
    if read.problem is not None:
        return [Finding("nir", _cap(read.problem))]
    if read.key_ok is False:
        return [
            Finding(
                "nir",
                f"Le NIR ({shown}) a 15 caractères et sa clé (les 2 derniers) ne correspond pas "
                "aux 13 premiers : un chiffre est faux. Vérifiez-le sur la carte Vitale ou "
                "l'attestation de droits, puis ne gardez que les 13 premiers caractères.",
            )
        ]
    if read.key_ok:
        return [
            Finding(
                "nir",
                f"Le NIR ({shown}) est donné avec sa clé (15 caractères) : la clé est juste, "
                "mais le portail n'accepte que les 13 premiers caractères. Retirez la clé "
                "(« accuse reexporter » le fait en écrivant le flux).",
            )
        ]
    return []


def _nir_read(row: Row) -> Nir | None:
    raw = row.raw("nir")
    if raw is None:
        return None
    read = parse_nir(raw)
    return read if read.well_formed and read.key_ok is not False else None


def _nir_sex_year(row: Row) -> list[Finding]:
    """Level 1: the NIR encodes the sex (1st digit) and the year of birth (2nd and 3rd)."""
    read = _nir_read(row)
    if read is None:
        return []
    shown = mask_nir(read.typed)
    found = []
    sex = (row.text("sexe") or "").upper()
    sex = _SEXES.get(fold(sex), sex) if sex not in ("M", "F") else sex
    if sex in ("M", "F") and sex != read.sex:
        word = "un homme" if read.sex == "M" else "une femme"
        found.append(
            Finding(
                "sexe",
                f"Le sexe « {row.text('sexe')} » ne correspond pas au NIR ({shown}), qui commence "
                f"par {read.typed[0]} ({word}) : l'un des deux est faux, vérifiez-les sur une "
                "pièce d'état civil.",
            )
        )
    year = _as_int(row.raw("anneeNaissance"))
    if year is not None and year >= 100 and year % 100 != read.year:
        found.append(
            Finding(
                "anneeNaissance",
                f"L'année de naissance {year} ne correspond pas au NIR ({shown}), dont les "
                f"2e et 3e chiffres donnent une année en « {read.year:02d} » : l'un des deux "
                "est faux.",
            )
        )
    return found


def _nir_month(row: Row) -> list[Finding]:
    """Level 2: the month of birth (4th and 5th digits; 20 and above when it was unknown)."""
    read = _nir_read(row)
    month = _as_int(row.raw("moisNaissance"))
    if read is None or read.month is None or month is None or not 1 <= month <= 12:
        return []
    if month == read.month:
        return []
    return [
        Finding(
            "moisNaissance",
            f"Le mois de naissance ({month}) ne correspond pas au NIR ({mask_nir(read.typed)}), "
            f"dont les 4e et 5e chiffres donnent le mois {read.month} : l'un des deux est faux "
            "(jour et mois inversés ?).",
        )
    ]


def _nir_place(row: Row) -> list[Finding]:
    """Level 3: the birth department and commune (6th to 10th characters; 99 + country)."""
    read = _nir_read(row)
    if read is None:
        return []
    place = _place_code(row.raw("codeInsee"))
    shown = mask_nir(read.typed)
    code = place.code if place is not None and _INSEE_SHAPE.fullmatch(place.code) else None
    country3, _label = _foreign_country(row)
    if read.abroad:
        if code is not None and not code.startswith("99"):
            return [
                Finding(
                    "codeInsee",
                    f"Le NIR ({shown}) est celui d'une personne née à l'étranger (département "
                    f"99), mais le code de naissance {place.shown if place else code} est celui "
                    "d'une commune française : pour une naissance à l'étranger, le code INSEE "
                    "attendu est celui du pays (99 suivi de 3 chiffres).",
                )
            ]
        if code is not None and code != read.place:
            return [
                Finding(
                    "codeInsee",
                    f"Le code pays de naissance {code} ne correspond pas au pays inscrit dans "
                    f"le NIR ({shown}) : l'un des deux est faux.",
                )
            ]
        if code is None and country3 is not None and country3 != read.place[2:]:
            return [
                Finding(
                    "codePaysNaissance",
                    f"Le code pays ({country3}) ne correspond pas au pays de naissance inscrit "
                    f"dans le NIR ({shown}) : l'un des deux est faux.",
                )
            ]
        return []
    if code is None:
        return []
    if code.startswith("99"):
        return [
            Finding(
                "codeInsee",
                f"Le code de naissance {code} désigne un pays étranger, mais le NIR ({shown}) "
                "est celui d'une personne née en France : l'un des deux est faux.",
            )
        ]
    department = read.place[:3] if read.place.startswith("97") else read.department
    if not code.startswith(department):
        return [
            Finding(
                "codeInsee",
                f"Le département du code de naissance {place.shown if place else code} "
                f"({_department(code)}) n'est pas celui inscrit dans le NIR ({shown}, 6e et 7e "
                "caractères) : l'un des deux est faux.",
            )
        ]
    if code != read.place:
        return [
            Finding(
                "codeInsee",
                f"La commune du code de naissance {place.shown if place else code} n'est pas "
                f"celle inscrite dans le NIR ({shown}, 8e à 10e caractères), dans le même "
                "département : vérifiez-la (une commune fusionnée depuis la naissance garde "
                "parfois l'ancien code dans le NIR).",
            )
        ]
    return []


NIR_LEVEL1: tuple[Check, ...] = (_nir_format, _nir_sex_year)
IDENTITY: tuple[Check, ...] = (
    _whole_dates,
    _missing_level1,
    _names,
    _first_names,
    _sexe,
    _birth_year,
    *NIR_LEVEL1,
)
LEVEL2_CHECKS: tuple[Check, ...] = (
    _missing_level2,
    lambda row: _day_month(row, swap=True),
    _nir_month,
)
PLACE_CHECKS: tuple[Check, ...] = (
    _missing_place,
    _lost_zero,
    _birthplace,
    _optional_first_names,
    _nir_place,
)
FAMILIES: dict[str, tuple[Check, ...]] = {
    "TITULAIRE_INTROUVABLE_N1": IDENTITY,
    "TITULAIRE_INTROUVABLE_N2": (*IDENTITY, *LEVEL2_CHECKS),
    "TITULAIRE_INTROUVABLE_N3": (
        *IDENTITY,
        _missing_level2,
        lambda row: _day_month(row, swap=False),
        _nir_month,
        *PLACE_CHECKS,
    ),
    "TITULAIRES_MULTIPLES": (
        *IDENTITY,
        _discriminators,
        lambda row: _day_month(row, swap=False),
        _nir_month,
        _lost_zero,
        _birthplace,
        Memoised(_optional_first_names, "prenom1", "prenom2", "prenom3"),
        _nir_place,
    ),
    "DATES_INCOHERENTES": (_dates,),
    "CERTIFICATION_INCONNUE": (_certification,),
}


# A refusal about the NIR branch has never been seen: any NIR problem may be its cause.
UNKNOWN_CHECKS: tuple[Check, ...] = (
    _whole_dates,
    _generic_missing,
    _nir_format,
    _nir_sex_year,
    _nir_month,
)


def prepare(codes: Iterable[str]) -> None:
    """Load the reference data the checks of these families will use (the INSEE lists,
    a few tenths of a second): a caller with time to spare calls it ahead."""
    if any(_birthplace in FAMILIES.get(code, ()) for code in codes):
        geo.prepare()


def diagnose(
    code: str, idTechnique: str, values: Mapping[str, CellValue], context: DiagnosisContext
) -> list[Finding]:
    """Findings for one rejected passage of family `code`, from its source row `values`
    (dictionary key -> cell as read). Unknown families only get empty mandatory fields."""
    row = Row(values, context)
    if code == "DOUBLON":
        return _doublon(row, idTechnique)
    found: list[Finding] = []
    wholes = {c.key for c in composites()}
    for check in FAMILIES.get(code, UNKNOWN_CHECKS):
        for finding in check(row):
            if finding.champ in wholes and any(f.champ == finding.champ for f in found):
                continue  # a whole date column is empty or unreadable: said once
            if finding not in found:
                found.append(finding)
    return found


# --- Before the deposit ---------------------------------------------------------------------

_AHEAD_LEVEL2 = (
    "le portail s'en sert pour départager les personnes de même nom, prénom, sexe et année de "
    "naissance ; sans lui, le passage risque d'être refusé (plusieurs titulaires possibles)."
)


def _identity_elsewhere(row: Row) -> bool:
    """Identified by a CPF dossier or by the NIR alone, or withdrawn: no homonyms to tell."""
    return _uses_dossier(row) or _uses_nir(row) or row.context.action == "SUPPRESSION"


def _missing_level2_ahead(row: Row) -> list[Finding]:
    if _identity_elsewhere(row):
        return []
    return _missing(row, LEVEL2, _AHEAD_LEVEL2)


def _missing_place_ahead(row: Row) -> list[Finding]:
    if _identity_elsewhere(row) or row.raw("codeInsee") is not None:
        return []
    if row.raw("codePostal") is not None:
        return []
    return [
        Finding(
            "codeInsee",
            "Ni le code INSEE ni le code postal de la commune de naissance ne sont renseignés : "
            "le lieu de naissance sert à départager les homonymes ; sans lui, le passage risque "
            "d'être refusé si le titulaire a des homonymes.",
        )
    ]


def _names_ahead(row: Row) -> list[Finding]:
    # Before a refusal, a usage name equal to the birth name is the common, right case.
    return _names(row, same_is_suspect=False)


# What _birthplace reads of a row.
_PLACE_KEYS = (
    "codeInsee",
    "codePostal",
    "codePaysNaissance",
    "libellePaysNaissance",
    "libelleCommuneNaissance",
)
# Each check, under the refusal family it announces.
PREDICTORS: dict[str, tuple[Check, ...]] = {
    "TITULAIRE_INTROUVABLE_N1": (
        Memoised(_names_ahead, "nomNaissance", "nomUsage", also=_uses_dossier),
        Memoised(_first_names, "prenom1", "prenom2", also=_uses_dossier),
        _birth_year,
        _nir_format,
        _nir_sex_year,
    ),
    "TITULAIRE_INTROUVABLE_N2": (lambda row: _day_month(row, swap=False), _nir_month),
    "TITULAIRE_INTROUVABLE_N3": (
        Memoised(_lost_zero, "codeInsee", "codePostal", "libelleCommuneNaissance"),
        Memoised(_birthplace, *_PLACE_KEYS),
        Memoised(_optional_first_names, "prenom1", "prenom2", "prenom3"),
        _nir_place,
    ),
    "TITULAIRES_MULTIPLES": (_missing_level2_ahead, _missing_place_ahead),
}


_NIR_CHECKS = (_nir_format, _nir_sex_year, _nir_month, _nir_place)
_WITHOUT_NIR = {
    family: tuple(c for c in checks if c not in _NIR_CHECKS)
    for family, checks in PREDICTORS.items()
}


def predict(
    values: Mapping[str, CellValue], context: DiagnosisContext
) -> list[tuple[str, Finding]]:
    """Before a deposit: what is known to make the identity matching fail on this row, each
    with the refusal family it may bring. Never a certainty: what to check, not an error."""
    row = Row(values, context)
    found: list[tuple[str, Finding]] = []
    seen: set[Finding] = set()
    # Without a NIR cell, the NIR's checks have nothing to say.
    for family, checks in (PREDICTORS if "nir" in values else _WITHOUT_NIR).items():
        for check in checks:
            for finding in check(row):
                if finding not in seen:
                    seen.add(finding)
                    found.append((family, finding))
    return found


def certification_coherence(values: Mapping[str, CellValue]) -> list[Finding]:
    """Type and code that the portal would not recognise (a code without its prefix, spaces,
    RS with an RNCP code…); nothing when both are well written."""
    row = Row(values, _NO_CONTEXT)
    if row.raw("code") is None:
        return []  # an empty code is the field checks' to tell
    return _coherence(row)


def _written_certification(row: Row) -> list[Finding]:
    return _certification(row, confirm=False)


_NO_CONTEXT = DiagnosisContext()
# A file has few certifications: each (code, type) is checked once.
_coherence = Memoised(_written_certification, "code", "type")
