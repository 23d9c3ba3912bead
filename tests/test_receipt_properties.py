"""The receipt parser on arbitrary and mutated bytes: a Receipt or an InputError, nothing else;
and flat memory on a 200 MB hostile file."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accuse.errors import InputError
from accuse.model import Receipt
from accuse.read.receipt import parse_receipt
from tests.conftest import FIXTURES
from tests.hostile.rss import measured

REAL = [
    (FIXTURES / name).read_bytes() for name in ("recu.xml", "recu-rejet.xml", "recu-reel-pix.xml")
]
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def parse_bytes(folder: Path, data: bytes) -> None:
    path = folder / "recu.xml"
    path.write_bytes(data)
    try:
        result = parse_receipt(path)
    except InputError as error:
        assert error.path == path and error.message
        return
    assert isinstance(result, Receipt)


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    parse_bytes(tmp_path, data)


@SETTINGS
@given(data=st.text(alphabet="<>/=\"'&;!?#x:[] \nrapportPassagesKOidTechnique", max_size=300))
def test_arbitrary_markup(tmp_path: Path, data: str) -> None:
    parse_bytes(tmp_path, data.encode("utf-8"))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            chunk = draw(
                st.one_of(
                    st.binary(min_size=1, max_size=16),
                    st.sampled_from(
                        [
                            b"<!DOCTYPE r>",
                            b"&lol;",
                            b"<![CDATA[",
                            b"]]>",
                            b"\x00",
                            b"\xff\xfe",
                            b"<PassagesKO>",
                            b"</passage>",
                            b"<?xml version='1.0'?>",
                            b"&#0;",
                        ]
                    ),
                )
            )
            data[at:at] = chunk
        elif data:
            del data[at : at + draw(st.integers(1, 64))]
    return bytes(data)


@SETTINGS
@given(data=mutated())
def test_mutated_real_receipts(tmp_path: Path, data: bytes) -> None:
    parse_bytes(tmp_path, data)


_MEASURE = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from accuse.errors import InputError
    from accuse.read.receipt import parse_receipt
    try:
        receipt = parse_receipt(Path(sys.argv[1]))
        print("lu", len(receipt.rejected), len(receipt.accepted_ids))
    except InputError as error:
        print("refusé", error.message[:60])
    """
)


def _write_hostile(path: Path, megabytes: int) -> None:
    """A ~``megabytes`` MB receipt built so that a parser keeping what it does not need would
    hold it all: one passage repeating a 1 MB field (under libxml2's 10 MB text limit), noise
    inside passages, and a million small unknown elements."""
    noise = "A" * 2**20
    small = "<i>0</i><i>1</i>" * 500
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<rapport><nomFichier>f</nomFichier>')
        handle.write("<PassagesKO><passage><idTechnique>seul</idTechnique>")
        for _ in range(1000):
            handle.write(small)  # a million elements: their nodes alone would weigh 250 MB
        for _ in range(megabytes - 40):
            handle.write(f"<messageErreur>{noise}</messageErreur>")
        handle.write("</passage>")
        for n in range(25):
            handle.write(
                f"<passage><idTechnique>{n}</idTechnique><messageErreur>m</messageErreur>"
                f"<bruit><plus>{noise}</plus></bruit></passage>"
            )
        handle.write("</PassagesKO><PassagesOK>")
        for _ in range(200):
            handle.write(small)
        handle.write("</PassagesOK></rapport>\n")


def test_200_mb_hostile_receipt_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "gros.xml"
    _write_hostile(path, 200)
    # Measured from a small go-between (tests/hostile/rss.py): a child started from the test
    # process would count that process's own size in its peak.
    status, peak_mb, stdout, stderr = measured([sys.executable, "-c", _MEASURE, path])
    assert status == 0, stderr.decode()
    lines = dict(line.split(" ", 1) for line in stdout.decode().splitlines() if line)
    assert lines.get("lu") == "26 0", stdout
    assert peak_mb < 300, f"{peak_mb} MB for a 200 MB receipt"
