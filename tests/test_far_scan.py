"""The far-cell guard reads each sheet of a zip itself (accuse.read.sources.spreadsheet._inflated):
the same bytes as zipfile, never more than the archive declares, any damage left to calamine."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from accuse.read.sources.spreadsheet import _SCAN_CHUNK, _far_cell, _inflated

SHEET = "xl/worksheets/sheet1.xml"


def _sheet_xml(rows: int, far: str | None = None) -> bytes:
    cells = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>ligne {n} é</t></is></c></row>'
        for n in range(1, rows + 1)
    )
    if far is not None:
        cells += f'<row r="{rows + 1}"><c r="{far}"><v>1</v></c></row>'
    return f"<worksheet><sheetData>{cells}</sheetData></worksheet>".encode()


def _zip(path: Path, data: bytes, method: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr(SHEET, data)
    return path


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_inflated_gives_the_members_bytes_in_bounded_chunks(tmp_path: Path, method: int) -> None:
    data = _sheet_xml(300_000)  # more than one chunk once inflated
    assert len(data) > _SCAN_CHUNK
    path = _zip(tmp_path / "a.xlsx", data, method)
    with zipfile.ZipFile(path) as archive:
        chunks = list(_inflated(path, archive.getinfo(SHEET)))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= _SCAN_CHUNK
    assert len(chunks) > 1


def test_inflated_stops_at_the_declared_size(tmp_path: Path) -> None:
    """A member that inflates to more than its central directory says (a forged zip bomb) is
    read no further than the declared size."""
    data = b"<worksheet>" + b" " * 50_000_000 + b"</worksheet>"
    path = _zip(tmp_path / "bombe.xlsx", data, zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    entry = raw.rindex(b"PK\x01\x02")  # the sheet's entry in the central directory: the last
    struct.pack_into("<I", raw, entry + 24, 1000)  # its uncompressed size
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        assert info.file_size == 1000
        chunks = list(_inflated(path, info))
    assert sum(len(c) for c in chunks) == 1000


def test_inflated_refuses_an_encrypted_member(tmp_path: Path) -> None:
    path = _zip(tmp_path / "a.xlsx", _sheet_xml(10), zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
    info.flag_bits |= 0x1
    with pytest.raises(zipfile.BadZipFile):
        list(_inflated(path, info))


def test_far_cell_found_in_any_chunk(tmp_path: Path) -> None:
    data = _sheet_xml(300_000, far="XFD1")
    path = _zip(tmp_path / "loin.xlsx", data, zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        assert _far_cell(_inflated(path, archive.getinfo(SHEET))) == "XFD1"
    clean = _zip(tmp_path / "sain.xlsx", _sheet_xml(300_000), zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(clean) as archive:
        assert _far_cell(_inflated(clean, archive.getinfo(SHEET))) is None


def test_a_sheet_compressed_another_way_is_still_scanned(tmp_path: Path) -> None:
    """bzip2 or lzma members are read by zipfile itself: a far cell is found all the same."""
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        path = _zip(tmp_path / f"loin-{method}.xlsx", _sheet_xml(1000, far="XFD1"), method)
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(SHEET)
            assert info.compress_type == method
            assert _far_cell(_inflated(path, info)) == "XFD1"
