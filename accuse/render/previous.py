"""What an earlier run left in the output folder, and what the user did to it since.

`accuse analyse` run again into the same folder must never destroy work: corrections typed
into corrections.xlsx are carried into the new worksheet where the passage is still rejected
(and the source row unchanged), and a worksheet or report the user touched is first kept
beside the new one under a dated name. Every such step is said, in French.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from accuse.errors import InputError
from accuse.fix.reexport import read_worksheet
from accuse.fix.workbook import (
    open_elsewhere,
    row_fingerprint,
    saved_since_written,
    still_open_message,
)
from accuse.output import keep_aside, seal_intact
from accuse.pipeline.analysis import Analysis
from accuse.render.worksheet import Carried, column_keys, shown_cells, worksheet_lines
from accuse.text import plural

KEPT_TAG = "avant"  # corrections-avant-AAAAMMJJ-HHMMSS.xlsx


@dataclass
class UserWork:
    carried: dict[int, Carried] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # French sentences for the terminal


def refuse_open_files(*paths: Path) -> None:
    """Refuse to write over a file Excel or LibreOffice holds open: unsaved edits live there."""
    for path in paths:
        lock = open_elsewhere(path)
        if lock is not None:
            raise InputError(still_open_message(lock), path)


def keep_user_work(analysis: Analysis, worksheet: Path, report: Path) -> UserWork:
    """Carry the user's corrections and keep aside what would otherwise be lost. Runs before
    the new outputs are written, so a copy exists even if the writing then fails."""
    refuse_open_files(worksheet, report)
    work = UserWork()
    if worksheet.exists():
        _worksheet(analysis, worksheet, work)
    if report.exists() and not seal_intact(report):
        copy = keep_aside(report, KEPT_TAG)
        work.notes.append(
            f"{report.name} avait été modifié depuis qu'accuse l'a écrit : l'ancien est gardé "
            f"sous « {copy.name} »."
        )
    return work


def _worksheet(analysis: Analysis, path: Path, work: UserWork) -> None:
    try:
        sheet = read_worksheet(path)
    except InputError:
        copy = keep_aside(path, KEPT_TAG)
        work.notes.append(
            f"Le fichier {path.name} déjà présent dans le dossier n'est pas une feuille de "
            f"corrections qu'accuse sait relire : il est gardé tel quel sous « {copy.name} »."
        )
        return
    corrections = sheet.corrections()
    now = _current_rows(analysis) if corrections else {}
    for position, cells in corrections.items():
        identifier, _families, original = sheet.originals[position]
        if now.get(position) == (identifier, original):
            work.carried[position] = Carried(identifier, original, cells)
    lost = len(corrections) - len(work.carried)
    if work.carried:
        count = len(work.carried)
        work.notes.append(
            f"Vos corrections de {plural(count, 'ligne')} de l'ancienne feuille "
            f"{path.name} ont été reprises dans la nouvelle."
        )
    if lost or sheet.touched() or saved_since_written(path):
        copy = keep_aside(path, KEPT_TAG)
        if lost:
            work.notes.append(
                f"Corrections non reprises dans la nouvelle feuille ({plural(lost, 'ligne')} : "
                "passage plus refusé par cet accusé, ou ligne modifiée depuis dans votre fichier "
                f"source) : retrouvez-les dans l'ancienne feuille, gardée sous « {copy.name} »."
            )
        else:
            work.notes.append(
                f"L'ancienne feuille, que vous aviez modifiée, est gardée sous « {copy.name} »."
            )


def _current_rows(analysis: Analysis) -> dict[int, tuple[str, str]]:
    """Source position -> (idTechnique, fingerprint as shown) of the new worksheet's rows."""
    source = analysis.source
    if source is None:
        return {}
    keys = column_keys(source)
    rows: dict[int, tuple[str, str]] = {}
    for line in worksheet_lines(analysis):
        if line.row is not None and line.row.position not in rows:
            shown = shown_cells(source, line.row, keys)
            rows[line.row.position] = (line.idTechnique, row_fingerprint(shown))
    return rows
