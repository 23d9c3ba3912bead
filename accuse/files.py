"""Input files checked before they are opened, and OS errors told in French.

Every reader calls :func:`require_regular_file` first: a FIFO, a terminal, a device such as
/dev/zero or /dev/urandom, or /dev/stdin given in a file's place would make a read hang
forever or grow without end, so it is refused on its metadata alone, before any open.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from accuse.errors import InputError

_OS_REASONS = {
    errno.EACCES: "droits insuffisants",
    errno.EPERM: "droits insuffisants",
    errno.EISDIR: "c'est un dossier",
    errno.EIO: "erreur de lecture du disque",
    errno.ENOENT: "fichier introuvable",
    errno.ENOTDIR: "une partie de ce chemin est un fichier, pas un dossier",
    errno.ENAMETOOLONG: "le chemin est trop long",
    errno.ELOOP: "trop de liens symboliques en chaîne",
    errno.EROFS: "emplacement en lecture seule",
    errno.ENOSPC: "le disque est plein",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENXIO: "périphérique absent",
    errno.ETXTBSY: "fichier occupé par un autre programme",
    errno.EBUSY: "fichier occupé par un autre programme",
}


def os_reason(error: OSError) -> str:
    """An OS error in French: the common cases translated, the rest quoted as a detail."""
    known = _OS_REASONS.get(error.errno or 0)
    if known is not None:
        return known
    detail = error.strerror or type(error).__name__
    return f"erreur du système : « {detail} »"


def require_regular_file(path: Path, what: str) -> int:
    """Refuse anything but an existing regular file, before it is opened; its size in bytes.

    ``what`` names the file's role in the messages ("l'accusé de traitement", "le fichier
    source", "la feuille de corrections", "le catalogue personnel").
    """
    path = Path(path)
    try:
        info = os.stat(path)  # follows links: /dev/stdin is a link to a pipe or a terminal
    except FileNotFoundError:
        raise InputError(
            f"fichier introuvable : vérifiez le nom et le dossier de {what}.", path
        ) from None
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"c'est un dossier, pas un fichier ({what}).", path)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"pas un fichier ordinaire (tube, périphérique ou entrée standard) : {what} doit "
            "être un fichier enregistré sur le disque. Donnez le chemin du fichier lui-même.",
            path,
        )
    return info.st_size
