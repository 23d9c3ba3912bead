"""Generate the corpus of hostile and broken inputs for `accuse` (issue 7) into a folder.

    python -m tests.hostile.make_corpus DOSSIER [--gros]

Every file is built from the committed fixtures or from scratch, so nothing large is kept in
the repository; ``--gros`` also writes the two big ones (a 100 MB XML text node, an xlsx whose
shared-strings part unpacks to 100 MB). ``tests/test_hostile.py`` says what accuse must answer
for each file.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import shutil
import zipfile
from pathlib import Path

from tests.hostile.xlsb import Value, grid, write_xlsb

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

SECRET = "SECRET-accuse-ne-doit-jamais-sortir-41f7c2"
# Text that would run, render or disguise itself if any output took it for code.
FORMULA = "=cmd|' /C calc'!A0"
SUM = "@SUM(1)"
PLUS = "+1+1"
SCRIPT = "<script>alert('accuse')</script>"
CONTROL = "Nom\x1b[31mROUGE\x07\x00fin"
RTL = "Martin\u202egpj.exe"
INJECTIONS = (FORMULA, SUM, PLUS, SCRIPT, CONTROL, RTL)
HOSTILE_IDS = ("=1+1", "@SUM(2)", "<b>id</b>", "id\u202e99")

# Columns of the hand-made sources: few, but enough to match and diagnose a passage.
HEADER = ["Id Technique", "Nom de naissance", "Prénom", "Année de naissance", "Sexe"]
_OK_MESSAGE = "Aucun titulaire ne correspond aux critères obligatoires"


def _receipt_text() -> str:
    return (FIXTURES / "recu.xml").read_text(encoding="utf-8")


def _source_rows() -> list[list[str]]:
    """The 24 passages of fixtures/source.csv, cut to HEADER's columns."""
    with (FIXTURES / "source.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, data = rows[0], rows[1:]
    wanted = [header.index(h) for h in HEADER]
    return [[row[i] for i in wanted] for row in data]


def _xlsx(target: Path | io.BytesIO, rows: list[list[object]]) -> Path | io.BytesIO:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        target if isinstance(target, io.BytesIO) else str(target),
        {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True},
    )
    sheet = book.add_worksheet("Titulaires")
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return target


def _minimal_receipt(ko: list[tuple[str, str]], ok: list[str]) -> str:
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    passages = "".join(
        f"<passage><idTechnique>{esc(i)}</idTechnique>"
        f"<messageErreur>{esc(m)}</messageErreur></passage>"
        for i, m in ko
    )
    accepted = "".join(f"<idTechnique>{esc(i)}</idTechnique>" for i in ok)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rapport>\n'
        "<nomFichier>flux-essai.xml</nomFichier>\n<idTraitement>4242</idTraitement>\n"
        f"<PassagesKO>{passages}</PassagesKO>\n<PassagesOK>{accepted}</PassagesOK>\n</rapport>\n"
    )


# --- XML -------------------------------------------------------------------------------------


def xml_files(folder: Path) -> None:
    secret = folder / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    uri = secret.resolve().as_uri()
    body = _receipt_text().split("\n", 1)[1]  # without its XML declaration

    (folder / "xml-entite-externe.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rapport [\n'
        f'  <!ENTITY secret SYSTEM "{uri}">\n]>\n'
        + body.replace("<nomFichier>flux.xml", "<nomFichier>&secret;", 1),
        encoding="utf-8",
    )
    flux = (FIXTURES / "flux.xml").read_text(encoding="utf-8").split("\n", 1)[1]
    (folder / "flux-entite-externe.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE flux [\n'
        f'  <!ENTITY secret SYSTEM "{uri}">\n]>\n'
        + flux.replace("<idTechnique>1960012<", "<idTechnique>&secret;<", 1),
        encoding="utf-8",
    )
    lol = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    ]
    (folder / "xml-milliard-de-rires.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rapport [\n'
        + "\n".join(lol)
        + "\n]>\n<rapport><nomFichier>&lol9;</nomFichier><PassagesKO/></rapport>\n",
        encoding="utf-8",
    )
    dtd = folder / "externe.dtd"
    dtd.write_text(f'<!ENTITY secret SYSTEM "{uri}">\n', encoding="utf-8")
    (folder / "xml-dtd-externe.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rapport SYSTEM "{dtd.resolve().as_uri()}">\n'
        "<rapport><nomFichier>&secret;</nomFichier><PassagesKO/></rapport>\n",
        encoding="utf-8",
    )
    depth = 1000
    (folder / "xml-profond.xml").write_text(
        "<rapport><nomFichier>f</nomFichier>"
        + "<a>" * depth
        + "x"
        + "</a>" * depth
        + "</rapport>\n",
        encoding="utf-8",
    )
    full = (FIXTURES / "recu.xml").read_bytes()
    (folder / "xml-tronque.xml").write_bytes(full[: len(full) // 2])
    (folder / "xml-vide.xml").write_bytes(b"")
    (folder / "xml-blanc.xml").write_bytes(b"\n   \n\t\n")
    (folder / "xml-binaire.xml").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    )
    text = _receipt_text().replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    (folder / "xml-utf16.xml").write_bytes(text.encode("utf-16"))  # with its BOM
    (folder / "xml-bom.xml").write_bytes(codecs.BOM_UTF8 + full)
    latin = _receipt_text().replace("flux.xml</nomFichier>", "dépôt-été.xml</nomFichier>", 1)
    (folder / "xml-latin1-declare-utf8.xml").write_bytes(latin.encode("latin-1"))


def huge_text_node(path: Path, megabytes: int = 100) -> Path:
    """A receipt whose nomFichier is one text node of ``megabytes`` MB, written in chunks."""
    chunk = b"A" * 2**20
    with path.open("wb") as handle:
        handle.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<rapport><nomFichier>')
        for _ in range(megabytes):
            handle.write(chunk)
        handle.write(b"</nomFichier><PassagesKO/></rapport>\n")
    return path


# --- memory: files whose size is made of things no reader needs ---------------------------


def _repeat(handle, piece: bytes, megabytes: int) -> None:
    block = piece * (2**20 // len(piece))
    for _ in range(megabytes):
        handle.write(block)


def wide_receipt(path: Path, megabytes: int = 40, deep: bool = False) -> Path:
    """A receipt whose size is empty children of an unknown element: at the top, or (``deep``)
    inside a rejected passage's idTechnique."""
    with path.open("wb") as handle:
        handle.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<rapport><nomFichier>f.xml</nomFichier>'
        )
        if deep:
            handle.write(b"<PassagesKO><passage><idTechnique>1960020<inconnu>")
        else:
            handle.write(b"<inconnu>")
        _repeat(handle, b"<a/>", megabytes)
        if deep:
            handle.write(b"</inconnu></idTechnique><messageErreur>m</messageErreur></passage>")
            handle.write(b"</PassagesKO></rapport>\n")
        else:
            handle.write(b"</inconnu><PassagesKO/></rapport>\n")
    return path


def wide_flux(path: Path, megabytes: int = 40, inside: bool = False) -> Path:
    """The committed flux with empty unknown elements the reader never asks for: after the root
    start, or (``inside``) within the first passage."""
    text = (FIXTURES / "flux.xml").read_bytes()
    marker = b"<cpf:passageCertification>" if inside else b"<cpf:emetteur>"
    head, found, tail = text.partition(marker)
    assert found, marker
    with path.open("wb") as handle:
        handle.write(head + (found if inside else b""))
        handle.write(b"<cpf:inconnu>")
        _repeat(handle, b"<a/>", megabytes)
        handle.write(b"</cpf:inconnu>")
        handle.write((b"" if inside else found) + tail)
    return path


def _chains(handle, megabytes: int, levels: int, prefix: bytes = b"") -> None:
    """``megabytes`` MB of chains of ``levels`` nested unknown elements, one after another."""
    chain = b"<%sb>" % prefix * levels + b"x" + b"</%sb>" % prefix * levels
    for _ in range(megabytes * 2**20 // len(chain)):
        handle.write(chain)


def deep_receipt(path: Path, megabytes: int = 40, levels: int = 200, inside: bool = False) -> Path:
    """A receipt whose size is chains of ``levels`` nested unknown elements (``levels`` past
    the parser's limit: one chain, after ``megabytes`` MB of empty siblings), at the top or
    (``inside``) in a rejected passage's idTechnique."""
    with path.open("wb") as handle:
        handle.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<rapport><nomFichier>f.xml</nomFichier>'
        )
        if inside:
            handle.write(b"<PassagesKO><passage><idTechnique>1960020<inconnu>")
        else:
            handle.write(b"<inconnu>")
        if levels > 256:
            _repeat(handle, b"<a/>", megabytes)
            handle.write(b"<b>" * levels + b"x" + b"</b>" * levels)
        else:
            _chains(handle, megabytes, levels)
        if inside:
            handle.write(b"</inconnu></idTechnique><messageErreur>m</messageErreur></passage>")
            handle.write(b"</PassagesKO></rapport>\n")
        else:
            handle.write(b"</inconnu><PassagesKO/></rapport>\n")
    return path


def deep_flux(path: Path, megabytes: int = 40, levels: int = 200, inside: bool = True) -> Path:
    """The committed flux with chains of nested unknown elements, as deep_receipt, in its first
    passage (``inside``) or after the root's start."""
    text = (FIXTURES / "flux.xml").read_bytes()
    marker = b"<cpf:passageCertification>" if inside else b"<cpf:emetteur>"
    head, found, tail = text.partition(marker)
    assert found, marker
    with path.open("wb") as handle:
        handle.write(head + (found if inside else b""))
        handle.write(b"<cpf:inconnu>")
        if levels > 256:
            _repeat(handle, b"<a/>", megabytes)
            handle.write(b"<cpf:b>" * levels + b"x" + b"</cpf:b>" * levels)
        else:
            _chains(handle, megabytes, levels, b"cpf:")
        handle.write(b"</cpf:inconnu>")
        handle.write((b"" if inside else found) + tail)
    return path


def separators_csv(path: Path, megabytes: int = 40) -> Path:
    """A header, then one line made of nothing but separators."""
    with path.open("wb") as handle:
        handle.write(b"Id Technique;Nom de naissance\r\n1960020;Lefebvre\r\n")
        _repeat(handle, b";", megabytes)
        handle.write(b"\r\n")
    return path


def far_cell_xlsx(path: Path, row: int, column: int) -> Path:
    """A small valid source plus one filled cell far away (row and column from 0)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("Titulaires")
    for r, cells in enumerate([HEADER, *_source_rows()]):
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)
    sheet.write_string(row, column, "loin")
    book.close()
    return path


def far_cell_xls(path: Path, row: int, column: int) -> Path:
    """The same as an old .xls (BIFF8, written by xlwt: at most 65,536 rows × 256 columns)."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Titulaires")
    for r, cells in enumerate([HEADER, *_source_rows()]):
        for c, value in enumerate(cells):
            sheet.write(r, c, value)
    sheet.write(row, column, "loin")
    book.save(str(path))
    return path


def far_cell_xlsb(path: Path, row: int | None, column: int, value: Value = "loin") -> Path:
    """The same as an .xlsb (Excel's binary workbook); ``value`` None is an empty styled cell,
    a ``tests.hostile.xlsb.Raw`` any record; with ``row`` None, no far cell at all."""
    cells = grid([HEADER, *_source_rows()])
    if row is not None:
        cells.append((row, column, value))
    return write_xlsb(path, cells)


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def _ods_cell(value: str, repeated: int = 1) -> str:
    from xml.sax.saxutils import escape

    repeat = f' table:number-columns-repeated="{repeated}"' if repeated > 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{repeat}>'
        f"<text:p>{escape(value)}</text:p></table:table-cell>"
    )


def far_cell_ods(path: Path, row: int | None, column: int, *, repeated: int = 1) -> Path:
    """A small valid ods source; with ``row``, one more filled cell far away (row and column
    from 0), reached by repeated empty rows and cells: a few bytes declare the whole range.
    ``repeated``: that cell's own column repetition."""
    rows = [HEADER, *_source_rows()]
    body = "".join(
        "<table:table-row>" + "".join(_ods_cell(v) for v in cells) + "</table:table-row>"
        for cells in rows
    )
    if row is not None:
        gap = row - len(rows)
        if gap > 0:
            body += (
                f'<table:table-row table:number-rows-repeated="{gap}">'
                "<table:table-cell/></table:table-row>"
            )
        empty = f'<table:table-cell table:number-columns-repeated="{column}"/>' if column else ""
        body += f"<table:table-row>{empty}{_ods_cell('loin', repeated)}</table:table-row>"
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Titulaires">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    mimetype = "application/vnd.oasis.opendocument.spreadsheet"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


# --- wrong files -----------------------------------------------------------------------------


def wrong_files(folder: Path) -> None:
    shutil.copyfile(FIXTURES / "recu.xml", folder / "recu.xml")
    shutil.copyfile(FIXTURES / "flux.xml", folder / "flux.xml")
    shutil.copyfile(FIXTURES / "source-plat.xlsx", folder / "source-plat.xlsx")
    shutil.copyfile(FIXTURES / "source.csv", folder / "source.csv")
    (folder / "accuse-forme-inconnue.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rapport>\n'
        "  <dateTraitement>2025-01-10</dateTraitement>\n  <resultats><ligne>1</ligne></resultats>\n"
        "</rapport>\n",
        encoding="utf-8",
    )
    (folder / "racine-inconnue.xml").write_text(
        '<?xml version="1.0"?>\n<html><body><p>Ceci est une page web</p></body></html>\n',
        encoding="utf-8",
    )


# --- spreadsheets and csv ----------------------------------------------------------------------


def spreadsheet_files(folder: Path) -> None:
    rows = _source_rows()
    plat = (FIXTURES / "source-plat.xlsx").read_bytes()
    (folder / "xlsx-corrompu.xlsx").write_bytes(plat[: len(plat) // 3])
    _encrypted(folder / "xlsx-chiffre.xlsx")
    _old_xls(folder / "xls-ancien.xls", [HEADER, *rows])
    (folder / "xls-faux.xls").write_text("Id Technique;Nom\n1960012;Martin\n", encoding="utf-8")
    _xlsx(folder / "xlsx-sans-entete.xlsx", rows)
    _xlsx(folder / "xlsx-sans-id.xlsx", [HEADER[1:], *(r[1:] for r in rows)])
    _xlsx(
        folder / "xlsx-deux-id.xlsx",
        [[*HEADER, "idTechnique"], *([*r, r[0]] for r in rows)],
    )
    _xlsx(folder / "xlsx-feuille-vide.xlsx", [])
    _merged_header(folder / "xlsx-entetes-fusionnes.xlsx", rows)
    _formulas(folder / "xlsx-formules.xlsx", rows)
    big = [list(r) for r in rows]
    big[[r[0] for r in rows].index("1960020")][1] = "Z" * 2**20
    _xlsx_whole(folder / "xlsx-cellule-1mo.xlsx", [HEADER, *big])
    _csv_file(folder / "csv-cellule-1mo.csv", [HEADER, *big])
    _mixed_csv(folder / "csv-encodages-melanges.csv", rows)


def _xlsx_whole(path: Path, rows: list[list[str]]) -> None:
    """An xlsx keeping texts past 32,767 characters, which every writer (like Excel) cuts:
    written with a short mark, then the mark replaced in the shared strings."""
    marks = {}
    marked = []
    for cells in rows:
        row = []
        for cell in cells:
            if len(cell) > 32_767:
                marks[f"GRANDE-CELLULE-{len(marks)}"] = cell
                cell = f"GRANDE-CELLULE-{len(marks) - 1}"
            row.append(cell)
        marked.append(row)
    plain = _xlsx(io.BytesIO(), marked)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/sharedStrings.xml":
                for mark, text in marks.items():
                    data = data.replace(mark.encode(), text.encode())
            out.writestr(member, data)


def _encrypted(path: Path) -> None:
    """A real password-protected xlsx (msoffcrypto-tool), else the OLE container it would be."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(4096))
        return
    with (FIXTURES / "source-plat.xlsx").open("rb") as plain, path.open("wb") as out:
        OOXMLFile(plain).encrypt("motdepasse", out)


def _old_xls(path: Path, rows: list[list[str]]) -> None:
    """A real BIFF8 workbook (xlwt), else a file with the OLE signature only."""
    try:
        import xlwt
    except ImportError:
        path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(4096))
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Titulaires")
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            sheet.write(r, c, value)
    book.save(str(path))


def _merged_header(path: Path, rows: list[list[str]]) -> None:
    """Group titles merged over the real headers (a common hand-made layout)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("Titulaires")
    sheet.merge_range(0, 0, 0, 1, "Passage")
    sheet.merge_range(0, 2, 0, 4, "Titulaire")
    for c, title in enumerate(HEADER):
        sheet.write_string(1, c, title)
    for r, cells in enumerate(rows, start=2):
        for c, value in enumerate(cells):
            sheet.write_string(r, c, value)
    book.close()


def _formulas(path: Path, rows: list[list[str]]) -> None:
    """Names computed by formulas, with their cached values as Excel saves them."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = book.add_worksheet("Titulaires")
    for c, title in enumerate(HEADER):
        sheet.write_string(0, c, title)
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells):
            if c == 1:
                sheet.write_formula(r, c, f'=UPPER("{value}")', None, value.upper())
            else:
                sheet.write_string(r, c, value)
    book.close()


def _csv_file(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _mixed_csv(path: Path, rows: list[list[str]]) -> None:
    """UTF-8 and Windows-1252 lines pasted together, rows short and long."""
    lines = [";".join(HEADER).encode("utf-8")]
    for n, row in enumerate(rows):
        cells = list(row)
        if n % 3 == 1:
            cells = cells[:2]  # ragged: short
        elif n % 3 == 2:
            cells = [*cells, "en trop", "encore"]  # ragged: long
        lines.append(";".join(cells).encode("cp1252" if n % 2 else "utf-8"))
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")


def zip_bomb(path: Path, megabytes: int = 100) -> Path:
    """A small valid source whose shared strings swell to ``megabytes`` MB of spaces."""
    base = _xlsx(io.BytesIO(), [HEADER, *_source_rows()])
    with (
        zipfile.ZipFile(base) as plain,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for member in plain.infolist():
            if member.filename != "xl/sharedStrings.xml":
                bomb.writestr(member, plain.read(member))
        with bomb.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            head, _, _ = plain.read("xl/sharedStrings.xml").rpartition(b"</sst>")
            out.write(head)
            blank = b" " * 2**20
            for _ in range(megabytes):
                out.write(blank)
            out.write(b"</sst>")
    return path


# --- injection -------------------------------------------------------------------------------


def injection_files(folder: Path) -> None:
    """A receipt and its sources whose names and ids are written to attack every output."""
    rows = [[f"INJ{n}", text, "Zoé", "1990", "F"] for n, text in enumerate(INJECTIONS, 1)]
    rows += [[identifier, "Durand", PLUS, "1991", "M"] for identifier in HOSTILE_IDS]
    rows.append(["OK1", "Bien", "Paul", "1995", "M"])
    ko = [(r[0], _OK_MESSAGE) for r in rows[:-1]]
    ko.append(("INCONNU" + SCRIPT, f"Message jamais vu {SCRIPT}"))
    (folder / "injection-recu.xml").write_text(_minimal_receipt(ko, ["OK1"]), encoding="utf-8")
    _csv_file(folder / "injection-source.csv", [HEADER, *rows])
    _xlsx(folder / "injection-source.xlsx", [HEADER, *rows])


def build(folder: Path, large: bool = False) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    xml_files(folder)
    wrong_files(folder)
    spreadsheet_files(folder)
    injection_files(folder)
    if large:
        huge_text_node(folder / "xml-texte-100mo.xml")
        zip_bomb(folder / "xlsx-bombe.xlsx")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("dossier", type=Path)
    parser.add_argument("--gros", action="store_true", help="aussi les fichiers de 100 Mo")
    arguments = parser.parse_args()
    print(build(arguments.dossier, arguments.gros))


if __name__ == "__main__":
    main()
