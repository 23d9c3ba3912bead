"""The deposited flux XML as a source: one row per passageCertification, read streaming.

Each row holds the certification's type and code and the passage's fields flattened by their
dictionary key; xsi:nil elements read as "NILL", the Excel template's convention. The row's
position is the line of its <passageCertification> start tag; its end line is kept so a
whole-file rejection's ``ligne`` can be traced back to the passage it falls in.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

from lxml import etree

from accuse.cells import NILL
from accuse.errors import InputError
from accuse.model import FLUX_FEATURES, Source, SourceRow
from accuse.progress import SILENT, Progress
from accuse.read.xmlread import localname, open_events, release
from accuse.reference.fields import dictionary

WHAT = "le flux de dépôt"
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_PASSAGE_PARENTS = {
    "certification",
    "passage",
    "niveauNumerique",
    "resultat",
    "inscription",
    "titulaire",
    "dossier",
    "identifiant",
}
COLUMNS = [f.key for f in dictionary() if f.parent in _PASSAGE_PARENTS]
_INDEX = {key: i for i, key in enumerate(COLUMNS)}
# Inside a passage every leaf element name is unique except none: map element -> key.
_ELEMENT_KEY = {
    f.element: f.key for f in dictionary() if f.parent in _PASSAGE_PARENTS - {"certification"}
}


_EVENT_TAGS = (
    "flux",  # its start: the tree in hand from the first bytes, to free what is passed
    "passageCertification",
    "certification",
    "certificateur",
    "emetteur",
    "idFlux",
    "horodatage",
    "action",
    "rapport",
)
# Required in a passage by XSD 1.1.2, optional in 1.1.5: a passage without one needs 1.1.5.
_OPTIONAL_SINCE_115 = frozenset(
    {
        "obtentionCertification",
        "donneeCertifiee",
        "dateDebutValidite",
        "dateFinValidite",
        "presenceNiveauLangueEuro",
        "presenceNiveauNumeriqueEuro",
        "scoring",
        "mentionValidee",
        "modalitesInscription",
    }
)
_NILLABLE_SINCE_115 = frozenset({"dateDebutValidite", "modalitesInscription"})
_ALL_FEATURES = frozenset({"facultatifs", "nil", "identifiantNational"})


# What is read when an enclosing element ends: every element a passage is made of, the
# certification's own fields, the émetteur's and certificateur's ids. Anything else the parser
# has passed is freed (the first of each of these names is kept, the rest freed too).
_KEEP = frozenset(
    {f.element for f in dictionary()}
    | _PASSAGE_PARENTS
    | {"passageCertification", "passageCertifications", "certifications", "emetteur"}
    | {"certificateur", "idClient", "idContrat", "type", "code", "natureDeposant"}
)


def end_line(element: etree._Element) -> int:
    """The line of an element's end tag, from its last descendant and the white space after it."""
    if len(element):
        last = element[-1]
        # The last child's end, then the white space between it and our end tag.
        return end_line(last) + (last.tail or "").count("\n")
    return (element.sourceline or 0) + (element.text or "").count("\n")


def _leaf_value(element: etree._Element) -> str:
    if element.get(_XSI_NIL) in ("true", "1"):
        return NILL
    return (element.text or "").strip()


def _flatten(passage: etree._Element) -> list[str | None]:
    values: list[str | None] = [None] * len(COLUMNS)
    for element in passage.iter():
        if len(element):
            continue
        key = _ELEMENT_KEY.get(localname(element.tag))
        if key is None:
            continue
        index = _INDEX[key]
        if values[index] is None:  # several resultat: the first one is shown
            value = _leaf_value(element)
            values[index] = value if value != "" else None
    return values


# A passage's shape (its children's tags, in order) -> (lacks an optional element, indexes of
# its nillable children, indexes of its identificationTitulaire): a flux repeats a few hundred
# shapes, so each passage costs one look-up instead of a local name per child. Bounded.
_SHAPES: dict[tuple[object, ...], tuple[bool, tuple[int, ...], tuple[int, ...]]] = {}
_MAX_SHAPES = 1024


def _features(passage: etree._Element, found: set[str]) -> None:
    """Note the XSD 1.1.5 features a passage uses (FLUX_FEATURES keys)."""
    tags = tuple([child.tag for child in passage])
    shape = _SHAPES.get(tags)
    if shape is None:
        names = [localname(tag) for tag in tags]
        shape = (
            not set(names) >= _OPTIONAL_SINCE_115,
            tuple(i for i, name in enumerate(names) if name in _NILLABLE_SINCE_115),
            tuple(i for i, name in enumerate(names) if name == "identificationTitulaire"),
        )
        if len(_SHAPES) < _MAX_SHAPES:
            _SHAPES[tags] = shape
    lacks, nillable, holders = shape
    if lacks:
        found.add("facultatifs")
    if "nil" not in found:
        for index in nillable:
            if passage[index].get(_XSI_NIL) in ("true", "1"):
                found.add("nil")
    if "identifiantNational" not in found:
        for index in holders:
            holder = passage[index]
            if len(holder) and localname(holder[0].tag) == "identifiantNational":
                found.add("identifiantNational")


def _passage_id(passage: etree._Element) -> str:
    for child in passage:
        if localname(child.tag) == "idTechnique":
            return (child.text or "").strip()
    return ""


def read_flux(
    path: Path,
    wanted: set[str] | None,
    lines: list[int] | None = None,
    progress: Progress = SILENT,
) -> Source:
    """Read a flux; passages whose id is in ``wanted``, or that enclose one of ``lines``,
    are kept whole (every passage when both are None)."""
    wanted_lines = sorted(lines or [])
    wanted_set = set(wanted_lines)
    source = Source(
        path=path,
        kind="flux",
        layout="flux",
        sheet=None,
        headers=list(COLUMNS),
        columns=dict(_INDEX),
        header_row=None,
    )
    # The rows of the certification being read: (start line, end line, values).
    pending: list[tuple[int, int | None, list[str | None]]] = []
    checked = False
    passages = 0
    features: set[str] = set()
    events = open_events(path, WHAT, progress, tags=_EVENT_TAGS, keep=_KEEP)
    for _, element in events:
        if not checked:
            checked = True
            _check_root(element.getroottree().getroot(), path)
        name = localname(element.tag)
        if name == "flux":
            continue  # its end: nothing more to read
        if name == "passageCertification":
            identifier = _passage_id(element)
            passages += 1
            if not features >= _ALL_FEATURES:
                _features(element, features)
            start = element.sourceline or 0
            # Where a passage ends matters only to place a whole-file rejection's lines.
            end = end_line(element) if wanted_lines else None
            if end is not None:
                source.passage_spans.append((start, end, identifier))
            if not identifier:
                release(element)
                continue
            source.row_count += 1
            source.positions.setdefault(identifier, []).append(start)
            keep_all = wanted is None and not wanted_lines
            at_error = end is not None and _encloses(wanted_lines, start, end)
            if at_error:
                _note_line_elements(element, wanted_set, source.line_elements)
            if keep_all or at_error or (wanted is not None and identifier in wanted):
                pending.append((start, end, _flatten(element)))
            release(element)
        elif name == "certification":
            # xsd:all lets type and code come after the passages: fill them in now.
            cert = {localname(c.tag): (c.text or "").strip() for c in element if len(c) == 0}
            for start, end, values in pending:
                for key in ("type", "code", "natureDeposant"):
                    values[_INDEX[key]] = cert.get(key) or None
                identifier = values[_INDEX["idTechnique"]] or ""
                source.rows[start] = SourceRow(start, identifier, tuple(values), end)
            pending.clear()
            release(element)
        elif name == "certificateur":
            for child in element:
                child_name = localname(child.tag)
                if child_name == "idClient":
                    source.flux_header["idClientCertificateur"] = (child.text or "").strip()
                elif child_name == "idContrat":
                    source.flux_header["idContrat"] = (child.text or "").strip()
        elif name == "emetteur":
            for child in element:
                if localname(child.tag) == "idClient":
                    source.flux_header["idClientEmetteur"] = (child.text or "").strip()
        elif (
            name in ("idFlux", "horodatage", "action")
            and element.getparent() is not None
            and element.getparent().getparent() is None
        ):
            text = (element.text or "").strip()
            if name == "action":
                features.add("action")
                # A misspelt action fails the XSD: the receipt says so, the reading goes on.
                source.action = "SUPPRESSION" if text == "SUPPRESSION" else "CREATION"
            else:
                source.flux_header[name] = text
    if not checked:
        raise InputError(
            "ce n'est pas un flux de dépôt : il n'a ni élément « flux » ni passageCertification.",
            path,
        )
    if not passages:
        raise InputError("ce flux ne contient aucun passageCertification.", path)
    source.action = source.action or "CREATION"
    source.schema_features = tuple(k for k in FLUX_FEATURES if k in features)
    source.schema_version = "1.1.5" if features else "1.1.2"
    return source


def _note_line_elements(passage: etree._Element, lines: set[int], found: dict[int, str]) -> None:
    # The innermost element starting on a line is the one an XSD error there is about.
    for element in passage.iter():
        if element.sourceline in lines:
            found[element.sourceline] = localname(element.tag)


def _encloses(lines: list[int], start: int, end: int) -> bool:
    index = bisect_left(lines, start)
    return index < len(lines) and lines[index] <= end


def _check_root(root: etree._Element, path: Path) -> None:
    name = localname(root.tag)
    if name == "flux":
        return
    if name == "rapport":
        raise InputError(
            "ce fichier est un accusé de traitement, pas une source. Donnez l'accusé en premier "
            "et, avec --source, le fichier que vous avez déposé (xlsx, csv ou flux XML).",
            path,
        )
    raise InputError(
        f"ce n'est pas un flux de dépôt : l'élément racine est « {name} » au lieu de « flux ».",
        path,
    )
