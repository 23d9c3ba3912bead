"""Synthetic, coherent test sets for accuse: one deposit flux, its sources and its receipts.

For a seed, `generate()` writes into a folder the same passages in every shape a user may hold:

- flux.xml            the deposited flux (XSD 1.1.2, one element per line so lines mean something)
- source-plat.xlsx    a flat sheet "Titulaires" with human headers, row 1
- source-modele.xlsx  the official template v1.4 layout (header block rows 1-20, data from 21)
- source.csv          ';'-separated, UTF-8 with BOM, dates JJ/MM/AAAA
- recu.xml            the per-passage receipt (PassagesKO / PassagesOK)
- recu-rejet.xml      a whole-file XSD rejection receipt whose lines fall inside known passages
- facts.json          what was generated: counts, KO ids per message family, error lines

Everything is streamed (one passage in memory at a time), so 200 000 passages fit; from
PARALLEL_FROM passages on, each workbook is written by its own process, which regenerates the
same passage stream from the seed.

Usage: python bench/generate.py --passages 2000 --ko 0.1 --graine 0 --sortie DIR
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter

NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PARALLEL_FROM = 20_000
FILES = {
    "flux": "flux.xml",
    "plat": "source-plat.xlsx",
    "modele": "source-modele.xlsx",
    "csv": "source.csv",
    "recu": "recu.xml",
    "rejet": "recu-rejet.xml",
    "facts": "facts.json",
}
# Fixed workbook metadata, so two runs with the same seed give the same bytes.
_WORKBOOK_PROPS = {"author": "accuse bench", "created": dt.datetime(2024, 1, 1)}


class _Nil:
    """xsi:nil in the flux, "NILL" in the spreadsheets (the template's convention)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NIL"


NIL = _Nil()
Passage = dict[str, Any]  # dictionary key -> str | int | bool | date | NIL; absent = not sent

# --- people -------------------------------------------------------------------------------

_PRENOMS_F = [
    "Marie",
    "Camille",
    "Léa",
    "Chloé",
    "Inès",
    "Manon",
    "Zoé",
    "Hélène",
    "Sophie",
    "Nathalie",
    "Élodie",
    "Agnès",
    "Océane",
    "Gaëlle",
    "Maëlle",
    "Noémie",
    "Éloïse",
    "Julie",
    "Claire",
    "Anne-Sophie",
    "Marie-Claire",
    "Marie-Hélène",
    "Anne-Laure",
    "Françoise",
    "Béatrice",
    "Aurélie",
    "Cécile",
    "Laëtitia",
    "Margaux",
    "Sarah",
]
_PRENOMS_M = [
    "Thomas",
    "Nicolas",
    "Julien",
    "Antoine",
    "Théo",
    "Raphaël",
    "Jérôme",
    "Loïc",
    "Benoît",
    "Cédric",
    "Frédéric",
    "François",
    "Hugo",
    "Lucas",
    "Mathéo",
    "Noé",
    "Stéphane",
    "Grégoire",
    "Jean-Pierre",
    "Jean-Baptiste",
    "Pierre-Louis",
    "Jean-François",
    "Marc-Antoine",
    "Yannick",
    "Karim",
    "Mehdi",
    "Olivier",
    "Sébastien",
    "Adrien",
    "Bastien",
]
_NOMS = [
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "Girard",
    "Bonnet",
    "François",
    "Mercier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Müller",
    "Boyer",
    "Garnier",
    "Chevalier",
    "Lemaître",
    "Da Silva",
    "N'Diaye",
    "Le Goff",
    "Saint-Martin",
    "Hébert",
    "Lacroix",
    "Perrin",
    "Morel",
    "Fournier",
    "Gauthier",
    "Roussel",
    "Ménard",
    "Kowalski",
    "Nguyen",
    "Traoré",
    "Brémond",
    "Petit",
    "Leroy",
    "Dupont",
    "Benoît",
    "Carré",
    "Aubert",
    "Lefebvre",
    "Besnard",
    "Pelletier",
    "Renaud",
    "Schmitt",
    "Barbier",
    "Colin",
    "Marchand",
    "Duval",
]
# (Insee, postal code, libellé): the postal code differs from the Insee code everywhere,
# and 13008 / 69007 / 76600 are other communes' Insee codes, a classic trap.
_COMMUNES = [
    ("75056", "75011", "Paris"),
    ("13055", "13008", "Marseille"),
    ("69123", "69007", "Lyon"),
    ("31555", "31000", "Toulouse"),
    ("06088", "06000", "Nice"),
    ("44109", "44000", "Nantes"),
    ("67482", "67000", "Strasbourg"),
    ("34172", "34000", "Montpellier"),
    ("33063", "33000", "Bordeaux"),
    ("59350", "59000", "Lille"),
    ("35238", "35000", "Rennes"),
    ("51454", "51100", "Reims"),
    ("76351", "76600", "Le Havre"),
    ("42218", "42000", "Saint-Étienne"),
    ("83137", "83000", "Toulon"),
    ("38185", "38000", "Grenoble"),
    ("21231", "21000", "Dijon"),
    ("49007", "49000", "Angers"),
    ("30189", "30000", "Nîmes"),
    ("69266", "69100", "Villeurbanne"),
    ("63113", "63000", "Clermont-Ferrand"),
    ("72181", "72000", "Le Mans"),
    ("13001", "13090", "Aix-en-Provence"),
    ("29019", "29200", "Brest"),
    ("37261", "37000", "Tours"),
    ("80021", "80000", "Amiens"),
    ("87085", "87000", "Limoges"),
    ("66136", "66000", "Perpignan"),
    ("57463", "57000", "Metz"),
    ("25056", "25000", "Besançon"),
    ("45234", "45000", "Orléans"),
    ("76540", "76000", "Rouen"),
    ("14118", "14000", "Caen"),
    ("54395", "54000", "Nancy"),
    ("91345", "91160", "Longjumeau"),
    ("2A004", "20000", "Ajaccio"),
    ("97411", "97400", "Saint-Denis"),
    ("64445", "64000", "Pau"),
    ("74010", "74000", "Annecy"),
    ("86194", "86000", "Poitiers"),
]
_PAYS = [
    ("99350", "Maroc"),
    ("99352", "Algérie"),
    ("99351", "Tunisie"),
    ("99134", "Espagne"),
    ("99139", "Portugal"),
    ("99127", "Italie"),
    ("99109", "Allemagne"),
    ("99131", "Belgique"),
    ("99341", "Sénégal"),
    ("99243", "Viêt Nam"),
    ("99401", "Canada"),
]

# --- the deposit --------------------------------------------------------------------------

BCR_EMETTEUR = "03VML243"  # a tiers de confiance depositing for the certificateur below
BCR_CERTIFICATEUR = "E564ACB0"
ID_CONTRAT = "MCFCER000209"
# (type, code, natureDeposant, share of the passages); passages are grouped in this order.
_CERTIFICATIONS = [
    ("RNCP", "RNCP34567", "TIERS_CONFIANCE", 0.5),
    ("RS", "RS5678", "TIERS_CONFIANCE", 0.3),
    ("RNCP", "RNCP36129", None, 0.2),
]
_MODALITES_ACCES = [
    "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    "FORMATION_INITIALE_APPRENTISSAGE",
    "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "VAE",
    "CANDIDAT_LIBRE",
]
_MENTIONS = ["SANS_MENTION", "MENTION_ASSEZ_BIEN", "MENTION_BIEN", "MENTION_TRES_BIEN"]
_OPTIONS = ["Option A : gestion de projet", "Spécialité numérique", "Bloc 2 – management"]

# --- receipt messages (FORMAT.md §2.1), one family per KO, cycling in this order ---------

FAMILIES = ["K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"]
_BCR_ID = "le bcr émetteur {bcr} et l'id technique partenaire {id}"
MESSAGES = {
    "K1": "Le passage certification avec " + _BCR_ID + " existe déjà en base",
    "K2": "Le statut de la certification avec le bcr émetteur {bcr}, l'id technique partenaire "
    "{id} et l'index 0 est KO",
    "K3": "Aucun titulaire ne correspond aux critères obligatoires",
    "K4": "Aucun titulaire ne correspond aux critères obligatoires enrichis du jour et du mois "
    "de naissance",
    "K5": "Aucun titulaire ne correspond aux critères de reconciliation",
    "K5bis": "Aucun titulaire ne correspond aux critères de réconciliation",
    "K6": "Plusieurs titulaires ont été identifiés",
    "K7": "La date de fin de validité est inférieure à date de début de validité pour le "
    "passage certification avec " + _BCR_ID,
    "K8": "Aucun titulaire ne correspond à ces critères",
}

# --- source layouts -----------------------------------------------------------------------

# Flat sheet / csv: human headers a user would type, all known to champs.toml (label or alias).
FLAT_COLUMNS: list[tuple[str, str]] = [
    ("idTechnique", "Id Technique"),
    ("nomNaissance", "Nom de naissance"),
    ("nomUsage", "Nom d'usage"),
    ("prenom1", "Prénom"),
    ("prenom2", "Prenom 2"),
    ("prenom3", "Prenom 3"),
    ("anneeNaissance", "Année de naissance"),
    ("moisNaissance", "Mois de naissance"),
    ("jourNaissance", "Jour de naissance"),
    ("sexe", "Sexe"),
    ("codeInsee", "Code Insee"),
    ("codePostal", "Code postal naissance"),
    ("libelleCommuneNaissance", "Commune de naissance"),
    ("codePaysNaissance", "Code Pays Naissance"),
    ("libellePaysNaissance", "Pays de naissance"),
    ("idClientEmetteur", "BCR emetteur"),
    ("idClientCertificateur", "BCR certificateur"),
    ("idContrat", "Id Contrat"),
    ("type", "Type"),
    ("code", "Code"),
    ("natureDeposant", "Nature Deposant"),
    ("obtentionCertification", "Obtention Certification"),
    ("donneeCertifiee", "Donnee Certifiee"),
    ("dateDebutExamen", "Date Debut Examen"),
    ("dateFinExamen", "Date Fin Examen"),
    ("modalitePassageExamen", "Modalite Passage Examen"),
    ("codePostalCentreExamen", "Code Postal Centre Examen"),
    ("dateDebutValidite", "Date Debut Validite"),
    ("dateFinValidite", "Date Fin Validite"),
    ("presenceNiveauLangueEuro", "Presence Niveau Langue Euro"),
    ("niveauLangueEuropeen", "Niveau Langue Europeen"),
    ("presenceNiveauNumeriqueEuro", "Presence Niveau Numerique Euro"),
    ("scoreGeneral", "Score General"),
    ("niveau", "Niveau"),
    ("domaineCompetenceId", "Domaine Competence Id"),
    ("competenceId", "Competence Id"),
    ("scoring", "Scoring"),
    ("mentionValidee", "Mention Validee"),
    ("modaliteAcces", "Modalite Acces"),
    ("voieAccessVAE", "Voie Access Vae"),
    ("initiativeInscription", "Initiative Inscription"),
    ("dateInscription", "Date Inscription"),
    ("urlPreuve", "Url Preuve"),
    ("libelleOption", "Libelle Option"),
    ("verbatim", "Verbatim"),
]

# The official template v1.4, sheet "Tableau declaration": (key, row 12 id, row 13 label).
TEMPLATE_COLUMNS: list[tuple[str, str, str]] = [
    ("idFlux", "1.1", "Id Flux"),
    ("horodatage", "1.2", "Horodatage"),
    ("idClientEmetteur", "2.1", "Id Client"),
    ("idClientCertificateur", "3.1", "Id Client 2"),
    ("idContrat", "3.2", "Id Contrat"),
    ("type", "4.1", "Type"),
    ("code", "4.2", "Code"),
    ("natureDeposant", "4.3", "Nature Deposant"),
    ("idTechnique", "5.1", "Id Technique"),
    ("urlPreuve", "5.2", "Url Preuve"),
    ("libelleOption", "5.3", "Libelle Option"),
    ("obtentionCertification", "5.4", "Obtention Certification"),
    ("donneeCertifiee", "5.5", "Donnee Certifiee"),
    ("dateDebutExamen", "5.6", "Date Debut Examen"),
    ("dateFinExamen", "5.7", "Date Fin Examen"),
    ("modalitePassageExamen", "5.8", "Modalite Passage Examen"),
    ("codePostalCentreExamen", "5.9", "Code Postal Centre Examen"),
    ("dateDebutValidite", "5.10", "Date Debut Validite"),
    ("dateFinValidite", "5.11", "Date Fin Validite"),
    ("presenceNiveauLangueEuro", "5.12", "Presence Niveau Langue Euro"),
    ("niveauLangueEuropeen", "5.13", "Niveau Langue Europeen"),
    ("presenceNiveauNumeriqueEuro", "5.14", "Presence Niveau Numerique Euro"),
    ("scoring", "5.15", "Scoring"),
    ("mentionValidee", "5.16", "Mention Validee"),
    ("verbatim", "5.17", "Verbatim"),
    ("scoreGeneral", "6.1", "Score General"),
    ("niveau", "6.2", "Niveau"),
    ("domaineCompetenceId", "6.3", "Domaine Competence Id"),
    ("competenceId", "6.4", "Competence Id"),
    ("modaliteAcces", "7.1", "Modalite Acces"),
    ("voieAccessVAE", "7.2", "Voie Access Vae"),
    ("initiativeInscription", "7.3", "Initiative Inscription"),
    ("dateInscription", "7.4", "Date Inscription"),
    ("nomNaissance", "8.1", "Nom Naissance"),
    ("nomUsage", "8.2", "Nom Usage"),
    ("prenom1", "8.3", "Prenom 1"),
    ("prenom2", "8.4", "Prenom 2"),
    ("prenom3", "8.5", "Prenom 3"),
    ("anneeNaissance", "8.6", "Annee Naissance"),
    ("moisNaissance", "8.7", "Mois Naissance"),
    ("jourNaissance", "8.8", "Jour Naissance"),
    ("sexe", "8.9", "Sexe"),
    ("codeInsee", "8.10", "Code Insee Commune Naissance"),
    ("codePostal", "8.11", "Code Postal Commune Naissance"),
    ("libelleCommuneNaissance", "8.12", "Libelle Commune Naissance"),
    ("codePaysNaissance", "8.13", "Code Pays Naissance"),
    ("libellePaysNaissance", "8.14", "Libelle Pays Naissance"),
    ("idDossier", "9.1", "Id Dossier"),
    ("nomTitulaire", "9.2", "Nom Titulaire"),
    ("prenom1Titulaire", "9.3", "Prenom 1 Titulaire"),
]
TEMPLATE_SHEET = "Tableau declaration"
TEMPLATE_FIRST_DATA_ROW = 21  # 1-based, as Excel shows it

# Header block of the official file (rows 1-20), copied as values. Column 0 is column A;
# _TPL_TYPES and the lists after it start at column B.
_TPL_COL_A = {
    1: "V1.4",
    11: "Bloc",
    12: "Identifiant",
    13: "Intitulé",
    14: "Type champ",
    15: "Obligatoire",
    17: "Consigne",
    18: "Exemple",
}
_TPL_COL_B = {
    1: "Tableau de déclaration",
    3: "Déclarant",
    5: "Certification(s)",
    7: "Promotion",
    9: "Date d'envoi",
    20: "Commencez votre saisie en-dessous de cette ligne",
}
_TPL_BLOCS = {
    1: "Suivi du flux",
    3: "Emetteur du flux",
    4: "Identification du certificateur",
    6: "Certification",
    9: "Passages de la certification",
    26: "Niveau numérique européen",
    30: "Modalités d'inscription",
    34: "Titulaire",
    48: "Dossier formation",
}
_A, _S, _L = "Auto", "Saisie", "Liste de choix"
_TPL_TYPES = [
    _A,
    _A,
    _S,
    _S,
    _S,
    _L,
    _S,
    _L,
    _S,
    _S,
    _S,
    _L,
    _L,
    _S,
    _S,
    _L,
    _S,
    _S,
    _S,
    _L,
    _L,
    _L,
    "MIXTE",
    _L,
    _S,
    _S,
    _S,
    _L,
    _L,
    _L,
    _L,
    _L,
    _S,
    _S,
    _S,
    _S,
    _S,
    _S,
    _L,
    _L,
    _L,
    _L,
    _S,
    _S,
    _S,
    _L,
    _S,
    _S,
    _S,
    _S,
]
_O, _F, _C = "Obligatoire", "Facultative", "Contextuelle"
_TPL_OBLIG = [
    _O,
    _O,
    _O,
    _O,
    _O,
    _O,
    _O,
    _O,
    _O,
    _F,
    _F,
    _O,
    _O,
    _F,
    _F,
    _F,
    _F,
    _O,
    _O,
    _O,
    _F,
    _O,
    _O,
    _O,
    _F,
    _F,
    _F,
    _F,
    _F,
    _O,
    _F,
    _F,
    _F,
    _O,
    _O,
    _O,
    _F,
    _F,
    _O,
    _O,
    _O,
    _O,
    _C,
    _C,
    _F,
    _C,
    _C,
    _C,
    _C,
    _C,
]
_TPL_CONSIGNE = [
    {_A: "Auto, ne rien inscrire", _L: "Valeur à sélectionner dans la liste"}.get(t, "A compléter")
    for t in _TPL_TYPES
]
_TPL_CONSIGNE[45] = "A compléter"  # 8.13 Code Pays Naissance: a list, yet "A compléter"
_D22 = dt.date(2022, 5, 22)
_TPL_EXEMPLE: list[Any] = [
    "Auto, ne rien inscrire",
    "Auto, ne rien inscrire",
    "08UTY888",
    "08UTY888",
    "YMCFRT000755",
    "RNCP",
    "RNCP9999",
    "CERTIFICATEUR",
    "0000-0000-0000-0000",
    "https://www….",
    "Lorem ipsum set dolor amet",
    "PAR_ADMISSION",
    "OUI",
    _D22,
    _D22,
    "EN_PRESENTIEL",
    0,
    _D22,
    "NILL",
    "NON",
    "",
    "NON",
    "NILL",
    "NILL",
    "Lorem ipsum set dolor amet",
    "",
    "",
    "",
    "",
    "VAE",
    "VAE_CLASSIQUE",
    "OF",
    dt.date(2022, 1, 15),
    "NOM DE NAISSANCE",
    "NOM D'USAGE",
    "Prénom 1",
    "Prénom 2",
    "Prénom 3",
    2002,
    6,
    28,
    "M",
    84147,
    91160,
    "LONGJUMEAU",
    "",
    "",
    "",
    "",
    "",
    "",
]

_INT_KEYS = {"anneeNaissance", "moisNaissance", "jourNaissance", "scoreGeneral", "niveau"}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


# --- the plan: what is KO and where -------------------------------------------------------


def _ko_positions(passages: int, ko: int, seed: int) -> list[int]:
    """One KO per equal slice of the file, so they are spread from top to bottom."""
    rng = random.Random(f"{seed}:ko")
    return [rng.randrange(k * passages // ko, (k + 1) * passages // ko) for k in range(ko)]


def _plan(passages: int, ko_rate: float, seed: int) -> dict[int, tuple[str, int]]:
    """Position -> (family, how many of that family came before), families cycling K1..K8."""
    n_ko = min(passages, round(passages * ko_rate))
    plan: dict[int, tuple[str, int]] = {}
    seen: dict[str, int] = {}
    for k, pos in enumerate(_ko_positions(passages, n_ko, seed)):
        family = FAMILIES[k % len(FAMILIES)]
        plan[pos] = (family, seen.get(family, 0))
        seen[family] = seen.get(family, 0) + 1
    return plan


def _rejection_targets(passages: int) -> dict[str, int]:
    """Which passage each whole-file XSD error points into (positions in flux order)."""
    if passages < 4:
        return {}
    return {
        name: (k + 1) * passages // 5
        for k, name in enumerate(("sexe", "dateDebutValidite", "codeInsee", "titulaire"))
    }


# --- passages -----------------------------------------------------------------------------


def _technical_id(rng: random.Random, i: int) -> str:
    """Mostly numeric ids (as Pix sends them), some dashed ones with zeros kept as text."""
    r = rng.random()
    if r < 0.75:
        return str(1_960_000 + 3 * i + rng.randrange(3))  # disjoint ranges keep them unique
    if r < 0.9:
        return f"20{rng.randrange(20, 25)}{rng.randrange(1, 13):02d}-{i + 1}"
    return f"0000-{i + 1:04d}"


def _day(rng: random.Random, start: dt.date, span_days: int) -> dt.date:
    return start + dt.timedelta(days=rng.randrange(span_days))


def _birth(rng: random.Random, p: Passage) -> None:
    year = rng.randrange(1962, 2006)
    month = rng.randrange(1, 13)
    day = rng.randrange(1, 29)
    p["anneeNaissance"] = year
    p["moisNaissance"] = month
    p["jourNaissance"] = day
    if rng.random() < 0.01:  # birth day unknown: the XSD wants nil, not an absent element
        p["moisNaissance"] = p["jourNaissance"] = NIL
    where = rng.random()
    if where < 0.80:
        insee, _postal, libelle = rng.choice(_COMMUNES)
        p["codeInsee"] = insee
        if rng.random() < 0.9:
            p["libelleCommuneNaissance"] = libelle
        if rng.random() < 0.2:
            p["libellePaysNaissance"] = "France"
    elif where < 0.92:
        _insee, postal, libelle = rng.choice(_COMMUNES)
        p["codePostal"] = NIL if rng.random() < 0.1 else postal
        p["libelleCommuneNaissance"] = libelle
    else:  # born abroad: Insee country code 99xxx, country code = its last 3 digits
        code, pays = rng.choice(_PAYS)
        p["codeInsee"] = code
        p["codePaysNaissance"] = code[2:]
        p["libellePaysNaissance"] = pays


def _person(rng: random.Random, p: Passage) -> None:
    sexe = "F" if rng.random() < 0.5 else "M"
    prenoms = _PRENOMS_F if sexe == "F" else _PRENOMS_M
    p["nomNaissance"] = rng.choice(_NOMS)
    r = rng.random()
    if sexe == "F" and r < 0.3:
        p["nomUsage"] = rng.choice([n for n in _NOMS if n != p["nomNaissance"]])
    elif r < 0.6:
        p["nomUsage"] = NIL
    else:
        p["nomUsage"] = p["nomNaissance"]
    p["prenom1"] = rng.choice(prenoms)
    if rng.random() < 0.6:
        p["prenom2"] = rng.choice(prenoms)
        if rng.random() < 0.3:
            p["prenom3"] = rng.choice(prenoms)
    _birth(rng, p)
    p["sexe"] = sexe


def _certification_index(i: int, passages: int) -> int:
    edge = 0.0
    for index, (*_, share) in enumerate(_CERTIFICATIONS):
        edge += share
        if i < edge * passages:
            return index
    return len(_CERTIFICATIONS) - 1


def _passage(rng: random.Random, i: int, passages: int) -> Passage:
    ctype, code, nature, _share = _CERTIFICATIONS[_certification_index(i, passages)]
    scoring = ctype == "RS"  # the RS one is a scored digital certification, Pix-like
    p: Passage = {
        "idClientEmetteur": BCR_EMETTEUR,
        "idClientCertificateur": BCR_CERTIFICATEUR,
        "idContrat": ID_CONTRAT,
        "type": ctype,
        "code": code,
    }
    if nature:
        p["natureDeposant"] = nature
    ident = _technical_id(rng, i)
    p["idTechnique"] = ident
    if rng.random() < 0.3:
        p["urlPreuve"] = f"https://preuves.example.fr/{code.lower()}/{ident}"
    if rng.random() < 0.15:
        p["libelleOption"] = rng.choice(_OPTIONS)
    p["obtentionCertification"] = "PAR_SCORING" if scoring else "PAR_ADMISSION"
    p["donneeCertifiee"] = rng.random() < 0.95
    exam = _day(rng, dt.date(2022, 1, 3), 900)
    if rng.random() < 0.8:
        p["dateDebutExamen"] = exam
        p["dateFinExamen"] = exam + dt.timedelta(days=rng.randrange(3))
    if rng.random() < 0.7:
        p["modalitePassageExamen"] = rng.choice(["A_DISTANCE", "EN_PRESENTIEL", "MIXTE"])
    if rng.random() < 0.5:
        p["codePostalCentreExamen"] = rng.choice(_COMMUNES)[1]
    debut = exam + dt.timedelta(days=rng.randrange(7, 40))
    p["dateDebutValidite"] = debut
    p["dateFinValidite"] = debut + dt.timedelta(days=3 * 365) if scoring else NIL
    if rng.random() < 0.15:
        p["presenceNiveauLangueEuro"] = True
        p["niveauLangueEuropeen"] = rng.choice(["A2", "B1", "B2", "C1"])
    else:
        p["presenceNiveauLangueEuro"] = False
    p["presenceNiveauNumeriqueEuro"] = scoring
    if scoring:
        p["scoreGeneral"] = rng.randrange(120, 1000)
        p["niveau"] = rng.randrange(1, 9)
        p["domaineCompetenceId"] = str(rng.randrange(1, 6))
        p["competenceId"] = str(rng.randrange(1, 6))
        p["scoring"] = str(p["scoreGeneral"])
        p["mentionValidee"] = NIL
    else:
        p["scoring"] = NIL
        p["mentionValidee"] = rng.choice(_MENTIONS) if rng.random() < 0.3 else NIL
    p["modaliteAcces"] = NIL if rng.random() < 0.1 else rng.choice(_MODALITES_ACCES)
    if p["modaliteAcces"] == "VAE":
        p["voieAccessVAE"] = rng.choice(["CONGES_VAE", "VAE_CLASSIQUE"])
    if rng.random() < 0.6:
        p["initiativeInscription"] = rng.choice(["CERTIFIE", "OF", "EMPLOYEUR", "AUTRE"])
    if rng.random() < 0.5:
        p["dateInscription"] = exam - dt.timedelta(days=rng.randrange(30, 400))
    _person(rng, p)
    if rng.random() < 0.05:
        p["verbatim"] = rng.choice(["TOSA", "Session de printemps", "Jury du 12/06"])
    return p


def _spoil(rng: random.Random, p: Passage, family: str, nth: int) -> str | None:
    """Make the passage plausibly wrong for its KO family; returns what was spoilt."""
    if family == "K2":
        p["code"] = p["code"].removeprefix("RNCP").removeprefix("RS")
        return f"code de certification sans préfixe : {p['code']}"
    if family in ("K3", "K8"):
        # K8 is the older wording of K3: same causes, the other variant first.
        if (nth + (family == "K8")) % 2 == 0:
            birth_name = p["nomNaissance"]
            p["nomNaissance"] = rng.choice([n for n in _NOMS if n != birth_name])
            p["nomUsage"] = p["nomNaissance"]
            if p["sexe"] != "F":
                p["sexe"] = "F"
                p["prenom1"] = rng.choice(_PRENOMS_F)
                p.pop("prenom2", None)
                p.pop("prenom3", None)
            return (
                f"nom d'usage {p['nomNaissance']} saisi comme nom de naissance "
                f"(nom de naissance : {birth_name})"
            )
        compound = [n for n in (_PRENOMS_F if p["sexe"] == "F" else _PRENOMS_M) if "-" in n]
        p["prenom1"] = rng.choice(compound).replace("-", " ")
        return f"prénom composé écrit avec une espace : {p['prenom1']}"
    if family == "K4":
        day, month = rng.sample(range(1, 13), 2)
        p["jourNaissance"], p["moisNaissance"] = day, month
        return f"jour et mois de naissance inversés : jour {day}, mois {month}"
    if family == "K5":
        insee, postal, libelle = rng.choice(_COMMUNES)
        for key in ("codePostal", "codePaysNaissance", "libellePaysNaissance"):
            p.pop(key, None)
        p["codeInsee"] = postal
        p["libelleCommuneNaissance"] = libelle
        return f"code postal {postal} saisi comme code Insee (Insee de {libelle} : {insee})"
    if family == "K6":
        p["nomNaissance"] = "Martin"
        p["nomUsage"] = NIL
        p["prenom1"] = "Marie" if p["sexe"] == "F" else "Thomas"
        for key in (
            "prenom2",
            "prenom3",
            "codeInsee",
            "libelleCommuneNaissance",
            "codePaysNaissance",
            "libellePaysNaissance",
        ):
            p.pop(key, None)
        p["moisNaissance"] = p["jourNaissance"] = NIL
        p["codePostal"] = NIL
        return "nom et prénom courants, sans jour, mois ni commune de naissance"
    if family == "K7":
        p["dateFinValidite"] = p["dateDebutValidite"] - dt.timedelta(days=rng.randrange(1, 400))
        return (
            f"date de fin de validité {p['dateFinValidite'].isoformat()} avant la date "
            f"de début {p['dateDebutValidite'].isoformat()}"
        )
    return None  # K1: the passage is fine, it was simply deposited before


def _message(family: str, nth: int, ident: str) -> str:
    key = "K5bis" if family == "K5" and nth % 2 else family
    return MESSAGES[key].format(bcr=BCR_EMETTEUR, id=ident)


def _stream(passages: int, ko_rate: float, seed: int) -> Iterator[tuple[Passage, dict | None]]:
    """The passages in flux order, each with its KO record (None when accepted)."""
    rng = random.Random(seed)
    plan = _plan(passages, ko_rate, seed)
    for i in range(passages):
        p = _passage(rng, i, passages)
        ko = None
        if i in plan:
            family, nth = plan[i]
            ko = {
                "idTechnique": p["idTechnique"],
                "famille": family,
                "message": _message(family, nth, p["idTechnique"]),
                "anomalie": _spoil(rng, p, family, nth),
                "position": i,
            }
        yield p, ko


# --- the flux -----------------------------------------------------------------------------

_IND = "  "


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape(str(value))


def _el(depth: int, name: str, value: Any) -> str:
    pad = _IND * depth
    if value is NIL:
        return f'{pad}<cpf:{name} xsi:nil="true"/>'
    return f"{pad}<cpf:{name}>{_text(value)}</cpf:{name}>"


_PASSAGE_HEAD = [
    "idTechnique",
    "urlPreuve",
    "libelleOption",
    "obtentionCertification",
    "donneeCertifiee",
    "dateDebutExamen",
    "dateFinExamen",
    "modalitePassageExamen",
    "codePostalCentreExamen",
    "dateDebutValidite",
    "dateFinValidite",
    "presenceNiveauLangueEuro",
    "niveauLangueEuropeen",
    "presenceNiveauNumeriqueEuro",
]
_TITULAIRE_HEAD = [
    "nomNaissance",
    "nomUsage",
    "prenom1",
    "prenom2",
    "prenom3",
    "anneeNaissance",
    "moisNaissance",
    "jourNaissance",
    "sexe",
]
_TITULAIRE_TAIL = ["libelleCommuneNaissance", "codePaysNaissance", "libellePaysNaissance"]
_D = 7  # depth of passageCertification: flux/emetteur/certificateurs/certificateur/...


def _flux_passage(p: Passage) -> list[str]:
    d = _D + 1
    out = [_IND * _D + "<cpf:passageCertification>"]
    out += [_el(d, k, p[k]) for k in _PASSAGE_HEAD if k in p]
    if p["presenceNiveauNumeriqueEuro"] and "scoreGeneral" in p:
        out.append(_IND * d + "<cpf:niveauNumeriqueEuropeen>")
        out.append(_el(d + 1, "scoreGeneral", p["scoreGeneral"]))
        out.append(_IND * (d + 1) + "<cpf:resultats>")
        out.append(_IND * (d + 2) + "<cpf:resultat>")
        out += [
            _el(d + 3, k, p[k]) for k in ("niveau", "domaineCompetenceId", "competenceId") if k in p
        ]
        out.append(_IND * (d + 2) + "</cpf:resultat>")
        out.append(_IND * (d + 1) + "</cpf:resultats>")
        out.append(_IND * d + "</cpf:niveauNumeriqueEuropeen>")
    out.append(_el(d, "scoring", p["scoring"]))
    out.append(_el(d, "mentionValidee", p["mentionValidee"]))
    out.append(_IND * d + "<cpf:modalitesInscription>")
    out += [
        _el(d + 1, k, p[k])
        for k in ("modaliteAcces", "voieAccessVAE", "initiativeInscription", "dateInscription")
        if k in p
    ]
    out.append(_IND * d + "</cpf:modalitesInscription>")
    out.append(_IND * d + "<cpf:identificationTitulaire>")
    t = d + 2
    out.append(_IND * (d + 1) + "<cpf:titulaire>")
    out += [_el(t, k, p[k]) for k in _TITULAIRE_HEAD if k in p]
    out.append(_IND * t + "<cpf:codeCommuneNaissance>")
    if "codeInsee" in p:
        out.append(_IND * (t + 1) + "<cpf:codeInseeNaissance>")
        out.append(_el(t + 2, "codeInsee", p["codeInsee"]))
        out.append(_IND * (t + 1) + "</cpf:codeInseeNaissance>")
    else:
        out.append(_IND * (t + 1) + "<cpf:codePostalNaissance>")
        out.append(_el(t + 2, "codePostal", p["codePostal"]))
        out.append(_IND * (t + 1) + "</cpf:codePostalNaissance>")
    out.append(_IND * t + "</cpf:codeCommuneNaissance>")
    out += [_el(t, k, p[k]) for k in _TITULAIRE_TAIL if k in p]
    out.append(_IND * (d + 1) + "</cpf:titulaire>")
    out.append(_IND * d + "</cpf:identificationTitulaire>")
    if "verbatim" in p:
        out.append(_el(d, "verbatim", p["verbatim"]))
    out.append(_IND * _D + "</cpf:passageCertification>")
    return out


class _FluxWriter:
    """Writes the flux line by line, opening a certification for each run of passages that
    share type/code/nature (a K2 passage with its own code splits the run), and remembers
    the line span of every passage."""

    def __init__(self, path: Path, id_flux: str, horodatage: str) -> None:
        self._file = path.open("w", encoding="utf-8", newline="\n")
        self.line = 0  # last line written
        self._cert: tuple | None = None
        self.spans: list[tuple[int, int]] = []
        self._write(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                f'<cpf:flux xmlns:cpf="{NS}" xmlns:xsi="{XSI}">',
                _el(1, "idFlux", id_flux),
                _el(1, "horodatage", horodatage),
                _IND + "<cpf:emetteur>",
                _el(2, "idClient", BCR_EMETTEUR),
                _IND * 2 + "<cpf:certificateurs>",
                _IND * 3 + "<cpf:certificateur>",
                _el(4, "idClient", BCR_CERTIFICATEUR),
                _el(4, "idContrat", ID_CONTRAT),
                _IND * 4 + "<cpf:certifications>",
            ]
        )

    def _write(self, lines: list[str]) -> None:
        self._file.write("\n".join(lines))
        self._file.write("\n")
        self.line += len(lines)

    def _close_cert(self) -> list[str]:
        return [_IND * 6 + "</cpf:passageCertifications>", _IND * 5 + "</cpf:certification>"]

    def add(self, p: Passage) -> list[str]:
        head: list[str] = []
        cert = (p["type"], p["code"], p.get("natureDeposant"))
        if cert != self._cert:
            if self._cert is not None:
                head += self._close_cert()
            head += [
                _IND * 5 + "<cpf:certification>",
                _el(6, "type", cert[0]),
                _el(6, "code", cert[1]),
            ]
            if cert[2]:
                head.append(_el(6, "natureDeposant", cert[2]))
            head.append(_IND * 6 + "<cpf:passageCertifications>")
            self._cert = cert
        body = _flux_passage(p)
        start = self.line + len(head) + 1
        self._write(head + body)
        self.spans.append((start, self.line))
        return body

    def close(self) -> None:
        tail = self._close_cert() if self._cert is not None else []
        self._write(
            [
                *tail,
                _IND * 4 + "</cpf:certifications>",
                _IND * 3 + "</cpf:certificateur>",
                _IND * 2 + "</cpf:certificateurs>",
                _IND + "</cpf:emetteur>",
                "</cpf:flux>",
            ]
        )
        self._file.close()


# --- spreadsheets and csv -----------------------------------------------------------------


def _sheet_value(key: str, value: Any) -> Any:
    """A passage value as the user's spreadsheet holds it."""
    if value is NIL:
        return "NILL"
    if isinstance(value, bool):
        return "OUI" if value else "NON"
    if key == "idTechnique" and value.isdigit() and not value.startswith("0"):
        return int(value)  # users' Excel turns numeric ids into numbers
    return value


def _cell_writer(ws: Any, date_format: Any) -> Callable[[int, int, Any], None]:
    def write(row: int, col: int, value: Any) -> None:
        if isinstance(value, dt.date):
            ws.write_number(row, col, (value - _EXCEL_EPOCH).days, date_format)
        elif isinstance(value, int):
            ws.write_number(row, col, value)
        elif value != "":
            ws.write_string(row, col, value)

    return write


def _workbook(path: Path) -> tuple[Any, Any]:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_urls": False})
    wb.set_properties(_WORKBOOK_PROPS)
    return wb, wb.add_format({"num_format": "dd/mm/yyyy"})


def _write_flat(path: Path, rows: Iterator[Passage]) -> None:
    wb, date_format = _workbook(path)
    ws = wb.add_worksheet("Titulaires")
    write = _cell_writer(ws, date_format)
    for col, (_key, header) in enumerate(FLAT_COLUMNS):
        ws.write_string(0, col, header)
    for r, p in enumerate(rows, start=1):
        for col, (key, _header) in enumerate(FLAT_COLUMNS):
            if key in p:
                write(r, col, _sheet_value(key, p[key]))
    wb.close()


def _write_template(path: Path, rows: Iterator[Passage]) -> None:
    wb, date_format = _workbook(path)
    ws = wb.add_worksheet(TEMPLATE_SHEET)
    write = _cell_writer(ws, date_format)
    # constant_memory wants rows in order: rows 1-20 first, cell by cell.
    for row in range(1, TEMPLATE_FIRST_DATA_ROW):
        cells: dict[int, Any] = {}
        if row in _TPL_COL_A:
            cells[0] = _TPL_COL_A[row]
        if row in _TPL_COL_B:
            cells[1] = _TPL_COL_B[row]
        line = {11: None, 12: 1, 13: 2}.get(row, -1)
        if row == 11:
            cells.update(_TPL_BLOCS)
        elif line in (1, 2):
            cells.update({c + 1: col[line] for c, col in enumerate(TEMPLATE_COLUMNS)})
        for r, values in (
            (14, _TPL_TYPES),
            (15, _TPL_OBLIG),
            (17, _TPL_CONSIGNE),
            (18, _TPL_EXEMPLE),
        ):
            if row == r:
                cells.update({c + 1: v for c, v in enumerate(values)})
        for col in sorted(cells):
            write(row - 1, col, cells[col])
    for r, p in enumerate(rows, start=TEMPLATE_FIRST_DATA_ROW - 1):
        for col, (key, _id, _label) in enumerate(TEMPLATE_COLUMNS, start=1):
            if key in p and key not in ("idFlux", "horodatage"):  # "Auto, ne rien inscrire"
                value = _sheet_value(key, p[key])
                if key == "natureDeposant" and value == "TIERS_CONFIANCE":
                    value = "TIERS_DE_CONFIANCE"  # the template's own spelling
                write(r, col, value)
    wb.close()


def _csv_value(key: str, value: Any) -> str:
    value = _sheet_value(key, value)
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _write_workbooks(
    out_dir: Path, passages: int, ko_rate: float, seed: int, which: tuple[str, ...]
) -> None:
    """Runs in a worker too: it regenerates the passage stream from the seed."""
    for name in which:
        rows = (p for p, _ko in _stream(passages, ko_rate, seed))
        writer = _write_flat if name == "plat" else _write_template
        writer(out_dir / FILES[name], rows)


# --- receipts -----------------------------------------------------------------------------

_RECU_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">\n'
)


def _write_receipt(
    path: Path, id_flux: str, id_traitement: int, kos: list[dict], ok_ids: list[str]
) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(_RECU_HEAD)
        f.write(f"    <nomFichier>{FILES['flux']}</nomFichier>\n")
        f.write(f"    <idFlux>{id_flux}</idFlux>\n")
        f.write(f"    <idTraitement>{id_traitement}</idTraitement>\n")
        if kos:
            f.write("    <PassagesKO>\n")
            for ko in kos:
                f.write(
                    "        <passage>\n"
                    f"            <idTechnique>{escape(ko['idTechnique'])}</idTechnique>\n"
                    f"            <messageErreur>{escape(ko['message'])}</messageErreur>\n"
                    "        </passage>\n"
                )
            f.write("    </PassagesKO>\n")
        if ok_ids:
            f.write("    <PassagesOK>\n")
            f.writelines(f"        <idTechnique>{escape(i)}</idTechnique>\n" for i in ok_ids)
            f.write("    </PassagesOK>\n")
        f.write("</rapport>\n")


_PATTERN = "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"


def _rejection_errors(targets: dict[str, tuple[str, list[str], int]]) -> list[dict]:
    """Real Xerces French messages (FORMAT.md §2.2), each at the line and column Xerces
    reports: the end of the offending element."""
    errors: list[dict] = [
        {
            "ligne": 2,
            "colonne": 5,
            "idTechnique": None,
            "message": 'La chaîne "--" n\'est pas autorisée dans les commentaires.',
        }
    ]

    def at(name: str, tag: str, message: str) -> None:
        if name not in targets:
            return
        ident, body, start = targets[name]
        offset = next(n for n, text in enumerate(body) if tag in text)
        errors.append(
            {
                "ligne": start + offset,
                "colonne": len(body[offset]) + 1,
                "idTechnique": ident,
                "message": message,
            }
        )

    at(
        "sexe",
        "<cpf:sexe>",
        "cvc-enumeration-valid : La valeur 'H' n'est pas un facet valide "
        "par rapport à l'énumération '[M, F]'. Il doit s'agir d'une valeur provenant de "
        "l'énumération.",
    )
    at(
        "sexe",
        "<cpf:sexe>",
        "cvc-type.3.1.3 : La valeur 'H' de l'élément 'cpf:sexe' n'est pas valide.",
    )
    at(
        "dateDebutValidite",
        "<cpf:dateDebutValidite>",
        "cvc-pattern-valid : La valeur "
        f"'15/06/2023' n'est pas un facet valide par rapport au modèle '{_PATTERN}' pour le type "
        "'#AnonType_dateDebutValiditepassageCertification'.",
    )
    at(
        "codeInsee",
        "<cpf:codeInsee>",
        "cvc-length-valid : La valeur '7505', ayant pour "
        "longueur '4', n'est pas un facet valide par rapport à la longueur '5' pour le type "
        "'#AnonType_codeInseecodeInsee'.",
    )
    at(
        "titulaire",
        "</cpf:titulaire>",
        "cvc-complex-type.2.4.b : Le contenu de l'élément "
        "'cpf:titulaire' n'est pas complet. L'un des éléments "
        "'{\"urn:cdc:cpf:pc5:schema:1.0.0\":sexe}' est attendu.",
    )
    return errors


def _write_rejection(path: Path, id_demande: int, errors: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(_RECU_HEAD)
        f.write(f"    <nomFichier>{FILES['flux']}</nomFichier>\n")
        f.write(f"    <idDemande>{id_demande}</idDemande>\n")
        f.write("    <erreurs>\n")
        for e in errors:
            f.write(
                "        <erreur>\n"
                "            <type>XSD</type>\n"
                f"            <message>{escape(e['message'])}</message>\n"
                f"            <ligne>{e['ligne']}</ligne>\n"
                f"            <colonne>{e['colonne']}</colonne>\n"
                "        </erreur>\n"
            )
        f.write("    </erreurs>\n")
        f.write("</rapport>\n")


# --- entry point --------------------------------------------------------------------------


def generate(out_dir: Path, passages: int, ko_rate: float = 0.1, seed: int = 0) -> dict:
    """Write a coherent set (flux, sources, receipts, facts.json) into out_dir; return the facts.

    The same seed always gives the same files. File paths in the facts are relative to
    out_dir."""
    if passages < 1:
        raise ValueError("il faut au moins un passage")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = random.Random(f"{seed}:meta")
    id_flux = str(uuid.UUID(int=meta.getrandbits(128), version=4))
    horodatage = (
        f"2024-{meta.randrange(1, 13):02d}-{meta.randrange(1, 29):02d}T"
        f"{meta.randrange(8, 19):02d}:{meta.randrange(60):02d}:"
        f"{meta.randrange(60):02d}+01:00"
    )
    id_traitement = meta.randrange(50_000, 90_000)
    id_demande = meta.randrange(400, 3_000)

    # xlsxwriter costs ~4 µs a cell, far more than the flux: big sets get one process per
    # workbook, each regenerating the same passages from the seed.
    books = ("plat", "modele")
    pool = ProcessPoolExecutor(max_workers=len(books)) if passages >= PARALLEL_FROM else None
    pending = (
        [pool.submit(_write_workbooks, out_dir, passages, ko_rate, seed, (book,)) for book in books]
        if pool
        else []
    )

    targets_at = {pos: name for name, pos in _rejection_targets(passages).items()}
    targets: dict[str, tuple[str, list[str], int]] = {}
    flux = _FluxWriter(out_dir / FILES["flux"], id_flux, horodatage)
    kos: list[dict] = []
    ok_ids: list[str] = []
    forms = {"numerique": 0, "texte": 0}
    with (out_dir / FILES["csv"]).open("w", encoding="utf-8-sig", newline="") as fcsv:
        out_csv = csv.writer(fcsv, delimiter=";")
        out_csv.writerow([header for _key, header in FLAT_COLUMNS])
        for i, (p, ko) in enumerate(_stream(passages, ko_rate, seed)):
            body = flux.add(p)
            start, end = flux.spans[-1]
            if i in targets_at:
                # codeInsee errors need a passage born with an Insee code: take the next one.
                name = targets_at.pop(i)
                if name == "codeInsee" and "codeInsee" not in p:
                    if i + 1 < passages and i + 1 not in targets_at:
                        targets_at[i + 1] = name
                else:
                    targets[name] = (p["idTechnique"], body, start)
            out_csv.writerow([_csv_value(k, p[k]) if k in p else "" for k, _h in FLAT_COLUMNS])
            ident = p["idTechnique"]
            forms[
                "numerique" if isinstance(_sheet_value("idTechnique", ident), int) else "texte"
            ] += 1
            if ko is None:
                ok_ids.append(ident)
            else:
                ko["lignes_flux"] = [start, end]
                ko["ligne_plat"] = i + 2
                ko["ligne_modele"] = i + TEMPLATE_FIRST_DATA_ROW
                kos.append(ko)
    flux.close()

    if pool is not None:
        for job in pending:
            job.result()
        pool.shutdown()
    else:
        _write_workbooks(out_dir, passages, ko_rate, seed, books)

    _write_receipt(out_dir / FILES["recu"], id_flux, id_traitement, kos, ok_ids)
    errors = _rejection_errors(targets)
    _write_rejection(out_dir / FILES["rejet"], id_demande, errors)

    by_family: dict[str, list[str]] = {}
    for ko in kos:
        by_family.setdefault(ko["famille"], []).append(ko["idTechnique"])
    facts = {
        "graine": seed,
        "passages": passages,
        "taux_ko": ko_rate,
        "ko": len(kos),
        "ok": len(ok_ids),
        "idFlux": id_flux,
        "horodatage": horodatage,
        "idTraitement": id_traitement,
        "idDemande": id_demande,
        "bcr_emetteur": BCR_EMETTEUR,
        "bcr_certificateur": BCR_CERTIFICATEUR,
        "idContrat": ID_CONTRAT,
        "certifications": [
            {"type": t, "code": c, "natureDeposant": n} for t, c, n, _s in _CERTIFICATIONS
        ],
        "ids_numeriques": forms["numerique"],
        "ids_texte": forms["texte"],
        "lignes_flux": flux.line,
        "ko_par_famille": dict(sorted(by_family.items())),
        "ko_detail": kos,
        "rejet": errors,
        "fichiers": dict(FILES),
    }
    (out_dir / FILES["facts"]).write_text(
        json.dumps(facts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Génère un jeu d'essai cohérent pour accuse : flux déposé, sources "
        "(xlsx à plat, modèle officiel v1.4, csv), accusés de traitement et faits."
    )
    parser.add_argument(
        "--passages", type=int, default=2000, help="nombre de passages (défaut : 2000)"
    )
    parser.add_argument(
        "--ko",
        type=float,
        default=0.1,
        help="part de passages refusés, entre 0 et 1 (défaut : 0.1)",
    )
    parser.add_argument(
        "--graine",
        type=int,
        default=0,
        help="graine du hasard : même graine, mêmes fichiers (défaut : 0)",
    )
    parser.add_argument(
        "--sortie",
        type=Path,
        default=Path("bench/out"),
        help="dossier où écrire les fichiers (défaut : bench/out)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.ko <= 1:
        parser.error("--ko doit être compris entre 0 et 1")
    facts = generate(args.sortie, args.passages, args.ko, args.graine)
    print(
        f"{facts['passages']} passages, {facts['ko']} KO, {facts['ok']} OK -> {args.sortie}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
