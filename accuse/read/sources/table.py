"""Header detection and row collection shared by the spreadsheet and csv readers.

A reader hands over (position, cells) pairs; this module finds the header row among the first
30, recognises the official template v1.4 (dictionary ids on one row, labels on the next,
instruction and example rows before the data), locates the idTechnique column, and keeps whole
only the rows the analysis asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

from accuse.cells import cell_text, clean_cell, column_letters
from accuse.errors import InputError
from accuse.model import CellValue, Source, SourceKind, SourceLayout, SourceRow
from accuse.reference.fields import field_for_header, is_dictionary_id
from accuse.text import fold, header_key

HEADER_SCAN_ROWS = 30
# Excel's own limit for one cell: a longer value cannot be written back to the correction
# worksheet unchanged, and no field of a passage comes near it.
MAX_CELL_CHARS = 32_767
_TEMPLATE_START = "commencez votre saisie"
# Column A titles of the template's instruction rows (rows 14-18), never data.
_TEMPLATE_ROW_TITLES = {"type champ", "obligatoire", "consigne", "exemple", "intitule", "bloc"}

Row = tuple[int, Sequence[CellValue]]
# Hands each kept row over instead of keeping it (read_source's ``visit``).
Visitor = Callable[[Source, SourceRow], None]


@dataclass
class Header:
    row_index: int  # index in the scanned rows of the row whose text becomes the headers
    position: int
    headers: list[str]
    columns: dict[str, int]
    id_index: int
    layout: SourceLayout
    data_from: int  # index in the scanned rows of the first candidate data row


def find_header(rows: list[Row], path: Path, id_column: str | None, where: str) -> Header | None:
    """The header among the scanned rows, or None when no row names an id column."""
    wanted = _loose_key(id_column) if id_column else None
    for index, (position, cells) in enumerate(rows):
        if wanted is not None:
            keys = [_loose_key(str(c)) if c is not None else "" for c in cells]
            id_indexes = [i for i, k in enumerate(keys) if k and k == wanted]
        else:
            id_indexes = [i for i, c in enumerate(cells) if field_for_header(c) == "idTechnique"]
        if not id_indexes:
            continue
        if len(id_indexes) > 1:
            names = " et ".join(f"colonne {column_letters(i)}" for i in id_indexes)
            raise InputError(
                f"{where} : deux colonnes d'identifiant technique ({names}, ligne {position}). "
                "Gardez-en une seule, ou désignez la bonne avec --colonne-id.",
                path,
            )
        id_index = id_indexes[0]
        if sum(1 for c in cells if is_dictionary_id(c)) >= 5 and index + 1 < len(rows):
            return _template_header(rows, index, id_index)
        headers = [cell_text(c).strip() for c in cells]
        columns: dict[str, int] = {}
        for i, cell in enumerate(cells):
            key = field_for_header(cell)
            if key and key not in columns:
                columns[key] = i
        columns["idTechnique"] = id_index
        return Header(index, position, headers, columns, id_index, "plat", index + 1)
    return None


def _template_header(rows: list[Row], ids_index: int, id_index: int) -> Header:
    _, id_cells = rows[ids_index]
    label_position, label_cells = rows[ids_index + 1]
    width = max(len(id_cells), len(label_cells))
    headers = [
        cell_text(label_cells[i]).strip() if i < len(label_cells) else "" for i in range(width)
    ]
    columns: dict[str, int] = {}
    for i, cell in enumerate(id_cells):
        key = field_for_header(cell) if is_dictionary_id(cell) else None
        if key and key not in columns:
            columns[key] = i
    data_from = ids_index + 2
    for index in range(ids_index + 2, len(rows)):
        if any(isinstance(c, str) and fold(c).startswith(_TEMPLATE_START) for c in rows[index][1]):
            data_from = index + 1
            break
    return Header(
        ids_index + 1, label_position, headers, columns, id_index, "modele_v1.4", data_from
    )


def _loose_key(text: str) -> str:
    """A header as --colonne-id compares it: "Réf. passage" == "ref passage"."""
    return header_key(text).replace(".", "")


def id_column_wanted(id_column: str | None) -> str:
    """How the missing id column is named in messages."""
    if id_column:
        return f"« {id_column} »"
    return "d'identifiant technique (idTechnique, Id Technique, 5.1…)"


def check_cell_sizes(cells: Iterable[CellValue], position: int, path: Path) -> None:
    """Refuse a cell longer than Excel allows: it would be cut short in the outputs."""
    for index, cell in enumerate(cells):
        if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
            raise too_long(len(cell), f"ligne {position}, colonne {column_letters(index)}", path)


def too_long(length: int, where: str, path: Path, at_least: bool = False) -> InputError:
    size = ("plus de " if at_least else "") + f"{length:,}".replace(",", " ")
    limit = f"{MAX_CELL_CHARS:,}".replace(",", " ")
    return InputError(
        f"{where} : une valeur de {size} caractères, plus que les {limit} qu'une cellule "
        "Excel peut contenir ; ce n'est pas une donnée de passage. Corrigez cette cellule "
        "(dans un csv, un guillemet non fermé en est souvent la cause).",
        path,
    )


def scan(rows: Iterator[Row]) -> list[Row]:
    return list(islice(rows, HEADER_SCAN_ROWS))


def collect(
    *,
    path: Path,
    kind: SourceKind,
    sheet: str | None,
    header: Header,
    scanned: list[Row],
    rest: Iterable[Row],
    wanted: set[str] | None,
    visit: Visitor | None = None,
) -> Source:
    """Read every data row: all ids with their positions, whole rows for the wanted ids (or
    handed to ``visit`` as they are read, in file order, when it is given)."""
    source = Source(
        path=path,
        kind=kind,
        layout=header.layout,
        sheet=sheet,
        headers=header.headers,
        columns=header.columns,
        header_row=header.position,
    )
    check_cell_sizes(header.headers, header.position, path)
    id_index = header.id_index
    template = header.layout == "modele_v1.4"
    positions = source.positions
    kept = source.rows
    count = 0
    for position, cells in chain(scanned[header.data_from :], rest):
        raw = cells[id_index] if id_index < len(cells) else None
        if raw is None or raw == "":
            if any(c is not None and c != "" and str(c).strip() for c in cells):
                source.unidentified.append(position)
            continue
        # The two common cases first: this loop runs for every row of the file.
        if type(raw) is str:
            identifier = raw.strip()
        elif type(raw) is float and raw.is_integer():
            identifier = str(int(raw))
        else:
            identifier = cell_text(raw).strip()
        if not identifier:
            continue
        if (
            template
            and cells[0]
            and type(cells[0]) is str
            and fold(cells[0]) in _TEMPLATE_ROW_TITLES
        ):
            continue
        count += 1
        found = positions.get(identifier)
        if found is None:
            positions[identifier] = [position]
        else:
            found.append(position)
        if wanted is None or identifier in wanted:
            check_cell_sizes(cells, position, path)
            row = SourceRow(position, identifier, tuple(map(clean_cell, cells)))
            if visit is None:
                kept[position] = row
            else:
                visit(source, row)
    source.row_count = count
    if kind == "tableur" and count > 1 and len(positions) == 1 and "0" in positions:
        # Formulas whose result was never computed: a program wrote them with 0 as their
        # stored value, and no spreadsheet ever opened the file to compute them.
        raise InputError(
            f"la colonne d'identifiant technique ne contient que des 0 ({count} lignes) : ce "
            "sont sans doute des formules dont le résultat n'a jamais été calculé (fichier "
            "écrit par un programme, jamais ouvert dans un tableur). Ouvrez-le dans Excel ou "
            "LibreOffice, enregistrez-le, puis relancez.",
            path,
        )
    return source
