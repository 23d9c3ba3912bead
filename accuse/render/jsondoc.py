"""The `--format json` document: everything the analysis found, for scripts and other tools."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from accuse.nir import mask
from accuse.pipeline.analysis import Analysis, RejectedRow
from accuse.pipeline.summary import totals, understood_columns, verdict

FORMAT_VERSION = 1


def build(analysis: Analysis, nir_in_clear: bool = False) -> dict:
    """The document; the NIR column is masked unless ``nir_in_clear`` (--nir-en-clair)."""
    receipt, source = analysis.receipt, analysis.source
    document: dict = {
        "format": FORMAT_VERSION,
        "analyse_le": analysis.analysed_at.isoformat(timespec="seconds"),
        "verdict": verdict(analysis),
        "accuse": {
            "fichier": str(receipt.path),
            "type": receipt.shape,
            "nomFichier": receipt.nomFichier,
            "idFlux": receipt.idFlux,
            "idTraitement": receipt.idTraitement,
            "idDemande": receipt.idDemande,
        },
        "source": None,
        "catalogue": {
            "version": analysis.catalogue.version,
            "mis_a_jour": analysis.catalogue.mis_a_jour.isoformat()
            if analysis.catalogue.mis_a_jour
            else None,
        },
        "totaux": asdict(totals(analysis)),
        "familles": [
            {"code": e.code, "titre": e.titre, "nombre": n, "redeposer": e.redeposer}
            for e, n in analysis.families()
        ],
        "ko": [_rejected(analysis, r, nir_in_clear) for r in analysis.rejected],
        "erreurs_fichier": [
            {
                "type": item.error.type,
                "message": item.error.message,
                "code_technique": item.error.code_technique,
                "ligne": item.error.ligne,
                "colonne": item.error.colonne,
                "code": item.classification.code,
                "titre": item.classification.entry.titre,
                "indice": item.classification.hint or None,
                "elements": item.classification.captures,
                "idTechnique": item.idTechnique,
                "ligne_passage": item.passage_line,
            }
            for item in analysis.file_errors
        ],
        "introuvables": analysis.unmatched_ids,
        "absents_accuse": [{"ligne_source": p, "idTechnique": i} for p, i in analysis.absent],
        "doublons_source": [
            {"idTechnique": i, "lignes_source": p} for i, p in analysis.duplicates.items()
        ],
    }
    if source is not None:
        document["source"] = {
            "fichier": str(source.path),
            "type": source.kind,
            "disposition": source.layout,
            "feuille": source.sheet,
            "ligne_entete": source.header_row,
            "lignes": source.row_count,
            "colonnes_reconnues": sorted(source.columns),
            "colonnes_comprises": [
                {"entete": header, "champ": key, "libelle": label}
                for header, key, label in understood_columns(source)
            ],
            "schema": source.schema_version,
            "schema_elements_1_1_5": list(source.schema_features),
            "action": source.action,
        }
    return document


def _rejected(analysis: Analysis, rejected: RejectedRow, nir_in_clear: bool) -> dict:
    entry = rejected.classification.entry
    item: dict = {
        "idTechnique": rejected.idTechnique,
        "message": rejected.message,
        "code": entry.code,
        "titre": entry.titre,
        "ligne_source": rejected.row.position if rejected.row else None,
        "redeposer": entry.redeposer,
        "actions": list(entry.actions),
        "champs": list(entry.champs),
        "indice": rejected.classification.hint or None,
        "elements": rejected.classification.captures,
        "diagnostic": [{"champ": f.champ, "message": f.message} for f in rejected.findings],
    }
    if rejected.row is not None:
        values = analysis.row_values(rejected.row)
        if "nir" in values and values["nir"] is not None and not nir_in_clear:
            values["nir"] = mask(values["nir"])
        # Dates as ISO text, every other value as read (asked for every cell of every refusal)
        item["valeurs"] = {
            k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()
        }
    return item
