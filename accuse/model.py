"""What the tool reads and what it concludes, as plain data (no I/O, no printing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from accuse.text import xerces_code

ReceiptShape = Literal["passages", "rejet_fichier"]
SourceKind = Literal["tableur", "csv", "flux"]
SourceLayout = Literal["plat", "modele_v1.4", "flux"]
SchemaVersion = Literal["1.1.2", "1.1.5"]
FluxAction = Literal["CREATION", "SUPPRESSION"]
# What in a flux needs XSD 1.1.5 (FORMAT.md §3.2), as each presentation names it.
FLUX_FEATURES = {
    "action": "élément « action »",
    "identifiantNational": "passages identifiés par le NIR (identifiantNational)",
    "facultatifs": "éléments devenus facultatifs absents",
    "nil": "date de début de validité ou modalités d'inscription vides (xsi:nil)",
}
# A cell as read: text, a number the user typed, a date, or empty.
# What a spreadsheet cell can hold once read (calamine also gives times and durations).
CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None


@dataclass(frozen=True)
class RejectedPassage:
    """One PassagesKO/passage of a per-passage receipt."""

    idTechnique: str
    message: str
    line: int | None = None  # line of <passage> in the receipt, for the user's own checks


@dataclass(frozen=True)
class FileError:
    """One rapport/erreurs/erreur of a whole-file rejection receipt."""

    type: str
    message: str
    ligne: int | None
    colonne: int | None

    @property
    def code_technique(self) -> str | None:
        """The Xerces code before " : " (cvc-enumeration-valid, ...), when the message has one."""
        return xerces_code(self.message)


@dataclass
class Receipt:
    path: Path
    shape: ReceiptShape
    nomFichier: str | None = None
    idFlux: str | None = None
    idTraitement: str | None = None
    idDemande: str | None = None
    rejected: list[RejectedPassage] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)
    file_errors: list[FileError] = field(default_factory=list)


@dataclass(frozen=True)
class SourceRow:
    """A row of the user's file, kept whole only when the analysis needs it (rejected rows)."""

    position: int  # spreadsheet row as Excel shows it, csv line, or <passageCertification> line
    idTechnique: str
    values: tuple[CellValue, ...]
    end_line: int | None = None  # flux XML only: the line of </passageCertification>

    def get(self, columns: dict[str, int], key: str) -> CellValue:
        index = columns.get(key)
        return None if index is None or index >= len(self.values) else self.values[index]


@dataclass
class Source:
    """The user's file: its columns, where each idTechnique sits, and the rows worth keeping."""

    path: Path
    kind: SourceKind
    layout: SourceLayout
    sheet: str | None
    headers: list[str]  # the user's own header text, column by column
    columns: dict[str, int]  # dictionary key (champs.toml) -> column index, for the known ones
    header_row: int | None  # where the headers stand (spreadsheet row / csv line)
    positions: dict[str, list[int]] = field(default_factory=dict)  # idTechnique -> every row
    rows: dict[int, SourceRow] = field(default_factory=dict)  # position -> row kept whole
    row_count: int = 0
    # flux XML read for a whole-file rejection only: (start line, end line, idTechnique) of
    # every passage, in file order
    passage_spans: list[tuple[int, int, str]] = field(default_factory=list)
    flux_header: dict[str, str] = field(default_factory=dict)
    # spreadsheet / csv: rows that hold data but no idTechnique (never joined, never exported)
    unidentified: list[int] = field(default_factory=list)
    # flux XML only: local name of the element that stands at each asked-for line
    line_elements: dict[int, str] = field(default_factory=dict)
    # flux XML only: the flux's action, the XSD version it needs and the 1.1.5 features that
    # make it so (FLUX_FEATURES keys), found over every passage
    action: FluxAction | None = None
    schema_version: SchemaVersion | None = None
    schema_features: tuple[str, ...] = ()

    def row_for(self, idTechnique: str) -> SourceRow | None:
        found = self.positions.get(idTechnique)
        return self.rows.get(found[0]) if found else None

    def value(self, row: SourceRow, key: str) -> CellValue:
        return row.get(self.columns, key)

    def column_headers(self) -> dict[str, str]:
        """Dictionary key -> the user's header of its column, where it has one."""
        width = len(self.headers)
        return {
            k: self.headers[i] for k, i in self.columns.items() if i < width and self.headers[i]
        }

    @property
    def duplicate_ids(self) -> dict[str, list[int]]:
        return {i: p for i, p in self.positions.items() if len(p) > 1}


@dataclass(frozen=True)
class Finding:
    """What a row-level check saw that may explain a rejection."""

    champ: str | None  # dictionary key (champs.toml) of the field concerned, when there is one
    message: str  # one French sentence: what was seen and why it may matter
    # True when the value is wrong whatever the portal holds (31/02, end before start, a code
    # without its RNCP prefix): a re-export refuses such a row; otherwise only a suspicion.
    sure: bool = False


@dataclass(frozen=True)
class DiagnosisContext:
    """What the row checks may know beyond the row itself."""

    accepted_ids: frozenset[str] = frozenset()  # PassagesOK of this receipt
    source_positions: dict[str, list[int]] = field(default_factory=dict)  # id -> source rows
    columns: frozenset[str] = frozenset()  # dictionary keys the source has a column for
    action: FluxAction = "CREATION"  # a flux source's action
    # dictionary key -> the user's header of that column, to name it as they spell it
    headers: Mapping[str, str] = field(default_factory=dict)
