"""Sentences and counts shared by every presentation (terminal, JSON, HTML, worksheet)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accuse.model import FLUX_FEATURES, Source
from accuse.pipeline.analysis import Analysis
from accuse.reference.fields import by_key, used_composites
from accuse.text import header_key, plural

# What "redeposer" in the catalogue means, as every presentation says it.
REDEPOSER = {
    "non": "non",
    "apres_correction": "oui, après correction",
    "fichier_entier": "tout le fichier",
}

_LAYOUTS = {"modele_v1.4": " (modèle Excel officiel v1.4)", "flux": " (flux XML déposé)"}


def describe_source(source: Source) -> str:
    """'titulaires.xlsx, feuille « Titulaires »' and the layout when it is a known one; for a
    flux, the XSD version it follows and a SUPPRESSION action."""
    sheet = f", feuille « {source.sheet} »" if source.sheet else ""
    text = f"{source.path.name}{sheet}{_LAYOUTS.get(source.layout, '')}"
    if source.schema_version is not None:
        text += f", {schema_note(source)}"
    if source.action == "SUPPRESSION":
        text += ", action SUPPRESSION (retrait de passages)"
    return text


def schema_note(source: Source) -> str:
    """'XSD 1.1.5 (élément « action », passages identifiés par le NIR …)' for a flux source."""
    if source.schema_version is None:
        return ""
    if not source.schema_features:
        return f"XSD {source.schema_version}"
    said = ", ".join(FLUX_FEATURES[k] for k in source.schema_features)
    return f"XSD {source.schema_version} ({said})"


def understood_columns(source: Source) -> list[tuple[str, str, str]]:
    """(the user's header, dictionary key, the field's French label) for each column of a
    spreadsheet or csv recognised as a field, in column order."""
    if source.kind == "flux":
        return []
    found = []
    used = used_composites(source.columns)
    for key, index in sorted(source.columns.items(), key=lambda item: item[1]):
        header = source.headers[index] if index < len(source.headers) else ""
        field = by_key().get(key)
        if field is None:
            continue
        if field.donne:
            ids = ", ".join(by_key()[k].id for k in field.donne)
            if field in used:
                found.append((header, key, f"{field.lu_comme} ({ids})"))
            else:
                split = [
                    f"« {source.headers[source.columns[k]]} »"
                    for k in field.donne
                    if k in source.columns and source.columns[k] < len(source.headers)
                ]
                said = f"{field.lu_comme}, non lue : {', '.join(split)} " + (
                    "ont priorité" if len(split) > 1 else "a priorité"
                )
                found.append((header, key, said))
        else:
            found.append((header, key, f"{field.label} ({field.id})" if field.id else field.label))
    return found


def columns_sentence(source: Source) -> str | None:
    """How the columns of a plain spreadsheet or csv were understood, in one line. A header
    that already spells its field (« Sexe », « Nom de naissance ») is only counted: listing
    the template's 51 columns would bury the few mappings worth checking."""
    if source.kind == "flux" or source.layout != "plat":
        return None
    understood = understood_columns(source)
    telling = [(h, label) for h, key, label in understood if not _spells_its_field(h, key)]
    if not understood:
        text = "aucune"
    elif not telling:
        text = f"{plural(len(understood), 'colonne reconnue', 'colonnes reconnues')}, sous leur nom"
    else:
        text = f"{plural(len(understood), 'colonne reconnue', 'colonnes reconnues')}"
        if len(telling) < len(understood):
            text += ", dont"
        text += " : " + " ; ".join(f"« {h} » = {label}" for h, label in telling)
    ignored = ignored_columns(source)
    if ignored:
        text += f". Ignorées : {', '.join(f'« {h} »' for h in ignored[:20])}"
        text += " …" if len(ignored) > 20 else ""
    return text


def _spells_its_field(header: str, key: str) -> bool:
    field = by_key().get(key)
    if field is None or field.donne:
        return False  # a whole date read as three fields is always worth saying
    names = {header_key(n) for n in (field.key, field.label, field.nom) if n}
    return header_key(header) in names


def ignored_columns(source: Source) -> list[str]:
    """The headers of a spreadsheet or csv that name no field of the dictionary."""
    if source.kind == "flux":
        return []
    used = set(source.columns.values())
    return [h for i, h in enumerate(source.headers) if h.strip() and i not in used]


@dataclass(frozen=True)
class Totals:
    ok: int
    ko: int
    ko_rapproches: int
    ko_introuvables: int
    lignes_source: int | None
    absents_accuse: int | None
    a_corriger: int
    deja_enregistres: int
    doublons_source: int
    erreurs_fichier: int


def totals(analysis: Analysis) -> Totals:
    source = analysis.source
    fixable = sum(1 for r in analysis.rejected if r.fixable)
    return Totals(
        ok=analysis.accepted_count,
        ko=analysis.rejected_count,
        ko_rapproches=analysis.matched_count,
        ko_introuvables=len(analysis.unmatched_ids),
        lignes_source=source.row_count if source is not None else None,
        absents_accuse=len(analysis.absent) if source is not None else None,
        a_corriger=fixable,
        deja_enregistres=len(analysis.rejected) - fixable,
        doublons_source=len(analysis.duplicates),
        erreurs_fichier=len(analysis.receipt.file_errors),
    )


def verdict(analysis: Analysis) -> str:
    """One sentence anyone understands."""
    t = totals(analysis)
    if analysis.receipt.shape == "rejet_fichier":
        return (
            "Le fichier entier a été refusé par la Caisse des Dépôts "
            f"({plural(t.erreurs_fichier, 'erreur')} de structure) : aucun passage n'a été "
            "enregistré. Corrigez ces erreurs puis redéposez tout le fichier."
        )
    total = t.ok + t.ko
    if total == 0:
        return "Cet accusé de traitement ne mentionne aucun passage."
    if t.ko == 0:
        if total == 1:
            return "Le passage a été accepté par la Caisse des Dépôts : rien à corriger."
        return f"Les {total} passages ont été acceptés par la Caisse des Dépôts : rien à corriger."
    one = t.ko == 1
    sentence = (
        f"{t.ko} {'passage' if one else 'passages'} sur {total} "
        f"{'a été refusé' if one else 'ont été refusés'} par la Caisse des Dépôts"
    )
    if t.deja_enregistres == 0:
        return f"{sentence} ; {'il est' if one else 'tous sont'} à corriger et à redéposer."
    if t.a_corriger == 0:
        already = "il était déjà enregistré" if one else "tous étaient déjà enregistrés"
        return f"{sentence} ; {already} : rien à redéposer."
    to_fix = f"{t.a_corriger} {'est' if t.a_corriger == 1 else 'sont'} à corriger et à redéposer"
    stored = "était déjà enregistré" if t.deja_enregistres == 1 else "étaient déjà enregistrés"
    return f"{sentence} ; {to_fix}, {t.deja_enregistres} {stored}."


def next_step(analysis: Analysis, worksheet: str | None) -> str | None:
    """What to do now, as the last words of the summary: where the worksheet is and the
    command that turns it into the file to deposit."""
    if analysis.receipt.shape == "rejet_fichier":
        return None  # the verdict already says: correct the file and deposit it whole
    t = totals(analysis)
    if t.a_corriger == 0:
        return None
    if analysis.source is None:
        return (
            "Étape suivante : relancez avec --source et le fichier que vous avez déposé, pour "
            "retrouver chaque refus dans vos lignes et obtenir la feuille de corrections."
        )
    if worksheet is None:
        return (
            "Étape suivante : relancez sans --sans-sortie pour obtenir la feuille de "
            "corrections (corrections.xlsx)."
        )
    return (
        f"Étape suivante : corrigez les lignes de l'onglet « À corriger » de {worksheet}, "
        f'enregistrez, puis lancez : accuse reexporter "{worksheet}"'
    )


def earlier_sentence(analysis: Analysis) -> str | None:
    """Passages of this receipt already refused at an earlier deposit, as one sentence."""
    count = len(analysis.earlier)
    if not count:
        return None
    late = sum(1 for e in analysis.earlier.values() if e.deadline and e.deadline < dt.date.today())
    sentence = (
        f"{plural(count, 'passage')} de cet accusé "
        f"{'avait' if count == 1 else 'avaient'} déjà été "
        f"refusé{'s' if count > 1 else ''} à un dépôt précédent"
    )
    if late:
        sentence += f" (échéance légale dépassée pour {late})"
    return sentence + " : voir accuse suivi et le rapport."


def batch_line(analysis: Analysis) -> str:
    """One line per receipt of a batch."""
    t = totals(analysis)
    name = analysis.receipt.path.name
    if analysis.receipt.shape == "rejet_fichier":
        return f"{name} : fichier entier refusé ({plural(t.erreurs_fichier, 'erreur')})"
    if t.ko == 0:
        return f"{name} : {plural(t.ok, 'passage accepté', 'passages acceptés')}, aucun refus"
    return (
        f"{name} : {t.ko} refusé{'s' if t.ko > 1 else ''} sur {t.ok + t.ko}, "
        f"{t.a_corriger} à corriger"
    )


def batch_summary(done: list[Analysis], failed: int) -> str:
    """The last words of a batch."""
    rejected = sum(totals(a).ko for a in done)
    to_fix = sum(totals(a).a_corriger for a in done)
    whole = sum(1 for a in done if a.receipt.shape == "rejet_fichier")
    sentence = f"{plural(len(done), 'accusé analysé', 'accusés analysés')}"
    if failed:
        sentence += f", {plural(failed, 'ignoré', 'ignorés')} (voir ci-dessus)"
    sentence += (
        f" : {plural(rejected, 'passage refusé', 'passages refusés')} dont {to_fix} à corriger"
    )
    if whole:
        sentence += f", {plural(whole, 'fichier entier refusé', 'fichiers entiers refusés')}"
    sentence += "."
    if to_fix:
        sentence += (
            " Étape suivante : corrigez chaque corrections.xlsx (un dossier par accusé), puis "
            "lancez accuse reexporter sur chacun ; accuse suivi montre ce qui reste à faire."
        )
    return sentence
