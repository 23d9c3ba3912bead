"""accuse.reference.geo on the shipped INSEE files (built from the CDC template)."""

from __future__ import annotations

from importlib import resources

import pytest

from accuse.reference import geo


def test_data_files_are_small() -> None:
    data = resources.files("accuse").joinpath("data")
    sizes = [
        data.joinpath(name).read_bytes() for name in ("insee-communes.csv.gz", "insee-pays.csv.gz")
    ]
    assert sum(len(s) for s in sizes) < 500_000


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("31555", "Toulouse"),
        ("01053", "Bourg-en-Bresse"),
        ("2A004", "Ajaccio"),
        ("2a004", "Ajaccio"),
        ("75115", "Paris 15e Arrondissement"),
        ("69383", "Lyon 3e Arrondissement"),
        ("97411", "Saint-Denis"),
    ],
)
def test_commune_label(code: str, label: str) -> None:
    assert geo.commune_label(code) == label
    assert geo.is_commune_code(code)


def test_delegated_commune_shares_its_code_but_the_commune_comes_first() -> None:
    assert geo.commune_label("01015") == "Arboys en Bugey"
    assert [c.type for c in geo.communes("01015")] == ["COM", "COMD"]
    assert geo.commune_matches("01015", "Arbignieu")


@pytest.mark.parametrize("code", ["31000", "75015", "1053", "99350", "", "XXXXX", "2C004"])
def test_not_commune_codes(code: str) -> None:
    assert not geo.is_commune_code(code)
    assert geo.commune_label(code) is None


def test_countries() -> None:
    assert geo.country_label("99350") == "MAROC"
    assert geo.is_country_code("99350")
    assert geo.country_label("99101") == "DANEMARK"  # the current country before Féroé
    assert not geo.is_country_code("99100")
    assert not geo.is_country_code("XXXXX")
    assert geo.country_label("XXXXX") is None
    assert not geo.is_country_code("31555")
    assert geo.country_code_for_label("Maroc") == "99350"
    assert geo.country_code_for_label("Atlantide") is None


@pytest.mark.parametrize("label", ["France", "FRANCE", "fr", "La Réunion", "Guadeloupe"])
def test_french_country_labels(label: str) -> None:
    assert geo.is_french_country_label(label)


@pytest.mark.parametrize("label", ["Maroc", "Belgique", "Francfort"])
def test_foreign_country_labels(label: str) -> None:
    assert not geo.is_french_country_label(label)


@pytest.mark.parametrize("code", ["31000", "75015", "20000", "97400", "33000"])
def test_looks_like_postal_code(code: str) -> None:
    assert geo.looks_like_postal_code(code)


@pytest.mark.parametrize("code", ["31555", "2A004", "99350", "3100", "ABCDE", "00100", "98800"])
def test_does_not_look_like_postal_code(code: str) -> None:
    assert not geo.looks_like_postal_code(code)


@pytest.mark.parametrize(
    ("postal", "insee"),
    [("75015", "75115"), ("75001", "75101"), ("69003", "69383"), ("13008", "13208")],
)
def test_arrondissement_for_postal(postal: str, insee: str) -> None:
    assert geo.arrondissement_for_postal(postal) == insee


@pytest.mark.parametrize("code", ["75021", "75000", "69010", "13017", "31000"])
def test_no_arrondissement_for_other_codes(code: str) -> None:
    assert geo.arrondissement_for_postal(code) is None


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("31555", "TOULOUSE"),
        ("42218", "ST ETIENNE"),
        ("42218", "Saint-Étienne (42)"),
        ("85194", "Sables d'Olonne"),
        ("75115", "Paris"),
        ("75115", "PARIS 15E"),
        ("75115", "Paris 15ème arrondissement"),
        ("13201", "Marseille 1er"),
        ("01001", "Abergement Clemenciat"),
        ("31555", ""),
    ],
)
def test_commune_matches(code: str, label: str) -> None:
    assert geo.commune_matches(code, label)


@pytest.mark.parametrize(
    ("code", "label"),
    [("31555", "Toulouges"), ("75115", "Paris 16e"), ("75115", "Lyon"), ("13001", "Marseille")],
)
def test_commune_does_not_match(code: str, label: str) -> None:
    assert not geo.commune_matches(code, label)


def test_codes_for_name() -> None:
    assert geo.codes_for_name("Toulouse") == ("31555",)
    assert "93066" in geo.codes_for_name("Saint-Denis")
    assert geo.codes_for_name("St Denis", "93") == ("93066",)
    assert geo.codes_for_name("Ajaccio", "20") == ("2A004",)
    assert geo.codes_for_name("Nulle-Part-Sur-Rien") == ()


def test_codes_for_name_agrees_with_a_full_index() -> None:
    """The lookup searches the folded names for one word of the key instead of reducing every
    name up front: it must find exactly what an index of every reduced name finds, in order."""
    index: dict[str, list[str]] = {}
    for code, entries in geo._communes().items():
        for entry in entries:
            codes = index.setdefault(geo.place_key(entry.libelle), [])
            if code not in codes:
                codes.append(code)
    names = [*sorted(index)[::40], "saint", "sainte marie", "paris 15", "sables olonne"]
    for name in names:
        assert geo.codes_for_name(name) == tuple(index.get(name, ())), name
    assert geo.codes_for_name("ST-ÉTIENNE (42)") == ("42218",)
    assert geo.codes_for_name("Paris 15e Arrondissement") == ("75115",)
