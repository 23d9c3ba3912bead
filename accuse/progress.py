"""Progress reporting as a small protocol, so reading code never depends on the terminal."""

from __future__ import annotations

from typing import BinaryIO, Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self) -> None: ...


class Silent:
    def start(self, label: str, total: int | None) -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def finish(self) -> None:
        pass


SILENT = Silent()


class CountingReader:
    """A binary file that reports how many bytes were read, for parsers that take a file."""

    def __init__(self, raw: BinaryIO, progress: Progress) -> None:
        self._raw = raw
        self._progress = progress
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._done += len(chunk)
        self._progress.update(self._done)
        return chunk

    def close(self) -> None:
        self._raw.close()
