"""Input files checked before they are opened, and OS and parser errors told in French.

Every reader calls :func:`require_regular_file` first: a FIFO, a terminal, a device such as
/dev/zero or /dev/urandom, or /dev/stdin given in a file's place would make a read hang
forever or grow without end, so it is refused on its metadata alone, before any open.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from accuse.errors import InputError
from accuse.text import inert


@cache
def _wordings() -> dict[str, dict[str, str]]:
    """accuse/data/erreurs.toml: the system's and libraries' messages in French."""
    text = resources.files("accuse").joinpath("data/erreurs.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def _by_errno(table: str) -> dict[int, str]:
    # By name: an errno missing on this system (EDQUOT on Windows) is left out.
    return {
        getattr(errno, name): french
        for name, french in _wordings()[table].items()
        if hasattr(errno, name)
    }


def os_reason(error: OSError, *, writing: bool = False) -> str:
    """An OS error in French: the common cases translated, the rest quoted as a detail.
    ``writing``: the error was met writing (a missing folder cannot be created, etc.).

    The one place where an OS error becomes words: readers and writers all go through it."""
    windows = getattr(error, "winerror", None)
    if windows is not None and str(windows) in _wordings()["windows"]:
        return _wordings()["windows"][str(windows)]
    number = error.errno or 0
    known = (_by_errno("systeme_ecriture").get(number) if writing else None) or _by_errno(
        "systeme"
    ).get(number)
    if known is not None:
        return known
    detail = inert(error.strerror or type(error).__name__, one_line=True)
    return f"erreur du système : « {detail} »"


_TOML_WHERE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def toml_reason(error: ValueError) -> str:
    """A TOML parser's message in French, with its line and column: the common messages
    translated (accuse/data/erreurs.toml), the rest quoted as a detail."""
    text = str(error).strip()
    where = _TOML_WHERE.search(text)
    if where is not None:
        text = text[: where.start()]
    place = ""
    if where is not None and where.group(1):
        place = f"ligne {where.group(1)}, colonne {where.group(2)} : "
    elif where is not None:
        place = "à la fin du fichier : "
    known = next(
        (french for start, french in _wordings()["toml"].items() if text.startswith(start)), None
    )
    if known is not None:
        return place + known
    return f"{place}erreur de syntaxe (détail : « {inert(text[:120], one_line=True)} »)"


def _of(what: str) -> str:
    """« de » before a role's name, contracted as French wants (du catalogue, des fichiers)."""
    if what.startswith("le "):
        return "du " + what[3:]
    if what.startswith("les "):
        return "des " + what[4:]
    return "de " + what


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
            f"fichier introuvable : vérifiez le nom et le dossier {_of(what)}.", path
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
