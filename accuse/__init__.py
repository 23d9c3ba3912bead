"""accuse: lit l'accusé de traitement de la Caisse des Dépôts et aide à corriger les refus.

The public API: what the commands do, callable from Python, each returning typed objects.

    import accuse

    catalogue = accuse.load_catalogue()               # the shipped catalogue, nothing else
    analysis = accuse.analyse("recu.xml", "source.xlsx", catalogue=catalogue)
    accuse.write_outputs(analysis, "sortie")          # corrections.xlsx and rapport.html
    history = accuse.read_history("historique.sqlite")

Nothing here reads the user's configuration behind the caller's back: the user's own catalogue
(``ACCUSE_CATALOGUE``, ``~/.config/accuse/catalogue.toml``) is read only with
``load_catalogue(user=True)``, the user's history only at ``user_history_location()``. Nothing
forks unless asked: ``write_outputs(..., parallel=True)`` writes the report in a forked child
process on Linux (as ``accuse analyse`` does for large receipts), which a threaded program should
not ask for. Errors about the caller's files are raised as ``InputError`` (a French sentence).

Importing this package is cheap (``accuse --help`` imports it for ``__version__``): the pipeline
and the readers load on first use of a name below (PEP 562 ``__getattr__``); pandas only with
``statistics()`` and the ``to_dataframe()`` methods of Analysis and History.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

__version__ = "0.1.0"

if TYPE_CHECKING:
    import datetime as dt

    from accuse.errors import InputError
    from accuse.fix.generate import Generation
    from accuse.fix.reexport import Result as ReexportResult
    from accuse.fix.verify import Concern, Verification
    from accuse.history.stats import Stats
    from accuse.history.store import History, PassageEvent, RecordedReceipt, RecordOutcome
    from accuse.history.tracking import ResolvedPassage, TrackedPassage, Tracking
    from accuse.model import Finding, Receipt, RejectedPassage, Source, SourceRow
    from accuse.pipeline.analysis import Analysis, LocatedFileError, RejectedRow
    from accuse.reference.catalogue import Catalogue, CatalogueEntry, Classification
    from accuse.render.courriels import MailDrafts

__all__ = [
    "Analysis",
    "Catalogue",
    "CatalogueEntry",
    "Classification",
    "Concern",
    "Finding",
    "Generation",
    "History",
    "InputError",
    "LocatedFileError",
    "MailDrafts",
    "PassageEvent",
    "Receipt",
    "RecordOutcome",
    "RecordedReceipt",
    "ReexportResult",
    "RejectedPassage",
    "RejectedRow",
    "ResolvedPassage",
    "Source",
    "SourceRow",
    "Stats",
    "TrackedPassage",
    "Tracking",
    "Verification",
    "__version__",
    "analyse",
    "draft_mails",
    "generate",
    "load_catalogue",
    "read_history",
    "record",
    "reexport",
    "statistics",
    "track",
    "user_history_location",
    "verify",
    "write_outputs",
]

# Public name -> (module, name there), imported on first access.
_LAZY: dict[str, tuple[str, str]] = {
    "Analysis": ("accuse.pipeline.analysis", "Analysis"),
    "Catalogue": ("accuse.reference.catalogue", "Catalogue"),
    "CatalogueEntry": ("accuse.reference.catalogue", "CatalogueEntry"),
    "Classification": ("accuse.reference.catalogue", "Classification"),
    "Concern": ("accuse.fix.verify", "Concern"),
    "Finding": ("accuse.model", "Finding"),
    "Generation": ("accuse.fix.generate", "Generation"),
    "History": ("accuse.history.store", "History"),
    "InputError": ("accuse.errors", "InputError"),
    "LocatedFileError": ("accuse.pipeline.analysis", "LocatedFileError"),
    "MailDrafts": ("accuse.render.courriels", "MailDrafts"),
    "PassageEvent": ("accuse.history.store", "PassageEvent"),
    "Receipt": ("accuse.model", "Receipt"),
    "RecordOutcome": ("accuse.history.store", "RecordOutcome"),
    "RecordedReceipt": ("accuse.history.store", "RecordedReceipt"),
    "ReexportResult": ("accuse.fix.reexport", "Result"),
    "RejectedPassage": ("accuse.model", "RejectedPassage"),
    "RejectedRow": ("accuse.pipeline.analysis", "RejectedRow"),
    "ResolvedPassage": ("accuse.history.tracking", "ResolvedPassage"),
    "Source": ("accuse.model", "Source"),
    "SourceRow": ("accuse.model", "SourceRow"),
    "Stats": ("accuse.history.stats", "Stats"),
    "TrackedPassage": ("accuse.history.tracking", "TrackedPassage"),
    "Tracking": ("accuse.history.tracking", "Tracking"),
    "Verification": ("accuse.fix.verify", "Verification"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'accuse' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_catalogue(path: str | Path | None = None, *, user: bool = False) -> Catalogue:
    """The catalogue of the portal's messages shipped with accuse; with ``path``, a personal
    catalogue (TOML) merged in front of it; with ``user=True`` and no ``path``, the user's own
    (``ACCUSE_CATALOGUE``, else ``~/.config/accuse/catalogue.toml``) when it exists, as the
    commands do."""
    from accuse.reference.catalogue import load_catalogue as load

    return load(Path(path) if path is not None else None, use_default_user_file=user)


def analyse(
    receipt: str | Path,
    source: str | Path | None = None,
    *,
    catalogue: Catalogue | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
    force: bool = False,
) -> Analysis:
    """``accuse analyse`` without its outputs: the receipt read, each rejected passage joined
    to its row of ``source`` (xlsx, xls, ods, csv or the deposited flux XML), classified by
    ``catalogue`` (the shipped one when None) and diagnosed. Writes nothing. A source that is
    not the receipt's file (none of its passages, another idFlux) raises InputError unless
    ``force``."""
    from accuse.pipeline.analysis import analyse as run

    return run(
        Path(receipt),
        Path(source) if source is not None else None,
        sheet=sheet,
        id_column=id_column,
        catalogue=catalogue or load_catalogue(),
        force=force,
    )


def write_outputs(analysis: Analysis, folder: str | Path, *, parallel: bool = False) -> list[Path]:
    """corrections.xlsx and rapport.html written atomically into ``folder`` (created if
    needed; never over an input file); the paths written. ``parallel=True`` forks (Linux)."""
    from accuse.render.outputs import write_outputs as write

    return write(analysis, Path(folder), parallel=parallel)


def reexport(
    worksheet: str | Path,
    *,
    source: str | Path | None = None,
    format: Literal["xlsx", "csv", "xml"] | None = None,
    target: str | Path | None = None,
    force: bool = False,
    ids: dict[str, str] | None = None,
) -> ReexportResult:
    """``accuse reexporter``: the rows corrected in ``worksheet`` (corrections.xlsx), checked
    field by field and written to ``target`` (by default beside the worksheet). Raises
    InputError, writing nothing, while a row would be refused (unless ``force``)."""
    from accuse.fix.reexport import reexport as run

    return run(
        Path(worksheet),
        source=Path(source) if source is not None else None,
        format=format,
        target=Path(target) if target is not None else None,
        force=force,
        ids=ids,
    )


def user_history_location() -> str:
    """Where the commands keep the history when given none: ``ACCUSE_HISTORIQUE``, else
    historique.sqlite in the user's data folder."""
    from accuse.history.store import resolve_location

    location = resolve_location(None)
    return str(location.path) if location.path is not None else location.url.render_as_string()


def _location(location: str | Path) -> str:
    text = str(location).strip()
    if not text:
        raise ValueError("a history location is required (see user_history_location())")
    return text


def read_history(location: str | Path, *, every_passage: bool = True) -> History:
    """The history at ``location`` (a SQLite file or a postgresql:// address): every recorded
    receipt and every mention of every passage (only of passages ever rejected when
    ``every_passage=False``). A location holding no history yet gives an empty one."""
    from accuse.history.store import load

    return load(_location(location), every_passage=every_passage)


def record(analysis: Analysis, location: str | Path) -> RecordOutcome:
    """Record an analysed receipt in the history at ``location`` (created if needed), as
    ``accuse analyse`` does; the same receipt (same bytes) is never counted twice."""
    from accuse.history.store import record as run

    return run(analysis, _location(location))


def track(history: History, today: dt.date | None = None) -> Tracking:
    """``accuse suivi``: the passages still rejected (most urgent first) and those resolved."""
    from accuse.history.tracking import compute

    return compute(history, today)


def verify(
    source: str | Path,
    *,
    catalogue: Catalogue | None = None,
    schema: str | None = None,
    history: str | Path | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
) -> Verification:
    """``accuse verifier`` without its outputs: what the portal would refuse in ``source`` (a
    flux XML, a spreadsheet or a csv) and what is worth checking. The history is consulted only
    when a ``history`` location is given. Writes nothing."""
    from accuse.fix.verify import verify as run

    return run(
        Path(source),
        catalogue=catalogue or load_catalogue(),
        schema=schema,
        sheet=sheet,
        id_column=id_column,
        use_history=history is not None,
        history=str(history) if history is not None else None,
    )


def generate(
    source: str | Path,
    *,
    target: str | Path | None = None,
    catalogue: Catalogue | None = None,
    schema: str | None = None,
    ids: dict[str, str] | None = None,
    history: str | Path | None = None,
    force: bool = False,
    replace: bool = False,
    sheet: str | None = None,
    id_column: str | None = None,
) -> Generation:
    """``accuse generer``: the deposit flux of a spreadsheet or csv, verified first (nothing
    written while ``blocked``), beside the source unless ``target`` is given. The history is
    consulted only when a ``history`` location is given; no remembered codes are read."""
    from accuse.fix.generate import generate as run

    return run(
        Path(source),
        catalogue=catalogue or load_catalogue(),
        schema=schema,
        target=Path(target) if target is not None else None,
        ids=ids,
        force=force,
        replace=replace,
        use_history=history is not None,
        history=str(history) if history is not None else None,
        sheet=sheet,
        id_column=id_column,
    )


def statistics(history: History) -> Stats:
    """``accuse suivi --stats``: the rejection rate per deposit, per family and per
    certification, and their trend over the deposits. Imports pandas."""
    from accuse.history.stats import compute_stats

    return compute_stats(history)


def draft_mails(
    analysis: Analysis,
    folder: str | Path,
    *,
    address_column: str | None = None,
    templates: str | Path | None = None,
    sender: str | None = None,
) -> MailDrafts:
    """``accuse courriels``: a draft e-mail (.eml) to each holder of an identity refusal of
    ``analysis`` (analysed with its source) who has a usable address, and publipostage.csv,
    written into ``folder``. ``address_column`` names the e-mail column when its header is not
    recognised; ``templates`` is a folder of the user's own templates (the shipped ones when
    None; the command gives the user's accuse folder); ``sender`` fills From."""
    from accuse.render.courriels import draft_mails as run

    return run(
        analysis,
        Path(folder),
        address_header=address_column,
        user_folder=Path(templates) if templates is not None else None,
        sender=sender,
    )
