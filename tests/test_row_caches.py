"""The caches that make `accuse verifier` and `accuse generer` cheap per row give the answers the
plain computation gives, and stay bounded however many distinct values a file holds."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from accuse.fix import checks
from accuse.fix.checks import NIL, converted
from accuse.model import CellValue, DiagnosisContext, FluxAction, SchemaVersion
from accuse.pipeline import diagnosis
from accuse.pipeline.diagnosis import PREDICTORS, Memoised, Row, certification_coherence, predict
from accuse.reference import geo

# Cells as users' files hold them, for every kind of field: text, numbers typed as text, the
# same number as int, float and bool (True == 1 == 1.0 in Python), dates in every shape, NILL,
# blanks, values the portal would refuse.
SAMPLES: dict[str, list[CellValue]] = {
    "idTechnique": ["P-1", "  P-2 ", "", None],
    "type": ["RNCP", "rncp", "RS", "Autre", None, "NILL"],
    "code": ["RNCP34567", "34567", 34567, None],
    "natureDeposant": ["CERTIFICATEUR", "TIERS_DE_CONFIANCE", "x"],
    "obtentionCertification": ["PAR_ADMISSION", "par_admission", "NILL", None],
    "donneeCertifiee": [True, False, 1, 0, 1.0, "OUI", "non", "peut-être", None],
    "dateDebutValidite": [
        dt.date(2024, 3, 1),
        dt.datetime(2024, 3, 1, 0, 0),
        "01/03/2024",
        "2024-03-01",
        45352,
        45352.0,
        True,
        "31/02/2024",
        None,
    ],
    "dateFinValidite": [None, "NILL", "01/03/2030", dt.date(1850, 1, 1)],
    "niveau": [1, 1.0, True, "1", " 7 ", "x", 99, None],
    "scoreGeneral": [None, 100, "100", "abc"],
    "libelleOption": [1, True, 1.0, "1", "un texte", "x" * 300, None],
    "nomNaissance": ["Dupont", " DUPONT ", "", None, "NIL"],
    "prenom1": ["Jean", None, ""],
    "sexe": ["M", "F", "f", 1, None],
    "anneeNaissance": [1985, 1985.0, "1985", "85", True, None],
    "moisNaissance": [3, "03", 13, None],
    "jourNaissance": [1, "1", 31, None],
    "codeInsee": [31555, "31555", 1053, "01053", None, "NILL"],
    "codePostal": [31000, "31000", None],
    "nir": [None, "", "1850531555123", "185053155512"],
    "idDossier": [None, "D-1"],
}


def _rows() -> list[dict[str, CellValue]]:
    """Rows that walk through every sample of every field, several fields changing at once."""
    longest = max(len(v) for v in SAMPLES.values())
    rows = []
    for shift in range(3):
        for i in range(longest):
            rows.append(
                {k: v[(i + shift * (j + 1)) % len(v)] for j, (k, v) in enumerate(SAMPLES.items())}
            )
    return rows


def _plain(outcome: tuple[dict[str, object], list[checks.Problem]]) -> tuple[list, list]:
    passage, problems = outcome
    return [(k, "NIL" if v is NIL else v, type(v)) for k, v in passage.items()], problems


@pytest.mark.parametrize("version", ["1.1.2", "1.1.5"])
@pytest.mark.parametrize("action", ["CREATION", "SUPPRESSION"])
def test_conversion_gives_the_same_with_and_without_its_cache(
    monkeypatch: pytest.MonkeyPatch, version: SchemaVersion, action: FluxAction
) -> None:
    rows = _rows()
    # Some rows lack columns (the plan then decides their fields once).
    rows += [{k: v for k, v in row.items() if hash(k) % 3} for row in rows[:10]]

    def run() -> list:
        return [
            _plain(converted(r, n, f"id{n}", version=version, action=action))
            for n, r in enumerate(rows)
        ]

    checks.conversion.cache_clear()  # plans hold their fields' caches
    monkeypatch.setattr(checks, "_outcomes", {})
    monkeypatch.setattr(checks, "CACHE_SIZE", 0)  # nothing remembered: each cell converted anew
    plain = run()
    assert checks._outcomes and not any(checks._outcomes.values())
    monkeypatch.setattr(checks, "CACHE_SIZE", 4096)
    first, again = run(), run()  # filling the cache, then answering from it
    assert any(checks._outcomes.values())
    assert first == plain
    assert again == plain


def test_the_cache_tells_apart_values_python_finds_equal() -> None:
    """True == 1 == 1.0, but a text cell holding them reads "True", "1" and "1" (cell_text)."""
    written = []
    for value in (1, True, 1.0, "1", True, 1):
        passage, _ = converted({"libelleOption": value}, 2, "P")
        written.append(passage["libelleOption"])
    assert written == ["1", "True", "1", "1", "True", "1"]


def test_the_cache_stays_bounded_on_a_column_of_distinct_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checks.conversion.cache_clear()
    monkeypatch.setattr(checks, "_outcomes", {})
    monkeypatch.setattr(checks, "CACHE_SIZE", 50)
    for n in range(500):
        passage, _ = converted({"nomNaissance": f"Nom{n}", "libelleOption": f"opt{n}"}, n, f"P{n}")
        assert passage["nomNaissance"] == f"Nom{n}"  # still converted once the cache is full
    assert checks._outcomes
    assert all(len(cache) <= 50 for cache in checks._outcomes.values())
    assert max(len(cache) for cache in checks._outcomes.values()) == 50


def test_a_row_reads_each_cell_once_and_gives_what_a_fresh_reading_gives() -> None:
    context = DiagnosisContext(columns=frozenset(SAMPLES))
    for values in _rows():
        row = Row(values, context)
        asked = [(row.raw(k), row.text(k)) for k in [*SAMPLES, "absent", *SAMPLES]]
        fresh = [
            (Row(values, context).raw(k), Row(values, context).text(k))
            for k in [*SAMPLES, "absent", *SAMPLES]
        ]
        assert asked == fresh
        assert [type(a) for a, _ in asked] == [type(a) for a, _ in fresh]
        # The same row asked again (predict) gives the same findings as a new one.
        assert predict(values, context) == predict(dict(values), context)


def test_commune_names_are_compared_as_before_and_remembered_within_bounds() -> None:
    pairs = itertools.product(
        ("31555", "75115", "01015", "2A004", "99999"),
        ("Toulouse", "TOULOUSE", "Paris", "Arbignieu", "Ajaccio", "St Etienne", ""),
    )
    geo.commune_matches.cache_clear()
    for code, label in pairs:
        plain = geo.commune_matches.__wrapped__(code, label)
        assert geo.commune_matches(code, label) == plain
        assert geo.commune_matches(code, label) == plain  # from the cache
    info = geo.commune_matches.cache_info()
    assert info.hits >= 35 and info.maxsize is not None and info.maxsize <= 4096


PLACES: list[dict[str, CellValue]] = [
    {"codeInsee": 31555, "libelleCommuneNaissance": "Toulouse"},
    {"codeInsee": "31555", "libelleCommuneNaissance": "Albi"},
    {"codeInsee": 1053, "libelleCommuneNaissance": "Bourg-en-Bresse"},
    {"codeInsee": 1053.0, "libelleCommuneNaissance": "Bourg-en-Bresse"},
    {"codeInsee": "01053"},
    {"codeInsee": "75056", "libelleCommuneNaissance": "Paris"},
    {"codeInsee": "31000", "libelleCommuneNaissance": "Toulouse"},
    {"codeInsee": "99350", "codePaysNaissance": "351", "libellePaysNaissance": "France"},
    {"codeInsee": "31555", "codePaysNaissance": "350", "libellePaysNaissance": "Maroc"},
    {"codePostal": 1000, "libelleCommuneNaissance": "Bourg-en-Bresse"},
    {"codePostal": "75015", "libelleCommuneNaissance": "Paris"},
    {"codePostal": "NILL", "codeInsee": " "},
    {},
]
PEOPLE: list[dict[str, CellValue]] = [
    {"nomNaissance": "Martin", "prenom1": "Léa", "sexe": "F", "anneeNaissance": 1990},
    {"nomNaissance": "Martin épouse Durand", "prenom1": "Jean Pierre", "prenom2": "Paul"},
    {"nomNaissance": "Durand", "nomUsage": "Durand", "prenom1": "Marie-Claire"},
    {
        "nomNaissance": "Durand Martin",
        "nomUsage": "Martin",
        "prenom1": "Jean-Luc",
        "prenom2": "Luc",
    },
    {"nomNaissance": None, "nomUsage": "Martin", "prenom1": "Zoé, Anne", "prenom2": "Zoé"},
    {"idDossier": "D-1", "nomNaissance": None, "prenom1": "Jean Pierre", "prenom2": "Paul"},
    {"idDossier": "D-1", "nomNaissance": "Martin", "prenom1": "Jean Pierre", "prenom2": "Paul"},
    {"nomNaissance": "M4rtin", "prenom1": "Anne - Sophie", "prenom2": "Paul Louis"},
    {"nomNaissance": "Martin", "prenom1": "Léa", "prenom2": "Léa", "prenom3": "Rose"},
    {"nomNaissance": "Martin", "prenom1": "Léa", "prenom2": "Anne Rose", "prenom3": None},
    {"nomNaissance": 12, "prenom1": 3.5, "prenom2": True, "anneeNaissance": "85"},
]
CERTIFICATIONS: list[dict[str, CellValue]] = [
    {"code": "RNCP34567", "type": "RNCP"},
    {"code": "rncp 34567", "type": "RS"},
    {"code": 34567, "type": "RNCP"},
    {"code": 34567.0, "type": None},
    {"code": "34567 ", "type": "rs"},
    {"code": "RS-5678", "type": "RS"},
    {"code": "XYZ", "type": "Autre"},
    {"code": True, "type": "RNCP"},
    {"code": None, "type": "RNCP"},
]


def _findings(values: dict[str, CellValue], context: DiagnosisContext) -> tuple[list, list]:
    predicted = [(f, x.champ, x.message, x.sure) for f, x in predict(values, context)]
    coherence = [(x.champ, x.message, x.sure) for x in certification_coherence(values)]
    return predicted, coherence


def _memos() -> list[Memoised]:
    checks = [c for family in PREDICTORS.values() for c in family]
    return [c for c in [*checks, diagnosis._coherence] if isinstance(c, Memoised)]


def test_memoised_checks_give_the_same_with_and_without_their_memo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        {**person, **place, **certification}
        for person, place, certification in zip(
            itertools.cycle(PEOPLE),
            [p for p in PLACES for _ in CERTIFICATIONS],
            itertools.cycle(CERTIFICATIONS),
            strict=False,
        )
    ]
    rows += [{**person, **PLACES[0], **CERTIFICATIONS[0]} for person in PEOPLE]
    context = DiagnosisContext(columns=frozenset(k for r in rows for k in r))
    memos = _memos()
    assert len(memos) >= 6  # names, first names, optional ones, birthplace, lost zero, code
    for memo in memos:
        monkeypatch.setattr(memo, "memo", {})
    monkeypatch.setattr(diagnosis, "MEMO_SIZE", 0)
    plain = [_findings(r, context) for r in rows]
    assert not any(m.memo for m in memos)
    monkeypatch.setattr(diagnosis, "MEMO_SIZE", 4096)
    first = [_findings(r, context) for r in rows]
    again = [_findings(r, context) for r in rows]
    assert all(m.memo for m in memos)
    assert first == plain
    assert again == plain
    # Each call has its own list: changing one leaves the memo as it was.
    certification_coherence(CERTIFICATIONS[1]).clear()
    assert certification_coherence(CERTIFICATIONS[1]) == certification_coherence(
        dict(CERTIFICATIONS[1])
    )
    assert certification_coherence(CERTIFICATIONS[1])


def test_memoised_checks_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for memo in _memos():
        monkeypatch.setattr(memo, "memo", {})
    monkeypatch.setattr(diagnosis, "MEMO_SIZE", 20)
    context = DiagnosisContext(columns=frozenset({"codeInsee", "code", "type"}))
    for n in range(200):
        values: dict[str, CellValue] = {"codeInsee": f"{n:05d}", "code": f"RNCP{n}", "type": "RS"}
        assert predict(values, context) == predict(dict(values), context)
        assert certification_coherence(values)  # RNCP code with type RS: said every time
    assert all(len(m.memo) <= 20 for m in _memos())
    assert max(len(m.memo) for m in _memos()) == 20


def test_header_ids_are_judged_as_header_value_judges_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_headers", {})
    monkeypatch.setattr(checks, "CACHE_SIZE", 30)
    values: list[CellValue] = ["03VML243", " 03VML243 ", 12345678, 12345678.0, True, "x" * 40]
    values += [f"E{n:07d}" for n in range(100)]
    for value in values * 2:
        try:
            checks.header_value("idClientEmetteur", value)
            expected = None
        except checks.FieldError as error:
            expected = (str(error), error.family)
        assert checks.cached_header("idClientEmetteur", value) == expected
    assert len(checks._headers) == 30


def test_the_deadline_of_a_start_date_is_told_the_same_from_the_memo() -> None:
    from accuse.fix import verify
    from accuse.model import Source, SourceRow
    from accuse.reference.catalogue import load_shipped

    today = dt.date(2026, 11, 25)
    starts: list[CellValue] = [
        dt.date(2026, 1, 5),
        "05/01/2026",
        46027,
        dt.date(2026, 9, 10),
        dt.datetime(2026, 10, 1, 8, 30),
        "pas une date",
        None,
        True,
    ]
    source = Source(
        path=Path("s.xlsx"),
        kind="xlsx",
        layout="plat",
        sheet=None,
        headers=["Début"],
        columns={"dateDebutValidite": 0},
        header_row=1,
    )
    said = []
    shared: dict[tuple[type, CellValue], tuple[str, str] | None] = {}
    for memo in (None, shared):  # a fresh memo for each row, then one for the whole file
        found = verify._Collector(load_shipped())
        for n, start in enumerate(starts * 3):
            row = SourceRow(position=n + 2, idTechnique=f"P{n}", values=(start,))
            verify._deadline(source, row, today, found, {} if memo is None else memo)
        said.append([(p.code, p.message, p.ligne) for p in found.problems])
    assert said[0] == said[1]
    assert {code for code, _, _ in said[0]} == {"ECHEANCE_DEPASSEE", "ECHEANCE_PROCHE"}
    assert len(shared) == len(starts)


def test_passage_lines_are_the_same_from_the_cache_and_it_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accuse.fix import fluxwriter

    rows = _rows()
    passages = [converted(r, n, f"id{n}")[0] for n, r in enumerate(rows)]
    passages += [
        {**passages[0], "libelleOption": "a & <b> é\r\n"},
        {**passages[1], "verbatim": NIL},
    ]
    fluxwriter._lines.cache_clear()
    monkeypatch.setattr(fluxwriter, "LINES_SIZE", 0)
    plain = [fluxwriter.passage_xml(p) for p in passages]
    assert not any(lines for _, lines in fluxwriter._lines(1, fluxwriter._keys("passage")))
    monkeypatch.setattr(fluxwriter, "LINES_SIZE", 3)
    assert [fluxwriter.passage_xml(p) for p in passages] == plain
    assert [fluxwriter.passage_xml(p) for p in passages] == plain
    remembered = [lines for _, lines in fluxwriter._lines(1, fluxwriter._keys("passage"))]
    assert any(remembered) and max(len(lines) for lines in remembered) == 3
    with pytest.raises(ValueError, match="XML compatible"):
        fluxwriter.passage_xml({**passages[0], "libelleOption": "bip\x07"})


def test_messages_are_masked_the_same_from_the_memo_which_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accuse.fix import verify
    from accuse.nir import mask_in_text
    from accuse.reference.catalogue import load_shipped

    monkeypatch.setattr(verify, "MASK_MEMO", 3)
    found = verify._Collector(load_shipped())
    nirs = [f"18505{n:02d}555123" for n in range(8)]
    messages = [f"Le NIR {nir} ne va pas." for nir in nirs] * 2 + ["Rien à masquer."] * 2
    for n, message in enumerate(messages):
        found.add("XSD_FORMAT", "risque", message, ligne=n, key="nir")
    shown = [p.message for p in found.problems]
    assert shown == [mask_in_text(m) for m in messages]
    assert not any(nir in text for nir in nirs for text in shown)
    assert len(found._masked) == 3
