"""`accuse generer`: the deposit flux written from a spreadsheet or csv, verified first.

The same conversion as the re-export (accuse.fix.checks: OUI/NON, NILL, the template's
spellings, Excel dates) and the same flux writer, for every row of the source; passages the
history says were already accepted are left out; a file over the portal's limits (200 MB,
200,000 passages) is split into several valid files, each with its own idFlux.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accuse.errors import InputError
from accuse.fix.checks import FieldError, converted, header_value
from accuse.fix.fluxwriter import (
    FluxHeader,
    Passage,
    build_flux,
    needed_version,
    serialise,
    write_flux,
)
from accuse.fix.verify import (
    HEADER_KEYS,
    HEADER_OPTIONS,
    MAX_BYTES,
    MAX_PASSAGES,
    Concern,
    Verification,
    row_values,
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
    )
    result = Generation(checked, version)
    # Without --schema, the lowest version that holds the rows (1.1.5 as soon as one is
    # identified by its NIR), as the re-export does.
    flux_version: SchemaVersion = "1.1.2" if schema == "1.1.2" else "1.1.5"
    header, missing = _header(checked, options, saved, result)
    left = set(checked.already_accepted)
    blocking = [p for p in checked.bloquants if p.idTechnique not in left] + missing
    if blocking and not force:
        checked.problems[:0] = missing
        result.blocked = True
        return result
    result.forced = blocking
    data = checked.source
    assert data is not None  # a spreadsheet or csv is always read whole
    passages: list[Passage] = []
    for position in sorted(data.rows):
        row = data.rows[position]
        if row.idTechnique in left:
            result.left_out.append((position, row.idTechnique))
            continue
        values = row_values(data, row)
        passages.append(converted(values, position, row.idTechnique, version=flux_version)[0])
    if not passages:
        return result
    if schema is None:
        flux_version = needed_version(passages)
        result.schema = flux_version
    final = Path(target) if target else default_target(source)
    check_not_input(final, [source])
    try:
        staging = tempfile.TemporaryDirectory(prefix=".accuse-flux-", dir=final.parent)
    except OSError as error:
        raise output_error(error, final) from None
    with staging as folder:
        files = _split(header, passages, now, progress, flux_version, Path(folder))
        del passages  # the files on disk hold them now
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
            errors = check_flux(written, flux_version, catalogue)
            if errors and not force:
                raise InputError(
                    f"le flux produit n'est pas valide selon le XSD {flux_version} ; rien n'a été "
                    "écrit :\n"
                    + "\n".join(f"  - ligne {e.line} : {e.message}" for e in errors[:20])
                )
        for path, (written, count) in zip(targets, files, strict=True):
            with atomic_target(path, [source]) as temporary:
                os.replace(written, temporary)
            result.written.append((path, count))
    if config is not None and any(o == "option" for o in result.header_origin.values()):
        codes = {key: getattr(header, key) for key in HEADER_KEYS}
        if codes != saved:
            remember_codes(config, codes)
            result.remembered = config
    return result


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


def _split(
    header: FluxHeader,
    passages: Sequence[Passage],
    now: dt.datetime | None,
    progress: Progress,
    version: SchemaVersion,
    folder: Path,
) -> list[tuple[Path, int]]:
    """Flux files written in ``folder``, one passage at a time, each within 200,000 passages
    and 200 MB, for that XSD version."""
    sample = serialise(build_flux(header, passages[:_SAMPLE], now, version=version))
    per_passage = max(1, len(sample) // max(1, min(len(passages), _SAMPLE)))
    size = max(1, min(MAX_PASSAGES, int(MAX_BYTES * _MARGIN) // per_passage))
    progress.start("Écriture du flux", len(passages))
    files: list[tuple[Path, int]] = []
    pending = [(i, min(i + size, len(passages))) for i in range(0, len(passages), size)]
    done = 0
    while pending:
        start, end = pending.pop(0)
        path = folder / f"{len(files) + 1}.xml"
        with path.open("wb") as handle:
            write_flux(handle, header, passages[start:end], now, version=version)
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
