"""`accuse generer`: the deposit flux written from a spreadsheet or csv, verified first.

The same conversion as the re-export (accuse.fix.checks: OUI/NON, NILL, the template's
spellings, Excel dates) and the same flux writer, for every row of the source; passages the
history says were already accepted are left out; a file over the portal's limits (200 MB,
200,000 passages) is split into several valid files, each with its own idFlux.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import tempfile
import tomllib
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from accuse.errors import InputError
from accuse.fix.checks import FieldError, header_value
from accuse.fix.fluxwriter import (
    FluxError,
    FluxHeader,
    Passage,
    build_flux,
    group_key,
    identification,
    needed_version,
    passage_xml,
    serialise,
    write_grouped,
)
from accuse.fix.verify import (
    HEADER_KEYS,
    HEADER_OPTIONS,
    MAX_BYTES,
    MAX_PASSAGES,
    Concern,
    Verification,
    verify,
)
from accuse.fix.xsdcheck import check_flux, newest_version
from accuse.model import SchemaVersion
from accuse.output import atomic_target, check_not_input, output_error, write_bytes
from accuse.progress import SILENT, Progress
from accuse.reference.catalogue import Catalogue, user_config_folder
from accuse.reference.fields import by_key

_SAMPLE = 500  # passages serialised first to learn their size
_MARGIN = 0.9  # of the 200 MB limit, kept for the frame and the estimate's error
CONFIG_NAME = "deposant.toml"


@dataclass
class Generation:
    verification: Verification
    schema: str
    written: list[tuple[Path, int]] = field(default_factory=list)  # (file, passages)
    left_out: list[tuple[int, str]] = field(default_factory=list)  # (row, idTechnique)
    blocked: bool = False  # blocking problems: nothing written
    forced: list[Concern] = field(default_factory=list)  # written anyway (--forcer)
    replaced: list[Path] = field(default_factory=list)
    header_origin: dict[str, str] = field(default_factory=dict)  # key -> where it came from
    remembered: Path | None = None  # where the codes were remembered for next time


# --- the user's remembered codes ---------------------------------------------------------------


def config_path() -> Path:
    """deposant.toml beside the user's own catalogue (~/.config/accuse, %APPDATA%\\accuse), or
    ACCUSE_DEPOSANT."""
    env = os.environ.get("ACCUSE_DEPOSANT")
    return Path(env) if env else user_config_folder() / CONFIG_NAME


def remembered_codes(path: Path) -> dict[str, str]:
    """The codes saved by an earlier `accuse generer`; nothing when absent or unreadable."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would hang the read
            return {}
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    return {k: v for k, v in raw.items() if k in HEADER_KEYS and isinstance(v, str)}


def remember_codes(path: Path, codes: Mapping[str, str]) -> None:
    import json

    lines = ["# Codes du déposant retenus par accuse generer (modifiables).\n"]
    lines += [f"{key} = {json.dumps(codes[key], ensure_ascii=False)}\n" for key in HEADER_KEYS]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, "".join(lines).encode("utf-8"))


# --- the command -------------------------------------------------------------------------------


def default_target(source: Path) -> Path:
    return source.with_name(f"{source.stem}-flux.xml")


def generate(
    source: Path,
    *,
    catalogue: Catalogue,
    schema: str | None = None,
    target: Path | None = None,
    ids: Mapping[str, str] | None = None,
    force: bool = False,
    replace: bool = False,
    use_history: bool = True,
    history: str | None = None,
    config: Path | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    progress: Progress = SILENT,
) -> Generation:
    """Verify ``source``, then write its flux (several when over the portal's limits).

    Raises InputError when the source is unusable or a file would be overwritten; returns a
    Generation with ``blocked`` set (nothing written) while blocking problems remain."""
    source = Path(source)
    if source.suffix.lower() == ".xml":
        raise InputError(
            "c'est déjà un flux XML : accuse generer écrit un flux à partir d'un classeur ou "
            "d'un csv. Pour contrôler ce flux avant de le déposer, lancez accuse verifier.",
            source,
        )
    version = schema or newest_version()
    options = {k: v for k, v in (ids or {}).items() if v}
    saved = remembered_codes(config) if config is not None else {}
    final = Path(target) if target else default_target(source)
    with _Spill(final.parent) as spill:
        # One reading of the source: each row is checked and its passage set aside on disk.
        checked = verify(
            source,
            catalogue=catalogue,
            schema=version,
            sheet=sheet,
            id_column=id_column,
            ids=options,
            use_history=use_history,
            history=history,
            today=today,
            progress=progress,
            keep=spill,
        )
        result = Generation(checked, version)
        header, missing = _header(checked, options, saved, result)
        left = set(checked.already_accepted)
        blocking = [p for p in checked.bloquants if p.idTechnique not in left] + missing
        if blocking and not force:
            checked.problems[:0] = missing
            result.blocked = True
            return result
        result.forced = blocking
        result.left_out = sorted(
            (position, ident)
            for ident, positions in checked.already_accepted.items()
            for position in positions
        )
        if not len(spill):
            return result
        # The verification converted the rows for this version: without --schema, 1.1.5 (the
        # lowest version that holds the rows is chosen below, as the re-export does).
        flux_version: SchemaVersion = "1.1.2" if schema == "1.1.2" else "1.1.5"
        if schema is None:
            flux_version = "1.1.5" if spill.needs_115 else "1.1.2"
            result.schema = flux_version
        elif flux_version == "1.1.2" and spill.national:
            raise FluxError("the identifiantNational branch needs XSD 1.1.5")
        _write(
            result,
            header,
            spill,
            (final, source),
            now,
            progress,
            flux_version,
            catalogue,
            force=force,
            replace=replace,
        )
    if config is not None and any(o == "option" for o in result.header_origin.values()):
        codes = {key: getattr(header, key) for key in HEADER_KEYS}
        if codes != saved:
            remember_codes(config, codes)
            result.remembered = config
    return result


def _write(
    result: Generation,
    header: FluxHeader,
    spill: _Spill,
    paths: tuple[Path, Path],
    now: dt.datetime | None,
    progress: Progress,
    version: SchemaVersion,
    catalogue: Catalogue,
    *,
    force: bool,
    replace: bool,
) -> None:
    """The flux files staged beside the target, checked against the XSD, then moved in place
    (``paths``: the target and the source, never overwritten)."""
    final, source = paths
    check_not_input(final, [source])
    try:
        staging = tempfile.TemporaryDirectory(prefix=".accuse-flux-", dir=final.parent)
    except OSError as error:
        raise output_error(error, final) from None
    with staging as folder:
        files = _split(header, spill, now, progress, version, Path(folder))
        targets = _targets(final, len(files))
        for path in targets:
            check_not_input(path, [source])
            if path.exists():
                if not replace:
                    raise InputError(
                        "ce fichier existe déjà et n'est pas remplacé : choisissez un autre nom "
                        "avec --sortie, ou ajoutez --remplacer.",
                        path,
                    )
                result.replaced.append(path)
        for written, _count in files:
            errors = check_flux(written, version, catalogue)
            if errors and not force:
                raise InputError(
                    f"le flux produit n'est pas valide selon le XSD {version} ; rien n'a été "
                    "écrit :\n"
                    + "\n".join(f"  - ligne {e.line} : {e.message}" for e in errors[:20])
                )
        for path, (written, count) in zip(targets, files, strict=True):
            with atomic_target(path, [source]) as temporary:
                os.replace(written, temporary)
            result.written.append((path, count))


def _header(
    checked: Verification,
    options: Mapping[str, str],
    saved: Mapping[str, str],
    result: Generation,
) -> tuple[FluxHeader, list[Concern]]:
    """Options first, then the source's columns, then the remembered codes."""
    found: dict[str, str] = {}
    missing: list[Concern] = []
    for key in HEADER_KEYS:
        if key in checked.header:
            found[key] = checked.header[key]
            result.header_origin[key] = "option" if key in options else "source"
            continue
        if key in saved:
            try:
                found[key] = header_value(key, saved[key])
                result.header_origin[key] = "configuration"
                continue
            except FieldError:
                pass
        found[key] = "?"
        missing.append(
            Concern(
                None,
                None,
                by_key()[key].element,
                "CODES_DEPOSANT",
                "bloquant",
                f"Le {by_key()[key].label} ({key}) n'est ni dans le fichier ni dans les options : "
                f"donnez-le avec {HEADER_OPTIONS[key]} (il sera retenu pour la prochaine fois).",
            )
        )
    # The verification's own "not in the file" notes are answered now.
    checked.problems[:] = [
        p for p in checked.problems if not (p.code == "CODES_DEPOSANT" and p.gravite == "risque")
    ]
    return FluxHeader(**found), missing


def _unnamed_file(folder: Path) -> BinaryIO:
    """A temporary file that disappears once closed, in ``folder`` when it can (the system's
    temporary folder may be small, or held in memory)."""
    try:
        return tempfile.TemporaryFile(dir=folder)
    except OSError:  # the target's folder is told about when the flux is written
        return tempfile.TemporaryFile()


class _Spill:
    """The passages of ``accuse generer``, each serialised as the verification converts its
    row and set aside in an unnamed temporary file (beside the target when it can): memory
    keeps only a few numbers per passage (its certification, its natureDeposant, where its
    bytes are), the first _SAMPLE passages (to estimate a file's size) and whether a passage
    needs XSD 1.1.5. The flux files are then written from it, certification by certification."""

    def __init__(self, folder: Path) -> None:
        self._file = _unnamed_file(folder)
        self._size = 0
        self._starts = array("q")  # where each passage's bytes start
        self._groups = array("l")  # each passage's certification, as an index of _keys
        self._natures = array("l")  # each passage's natureDeposant, as an index of _values
        self._keys: dict[tuple[str, str], int] = {}
        self._group_list: list[tuple[str, str]] = []
        self._values: dict[object, int] = {}
        self._value_list: list[object] = []
        self.sample: list[Passage] = []
        self.needs_115 = False
        self.national = False  # a passage identified by its NIR
        self._error: ValueError | None = None

    def __enter__(self) -> _Spill:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._file.close()

    def __len__(self) -> int:
        return len(self._starts)

    def __call__(self, position: int, ident: str, passage: Passage) -> None:
        if len(self.sample) < _SAMPLE:
            self.sample.append(passage)
        if not self.needs_115 and needed_version([passage]) == "1.1.5":
            self.needs_115 = True
        if identification(passage) == "identifiantNational":
            self.national = True
        try:
            data = passage_xml(passage)
        except ValueError as error:  # a character XML cannot hold: told when writing
            self._error = self._error or error
            data = b""
        key = group_key(passage)
        group = self._keys.get(key)
        if group is None:
            group = self._keys[key] = len(self._group_list)
            self._group_list.append(key)
        nature = passage.get("natureDeposant")
        index = self._values.get(nature)
        if index is None:
            index = self._values[nature] = len(self._value_list)
            self._value_list.append(nature)
        self._starts.append(self._size)
        self._groups.append(group)
        self._natures.append(index)
        self._file.write(data)
        self._size += len(data)

    def _read(self, index: int) -> bytes:
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self._size
        self._file.seek(start)
        return self._file.read(end - start)

    def _chunks(self, indexes: array) -> Iterator[bytes]:
        for index in indexes:
            yield self._read(index)

    def write(
        self,
        handle: BinaryIO,
        header: FluxHeader,
        start: int,
        end: int,
        now: dt.datetime | None,
        version: SchemaVersion,
    ) -> None:
        """The flux of passages start..end (in row order), grouped by certification in
        first-seen order, as write_flux would write those passages."""
        if self._error is not None:
            raise self._error
        self._file.flush()
        order: dict[int, array] = {}
        for index in range(start, end):
            order.setdefault(self._groups[index], array("l")).append(index)
        groups = (
            (self._certification(indexes[0]), self._chunks(indexes)) for indexes in order.values()
        )
        write_grouped(handle, header, groups, now, version=version)

    def _certification(self, index: int) -> Passage:
        """What the certification element takes from its first passage."""
        kind, code = self._group_list[self._groups[index]]
        return {
            "type": kind,
            "code": code,
            "natureDeposant": self._value_list[self._natures[index]],
        }


def _split(
    header: FluxHeader,
    spill: _Spill,
    now: dt.datetime | None,
    progress: Progress,
    version: SchemaVersion,
    folder: Path,
) -> list[tuple[Path, int]]:
    """Flux files written in ``folder`` from the set-aside passages, each within 200,000
    passages and 200 MB, for that XSD version."""
    total = len(spill)
    sample = serialise(build_flux(header, spill.sample, now, version=version))
    per_passage = max(1, len(sample) // max(1, min(total, _SAMPLE)))
    size = max(1, min(MAX_PASSAGES, int(MAX_BYTES * _MARGIN) // per_passage))
    progress.start("Écriture du flux", total)
    files: list[tuple[Path, int]] = []
    pending = [(i, min(i + size, total)) for i in range(0, total, size)]
    done = 0
    while pending:
        start, end = pending.pop(0)
        path = folder / f"{len(files) + 1}.xml"
        with path.open("wb") as handle:
            spill.write(handle, header, start, end, now, version)
        if path.stat().st_size > MAX_BYTES and end - start > 1:
            half = (start + end) // 2
            pending[:0] = [(start, half), (half, end)]
            continue
        files.append((path, end - start))
        done += end - start
        progress.update(done)
    progress.finish()
    return files


def _targets(target: Path, count: int) -> list[Path]:
    if count == 1:
        return [target]
    return [target.with_name(f"{target.stem}-{n}{target.suffix}") for n in range(1, count + 1)]
