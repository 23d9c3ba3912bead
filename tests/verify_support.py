"""Planted-fault sources for `accuse verifier` and `accuse generer`: the same passages written
as a flat sheet, the official template v1.4 layout, a csv and a flux XML, with the bench
generator's own writers (so the files are built without the accuse package)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("plat", "modele", "csv", "flux")
FILE_NAMES = {
    "plat": "source-plat.xlsx",
    "modele": "source-modele.xlsx",
    "csv": "source.csv",
    "flux": "flux.xml",
}


def generator() -> Any:
    name = "bench_generate_for_verify"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def clean_passage(ident: str, today: dt.date) -> dict[str, Any]:
    """A passage nothing should flag: complete, coherent, deadline well ahead."""
    gen = generator()
    start = today - dt.timedelta(days=20)
    return {
        "idClientEmetteur": gen.BCR_EMETTEUR,
        "idClientCertificateur": gen.BCR_CERTIFICATEUR,
        "idContrat": gen.ID_CONTRAT,
        "type": "RNCP",
        "code": "RNCP34567",
        "natureDeposant": "CERTIFICATEUR",
        "idTechnique": ident,
        "obtentionCertification": "PAR_ADMISSION",
        "donneeCertifiee": True,
        "dateDebutExamen": start - dt.timedelta(days=10),
        "dateFinExamen": start - dt.timedelta(days=9),
        "dateDebutValidite": start,
        "dateFinValidite": gen.NIL,
        "presenceNiveauLangueEuro": False,
        "presenceNiveauNumeriqueEuro": False,
        "scoring": gen.NIL,
        "mentionValidee": gen.NIL,
        "modaliteAcces": "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
        "nomNaissance": "Durand",
        "nomUsage": gen.NIL,
        "prenom1": "Claire",
        "anneeNaissance": 1990,
        "moisNaissance": 4,
        "jourNaissance": 17,
        "sexe": "F",
        "codeInsee": "31555",
        "libelleCommuneNaissance": "Toulouse",
    }


def planted(today: dt.date) -> tuple[list[dict[str, Any]], dict[tuple[str, str], str]]:
    """Clean passages and one passage per rule; the expected (code, idTechnique) -> gravité.

    Each fault stands alone in its passage, so a flux's XSD check sees each one."""
    gen = generator()
    rows = [clean_passage(f"OK-{n}", today) for n in range(1, 4)]
    expected: dict[tuple[str, str], str] = {}

    def fault(ident: str, code: str, gravite: str, **changes: Any) -> None:
        p = clean_passage(ident, today)
        for key, value in changes.items():
            if value is None:
                p.pop(key, None)
            else:
                p[key] = value
        rows.append(p)
        expected[(code, ident)] = gravite

    fault("F-ENUM", "XSD_ENUMERATION", "bloquant", sexe="H")
    fault("F-LONG", "XSD_LONGUEUR", "bloquant", codePostalCentreExamen="1234567890")
    fault("F-FORMAT", "XSD_FORMAT", "bloquant", dateDebutExamen="32/13/2024")
    fault("F-ABSENT", "XSD_ABSENT", "bloquant", obtentionCertification=None)
    fault("F-NIL", "XSD_NIL", "bloquant", sexe=gen.NIL)
    fault(
        "F-DATES",
        "DATES_INCOHERENTES",
        "bloquant",
        dateFinValidite=today - dt.timedelta(days=400),
    )
    fault("F-CERT", "CERTIFICATION_INCONNUE", "bloquant", type="RS")
    fault("F-VAE", "CHAMP_CONDITIONNEL", "bloquant", voieAccessVAE="VAE_CLASSIQUE")
    # Month 13 is out of the XSD's bounds, and looks like day and month swapped (a risk).
    fault("F-MOIS", "XSD_BORNES", "bloquant", moisNaissance=13, jourNaissance=5)
    expected[("TITULAIRE_INTROUVABLE_N2", "F-MOIS")] = "risque"
    fault("R-PRENOM", "TITULAIRE_INTROUVABLE_N1", "risque", prenom1="Jean Pierre")
    fault("R-POSTAL", "TITULAIRE_INTROUVABLE_N3", "risque", codeInsee="31000")
    fault(
        "R-HOMONYMES",
        "TITULAIRES_MULTIPLES",
        "risque",
        moisNaissance=gen.NIL,
        jourNaissance=gen.NIL,
    )
    fault(
        "R-ECHU",
        "ECHEANCE_DEPASSEE",
        "risque",
        dateDebutValidite=today - dt.timedelta(days=200),
        dateDebutExamen=today - dt.timedelta(days=210),
        dateFinExamen=today - dt.timedelta(days=209),
    )
    fault(
        "R-BIENTOT",
        "ECHEANCE_PROCHE",
        "risque",
        dateDebutValidite=today - dt.timedelta(days=75),
        dateDebutExamen=today - dt.timedelta(days=80),
        dateFinExamen=today - dt.timedelta(days=79),
    )
    duplicate = clean_passage("OK-2", today)
    rows.append(duplicate)
    expected[("IDTECHNIQUE_EN_DOUBLE", "OK-2")] = "bloquant"
    return rows, expected


def write(kind: str, rows: list[dict[str, Any]], folder: Path) -> Path:
    """The passages as a source of the given kind."""
    gen = generator()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAMES[kind]
    if kind == "plat":
        gen._write_flat(path, iter(rows))
    elif kind == "modele":
        gen._write_template(path, iter(rows))
    elif kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow([header for _key, header in gen.FLAT_COLUMNS])
            for p in rows:
                writer.writerow(
                    [gen._csv_value(k, p[k]) if k in p else "" for k, _h in gen.FLAT_COLUMNS]
                )
    else:
        flux = gen._FluxWriter(path, "verif-0001", "2026-01-05T10:00:00+01:00")
        for p in rows:
            flux.add(p)
        flux.close()
    return path
