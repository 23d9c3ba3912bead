"""A small xlsx writer for corrections.xlsx: the part of xlsxwriter's API the worksheet uses
(formats, strings, numbers, dates, blanks, column widths, row heights, a merged range, frozen
panes, an autofilter, list validations, a hidden sheet), writing the same XML parts in the same
order with the same namespaces.

Why not xlsxwriter: it keeps every cell as an object, then writes each one through several
layers of generic calls; for the 20,000 rejected rows of a 200,000-passage deposit that was the
parent's critical path. Here a cell becomes its XML the moment it is written, a row one string
when the next row starts, and the strings are shared (family texts and names repeat).

What stays as xlsxwriter writes it: every string is a string (never a formula), control
characters are stored as Excel stores them (``_x001B_``, and a literal ``_x0041_`` as
``_x005F_x0041_``), a text stops at 32,767 characters, dates are serial numbers with their
format, created and modified dates are the same (``saved_since_written`` relies on it).
Rows must be written in order, each row's cells in any order; a row not yet written may come
after a later one (the instruction line above the headers).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from accuse.cells import column_letters

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_STRING = 32_767  # Excel's limit for one cell's text
# Deflate level of the archive: 1 deflates the sheet three times faster than xlsxwriter's 6
# for a file a third larger (0.6 MB against 0.45 MB for 2,000 rows of 51 columns).
COMPRESSION = 1

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_DIGIT_WIDTH = 7  # pixels of a digit of Calibri 11, as xlsxwriter counts
_PADDING = 5
_EPOCH_DAY = dt.date(1899, 12, 31).toordinal()  # Excel's day 0
_FLUSH = 1 << 20  # characters of XML gathered before they go to the archive


def text_xml(value: str) -> str:
    """A cell's text as Excel stores it in XML: control characters as ``_xHHHH_`` (and a
    literal ``_xHHHH_`` protected as ``_x005F_xHHHH_``), then &, < and > escaped."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    value = _LITERAL_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attribute_xml(value: str) -> str:
    """Text for an XML attribute (a message, a title): control characters, which no XML
    attribute may hold, are dropped."""
    value = _CONTROL.sub("", value)
    return (
        value.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "&#xA;")
    )


column_name = column_letters  # the name this module's callers know


_LETTERS: list[str] = [column_name(i) for i in range(702)]  # A to ZZ; more on demand


def _letters(column: int) -> str:
    while column >= len(_LETTERS):
        _LETTERS.append(column_name(len(_LETTERS)))
    return _LETTERS[column]


def cell_name(row: int, column: int, absolute: bool = False) -> str:
    if absolute:
        return f"${_letters(column)}${row + 1}"
    return f"{_letters(column)}{row + 1}"


def excel_date(value: dt.date) -> float:
    """A date or date-time as Excel's serial number (1900 system, with its 29 February 1900)."""
    days = value.toordinal() - _EPOCH_DAY
    if days > 59:
        days += 1  # Excel counts a 29 February 1900
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return days + (seconds + value.microsecond / 1e6) / 86400
    return days


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise TypeError("NaN and infinities cannot be stored in a spreadsheet cell")
    return f"{value:.16G}"


class Format:
    """A cell format: its index among the workbook's cell formats, and its parts."""

    __slots__ = ("alignment", "border", "fill", "font", "index", "number", "style")

    def __init__(
        self, index: int, font: int, fill: int, border: int, number: int, alignment: str
    ) -> None:
        self.index = index
        self.font, self.fill, self.border, self.number = font, fill, border, number
        self.alignment = alignment
        self.style = f' s="{index}"' if index else ""  # the attribute a cell carries


_KNOWN = {
    "bold",
    "font_size",
    "font_color",
    "bg_color",
    "text_wrap",
    "valign",
    "num_format",
    "border",
    "border_color",
}
_VALIGN = {"top": "top", "vcenter": "center", "bottom": "bottom"}


def _rgb(color: object) -> str:
    text = str(color).lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}", text):
        raise ValueError(f"colour {color!r}: #RRGGBB expected")
    return "FF" + text


class _Styles:
    """Fonts, fills, borders, number formats and cell formats, each kept once."""

    def __init__(self) -> None:
        self.fonts: list[str] = [self._font(False, 11, None)]
        self.fills: list[str] = [
            '<fill><patternFill patternType="none"/></fill>',
            '<fill><patternFill patternType="gray125"/></fill>',
        ]
        self.borders: list[str] = ["<border><left/><right/><top/><bottom/><diagonal/></border>"]
        self.numbers: dict[str, int] = {}
        self.formats: list[Format] = [Format(0, 0, 0, 0, 0, "")]

    @staticmethod
    def _font(bold: bool, size: object, color: str | None) -> str:
        shade = f'<color rgb="{color}"/>' if color else '<color theme="1"/>'
        return (
            f'<font>{"<b/>" if bold else ""}<sz val="{size}"/>{shade}<name val="Calibri"/>'
            '<family val="2"/><scheme val="minor"/></font>'
        )

    @staticmethod
    def _index(items: list[str], item: str) -> int:
        if item not in items:
            items.append(item)
        return items.index(item)

    def add(self, spec: dict[str, Any]) -> Format:
        unknown = set(spec) - _KNOWN
        if unknown:
            raise ValueError(f"format properties not supported here: {sorted(unknown)}")
        color = _rgb(spec["font_color"]) if "font_color" in spec else None
        font = self._index(
            self.fonts, self._font(bool(spec.get("bold")), spec.get("font_size", 11), color)
        )
        fill = 0
        if "bg_color" in spec:
            fill = self._index(
                self.fills,
                '<fill><patternFill patternType="solid">'
                f'<fgColor rgb="{_rgb(spec["bg_color"])}"/><bgColor indexed="64"/>'
                "</patternFill></fill>",
            )
        border = 0
        if spec.get("border"):
            if spec["border"] != 1:
                raise ValueError("only thin borders (border: 1) are supported here")
            shade = f'<color rgb="{_rgb(spec["border_color"])}"/>' if "border_color" in spec else ""
            sides = "".join(
                f'<{side} style="thin">{shade}</{side}>'
                for side in ("left", "right", "top", "bottom")
            )
            border = self._index(self.borders, f"<border>{sides}<diagonal/></border>")
        number = 0
        pattern = spec.get("num_format")
        if pattern:
            number = self.numbers.setdefault(str(pattern), 164 + len(self.numbers))
        alignment = ""
        valign = _VALIGN.get(str(spec.get("valign", "")))
        if valign or spec.get("text_wrap"):
            alignment = "<alignment"
            if valign:
                alignment += f' vertical="{valign}"'
            if spec.get("text_wrap"):
                alignment += ' wrapText="1"'
            alignment += "/>"
        made = Format(len(self.formats), font, fill, border, number, alignment)
        self.formats.append(made)
        return made

    def xml(self) -> str:
        parts = [_XML, f'<styleSheet xmlns="{_MAIN}">']
        if self.numbers:
            parts.append(f'<numFmts count="{len(self.numbers)}">')
            parts.extend(
                f'<numFmt numFmtId="{n}" formatCode="{attribute_xml(code)}"/>'
                for code, n in self.numbers.items()
            )
            parts.append("</numFmts>")
        parts.append(f'<fonts count="{len(self.fonts)}">{"".join(self.fonts)}</fonts>')
        parts.append(f'<fills count="{len(self.fills)}">{"".join(self.fills)}</fills>')
        parts.append(f'<borders count="{len(self.borders)}">{"".join(self.borders)}</borders>')
        parts.append(
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
        )
        parts.append(f'<cellXfs count="{len(self.formats)}">')
        for f in self.formats:
            xf = (
                f'<xf numFmtId="{f.number}" fontId="{f.font}" fillId="{f.fill}" '
                f'borderId="{f.border}" xfId="0"'
            )
            applied = [
                ("applyNumberFormat", f.number),
                ("applyFont", f.font),
                ("applyFill", f.fill),
                ("applyBorder", f.border),
                ("applyAlignment", f.alignment),
            ]
            xf += "".join(f' {name}="1"' for name, used in applied if used)
            parts.append(f"{xf}>{f.alignment}</xf>" if f.alignment else f"{xf}/>")
        parts.append("</cellXfs>")
        parts.append(
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
            'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
        )
        return "".join(parts)


class Sheet:
    """One worksheet. Cells become XML as they are written; a row is sealed into one string
    as soon as a later row is written."""

    def __init__(self, book: Workbook, name: str) -> None:
        self.name = name
        self.hidden = False
        self.selected = False
        self._book = book
        self._strings = book.strings  # shared by every sheet of the book
        self.references = 0  # string cells written, for the shared strings' count
        self._sealed: dict[int, str] = {}
        self._row = -1  # the row being written
        self._cells: dict[int, str] = {}
        self._heights: dict[int, float] = {}
        self._columns: dict[int, tuple[float, Format | None]] = {}
        self._merged: list[str] = []
        self._pane: tuple[int, int] | None = None
        self.filter: tuple[int, int, int, int] | None = None
        self._validations: list[str] = []
        self._extent = [MAX_ROWS, MAX_COLUMNS, -1, -1]  # first row, first column, last ones

    # --- cells -----------------------------------------------------------------------------

    def _put(self, row: int, column: int, xml: str) -> None:
        if row != self._row:
            self._move(row)
        self._cells[column] = xml

    def _move(self, row: int) -> None:
        if row in self._sealed:
            raise ValueError(f"sheet {self.name!r}: row {row + 1} written again after a later one")
        self._seal()
        self._row = row

    def _seal(self) -> None:
        if not self._cells:
            return
        cells = self._cells
        columns = sorted(cells)
        extent = self._extent
        extent[0] = min(extent[0], self._row)
        extent[2] = max(extent[2], self._row)
        extent[1] = min(extent[1], columns[0])
        extent[3] = max(extent[3], columns[-1])
        self._sealed[self._row] = "".join([cells[c] for c in columns])
        self._cells = {}

    def _inside(self, row: int, column: int) -> bool:
        return 0 <= row < MAX_ROWS and 0 <= column < MAX_COLUMNS

    def write_string(
        self, row: int, column: int, value: str, cell_format: Format | None = None
    ) -> None:
        """Text, always text: "=1+1" or "+33 6" stay as typed, never a formula or a number."""
        # The hot path of a 20,000-row sheet: one dictionary look-up and one f-string a cell.
        if not (0 <= row < MAX_ROWS and 0 <= column < MAX_COLUMNS):
            return
        if len(value) > MAX_STRING:
            value = value[:MAX_STRING]
        strings = self._strings
        index = strings.get(value)
        if index is None:
            index = strings[value] = len(strings)
        self.references += 1
        if row != self._row:
            self._move(row)
        style = cell_format.style if cell_format is not None else ""
        name = _LETTERS[column] if column < 702 else _letters(column)
        self._cells[column] = f'<c r="{name}{row + 1}"{style} t="s"><v>{index}</v></c>'

    def write_number(
        self, row: int, column: int, value: float, cell_format: Format | None = None
    ) -> None:
        if not self._inside(row, column):
            return
        style = cell_format.style if cell_format is not None else ""
        xml = f'<c r="{cell_name(row, column)}"{style}><v>{_number(value)}</v></c>'
        self._put(row, column, xml)

    def write_datetime(
        self, row: int, column: int, value: dt.date, cell_format: Format | None = None
    ) -> None:
        self.write_number(row, column, excel_date(value), cell_format)

    def write_boolean(
        self, row: int, column: int, value: bool, cell_format: Format | None = None
    ) -> None:
        if not self._inside(row, column):
            return
        style = cell_format.style if cell_format is not None else ""
        xml = f'<c r="{cell_name(row, column)}"{style} t="b"><v>{int(bool(value))}</v></c>'
        self._put(row, column, xml)

    def write_blank(
        self, row: int, column: int, value: object = None, cell_format: Format | None = None
    ) -> None:
        """An empty cell that carries a format (a highlighted cell to fill); none without."""
        if cell_format is None or not self._inside(row, column):
            return
        self._put(row, column, f'<c r="{cell_name(row, column)}"{cell_format.style}/>')

    def merge_range(
        self,
        first_row: int,
        first_column: int,
        last_row: int,
        last_column: int,
        value: str,
        cell_format: Format | None = None,
    ) -> None:
        if not (self._inside(first_row, first_column) and self._inside(last_row, last_column)):
            return  # beyond the sheet's edge: ignored, as xlsxwriter does
        for row in range(first_row, last_row + 1):
            for column in range(first_column, last_column + 1):
                self.write_blank(row, column, None, cell_format)
        self.write_string(first_row, first_column, value, cell_format)
        start, end = cell_name(first_row, first_column), cell_name(last_row, last_column)
        self._merged.append(f'<mergeCell ref="{start}:{end}"/>')

    # --- the sheet's layout ----------------------------------------------------------------

    def set_column(
        self, first: int, last: int, width: float, cell_format: Format | None = None
    ) -> None:
        if not (0 <= first < MAX_COLUMNS and 0 <= last < MAX_COLUMNS):
            return  # beyond the sheet's edge: ignored, as xlsxwriter does
        for column in range(first, last + 1):
            self._columns[column] = (width, cell_format)

    def set_row(self, row: int, height: float) -> None:
        if 0 <= row < MAX_ROWS:
            self._heights[row] = height

    def freeze_panes(self, row: int, column: int) -> None:
        self._pane = (row, column)

    def autofilter(
        self, first_row: int, first_column: int, last_row: int, last_column: int
    ) -> None:
        if self._inside(first_row, first_column) and self._inside(last_row, last_column):
            self.filter = (first_row, first_column, last_row, last_column)

    def data_validation(
        self,
        first_row: int,
        first_column: int,
        last_row: int,
        last_column: int,
        options: dict[str, Any],
    ) -> None:
        """A drop-down list (the only kind the worksheet uses): the list, its messages."""
        if options.get("validate") != "list" or not isinstance(options.get("source"), list):
            raise ValueError("only list validations with their values are supported here")
        if not (self._inside(first_row, first_column) and self._inside(last_row, last_column)):
            return  # beyond the sheet's edge: ignored, as xlsxwriter does
        attributes = ['type="list"']
        style = options.get("error_type", "stop")
        if style != "stop":
            attributes.append(f'errorStyle="{attribute_xml(str(style))}"')
        if options.get("ignore_blank", True):
            attributes.append('allowBlank="1"')
        attributes.append('showInputMessage="1"')
        attributes.append('showErrorMessage="1"')
        for key, name in (
            ("error_title", "errorTitle"),
            ("error_message", "error"),
            ("input_title", "promptTitle"),
            ("input_message", "prompt"),
        ):
            if key in options:
                attributes.append(f'{name}="{attribute_xml(str(options[key]))}"')
        start, end = cell_name(first_row, first_column), cell_name(last_row, last_column)
        attributes.append(f'sqref="{start}:{end}"' if start != end else f'sqref="{start}"')
        values = ",".join(str(v) for v in options["source"])
        self._validations.append(
            f"<dataValidation {' '.join(attributes)}>"
            f'<formula1>"{text_xml(values)}"</formula1></dataValidation>'
        )

    def hide(self) -> None:
        self.hidden = True

    def activate(self) -> None:
        self._book.active = self

    # --- XML -------------------------------------------------------------------------------

    def _dimension(self) -> str:
        first_row, first_column, last_row, last_column = self._extent
        if last_row < 0:
            return "A1"
        start, end = cell_name(first_row, first_column), cell_name(last_row, last_column)
        return start if start == end else f"{start}:{end}"

    def _view(self) -> str:
        selected = ' tabSelected="1"' if self.selected else ""
        if self._pane is None:
            return f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
        row, column = self._pane
        corner = cell_name(row, column)
        if row and column:
            pane = (
                f'<pane xSplit="{column}" ySplit="{row}" topLeftCell="{corner}" '
                'activePane="bottomRight" state="frozen"/>'
                f'<selection pane="topRight" activeCell="{cell_name(0, column)}" '
                f'sqref="{cell_name(0, column)}"/>'
                f'<selection pane="bottomLeft" activeCell="{cell_name(row, 0)}" '
                f'sqref="{cell_name(row, 0)}"/><selection pane="bottomRight"/>'
            )
        elif row:
            pane = (
                f'<pane ySplit="{row}" topLeftCell="{corner}" activePane="bottomLeft" '
                'state="frozen"/><selection pane="bottomLeft"/>'
            )
        else:
            pane = (
                f'<pane xSplit="{column}" topLeftCell="{corner}" activePane="topRight" '
                'state="frozen"/><selection pane="topRight"/>'
            )
        return (
            f'<sheetViews><sheetView{selected} workbookViewId="0">{pane}</sheetView></sheetViews>'
        )

    def _cols(self) -> str:
        if not self._columns:
            return ""
        parts = ["<cols>"]
        spans: list[list[Any]] = []  # [first, last, width, format]: equal neighbours as one
        for column in sorted(self._columns):
            width, cell_format = self._columns[column]
            if spans and spans[-1][1] == column - 1 and spans[-1][2:] == [width, cell_format]:
                spans[-1][1] = column
            else:
                spans.append([column, column, width, cell_format])
        for first, last, width, cell_format in spans:
            if width < 1:
                pixels = int(width * (_DIGIT_WIDTH + _PADDING) + 0.5)
            else:
                pixels = int(width * _DIGIT_WIDTH + 0.5) + _PADDING
            shown = (pixels * 256 // _DIGIT_WIDTH) / 256.0
            style = cell_format.style.replace(" s=", " style=") if cell_format else ""
            parts.append(
                f'<col min="{first + 1}" max="{last + 1}" width="{shown:.16g}"{style} '
                'customWidth="1"/>'
            )
        parts.append("</cols>")
        return "".join(parts)

    def chunks(self) -> Iterator[str]:
        """The sheet's XML, in pieces of about a megabyte."""
        self._seal()
        head = [
            _XML,
            f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">',
            f'<dimension ref="{self._dimension()}"/>',
            self._view(),
            '<sheetFormatPr defaultRowHeight="15"/>',
            self._cols(),
        ]
        rows = sorted(self._sealed.keys() | self._heights.keys())
        if not rows:
            head.append("<sheetData/>")
            yield "".join(head)
        else:
            head.append("<sheetData>")
            yield "".join(head)
            parts: list[str] = []
            size = 0
            sealed, heights = self._sealed, self._heights
            for row in rows:
                height = heights.get(row)
                tag = f'<row r="{row + 1}"'
                if height is not None:
                    points = int(height * 4.0 / 3.0 + 0.5) * 0.75  # whole pixels, as Excel
                    tag += f' ht="{points:.16g}" customHeight="1"'
                cells = sealed.get(row)
                piece = f"{tag}>{cells}</row>" if cells else f"{tag}/>"
                parts.append(piece)
                size += len(piece)
                if size > _FLUSH:
                    yield "".join(parts)
                    parts, size = [], 0
            parts.append("</sheetData>")
            yield "".join(parts)
        tail = []
        if self.filter is not None:
            first_row, first_column, last_row, last_column = self.filter
            start, end = cell_name(first_row, first_column), cell_name(last_row, last_column)
            tail.append(f'<autoFilter ref="{start}:{end}"/>')
        if self._merged:
            tail.append(f'<mergeCells count="{len(self._merged)}">{"".join(self._merged)}')
            tail.append("</mergeCells>")
        if self._validations:
            tail.append(f'<dataValidations count="{len(self._validations)}">')
            tail.extend(self._validations)
            tail.append("</dataValidations>")
        tail.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )
        yield "".join(tail)


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class Workbook:
    """The workbook: its sheets, shared strings and formats, written to ``path`` on close()."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.sheets: list[Sheet] = []
        self.strings: dict[str, int] = {}
        self.active: Sheet | None = None
        self._styles = _Styles()

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        return self._styles.add(properties or {})

    def add_worksheet(self, name: str) -> Sheet:
        if not 0 < len(name) <= 31 or re.search(r"[\[\]:*?/\\]", name):
            raise ValueError(f"invalid sheet name {name!r}")
        if any(s.name.lower() == name.lower() for s in self.sheets):
            raise ValueError(f"sheet name {name!r} used twice")
        sheet = Sheet(self, name)
        self.sheets.append(sheet)
        return sheet

    def close(self) -> None:
        if not self.sheets:
            self.add_worksheet("Sheet1")
        active = self.active if self.active is not None else self.sheets[0]
        active.selected = True
        count = len(self.sheets)
        names = [f"xl/worksheets/sheet{n}.xml" for n in range(1, count + 1)]
        with zipfile.ZipFile(
            self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION
        ) as archive:
            archive.writestr("[Content_Types].xml", self._content_types(names))
            archive.writestr("_rels/.rels", _ROOT_RELS)
            archive.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
            for sheet, name in zip(self.sheets, names, strict=True):
                with archive.open(name, "w") as handle:
                    _stream(handle, sheet.chunks())
            archive.writestr("xl/workbook.xml", self._workbook(active))
            with archive.open("xl/sharedStrings.xml", "w") as handle:
                _stream(handle, self._shared_strings())
            archive.writestr("xl/styles.xml", self._styles.xml())
            theme = resources.files("accuse").joinpath("data/xlsx-theme.xml").read_bytes()
            archive.writestr("xl/theme/theme1.xml", theme)
            archive.writestr("docProps/core.xml", _core())
            archive.writestr("docProps/app.xml", self._app())

    def _content_types(self, names: Sequence[str]) -> str:
        kinds = "application/vnd.openxmlformats-officedocument"
        overrides = [
            ("/docProps/app.xml", f"{kinds}.extended-properties+xml"),
            ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
            ("/xl/styles.xml", f"{kinds}.spreadsheetml.styles+xml"),
            ("/xl/theme/theme1.xml", f"{kinds}.theme+xml"),
            ("/xl/workbook.xml", f"{kinds}.spreadsheetml.sheet.main+xml"),
            *((f"/{name}", f"{kinds}.spreadsheetml.worksheet+xml") for name in names),
            ("/xl/sharedStrings.xml", f"{kinds}.spreadsheetml.sharedStrings+xml"),
        ]
        return (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>"
        )

    def _workbook_rels(self) -> str:
        kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        targets = [
            ("worksheet", f"worksheets/sheet{n}.xml") for n in range(1, len(self.sheets) + 1)
        ]
        targets += [("theme", "theme/theme1.xml"), ("styles", "styles.xml")]
        targets.append(("sharedStrings", "sharedStrings.xml"))
        return (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            + "".join(
                f'<Relationship Id="rId{n}" Type="{kind}/{t}" Target="{target}"/>'
                for n, (t, target) in enumerate(targets, start=1)
            )
            + "</Relationships>"
        )

    def _workbook(self, active: Sheet) -> str:
        position = self.sheets.index(active)
        tab = f' activeTab="{position}"' if position else ""
        sheets = "".join(
            f'<sheet name="{attribute_xml(s.name)}" sheetId="{n}"'
            + (' state="hidden"' if s.hidden else "")
            + f' r:id="rId{n}"/>'
            for n, s in enumerate(self.sheets, start=1)
        )
        names = []
        for n, sheet in enumerate(self.sheets):
            if sheet.filter is None:
                continue
            first_row, first_column, last_row, last_column = sheet.filter
            start = cell_name(first_row, first_column, absolute=True)
            end = cell_name(last_row, last_column, absolute=True)
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
                f"{text_xml(_quoted(sheet.name))}!{start}:{end}</definedName>"
            )
        defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
        return (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
            '<fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
            '<workbookPr defaultThemeVersion="124226"/>'
            f'<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
            f'windowHeight="9660"{tab}/></bookViews>'
            f"<sheets>{sheets}</sheets>{defined}"
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _shared_strings(self) -> Iterator[str]:
        yield (
            f'{_XML}<sst xmlns="{_MAIN}" count="{sum(s.references for s in self.sheets)}" '
            f'uniqueCount="{len(self.strings)}">'
        )
        parts: list[str] = []
        size = 0
        for value in self.strings:  # in order of first use: the indexes the cells carry
            kept = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
            piece = f"<si><t{kept}>{text_xml(value)}</t></si>"
            parts.append(piece)
            size += len(piece)
            if size > _FLUSH:
                yield "".join(parts)
                parts, size = [], 0
        parts.append("</sst>")
        yield "".join(parts)

    def _app(self) -> str:
        titles = "".join(f"<vt:lpstr>{text_xml(s.name)}</vt:lpstr>" for s in self.sheets)
        count = len(self.sheets)
        return (
            f"{_XML}<Properties "
            'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            "<Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>"
            '<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" baseType="variant">'
            "<vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>"
            f"<vt:variant><vt:i4>{count}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
            f'<TitlesOfParts><vt:vector size="{count}" baseType="lpstr">{titles}</vt:vector>'
            "</TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate>"
            "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
            "<AppVersion>12.0000</AppVersion></Properties>"
        )


_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PACKAGE_RELS}/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_RELS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)


def _core() -> str:
    """Document properties: created and modified at the same second (a spreadsheet program
    that saves the file moves the second: that is how an edited worksheet is told)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{_XML}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _stream(handle: BinaryIO | Any, chunks: Iterator[str]) -> None:
    for chunk in chunks:
        handle.write(chunk.encode("utf-8"))
