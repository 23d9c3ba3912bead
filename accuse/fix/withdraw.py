"""`accuse retirer`: a SUPPRESSION flux (XSD 1.1.5) withdrawing passages already deposited.

Passages deposited by mistake are withdrawn this way; it is also, today, the only way to replace
an accepted passage (withdraw it, then deposit it again). Each passage is taken from the file it
was deposited from (the flux itself, or the spreadsheet or csv it was made from) and keeps, as
the CDC's 2026 example shows, its certification frame, its idTechnique and its identification
(NIR, holder or CPF dossier), nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accuse.cells import is_empty
from accuse.errors import InputError
from accuse.files import os_reason, require_regular_file
from accuse.fix.checks import FieldError, Problem, converted, header_value
from accuse.fix.fluxwriter import FluxHeader, build_flux, serialise, validation_errors
from accuse.model import CellValue, Source
from accuse.output import atomic_target, check_not_input
from accuse.read.sources import read_source
from accuse.reference.fields import row_fields
from accuse.text import inert

HEADER_OPTIONS = {
    "idClientEmetteur": "--id-client",
    "idClientCertificateur": "--id-client-certificateur",
    "idContrat": "--id-contrat",
}
MAX_IDS_FILE = 10 * 2**20
_SHOWN = 50


@dataclass
class Withdrawal:
    source: Path
    target: Path
    ids: list[str]
    warnings: list[str] = field(default_factory=list)


def read_ids(path: Path) -> list[str]:
    """One idTechnique a line (blank lines and lines starting with # left out)."""
    path = Path(path)
    # A FIFO or a device is refused before it is opened (it would hang or never end).
    size = require_regular_file(path, "le fichier d'identifiants")
    if size > MAX_IDS_FILE:
        raise InputError(
            "ce fichier d'identifiants dépasse 10 Mo : il doit contenir un identifiant "
            "technique par ligne, rien d'autre.",
            path,
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    return [line.strip() for line in text.splitlines() if line.strip() and line[:1] != "#"]


def _values(source: Source, identifier: str) -> tuple[int, dict[str, CellValue]]:
    row = source.row_for(identifier)
    assert row is not None
    return row.position, row_fields(row.values, source.columns)


def _header(
    source: Source, rows: list[dict[str, CellValue]], options: dict[str, str]
) -> tuple[FluxHeader | None, list[Problem]]:
    """émetteur/certificateur/contrat ids: options, then the rows' columns, then the flux."""
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for key, option in HEADER_OPTIONS.items():
        candidates: list[CellValue] = [options.get(key), *(r.get(key) for r in rows)]
        candidates.append(source.flux_header.get(key))
        value = next((c for c in candidates if not is_empty(c)), None)
        try:
            found[key] = header_value(key, value)
        except FieldError as error:
            reason = str(error)
            if value is None:
                reason = f"inconnu : ni la source ni les options ne le donnent ({option})."
            problems.append(Problem(None, "", key, reason))
    if problems:
        return None, problems
    return FluxHeader(**found), []


def _refusal(problems: list[Problem], source: Path) -> InputError:
    lines = [f"  - {inert(p.render())}" for p in problems[:_SHOWN]]
    if len(problems) > _SHOWN:
        lines.append(f"  … et {len(problems) - _SHOWN} autre(s).")
    return InputError(
        "le flux de suppression serait refusé par la Caisse des Dépôts ; rien n'a été écrit. "
        "Corrigez la source (ou ajoutez --forcer pour écrire quand même) :\n" + "\n".join(lines),
        source,
    )


def withdraw(
    source: Path,
    ids: Sequence[str],
    *,
    target: Path | None = None,
    header_ids: dict[str, str] | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
    force: bool = False,
    now: dt.datetime | None = None,
) -> Withdrawal:
    """Write the SUPPRESSION flux of ``ids``, read from ``source``; InputError for every
    refusal (nothing written then)."""
    source = Path(source)
    wanted = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    if not wanted:
        raise InputError(
            "aucun passage à retirer : donnez au moins un identifiant technique avec --id ou "
            "--ids-fichier."
        )
    read = read_source(source, set(wanted), sheet=sheet, id_column=id_column)
    missing = [i for i in wanted if read.row_for(i) is None]
    if missing:
        shown = ", ".join(inert(i) for i in missing[:20]) + (" …" if len(missing) > 20 else "")
        raise InputError(
            f"{len(missing)} identifiant(s) technique(s) absent(s) de ce fichier : {shown}. "
            "Donnez le fichier d'où viennent les passages déposés ; rien n'a été écrit.",
            source,
        )
    result = Withdrawal(source, Path(target) if target else _default_target(source), wanted)
    passages = []
    rows = []
    problems: list[Problem] = []
    for identifier in wanted:
        position, values = _values(read, identifier)
        rows.append(values)
        passage, found = converted(
            values, position, identifier, version="1.1.5", action="SUPPRESSION"
        )
        passages.append(passage)
        problems += found
    header, header_problems = _header(read, rows, header_ids or {})
    problems += header_problems
    if problems and not force:
        raise _refusal(problems, source)
    result.warnings += [f"(--forcer) {p.render()}" for p in problems[:_SHOWN]]
    header = header or FluxHeader("?", "?", "?")
    data = serialise(build_flux(header, passages, now, version="1.1.5", action="SUPPRESSION"))
    errors = validation_errors(data, version="1.1.5")
    if errors:
        message = "le flux produit n'est pas valide selon le XSD officiel 1.1.5 :\n"
        message += "\n".join(f"  - {e}" for e in errors)
        if not force:
            raise InputError(message + "\nRien n'a été écrit.", source)
        result.warnings.append(message + "\nÉcrit quand même (--forcer) : le portail le refusera.")
    check_not_input(result.target, [source])
    with atomic_target(result.target, [source]) as temporary:
        temporary.write_bytes(data)
    return result


def _default_target(source: Path) -> Path:
    return source.with_name(f"{source.stem}-suppression.xml")


def summary_lines(result: Withdrawal) -> list[str]:
    shown = ", ".join(result.ids[:20]) + (" …" if len(result.ids) > 20 else "")
    lines = [
        f"Passages à retirer : {len(result.ids)} — {shown}.",
        "Flux de suppression écrit selon le XSD 1.1.5 (action SUPPRESSION).",
        "Déposez-le sur le portail ; quand son accusé arrivera, analysez-le avec "
        f"« accuse analyse <accusé> --source {result.target.name} » : l'historique notera "
        "les passages retirés.",
    ]
    lines += [f"Attention : {w}" for w in result.warnings]
    return [inert(line) for line in lines]
