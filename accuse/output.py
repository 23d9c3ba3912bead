"""Writing output files safely: never over an input, always atomically.

A file is written under a temporary name in its destination folder, then moved into place in
one step (os.replace), so an interrupted run never leaves a half-written file where a good one
stood, and a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from accuse.errors import InputError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(target: Path, inputs: Sequence[Path]) -> None:
    for given in inputs:
        if _same_file(target, given) or target.resolve() == given.resolve():
            raise InputError(
                "ce chemin de sortie est l'un de vos fichiers d'entrée : il ne sera jamais "
                "écrasé. Choisissez un autre dossier ou fichier avec --sortie.",
                target,
            )


def prepare_folder(folder: Path, inputs: Sequence[Path]) -> Path:
    """Create the output folder if needed; refuse an input file or an unwritable place."""
    folder = Path(folder)
    check_not_input(folder, inputs)
    if folder.exists() and not folder.is_dir():
        raise InputError(
            "--sortie désigne un fichier existant ; il faut un dossier (il sera créé s'il "
            "n'existe pas).",
            folder,
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _output_error(error, folder) from None
    if not os.access(folder, os.W_OK):
        raise InputError("impossible d'écrire dans ce dossier (droits insuffisants).", folder)
    return folder


@contextlib.contextmanager
def atomic_target(target: Path, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` at once."""
    target = Path(target)
    check_not_input(target, inputs)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.stem}-", suffix=target.suffix + ".tmp", dir=target.parent
        )
    except OSError as error:
        raise _output_error(error, target.parent) from None
    os.close(handle)
    temporary = Path(name)
    # mkstemp makes owner-only files; outputs are ordinary documents, readable as usual.
    with contextlib.suppress(OSError):
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
    try:
        yield temporary
        os.replace(temporary, target)
    except OSError as error:
        raise _output_error(error, target) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes(target: Path, data: bytes, inputs: Sequence[Path] = ()) -> None:
    with atomic_target(target, inputs) as temporary:
        temporary.write_bytes(data)


def _output_error(error: OSError, where: Path) -> InputError:
    if error.errno == errno.ENOSPC:
        why = "le disque est plein"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "droits insuffisants ou emplacement en lecture seule"
    else:
        why = error.strerror or str(error)
    return InputError(f"écriture impossible ({why}) ; aucun fichier n'a été modifié.", where)
