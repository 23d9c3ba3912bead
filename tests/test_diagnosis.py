"""Row-level checks of accuse.pipeline.diagnosis: each check on rows that should and should not trigger it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest

from accuse.model import CellValue, DiagnosisContext, Finding
from accuse.pipeline.diagnosis import diagnose

N1, N2, N3 = "TITULAIRE_INTROUVABLE_N1", "TITULAIRE_INTROUVABLE_N2", "TITULAIRE_INTROUVABLE_N3"
MULTI = "TITULAIRES_MULTIPLES"

# A holder whose row is right at every level of the funnel.
GOOD: dict[str, CellValue] = {
    "nomNaissance": "DUPONT",
    "nomUsage": "NILL",
    "prenom1": "Jean-Pierre",
    "prenom2": "Louis",
    "prenom3": None,
    "anneeNaissance": 1985,
    "moisNaissance": 7,
    "jourNaissance": 14,
    "sexe": "M",
    "codeInsee": "31555",
    "libelleCommuneNaissance": "Toulouse",
    "codePaysNaissance": None,
    "libellePaysNaissance": None,
    "dateDebutValidite": dt.date(2024, 6, 1),
}


def run(
    code: str,
    changes: Mapping[str, CellValue] | None = None,
    *,
    drop: tuple[str, ...] = (),
    context: DiagnosisContext | None = None,
    idt: str = "P1",
) -> list[Finding]:
    values = {**GOOD, **(changes or {})}
    for key in drop:
        values.pop(key, None)
    context = context or DiagnosisContext(columns=frozenset(values))
    return diagnose(code, idt, values, context)


def about(findings: list[Finding], champ: str | None) -> list[str]:
    return [f.message for f in findings if f.champ == champ]


def has(findings: list[Finding], champ: str | None, *words: str) -> bool:
    return any(all(w in m for w in words) for m in about(findings, champ))


# --- The good row ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", [N1, N2, N3])
def test_good_row_has_no_finding(code: str) -> None:
    assert run(code) == []


def test_good_row_only_gets_suggestions_for_several_holders() -> None:
    assert run(MULTI) == []
    found = run(MULTI, {"prenom2": None, "jourNaissance": "NILL"})
    assert has(found, "prenom2", "deuxième prénom")
    assert has(found, "jourNaissance", "jour de naissance", "distinguer")


def test_findings_are_french_sentences_without_certainty() -> None:
    found = run(N3, {"prenom1": "Jean Pierre", "codeInsee": "31000", "sexe": "H"})
    assert found
    for finding in found:
        assert finding.message[0].isupper() and finding.message.endswith(".")
        assert "certainement" not in finding.message


# --- Missing mandatory data -----------------------------------------------------------------


def test_missing_level1_fields() -> None:
    found = run(N1, {"prenom1": "  ", "sexe": "NILL"}, drop=("anneeNaissance",))
    assert has(found, "prenom1", "Le premier prénom est vide", "obligatoire")
    assert has(found, "sexe", "vide (« NILL »)")
    assert has(found, "anneeNaissance", "pas de colonne pour l'année de naissance")


def test_absent_column_is_not_reported_when_the_source_is_unknown() -> None:
    found = diagnose(N1, "P1", {}, DiagnosisContext())
    assert found == []


def test_level1_does_not_look_at_day_month_or_place() -> None:
    found = run(N1, {"jourNaissance": None, "moisNaissance": 31, "codeInsee": "31000"})
    assert found == []


def test_missing_day_and_month_for_level2() -> None:
    found = run(N2, {"jourNaissance": None}, drop=("moisNaissance",))
    assert has(found, "jourNaissance", "Le jour de naissance est vide", "départager")
    assert has(found, "moisNaissance", "pas de colonne pour le mois de naissance")


def test_missing_birthplace_for_level3() -> None:
    found = run(N3, {"codeInsee": None})
    assert has(found, "codeInsee", "Ni le code INSEE ni le code postal")
    assert not has(run(N3, {"codeInsee": None, "codePostal": "31555"}), "codeInsee", "Ni le")


def test_dossier_identification_needs_its_own_fields() -> None:
    values = {
        "idDossier": "123456789",
        "nomTitulaire": "DUPONT",
        "prenom1Titulaire": None,
        "nomNaissance": None,
        "prenom1": None,
        "sexe": None,
        "anneeNaissance": None,
    }
    found = diagnose(N1, "P1", values, DiagnosisContext(columns=frozenset(values)))
    assert [f.champ for f in found] == ["prenom1Titulaire"]


def test_unknown_message_only_reports_empty_mandatory_fields() -> None:
    found = run("MESSAGE_INCONNU", {"nomNaissance": "NILL", "prenom1": "Jean Pierre"})
    assert [f.champ for f in found] == ["nomNaissance"]
    assert found[0].message.startswith("Le nom de naissance est vide")
    assert run("MESSAGE_INCONNU") == []


# --- Birth and usage names ------------------------------------------------------------------


def test_usage_name_without_birth_name() -> None:
    found = run(N1, {"nomNaissance": None, "nomUsage": "MARTIN"})
    assert has(found, "nomNaissance", "nom d'usage « MARTIN »", "nom de naissance")
    assert len(about(found, "nomNaissance")) == 1  # not also "est vide"


def test_same_birth_and_usage_name_for_a_woman() -> None:
    found = run(N1, {"nomUsage": "dupont", "sexe": "F"})
    assert has(found, "nomNaissance", "identiques", "vérifiez")
    assert not about(run(N1, {"nomUsage": "DUPONT", "sexe": "M"}), "nomNaissance")
    assert not about(run(N1, {"nomUsage": "MARTIN", "sexe": "F"}), "nomNaissance")


def test_spouse_name_inside_birth_name() -> None:
    found = run(N1, {"nomNaissance": "DUPONT épouse MARTIN", "sexe": "F"})
    assert has(found, "nomNaissance", "nom d'épouse")
    assert has(run(N1, {"nomNaissance": "MARTIN née DUPONT"}), "nomNaissance", "nom d'épouse")
    assert not about(run(N1, {"nomNaissance": "DE LA FONTAINE"}), "nomNaissance")
    assert not about(run(N1, {"nomNaissance": "Nepveu"}), "nomNaissance")


def test_birth_name_containing_usage_name() -> None:
    found = run(N1, {"nomNaissance": "DUPONT MARTIN", "nomUsage": "Martin"})
    assert has(found, "nomNaissance", "contient le nom d'usage")
    assert not about(run(N1, {"nomNaissance": "MARTINEZ", "nomUsage": "MARTIN"}), "nomNaissance")


def test_odd_characters_in_names() -> None:
    assert has(run(N1, {"nomNaissance": "DUP0NT"}), "nomNaissance", "chiffres")
    assert not run(N1, {"nomNaissance": "D'ALEMBERT-LÉVÊQUE"})


# --- First names ----------------------------------------------------------------------------


def test_common_compound_first_name_with_a_space() -> None:
    found = run(N1, {"prenom1": "Jean Pierre"})
    assert has(found, "prenom1", "« Jean-Pierre »", "tiret")
    assert has(run(N1, {"prenom1": "MARIE ROSE"}), "prenom1", "« MARIE-ROSE »", "d'ordinaire")


def test_other_first_name_with_a_space_may_be_two_names() -> None:
    found = run(N1, {"prenom1": "Sophie Anne", "prenom2": None})
    assert has(found, "prenom1", "deux prénoms", "« Sophie » ici")


def test_several_first_names_packed() -> None:
    assert has(run(N1, {"prenom1": "Marie, Claire"}), "prenom1", "plusieurs prénoms", "« Marie »")
    assert has(run(N1, {"prenom1": "Paul Louis Henri"}), "prenom1", "plusieurs prénoms")
    assert has(run(N1, {"prenom1": "Paul/Louis"}), "prenom1", "plusieurs prénoms")


def test_first_name_containing_the_second() -> None:
    found = run(N1, {"prenom1": "Kevin Louis", "prenom2": "Louis"})
    assert has(found, "prenom1", "contient aussi le deuxième prénom")


def test_spaces_around_hyphen() -> None:
    assert has(run(N1, {"prenom1": "Jean - Pierre"}), "prenom1", "« Jean-Pierre »")


def test_hyphen_where_two_names_may_be_meant() -> None:
    found = run(N1, {"prenom1": "Lucas-Martin", "prenom2": None})
    assert has(found, "prenom1", "tiret", "« Lucas »")
    assert not about(run(N1, {"prenom1": "Lucas-Martin", "prenom2": "Paul"}), "prenom1")
    assert not about(run(N1, {"prenom1": "Marie-Claire", "prenom2": None}), "prenom1")
    assert not about(run(N1, {"prenom1": "Jean-Kévin", "prenom2": None}), "prenom1")


@pytest.mark.parametrize("name", ["Jean-Pierre", "Zoé", "Anaïs", "Hélène", "N'Golo"])
def test_plain_first_names_do_not_trigger(name: str) -> None:
    assert not about(run(N1, {"prenom1": name}), "prenom1")


def test_optional_first_names_at_level3() -> None:
    assert has(run(N3, {"prenom2": "jean pierre"}), "prenom2", "reprend le premier")
    assert has(run(N3, {"prenom2": "Louis Marc"}), "prenom2", "plusieurs prénoms")
    assert not about(run(N3, {"prenom2": "Louis Marc", "prenom3": "Paul"}), "prenom2")
    assert not about(run(N1, {"prenom2": "Jean-Pierre"}), "prenom2")  # level 1 ignores it


# --- Sex ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("H", "M"), ("Homme", "M"), ("Femme", "F"), ("2", "F"), (1, "M")]
)
def test_sex_with_a_known_meaning(value: CellValue, expected: str) -> None:
    assert has(run(N1, {"sexe": value}), "sexe", f"indiquez plutôt {expected}")


def test_sex_lowercase_and_unknown() -> None:
    assert has(run(N1, {"sexe": "f"}), "sexe", "minuscule")
    assert has(run(N1, {"sexe": "X"}), "sexe", "M pour un homme")
    assert not about(run(N1, {"sexe": " F "}), "sexe")


# --- Birth year -----------------------------------------------------------------------------


@pytest.mark.parametrize("year", [1985, 1985.0, "1985", " 1985 ", "1985.0"])
def test_good_birth_years(year: CellValue) -> None:
    assert not about(run(N1, {"anneeNaissance": year}), "anneeNaissance")


def test_two_digit_and_out_of_range_years() -> None:
    assert has(run(N1, {"anneeNaissance": 85}), "anneeNaissance", "2 chiffres")
    assert has(run(N1, {"anneeNaissance": 1885}), "anneeNaissance", "1900 à 2099")
    assert has(run(N1, {"anneeNaissance": "quatre-vingt"}), "anneeNaissance", "4 chiffres")
    assert has(run(N1, {"anneeNaissance": dt.date(1985, 7, 14)}), "anneeNaissance")


def test_year_too_recent_for_the_certification() -> None:
    found = run(N1, {"anneeNaissance": 2015})
    assert has(found, "anneeNaissance", "moins de 15 ans", "01/06/2024")
    assert has(run(N1, {"anneeNaissance": 2024}), "anneeNaissance", "moins de 15 ans")
    assert has(run(N1, {"anneeNaissance": 2025}), "anneeNaissance", "postérieure", "validité")
    assert not about(run(N1, {"anneeNaissance": 2009}), "anneeNaissance")  # 15 in 2024
    later = run(N1, {"anneeNaissance": 2090, "dateDebutValidite": None})
    assert has(later, "anneeNaissance", "futur")


# --- Day and month --------------------------------------------------------------------------


def test_possible_swap_for_level2_only() -> None:
    found = run(N2, {"jourNaissance": 5, "moisNaissance": 11})
    assert has(found, "jourNaissance", "inversés", "05/11", "11/05")
    assert not run(N2, {"jourNaissance": 7, "moisNaissance": 7})
    assert not run(N2, {"jourNaissance": 25, "moisNaissance": 11})
    assert not run(N3, {"jourNaissance": 5, "moisNaissance": 11})


def test_month_that_is_a_day() -> None:
    found = run(N2, {"jourNaissance": 3, "moisNaissance": 25})
    assert has(found, "moisNaissance", "(25) n'existe pas", "inversés")
    assert has(run(N2, {"jourNaissance": 20, "moisNaissance": 25}), "moisNaissance", "1 à 12")


def test_impossible_dates() -> None:
    assert has(run(N2, {"jourNaissance": 31, "moisNaissance": 2}), "jourNaissance", "31/02")
    assert has(run(N3, {"jourNaissance": 31, "moisNaissance": "04"}), "jourNaissance", "31/04")
    leap = {"jourNaissance": 29, "moisNaissance": 2}
    assert has(run(N2, {**leap, "anneeNaissance": 1985}), "jourNaissance", "29/02")
    assert not run(N2, {**leap, "anneeNaissance": 1984})
    assert not run(N2, {"jourNaissance": "31", "moisNaissance": "12"})


def test_day_that_is_not_a_number() -> None:
    assert has(run(N2, {"jourNaissance": "premier"}), "jourNaissance", "pas un nombre")


# --- Birthplace -----------------------------------------------------------------------------


def test_postal_code_instead_of_insee() -> None:
    found = run(N3, {"codeInsee": "31000"})
    assert has(found, "codeInsee", "31000", "code postal", "Toulouse est 31555")
    assert has(run(N3, {"codeInsee": 31000}), "codeInsee", "code postal")


def test_paris_postal_code_points_at_the_arrondissement() -> None:
    found = run(N3, {"codeInsee": "75015", "libelleCommuneNaissance": "Paris"})
    assert has(found, "codeInsee", "code postal", "75115")


def test_marseille_postal_code_that_is_another_commune() -> None:
    found = run(N3, {"codeInsee": "13001", "libelleCommuneNaissance": "MARSEILLE"})
    assert has(found, "codeInsee", "Aix-en-Provence", "code postal", "13201")
    assert not run(N3, {"codeInsee": "13001", "libelleCommuneNaissance": "Aix-en-Provence"})


def test_corsican_postal_code() -> None:
    found = run(N3, {"codeInsee": "20000", "libelleCommuneNaissance": "Ajaccio"})
    assert has(found, "codeInsee", "2A ou 2B", "2A004")


def test_unknown_code() -> None:
    assert has(run(N3, {"codeInsee": "98999"}), "codeInsee", "ne figure pas")
    found = run(N3, {"codeInsee": "3155"})  # read as 03155, Lurcy-Lévis
    assert has(found, "libelleCommuneNaissance", "03155", "zéro initial", "Lurcy-Lévis", "31555")
    assert has(run(N3, {"codeInsee": "315"}), "codeInsee", "5 caractères")


def test_lost_leading_zero_is_restored_and_mentioned_only_when_relevant() -> None:
    good = {"codeInsee": 1053, "libelleCommuneNaissance": "Bourg-en-Bresse"}
    # The name agrees with 01053, but the portal got 4 digits: the lost zero is said once,
    # with the likely code.
    found = run(N3, good)
    assert [f.champ for f in found] == ["codeInsee"]
    assert has(found, "codeInsee", "« 1053 »", "Code probable : 01053 (Bourg-en-Bresse)")
    found = run(N3, {**good, "libelleCommuneNaissance": "Lyon"})
    assert has(found, "libelleCommuneNaissance", "01053", "zéro initial", "Bourg-en-Bresse")


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("2A004", "AJACCIO"),
        ("42218", "ST ETIENNE"),
        ("75115", "Paris"),
        ("75115", "Paris 15e"),
        ("85194", "Les Sables d Olonne"),
        ("01015", "Arbignieu"),
        ("31555", None),
    ],
)
def test_commune_name_that_matches(code: str, label: str | None) -> None:
    assert run(N3, {"codeInsee": code, "libelleCommuneNaissance": label}) == []


def test_commune_name_that_does_not_match() -> None:
    found = run(N3, {"codeInsee": "31555", "libelleCommuneNaissance": "Montauban"})
    assert has(found, "libelleCommuneNaissance", "« Montauban »", "Toulouse", "82121")


def test_whole_city_code() -> None:
    found = run(N3, {"codeInsee": "75056", "libelleCommuneNaissance": "Paris"})
    assert has(found, "codeInsee", "arrondissement", "75101 à 75120")
    assert not run(N3, {"codeInsee": "75118", "libelleCommuneNaissance": "Paris"})


def test_foreign_birth_without_country_code() -> None:
    found = run(N3, {"libellePaysNaissance": "Maroc", "codeInsee": "31555"})
    assert has(found, "codeInsee", "« Maroc »", "99350")
    found = run(N3, {"codePaysNaissance": 350, "libelleCommuneNaissance": "Casablanca"})
    assert has(found, "codeInsee", "99350")


def test_french_country_is_not_foreign() -> None:
    for country in (
        {"libellePaysNaissance": "France"},
        {"codePaysNaissance": "100"},
        {
            "libellePaysNaissance": "La Réunion",
            "codeInsee": "97411",
            "libelleCommuneNaissance": "Saint-Denis",
        },
    ):
        assert run(N3, country) == []


def test_foreign_birth_with_country_code() -> None:
    good = {
        "codeInsee": "99350",
        "codePaysNaissance": "350",
        "libellePaysNaissance": "Maroc",
        "libelleCommuneNaissance": "Casablanca",
    }
    assert run(N3, good) == []
    found = run(N3, {**good, "codePaysNaissance": "352"})
    assert has(found, "codePaysNaissance", "(352)", "350")
    found = run(N3, {**good, "libellePaysNaissance": "Algérie"})
    assert has(found, "libellePaysNaissance", "Algérie", "99350")
    assert has(run(N3, {"codeInsee": "99999"}), "codeInsee", "pas un code pays")
    assert has(run(N3, {"codeInsee": "99100"}), "codeInsee", "France")


def test_postal_code_column_only() -> None:
    values = {"codeInsee": None, "codePostal": "31000"}
    found = run(N3, values, drop=("codeInsee",))
    assert has(found, "codePostal", "recommande le code INSEE", "31555")
    found = run(N3, {"codePostal": "75015"}, drop=("codeInsee",))
    assert has(found, "codePostal", "75115")
    found = run(
        N3, {"codePostal": "31000", "libellePaysNaissance": "Belgique"}, drop=("codeInsee",)
    )
    assert has(found, "codeInsee", "99131")


def test_birthplace_is_not_checked_below_level3() -> None:
    assert run(N2, {"codeInsee": "31000"}) == []


def test_several_holders_get_birthplace_checks() -> None:
    assert has(run(MULTI, {"codeInsee": "31000"}), "codeInsee", "code postal")


# --- Dates ----------------------------------------------------------------------------------

DATES = "DATES_INCOHERENTES"


def test_inverted_validity_dates_shown_as_jjmmaaaa() -> None:
    found = run(DATES, {"dateDebutValidite": "15/06/2024", "dateFinValidite": "2023-01-01"})
    assert has(found, "dateFinValidite", "(01/01/2023)", "(15/06/2024)", "validité")


def test_inverted_exam_dates() -> None:
    found = run(
        DATES,
        {
            "dateDebutExamen": dt.datetime(2024, 5, 3, 9, 0),
            "dateFinExamen": "2024-05-02",
            "dateFinValidite": None,
        },
    )
    assert has(found, "dateFinExamen", "(02/05/2024)", "(03/05/2024)", "d'examen")
    assert not about(found, "dateFinValidite")


def test_dates_in_order() -> None:
    found = run(DATES, {"dateDebutValidite": "25/06/2024", "dateFinValidite": "31/12/2026"})
    assert [f.champ for f in found] == [None]
    assert "bon ordre" in found[0].message


def test_dates_in_order_that_a_day_month_swap_would_invert() -> None:
    found = run(DATES, {"dateDebutValidite": "05/06/2024", "dateFinValidite": "01/12/2024"})
    assert has(found, "dateFinValidite", "inversés")


def test_unreadable_date() -> None:
    found = run(DATES, {"dateFinValidite": "31/02/2024"})
    assert has(found, "dateFinValidite", "pas une date lisible")


# --- Certification --------------------------------------------------------------------------

CERT = "CERTIFICATION_INCONNUE"


def cert(code: CellValue, kind: CellValue = "RNCP") -> list[Finding]:
    return run(CERT, {"code": code, "type": kind})


def test_code_without_prefix() -> None:
    assert has(cert("1710", "RS"), "code", "pas de préfixe", "« RS1710 »")
    assert has(cert(34567), "code", "pas de préfixe", "« RNCP34567 »")
    assert has(cert(34567, None), "code", "RNCP34567 ou RS34567")


def test_type_and_prefix_disagree() -> None:
    assert has(cert("RNCP34567", "RS"), "type", "ne correspond pas au préfixe")
    assert not about(cert("RS5678", "RS"), "type")


def test_spaces_lowercase_and_separators() -> None:
    assert has(cert("RNCP 34567"), "code", "espaces", "« RNCP34567 »")
    assert has(cert(" RNCP34567"), "code", "espaces")
    assert has(cert("rncp34567"), "code", "minuscules", "« RNCP34567 »")
    assert has(cert("RNCP-34567"), "code", "séparateur")
    assert has(cert("ABC12"), "code", "ne ressemble pas")


def test_type_values() -> None:
    assert has(cert("RNCP34567", "rncp"), "type", "exactement RNCP")
    assert has(cert("RNCP34567", "Titre pro"), "type", "RNCP ou RS (ici RNCP)")
    assert has(cert("RNCP34567", None), "type", "vide")


def test_well_written_code_gets_the_remaining_advice() -> None:
    found = cert("RNCP34567")
    assert [f.champ for f in found] == ["code"]
    assert "France compétences" in found[0].message


def test_missing_code() -> None:
    assert has(cert("NILL"), "code", "Le code de la certification est vide")


# --- Duplicates -----------------------------------------------------------------------------


def test_duplicate_already_accepted_in_this_receipt() -> None:
    context = DiagnosisContext(accepted_ids=frozenset({"P1"}), source_positions={"P1": [21]})
    found = diagnose("DOUBLON", "P1", {}, context)
    assert found == [
        Finding(
            "idTechnique",
            "Ce passage figure aussi parmi les passages acceptés "
            "de cet accusé : il est déjà enregistré, rien à renvoyer.",
        )
    ]


def test_duplicate_twice_in_the_source() -> None:
    context = DiagnosisContext(source_positions={"P1": [21, 48]})
    found = diagnose("DOUBLON", "P1", GOOD, context)
    assert has(found, "idTechnique", "2 fois", "21, 48")
    assert not has(found, "idTechnique", "acceptés")


def test_duplicate_from_an_earlier_deposit() -> None:
    context = DiagnosisContext(accepted_ids=frozenset({"P2"}), source_positions={"P1": [21]})
    found = diagnose("DOUBLON", "P1", GOOD, context)
    assert has(found, "idTechnique", "dépôt précédent", "rien à renvoyer")


def test_prepare_reads_the_insee_lists_only_for_families_that_check_places() -> None:
    from accuse.pipeline.diagnosis import prepare
    from accuse.reference import geo

    geo._communes.cache_clear()
    prepare({"DATES_INCOHERENTES", "DOUBLON"})
    assert geo._communes.cache_info().currsize == 0
    prepare({"TITULAIRE_INTROUVABLE_N3"})
    assert geo._communes.cache_info().currsize == 1
    assert geo.commune_label("75056") == "Paris"
