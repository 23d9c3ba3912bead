"""The processing receipt (accusé de traitement): both shapes, read streaming.

Per-passage receipt: rapport > nomFichier, idFlux?, idTraitement?, idDemande?,
PassagesKO > passage{idTechnique, messageErreur}, PassagesOK > idTechnique.
Whole-file rejection: rapport > nomFichier, idDemande, erreurs > erreur{type, message, ligne,
colonne}. Elements are matched on their local name: real files carry an unused ns2 prefix
declaration, and a prefixed or default-namespaced root must read the same.
"""

from __future__ import annotations

from pathlib import Path

from accuse.errors import InputError
from accuse.model import FileError, Receipt, RejectedPassage
from accuse.progress import SILENT, Progress
from accuse.xmlread import child_texts, localname, open_events, release

WHAT = "l'accusé de traitement"
_IDENTITY = ("nomFichier", "idFlux", "idTraitement", "idDemande")
_SECTIONS = {"PassagesKO", "PassagesOK", "erreurs"}


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_receipt(path: Path, progress: Progress = SILENT) -> Receipt:
    path = Path(path)
    receipt = Receipt(path=path, shape="passages")
    seen: set[str] = set()
    root_checked = False

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
                    message=fields.get("messageErreur", ""),
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
                    message=fields.get("message", ""),
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

    if not seen & (_SECTIONS | {"nomFichier"}):
        raise InputError(
            "ce fichier « rapport » ne ressemble à aucun accusé de traitement connu (ni "
            "PassagesKO/PassagesOK, ni erreurs, ni nomFichier).",
            path,
        )
    if "erreurs" in seen:
        receipt.shape = "rejet_fichier"
    return receipt


def _check_root(root, path: Path) -> None:
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
        "« rapport ».",
        path,
    )
