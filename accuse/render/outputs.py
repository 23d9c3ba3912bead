"""The files `accuse analyse` writes: the correction worksheet and the HTML report, as a pair."""

from __future__ import annotations

import contextlib
from pathlib import Path

from accuse.output import prepare_folder
from accuse.parallel import gc_paused, side_by_side
from accuse.pipeline.analysis import Analysis, input_paths
from accuse.render.html import write_report
from accuse.render.previous import keep_user_work
from accuse.render.worksheet import write_worksheet

WORKSHEET_NAME = "corrections.xlsx"
PARALLEL_FROM = 2000  # rejected rows from which the two outputs are written side by side
REPORT_NAME = "rapport.html"


def default_output_folder(receipt_path: Path) -> Path:
    """``accuse-<receipt name>`` in the current folder."""
    return Path.cwd() / f"accuse-{Path(receipt_path).stem}"


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
    if parallel is None:
        parallel = len(analysis.rejected) + len(analysis.file_errors) >= PARALLEL_FROM
    inputs = input_paths(analysis)
    created = not Path(folder).exists()
    folder = prepare_folder(folder, inputs)
    worksheet = folder / WORKSHEET_NAME
    report = folder / REPORT_NAME
    work = keep_user_work(analysis, worksheet, report)
    if notes is not None:
        notes += work.notes
    try:
        # Both are long with many rejected rows: then they are written at once on two cores.
        with gc_paused():
            side_by_side(
                lambda: write_worksheet(analysis, worksheet, inputs, work.carried),
                lambda: write_report(analysis, report, inputs),
                parallel=parallel,
            )
    except BaseException:
        if created:  # a failed first run leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return [worksheet, report]
