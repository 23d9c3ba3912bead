"""Writing output files safely: never over an input, always atomically.

A file is written under a temporary name in its destination folder, then moved into place in
one step (os.replace), so an interrupted run never leaves a half-written file where a good one
stood, and a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from accuse.errors import InputError
from accuse.files import os_reason
from accuse.text import inert


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
        raise _output_error(OSError(errno.EACCES, "EACCES"), folder)
    return folder


def _remove_leftovers(target: Path) -> None:
    """Temporary files of ``target`` left by runs killed mid-write (their process is gone)."""
    pattern = re.compile(
        rf"\.{re.escape(target.stem)}-(\d+)-[A-Za-z0-9_]+{re.escape(target.suffix)}\.tmp"
    )
    with contextlib.suppress(OSError):
        for leftover in target.parent.glob(f".{glob.escape(target.stem)}-*.tmp"):
            found = pattern.fullmatch(leftover.name)
            if found and not _running(int(found.group(1))):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive
    return True


# Held in an output folder while a pair of files is written there: "<pid>\n<host>\n".
LOCK_NAME = ".accuse-verrou"


def _lock_owner(lock: Path) -> tuple[int, str] | None:
    """(pid, host) written in a lock file; None when it is gone or unreadable."""
    try:
        with open(lock, "rb") as handle:
            text = handle.read(300).decode("utf-8", "replace")
    except OSError:
        return None
    pid, _, host = text.partition("\n")
    try:
        return int(pid), host.strip()
    except ValueError:
        return None


def _lock_alive(owner: tuple[int, str] | None) -> bool:
    if owner is None:  # half-written by a process killed at that very moment, or garbage
        return False
    pid, host = owner
    if host and host != socket.gethostname():
        return True  # another computer's process (a shared folder): it cannot be checked
    return pid != os.getpid() and _running(pid)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for the time two files written as one pair are put there.

    The lock is a file created exclusively (O_EXCL) holding the pid and the host; a lock left
    by a process that has died is taken over; one held by a live process refuses the run
    (exit 2) before anything is written.
    """
    lock = Path(folder) / LOCK_NAME
    for _attempt in range(3):
        try:
            handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _lock_owner(lock)
            if _lock_alive(owner):
                raise _locked_error(folder, owner) from None
            # A dead run's lock: removed only if it is still that one (another run taking it
            # over at the same moment has written its own pid by then).
            if _lock_owner(lock) == owner:
                with contextlib.suppress(OSError):
                    lock.unlink()
            continue
        except OSError as error:
            raise _output_error(error, folder) from None
        try:
            os.write(handle, f"{os.getpid()}\n{socket.gethostname()}\n".encode())
        finally:
            os.close(handle)
        break
    else:
        raise _locked_error(folder, _lock_owner(lock))
    try:
        yield
    finally:
        if _lock_owner(lock) == (os.getpid(), socket.gethostname()):
            with contextlib.suppress(OSError):
                lock.unlink()


def _locked_error(folder: Path, owner: tuple[int, str] | None) -> InputError:
    who = ""
    if owner is not None:
        pid, host = owner
        who = f" (processus {pid}"
        if host and host != socket.gethostname():
            who += f" sur l'ordinateur « {inert(host[:60], one_line=True)} »"
        who += ")"
    return InputError(
        f"{folder} : une autre analyse d'accuse écrit en ce moment dans ce dossier{who} ; "
        "rien n'a été écrit. Attendez qu'elle se termine puis relancez la commande, ou "
        f"choisissez un autre dossier avec --sortie. Si aucune analyse n'est en cours, "
        f"supprimez le fichier « {LOCK_NAME} » de ce dossier."
    )


# The process that forked this one to write beside it (accuse.parallel), None in any other:
# a file written here is put in place only while that parent still lives.
_forked_from: int | None = None


class Orphaned(Exception):
    """This writer's parent is gone: its file is not put in place."""


def forked_from(parent: int) -> None:
    """Say, in a forked writer, which process forked it (see atomic_target)."""
    global _forked_from
    _forked_from = parent


@contextlib.contextmanager
def atomic_target(target: Path, inputs: Sequence[Path] = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` at once."""
    target = Path(target)
    check_not_input(target, inputs)
    folder = target.parent
    _remove_leftovers(target)
    try:
        # The pid in the name lets a later run remove what a killed run left behind.
        prefix = f".{target.stem}-{os.getpid()}-"
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix + ".tmp", dir=folder)
    except OSError as error:
        raise _output_error(error, folder) from None
    os.close(handle)
    temporary = Path(name)
    # mkstemp makes owner-only files; outputs are ordinary documents, readable as usual.
    with contextlib.suppress(OSError):
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
    try:
        yield temporary
        if _forked_from is not None and os.getppid() != _forked_from:
            # Killed mid-run, the parent never wrote its half of the pair: this half would
            # stand beside the other half of an earlier run.
            raise Orphaned(target)
        os.replace(temporary, target)
    except OSError as error:
        raise _output_error(error, target) from None
    except Exception as error:
        # Writers wrap the OS error in their own (xlsxwriter: FileCreateError(OSError)).
        cause = next((a for a in error.args if isinstance(a, OSError)), None)
        if cause is None:
            raise
        raise _output_error(cause, target) from None
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


# A text output (the HTML report) ends with the sha256 of what precedes, so a later run can
# tell whether someone changed it before writing over it.
_SEAL = re.compile(r"<!-- accuse-empreinte:([0-9a-f]{64}) -->\n\Z")


def _digest(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def sealed(text: str) -> str:
    """``text`` with its seal appended."""
    return f"{text}<!-- accuse-empreinte:{_digest(text)} -->\n"


def seal_intact(path: Path) -> bool:
    """Whether a sealed text file is exactly as written (False when changed or unsealed)."""
    try:
        text = Path(path).read_bytes().decode("utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError):
        return False
    found = _SEAL.search(text)
    return found is not None and _digest(text[: found.start()]) == found.group(1)


def keep_aside(path: Path, tag: str) -> Path:
    """Copy ``path`` beside itself under a dated name (``<nom>-<tag>-AAAAMMJJ-HHMMSS``),
    atomically, never over an existing file; return the copy's path."""
    path = Path(path)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    copy = path.with_name(f"{path.stem}-{tag}-{stamp}{path.suffix}")
    number = 1
    while copy.exists():
        number += 1
        copy = path.with_name(f"{path.stem}-{tag}-{stamp}-{number}{path.suffix}")
    with atomic_target(copy, [path]) as temporary:
        shutil.copyfile(path, temporary)
    return copy


_FULL = "Libérez de la place sur le disque, ou choisissez un autre emplacement avec --sortie."
_ELSEWHERE = "Choisissez un autre emplacement avec --sortie."
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _output_error(error: OSError, where: Path) -> InputError:
    why = os_reason(error, writing=True)
    advice = _FULL if error.errno in _FULL_ERRNOS else _ELSEWHERE
    # The whole path, not only its last name: the user must find the place.
    return InputError(
        f"{where} : écriture impossible ({why}) ; rien n'a été écrit à cet emplacement. {advice}"
    )


def output_error(error: OSError, where: Path) -> InputError:
    """The user's sentence for an OS error met while writing at ``where``."""
    return _output_error(error, where)
