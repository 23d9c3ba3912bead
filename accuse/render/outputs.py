"""The files `accuse analyse` writes: the correction worksheet and the HTML report, as a pair."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from accuse.fix.workbook import (
    REPORT_NAME,
    WORKSHEET_NAME,
    new_run,
    pair_mismatch,
    worksheet_receipt,
)
from accuse.output import folder_lock, prepare_folder
from accuse.parallel import Then, gc_paused, parallel_wanted, side_by_side
from accuse.pipeline.analysis import Analysis, input_paths
from accuse.render.html import write_report
from accuse.render.previous import keep_user_work
from accuse.render.worksheet import write_worksheet
from accuse.text import squeeze

PARALLEL_FROM = 2000  # rejected rows from which the two outputs are written side by side


# "Accusé de traitement_<deposited file>_AAAAMMJJ.xml", as the portal names a receipt (a
# browser saving it twice adds " (1)").
_PORTAL_NAME = re.compile(
    r"^.*?_(?P<deposited>.+)_(?P<date>\d{8})(?:\s*\(\d+\))?\.xml$", re.IGNORECASE
)
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_NAME_LENGTH = 40


def _folder_part(text: str) -> str:
    """A piece of a folder name any system accepts, kept short."""
    text = _UNSAFE_IN_NAME.sub("-", squeeze(text))
    if text.lower().endswith(".xml"):
        text = text[:-4]
    return text[:_NAME_LENGTH].strip(" .-")


def default_output_folder(input_path: Path) -> Path:
    """``accuse-<file name>`` in the current folder."""
    return Path.cwd() / f"accuse-{_folder_part(Path(input_path).stem) or 'sortie'}"


def analysis_output_folder(analysis: Analysis) -> Path:
    """A short readable folder in the current one: ``accuse-<deposited file>-<AAAAMMJJ>`` for a
    receipt named the portal's way, else ``accuse-<receipt name>``. The same receipt always
    gets the same folder; another receipt that would get a folder already holding a worksheet
    of its own gets ``-2``, ``-3``…"""
    receipt = analysis.receipt
    portal = _PORTAL_NAME.match(receipt.path.name)
    if portal:
        deposited = _folder_part(receipt.nomFichier or portal["deposited"])
        base = "-".join(p for p in ("accuse", deposited, portal["date"]) if p)
    else:
        base = f"accuse-{_folder_part(receipt.path.stem) or 'recu'}"
    for number in range(1, 1000):
        folder = Path.cwd() / (base if number == 1 else f"{base}-{number}")
        owner = worksheet_receipt(folder / WORKSHEET_NAME)
        if owner is None or owner == receipt.path.name:
            return folder
    return folder


def write_outputs(
    analysis: Analysis,
    folder: Path,
    notes: list[str] | None = None,
    *,
    parallel: bool | None = None,
) -> list[Path]:
    """The correction worksheet and the HTML report, written atomically into ``folder``.

    What the user did to an earlier pair there is kept (see render/previous.py); ``notes``
    receives the French sentences that say how. ``parallel``: write the report in a forked
    child (Linux) while the worksheet is written here; ``None`` decides by size (from
    PARALLEL_FROM rows), as the CLI does.
    """
    written, _ = write_outputs_then(analysis, folder, notes, parallel=parallel)
    return written


def write_outputs_then(
    analysis: Analysis,
    folder: Path,
    notes: list[str] | None = None,
    *,
    parallel: bool | None = None,
    then: Then | None = None,
) -> tuple[list[Path], str | None]:
    """write_outputs, then ``then`` (accuse analyse records the history there) on the report's
    side: in the forked child after the report, while the worksheet is still being written
    here, its sentence coming back through the same pipe; it keeps nothing unless both files
    were written (see parallel.side_by_side). Without a fork it runs after both files."""
    if parallel is None:
        parallel = len(analysis.rejected) + len(analysis.file_errors) >= PARALLEL_FROM
    parallel = parallel_wanted(parallel)
    inputs = input_paths(analysis)
    created = not Path(folder).exists()
    folder = prepare_folder(folder, inputs)
    worksheet = folder / WORKSHEET_NAME
    report = folder / REPORT_NAME
    run = new_run()  # written in both files: a pair from two runs is told later
    try:
        # The folder is held while the pair is written: two runs never mix their files.
        with folder_lock(folder):
            mismatch = pair_mismatch(worksheet)
            work = keep_user_work(analysis, worksheet, report)
            if notes is not None:
                if mismatch:
                    notes.append(f"{mismatch} Cette analyse les remplace tous les deux.")
                notes += work.notes
            # Both are long with many rejected rows: then they are written at once on two cores.
            with gc_paused():
                sentence = side_by_side(
                    lambda: write_worksheet(analysis, worksheet, inputs, work.carried, run),
                    lambda: write_report(analysis, report, inputs, run),
                    parallel=parallel,
                    then=then,
                )
    except BaseException:
        if created:  # a failed first run leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return [worksheet, report], sentence
