"""The pipeline of `accuse analyse`: read the receipt, read the source, join, classify, diagnose.

Everything the commands show or write is computed here once; renderers only present it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from accuse.errors import InputError
from accuse.model import (
    CellValue,
    DiagnosisContext,
    FileError,
    Finding,
    Receipt,
    Source,
    SourceRow,
)
from accuse.parallel import gc_paused
from accuse.pipeline.diagnosis import diagnose, prepare
from accuse.pipeline.join import join, locate_file_errors
from accuse.progress import SILENT, Progress
from accuse.read.receipt import parse_receipt
from accuse.read.sources import prefetch_source, read_source
from accuse.reference.catalogue import Catalogue, CatalogueEntry, Classification, load_catalogue
from accuse.reference.fields import row_fields, used_composites
from accuse.text import inert

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RejectedRow:
    """A rejected passage with its family, its source row (when found) and the row findings."""

    idTechnique: str
    message: str
    classification: Classification
    row: SourceRow | None
    findings: tuple[Finding, ...] = ()

    @property
    def code(self) -> str:
        return self.classification.code

    @property
    def fixable(self) -> bool:
        """Worth correcting and depositing again (a DOUBLON of a stored passage is not)."""
        return self.classification.entry.redeposer != "non"


@dataclass(frozen=True)
class LocatedFileError:
    """A whole-file rejection error, its family, and the passage it falls in (flux source)."""

    error: FileError
    classification: Classification
    idTechnique: str | None = None
    passage_line: int | None = None
    row: SourceRow | None = None


@dataclass(frozen=True)
class EarlierRefusal:
    """A passage of this receipt the history saw refused at earlier deposits."""

    deposits: int  # earlier receipts that refused it
    first: dt.date  # date of the first of them
    deadline: dt.date | None  # legal deadline (dateDebutValidite + 3 months), when known


@dataclass
class Analysis:
    receipt: Receipt
    source: Source | None
    catalogue: Catalogue
    rejected: list[RejectedRow] = field(default_factory=list)
    file_errors: list[LocatedFileError] = field(default_factory=list)
    unmatched_ids: list[str] = field(default_factory=list)
    absent: list[tuple[int, str]] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    analysed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())
    # Filled from the history by the command (accuse.history.tracking.earlier_refusals).
    earlier: dict[str, EarlierRefusal] = field(default_factory=dict)

    @property
    def rejected_count(self) -> int:
        return len(self.receipt.rejected)

    @property
    def accepted_count(self) -> int:
        return len(self.receipt.accepted_ids)

    @property
    def matched_count(self) -> int:
        return sum(1 for r in self.rejected if r.row is not None)

    @property
    def has_rejections(self) -> bool:
        return bool(self.receipt.rejected or self.receipt.file_errors)

    def families(self) -> list[tuple[CatalogueEntry, int]]:
        """Families present, most frequent first (ties in catalogue order)."""
        classifications = (
            [e.classification for e in self.file_errors]
            if self.receipt.shape == "rejet_fichier"
            else [r.classification for r in self.rejected]
        )
        counts = Counter(c.code for c in classifications)
        entries = {c.code: c.entry for c in classifications}
        order = {e.code: i for i, e in enumerate(self.catalogue.entries)}
        codes = sorted(counts, key=lambda c: (-counts[c], order.get(c, 0)))
        return [(entries[c], counts[c]) for c in codes]

    def row_values(self, row: SourceRow) -> dict[str, CellValue]:
        """A source row by dictionary key, for the columns the source has (and the fields a
        whole « Date de naissance » column gives)."""
        assert self.source is not None
        return row_fields(row.values, self.source.columns)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per rejected passage, in receipt order: its family, what the diagnosis saw
        (``findings``: the sentences; ``finding_fields``: the fields they name), then its row
        of the source by dictionary key (champs.toml), empty when no source or row was found.
        Imports pandas (kept off the command line's path)."""
        import pandas as pd

        base = [
            "idTechnique",
            "message",
            "family",
            "family_title",
            "redeposer",
            "hint",
            "source_line",
            "findings",
            "finding_fields",
        ]
        columns = self.source.columns if self.source is not None else {}
        keys = [k for k in sorted(columns, key=columns.__getitem__) if k not in base]
        keys += [k for f in used_composites(columns) for k in f.donne]
        records = []
        for rejected in self.rejected:
            entry = rejected.classification.entry
            values = self.row_values(rejected.row) if rejected.row is not None else {}
            records.append(
                {
                    "idTechnique": rejected.idTechnique,
                    "message": rejected.message,
                    "family": entry.code,
                    "family_title": entry.titre,
                    "redeposer": entry.redeposer,
                    "hint": rejected.classification.hint or None,
                    "source_line": rejected.row.position if rejected.row is not None else None,
                    "findings": [f.message for f in rejected.findings],
                    "finding_fields": [f.champ for f in rejected.findings if f.champ],
                    **{key: values.get(key) for key in keys},
                }
            )
        frame = pd.DataFrame.from_records(records, columns=[*base, *keys])
        return frame.astype({"source_line": "Int64"})


def analyse(
    receipt_path: Path,
    source_path: Path | None = None,
    *,
    sheet: str | None = None,
    id_column: str | None = None,
    catalogue: Catalogue | None = None,
    progress: Progress = SILENT,
    force: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> Analysis:
    """``force``: go on with a source that does not look like the one the receipt is about.
    ``meanwhile``: work of the caller's own, done once the receipt is read, while the
    source's sheet loads on the other core (its errors stop the analysis)."""
    with gc_paused():
        return _analyse(
            receipt_path, source_path, sheet, id_column, catalogue, progress, force, meanwhile
        )


def _analyse(
    receipt_path: Path,
    source_path: Path | None,
    sheet: str | None,
    id_column: str | None,
    catalogue: Catalogue | None,
    progress: Progress,
    force: bool = False,
    meanwhile: Callable[[], object] | None = None,
) -> Analysis:
    # Without a catalogue given, the shipped one: the user's own is read only when a caller
    # asks for it (the CLI does, through --catalogue and its defaults).
    catalogue = catalogue or load_catalogue(use_default_user_file=False)
    # The source's sheet loads on the second core while the receipt is parsed here.
    prefetched = prefetch_source(Path(source_path), sheet) if source_path is not None else None
    receipt = parse_receipt(Path(receipt_path), progress)
    # What depends on the receipt alone is done while the sheet may still be loading.
    classified = _classify(receipt, catalogue)
    if prefetched is not None and prefetched.loading():
        prepare({c.code for c in classified.values()})
    if meanwhile is not None:
        meanwhile()
    source = None
    if source_path is not None:
        wanted = {p.idTechnique for p in receipt.rejected}
        lines = [e.ligne for e in receipt.file_errors if e.ligne is not None]
        source = read_source(
            Path(source_path),
            wanted,
            sheet=sheet,
            id_column=id_column,
            lines=lines,
            progress=progress,
            prefetched=prefetched,
        )
        if not force:
            check_belongs(receipt, source)
    analysis = Analysis(receipt=receipt, source=source, catalogue=catalogue)
    if receipt.shape == "rejet_fichier":
        _file_errors(analysis)
    else:
        _passages(analysis, classified)
    return analysis


def _classify(receipt: Receipt, catalogue: Catalogue) -> dict[str, Classification]:
    """Each distinct message of the rejected passages, classified once."""
    classified: dict[str, Classification] = {}
    for passage in receipt.rejected:
        if passage.message not in classified:
            classified[passage.message] = catalogue.classify(passage.message)
    return classified


_FORCE_HINT = "Vérifiez les deux fichiers, ou relancez avec --forcer pour analyser quand même."


def check_belongs(receipt: Receipt, source: Source) -> None:
    """Refuse a source the receipt cannot be about: a flux whose idFlux is not the receipt's,
    or a file holding none of the receipt's passages. A partial match is normal (a source
    usually holds more rows than one deposit, or a deposit was split) and is only reported."""
    flux_id = source.flux_header.get("idFlux")
    if source.kind == "flux" and receipt.idFlux and flux_id and flux_id != receipt.idFlux:
        raise InputError(
            f"cet accusé porte sur le flux {inert(receipt.idFlux)}, mais "
            f"{inert(source.path.name)} est le flux {inert(flux_id)} : ce n'est pas le fichier "
            f"de cet accusé. {_FORCE_HINT}",
            receipt.path,
        )
    if receipt.shape != "passages":
        return
    ids = [p.idTechnique for p in receipt.rejected] + receipt.accepted_ids
    if ids and not any(i in source.positions for i in ids):
        count = len(set(ids))
        passages = (
            "son passage n'y figure" if count == 1 else f"aucun de ses {count} passages n'y figure"
        )
        raise InputError(
            f"cet accusé ne correspond pas à {inert(source.path.name)} : {passages} "
            f"(identifiants techniques introuvables). {_FORCE_HINT}",
            receipt.path,
        )


def _passages(analysis: Analysis, classified: dict[str, Classification]) -> None:
    receipt, source = analysis.receipt, analysis.source
    joined = join(receipt, source) if source is not None else None
    if joined is not None:
        analysis.unmatched_ids = joined.unmatched_ids
        analysis.absent = joined.absent
        analysis.duplicates = joined.duplicates
    context = DiagnosisContext(
        accepted_ids=frozenset(receipt.accepted_ids),
        source_positions=source.positions if source is not None else {},
        columns=frozenset(source.columns) if source is not None else frozenset(),
        action=(source.action or "CREATION") if source is not None else "CREATION",
        headers=source.column_headers() if source is not None else {},
    )
    for passage in receipt.rejected:
        classification = classified[passage.message]
        row = joined.rows.get(passage.idTechnique) if joined is not None else None
        findings: tuple[Finding, ...] = ()
        if row is not None or classification.code == "DOUBLON":
            values = analysis.row_values(row) if row is not None else {}
            findings = tuple(diagnose(classification.code, passage.idTechnique, values, context))
        analysis.rejected.append(
            RejectedRow(passage.idTechnique, passage.message, classification, row, findings)
        )


def _file_errors(analysis: Analysis) -> None:
    receipt, source, catalogue = analysis.receipt, analysis.source, analysis.catalogue
    located = (
        locate_file_errors(receipt.file_errors, source)
        if source is not None and source.kind == "flux"
        else [None] * len(receipt.file_errors)
    )
    for error, where in zip(receipt.file_errors, located, strict=True):
        classification = catalogue.classify(error.message, "fichier")
        element = (
            source.line_elements.get(error.ligne)
            if source is not None and error.ligne is not None
            else None
        )
        if element:
            classification = classification.with_captures(element=element)
        if where is None:
            analysis.file_errors.append(LocatedFileError(error, classification))
            continue
        line, identifier = where
        row = source.rows.get(line) if source is not None else None
        analysis.file_errors.append(LocatedFileError(error, classification, identifier, line, row))


def input_paths(analysis: Analysis) -> list[Path]:
    """The files this analysis read: outputs must never be written over them."""
    paths = [analysis.receipt.path]
    if analysis.source is not None:
        paths.append(analysis.source.path)
    return paths
