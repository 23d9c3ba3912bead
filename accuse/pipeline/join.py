"""Joining the receipt back to the user's file: by idTechnique, or by line for file errors."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from accuse.model import FileError, Receipt, Source, SourceRow


@dataclass(frozen=True)
class Joined:
    """Where each rejection sits in the source, and what does not line up."""

    rows: dict[str, SourceRow]  # KO idTechnique -> its (first) source row
    unmatched_ids: list[str]  # KO ids the source does not have
    absent: list[tuple[int, str]]  # (position, idTechnique) of source rows in neither OK nor KO
    duplicates: dict[str, list[int]]  # ids present on several source rows


def join(receipt: Receipt, source: Source) -> Joined:
    rows: dict[str, SourceRow] = {}
    unmatched: list[str] = []
    for passage in receipt.rejected:
        if passage.idTechnique in rows:
            continue
        row = source.row_for(passage.idTechnique)
        if row is None:
            unmatched.append(passage.idTechnique)
        else:
            rows[passage.idTechnique] = row
    absent: list[tuple[int, str]] = []
    if receipt.shape == "passages":
        in_receipt = set(receipt.accepted_ids)
        in_receipt.update(p.idTechnique for p in receipt.rejected)
        absent = sorted(
            (position, identifier)
            for identifier, positions in source.positions.items()
            if identifier not in in_receipt
            for position in positions
        )
    return Joined(rows, unmatched, absent, source.duplicate_ids)


def locate_file_errors(errors: list[FileError], source: Source) -> list[tuple[int, str] | None]:
    """For each error, (start line, idTechnique) of the passageCertification enclosing its
    ``ligne``, or None when it falls outside every passage (flux header, certification...)."""
    spans = source.passage_spans
    starts = [span[0] for span in spans]
    located: list[tuple[int, str] | None] = []
    for error in errors:
        if error.ligne is None:
            located.append(None)
            continue
        index = bisect_right(starts, error.ligne) - 1
        if index < 0:
            located.append(None)
            continue
        start, end, identifier = spans[index]
        located.append((start, identifier) if start <= error.ligne <= end else None)
    return located
