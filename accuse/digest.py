"""A file's sha256, read in chunks (sources can weigh 200 Mo): how accuse recognises a file it
has seen before (a receipt already recorded, a source changed since its worksheet was written)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: Path) -> str:
    """Hex sha256 of the file's bytes; OSError is the caller's to tell."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
