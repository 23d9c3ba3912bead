"""The processing receipt (accusé de traitement): both shapes, read streaming.

Per-passage receipt: rapport > nomFichier, idFlux?, idTraitement?, idDemande?,
PassagesKO > passage{idTechnique, messageErreur}, PassagesOK > idTechnique.
Whole-file rejection: rapport > nomFichier, idDemande, erreurs > erreur{type, message, ligne,
colonne}. Elements are matched on their local name: real files carry an unused ns2 prefix
declaration, and a prefixed or default-namespaced root must read the same.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from lxml import etree

from accuse.errors import InputError
from accuse.files import require_regular_file
from accuse.model import FileError, Receipt, RejectedPassage
from accuse.nir import mask_in_text
from accuse.progress import SILENT, Progress
from accuse.read.xmlread import child_texts, localname, open_events, release

WHAT = "l'accusé de traitement"
_IDENTITY = ("nomFichier", "idFlux", "idTraitement", "idDemande")
_SECTIONS = {"PassagesKO", "PassagesOK", "erreurs"}
_ITEMS = {
    "passage": {"idTechnique", "messageErreur"},
    "erreur": {"type", "message", "ligne", "colonne"},
}
# What users give by mistake in the receipt's place, told by the file's first bytes.
_SIGNATURES = {
    b"PK\x03\x04": "un classeur (xlsx, ods) ou une autre archive zip",
    bytes.fromhex("D0CF11E0A1B11AE1"): "un classeur Excel (xls, ou protégé par un mot de passe)",
}
_SOURCE_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".tsv"}


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_receipt(path: Path, progress: Progress = SILENT) -> Receipt:
    path = Path(path)
    require_regular_file(path, WHAT)
    _refuse_source_file(path)
    receipt = Receipt(path=path, shape="passages")
    seen: set[str] = set()
    root_checked = False
    item, item_fields = None, set[str]()

    for _, element in open_events(path, WHAT, progress):
        if not root_checked:
            root_checked = True
            _check_root(element.getroottree().getroot(), path)
        name = localname(element.tag)
        parent = element.getparent()
        if parent is None:
            break
        parent_name = localname(parent.tag)

        if parent_name == "PassagesKO" and name == "passage":
            fields = child_texts(element)
            receipt.rejected.append(
                RejectedPassage(
                    idTechnique=fields.get("idTechnique", ""),
                    # The receipt's words are kept, a NIR it may quote is not (accuse.nir).
                    message=mask_in_text(fields.get("messageErreur", "")),
                    line=element.sourceline,
                )
            )
            release(element)
        elif parent_name == "PassagesOK" and name == "idTechnique":
            receipt.accepted_ids.append((element.text or "").strip())
            release(element)
        elif parent_name == "erreurs" and name == "erreur":
            fields = child_texts(element)
            receipt.file_errors.append(
                FileError(
                    type=fields.get("type", ""),
                    message=mask_in_text(fields.get("message", "")),
                    ligne=_as_int(fields.get("ligne", "")),
                    colonne=_as_int(fields.get("colonne", "")),
                )
            )
            release(element)
        elif parent.getparent() is None:
            # A direct child of rapport: identity fields, or a section just closed.
            seen.add(name)
            if name in _IDENTITY:
                setattr(receipt, name, (element.text or "").strip() or None)
            release(element)
        elif parent_name in _ITEMS:
            # A field of a passage or an error, read when its parent ends: only the first of
            # each wanted name is kept, so memory stays flat whatever a hostile file repeats.
            if parent is not item:
                item, item_fields = parent, set()
            if name in _ITEMS[parent_name] and name not in item_fields:
                item_fields.add(name)
            else:
                parent.remove(element)  # done with: its end tag has been read
        elif parent_name in _SECTIONS:
            release(element)  # an unknown element in a section
        else:
            # Deeper still: nothing read there; removed at once, whatever its name, so that
            # millions of unknown children cost no memory.
            element.clear()
            parent.remove(element)

    if not seen & (_SECTIONS | {"nomFichier"}):
        raise InputError(
            "ce fichier « rapport » ne ressemble à aucun accusé de traitement connu (ni "
            "PassagesKO/PassagesOK, ni erreurs, ni nomFichier). Vérifiez que c'est bien l'accusé "
            "reçu de la Caisse des Dépôts ; si oui, son format a changé : transmettez-le à "
            "l'équipe d'accuse.",
            path,
        )
    passages = bool(receipt.rejected or receipt.accepted_ids)
    if "erreurs" in seen and receipt.file_errors and passages:
        # Both shapes at once: neither summary would be true.
        raise InputError(
            "cet accusé contient à la fois des erreurs de fichier entier (erreurs) et des "
            "passages refusés ou acceptés (PassagesKO, PassagesOK) : aucun accusé de la Caisse "
            "des Dépôts n'a cette forme, il n'est pas résumé. Récupérez l'accusé d'origine, tel "
            "que reçu ; si c'est bien lui, transmettez-le à l'équipe d'accuse.",
            path,
        )
    if "erreurs" in seen and not (passages and not receipt.file_errors):
        # An empty <erreurs/> beside passages says nothing: the passages are what it holds.
        receipt.shape = "rejet_fichier"
    return receipt


def _refuse_source_file(path: Path) -> None:
    """A spreadsheet or csv in the receipt's place: most often the two files swapped."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return  # open_events says why the file cannot be read
    kind = next((k for magic, k in _SIGNATURES.items() if head.startswith(magic)), None)
    if kind is None and path.suffix.lower() in _SOURCE_SUFFIXES:
        kind = f"un fichier {path.suffix.lower().lstrip('.')}"
    if kind is not None:
        raise InputError(
            f"ce fichier est {kind}, pas un accusé de traitement (un fichier XML reçu de la "
            "Caisse des Dépôts). Donnez l'accusé en premier, et votre fichier source avec "
            "--source.",
            path,
        )


def _check_root(root: etree._Element, path: Path) -> None:
    name = localname(root.tag)
    if name == "rapport":
        return
    if name == "flux":
        raise InputError(
            "ce fichier est un flux de dépôt, pas un accusé de traitement. Donnez l'accusé "
            "reçu de la Caisse des Dépôts en premier, et ce flux avec --source.",
            path,
        )
    raise InputError(
        f"ce n'est pas un accusé de traitement : l'élément racine est « {name} » au lieu de "
        "« rapport ». Vérifiez que c'est bien l'accusé reçu de la Caisse des Dépôts.",
        path,
    )


# The portal names a receipt "Accusé de traitement_<deposited file>_AAAAMMJJ.xml"; a browser
# saving it twice adds " (1)".
_NAME_DATE = re.compile(r"_(\d{4})(\d{2})(\d{2})(?:\s*\(\d+\))?\.xml$", re.IGNORECASE)


def name_date(name: str) -> dt.date | None:
    """The date the portal put at the end of a receipt's file name, if it is there."""
    found = _NAME_DATE.search(name)
    if found:
        try:
            return dt.date(*(int(part) for part in found.groups()))
        except ValueError:
            return None
    return None


def receipts_in(given: list[Path]) -> list[Path]:
    """The receipts to read: files as given and the .xml files of each folder given, oldest
    first by the date in their name."""
    found: list[Path] = []
    for path in given:
        if path.is_dir():
            inside = [p for p in path.iterdir() if p.suffix.lower() == ".xml" and p.is_file()]
            if not inside:
                raise InputError("ce dossier ne contient aucun fichier .xml (accusé).", path)
            found += sorted(inside, key=lambda p: p.name)
        else:
            found.append(path)
    # Oldest first, so that the history records them in their order; undated ones as given.
    return sorted(found, key=lambda p: name_date(p.name) or dt.date.min)
