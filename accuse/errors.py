"""The one error type the user sees: a French sentence about one of their files."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """An input (or output) the tool cannot use, explained in French.

    The CLI prints ``message`` and exits with status 2; nothing else needs a traceback.
    """

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        super().__init__(self.render())

    def render(self) -> str:
        if self.path is None:
            return self.message
        from accuse.text import inert  # a file name may hold a newline or an escape sequence

        return f"{inert(self.path.name, one_line=True)} : {self.message}"
