"""Safe, streaming XML reading shared by the receipt and flux parsers.

Receipts and flux files are untrusted: no DTD is loaded, no entity is expanded, nothing is
fetched from the network, and a document that declares a DOCTYPE is refused outright (neither
CDC file has one, so a DOCTYPE can only be a mistake or an attack).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from lxml import etree

from accuse.errors import InputError
from accuse.files import os_reason, require_regular_file
from accuse.progress import SILENT, CountingReader, Progress

# libxml2's own limits without XML_PARSE_HUGE (lxml huge_tree=False), stated for users.
MAX_DEPTH = 256
MAX_TEXT_MB = 10
# The portal takes deposits of at most 200 MB; a receipt or flux five times that is not one,
# and refusing it up front spares the user minutes of reading.
MAX_FILE_MB = 1024
# A DOCTYPE must come before the root element: looking this far is enough for any real prolog.
_PROLOG_BYTES = 64 * 1024


Event = Literal["start", "end"]


class XmlSyntaxError(InputError):
    """A file that is not well-formed XML: the French sentence, plus libxml2's own reason and
    line for callers that report it as a finding (accuse verifier) instead of stopping."""

    def __init__(self, message: str, path: Path, line: int | None, reason: str) -> None:
        super().__init__(message, path)
        self.line = line
        self.reason = reason


def localname(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def child_texts(element: etree._Element) -> dict[str, str]:
    """Direct children's text by local name, stripped (the first occurrence wins)."""
    texts: dict[str, str] = {}
    for child in element:
        name = localname(child.tag)
        if name and name not in texts:
            texts[name] = (child.text or "").strip()
    return texts


def release(element: etree._Element) -> None:
    """Free a processed element and the siblings before it, so memory stays flat."""
    element.clear(keep_tail=True)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def prune_unknown(root: etree._Element, known: frozenset[str]) -> None:
    """Free what the parser has passed inside an element whose name is not in ``known``: along
    the path of still-open elements, from the first unknown one down, every closed child goes.
    An unknown element is an error whatever it holds: millions of children or a deep chain
    under it cost nothing, while the known elements around it stay whole for validation."""
    node = root
    inside = False
    while len(node):
        last = node[-1]
        if inside or localname(node.tag) not in known:
            inside = True
            del node[:-1]
        node = last


def prune_passed(root: etree._Element, keep: frozenset[str]) -> None:
    """Free what the parser has passed: along the path of still-open elements, every closed
    sibling before the newest one goes, but the first of each name in ``keep`` (what a reader
    reads later, when an enclosing element ends). Memory stays bounded whatever a hostile file
    holds: millions of unknown siblings, or of repeated known ones, at any depth or name."""
    node = root
    while len(node):
        last = node[-1]
        if localname(node.tag) not in keep:
            # Nothing under an element no reader knows is ever read: its passed children go
            # in one step, at C speed.
            del node[:-1]
            node = last
            continue
        seen: set[str] = set()
        previous = last.getprevious()
        while previous is not None:
            before = previous.getprevious()
            name = localname(previous.tag)
            if name in keep and name not in seen:
                seen.add(name)
            else:
                node.remove(previous)
            previous = before
        node = last


def open_events(
    path: Path,
    what: str,
    progress: Progress = SILENT,
    events: tuple[Event, ...] = ("end",),
    tags: tuple[str, ...] | None = None,
    keep: frozenset[str] | None = None,
    known: frozenset[str] | None = None,
) -> Iterator:
    """Parser events of a file, with safe settings and French errors.

    ``what`` names the file's role for messages ("l'accusé de traitement", "le flux");
    ``tags`` limits the events to elements of those local names (their start events are read
    too, unseen by the caller: with the root's name among the tags, the tree is in hand from
    the first bytes); with ``keep``, what the caller is not told about is freed as the parser
    goes (see prune_passed); with ``known``, what the parser has passed inside an element of
    any other name is freed (see prune_unknown).
    """
    size = require_regular_file(path, what)
    if size == 0:
        raise InputError(
            f"le fichier est vide (0 octet) : vérifiez que c'est bien {what} et qu'il a été "
            "entièrement téléchargé.",
            path,
        )
    if size > MAX_FILE_MB * 2**20:
        raise InputError(
            f"le fichier pèse {size // 2**20} Mo, bien plus que les 200 Mo qu'accepte le portail "
            f"de la Caisse des Dépôts : ce ne peut pas être {what}. Vérifiez le fichier donné.",
            path,
        )
    _refuse_declared_doctype(path, what)
    return _events(path, what, events, progress, tags, keep, known)


def _refuse_declared_doctype(path: Path, what: str) -> None:
    """Refuse a DOCTYPE before libxml2 reads it: an entity bomb then costs nothing at all."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_PROLOG_BYTES)
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None
    # NUL bytes removed so that a UTF-16 prolog reads as ASCII too.
    if b"<!DOCTYPE" in head.replace(b"\x00", b"").upper():
        _doctype_error(what, path)


_FEED_BYTES = 64 * 1024


def _events(
    path: Path,
    what: str,
    events: tuple[Event, ...],
    progress: Progress,
    tags: tuple[str, ...] | None,
    keep: frozenset[str] | None,
    known: frozenset[str] | None = None,
) -> Iterator:
    try:
        raw = path.open("rb")
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None
    progress.start(f"Lecture de {path.name}", path.stat().st_size)
    reader = CountingReader(raw, progress)
    wanted = (*events, "start") if tags and "start" not in events else events
    parser = etree.XMLPullParser(
        events=wanted,
        # Only these elements reach Python (any namespace): the rest is read by libxml2 alone.
        tag=_tag_filter(tags),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root: etree._Element | None = None
    try:
        while True:
            data = reader.read(_FEED_BYTES)
            if data:
                parser.feed(data)
            else:
                closed = parser.close()
                if root is None and closed is not None:
                    root = closed
                    _refuse_doctype(root, what, path)
            for event, element in parser.read_events():
                if root is None and isinstance(element, etree._Element):
                    root = element.getroottree().getroot()
                    _refuse_doctype(element, what, path)
                if event in events:
                    yield event, element
            if not data:
                break
            if keep is not None and root is not None:
                prune_passed(root, keep)
            if known is not None and root is not None:
                prune_unknown(root, known)
    except etree.XMLSyntaxError as error:
        raise XmlSyntaxError(
            _syntax_message(error, what), path, error.lineno or None, error.msg or ""
        ) from None
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None
    finally:
        reader.close()
        progress.finish()


def _tag_filter(tags: tuple[str, ...] | None) -> list[str] | None:
    return [f"{{*}}{name}" for name in tags] if tags else None


def _refuse_doctype(element: etree._Element, what: str, path: Path) -> None:
    if element.getroottree().docinfo.doctype:
        _doctype_error(what, path)


def _doctype_error(what: str, path: Path) -> None:
    raise InputError(
        f"le fichier déclare un DOCTYPE, ce que ne fait jamais {what} de la Caisse des "
        "Dépôts : il n'est pas lu, par sécurité. Récupérez le fichier d'origine, tel que reçu.",
        path,
    )


def _syntax_message(error: etree.XMLSyntaxError, what: str) -> str:
    """libxml2's reason, told in French with what the user can do about it."""
    reason = (error.msg or "").lower()
    line = f" (ligne {error.lineno})" if error.lineno else ""
    if "encoding" in reason or "utf-8" in reason:
        return (
            f"caractères illisibles{line} : l'encodage annoncé en tête du fichier ne correspond "
            "pas à son contenu (par exemple un fichier enregistré en Latin-1 mais déclaré UTF-8). "
            "Récupérez le fichier d'origine sans le modifier."
        )
    if "depth" in reason:
        return (
            f"le fichier imbrique plus de {MAX_DEPTH} niveaux d'éléments{line}, ce qu'aucun "
            f"fichier de la Caisse des Dépôts ne fait : il n'est pas lu. Vérifiez que c'est "
            f"bien {what}."
        )
    if "text node too long" in reason or "huge" in reason:
        return (
            f"le fichier contient un texte de plus de {MAX_TEXT_MB} Mo d'un seul tenant{line}, ce "
            f"qu'aucun fichier de la Caisse des Dépôts ne contient : il n'est pas lu. Vérifiez "
            f"que c'est bien {what}."
        )
    return (
        f"ce n'est pas un fichier XML lisible{line} : il est tronqué, endommagé ou d'un autre "
        f"type. Vérifiez que c'est bien {what}, tel que reçu."
    )
