"""A new deposit flux from converted passages, for XSD 1.1.2 or 1.1.5, validated before writing.

The API other commands build on:

- ``build_flux(header, passages, version=..., action=...)``: the flux tree. ``version`` is the
  XSD the flux is written for ("1.1.2" or "1.1.5"); ``action`` CREATION or SUPPRESSION (1.1.5
  only). A SUPPRESSION passage holds only its idTechnique and identificationTitulaire, in the
  whole émetteur/certificateur/certification frame, as the CDC's 2026 example shows.
- ``write_flux(handle, header, passages, ...)``: the same flux, serialised one passage at a
  time into a binary file, so memory does not grow with the tree (``accuse generer``).
- ``passage_xml`` and ``write_grouped``: the same bytes from passages serialised beforehand
  (``accuse generer`` keeps them on disk, not in memory, until it knows the files to write).
- ``needed_version(passages, action)``: the lowest XSD version that can hold those passages.
- ``validation_errors(data, version=...)``: the bundled XSD's complaints, in French.

A passage is a dict dictionary key -> XSD lexical value (``accuse.fix.checks.converted``), NIL
for xsi:nil, None or absent to leave the element out. Its identification branch follows its
keys: ``nir`` -> identifiantNational, ``idDossier`` without ``nomNaissance`` -> dossierFormation,
else titulaire.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import BinaryIO

from lxml import etree

from accuse.fix.checks import NIL
from accuse.model import FluxAction, SchemaVersion
from accuse.nir import mask_in_text
from accuse.reference.fields import NAMESPACE, by_key, dictionary

XSI = "http://www.w3.org/2001/XMLSchema-instance"
VERSIONS: tuple[SchemaVersion, ...] = ("1.1.2", "1.1.5")
XSD_NAMES: dict[SchemaVersion, str] = {
    "1.1.2": "flux-xsd-1.1.2.xsd",
    "1.1.5": "flux-xsd-1.1.5.xsd",
}
_NIL = f"{{{XSI}}}nil"
# Required in a passage by XSD 1.1.2, optional since 1.1.5.
REQUIRED_BEFORE_115 = (
    "obtentionCertification",
    "donneeCertifiee",
    "dateDebutValidite",
    "dateFinValidite",
    "presenceNiveauLangueEuro",
    "presenceNiveauNumeriqueEuro",
    "scoring",
    "mentionValidee",
)

Passage = dict[str, "str | object | None"]  # dictionary key -> XSD value, NIL or None


@dataclass(frozen=True)
class FluxHeader:
    idClientEmetteur: str
    idClientCertificateur: str
    idContrat: str


class FluxError(ValueError):
    """Passages that the asked-for version or action cannot hold (a programming mistake)."""


@cache
def schema(version: SchemaVersion = "1.1.2") -> etree.XMLSchema:
    """The official XSD of that version, shipped in the package."""
    name = XSD_NAMES[version]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    with resources.files("accuse").joinpath(f"data/{name}").open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle, parser))


def identification(passage: Passage) -> str:
    """The identificationTitulaire branch a passage fills."""
    if _present(passage, "nir"):
        return "identifiantNational"
    if _present(passage, "idDossier") and not _present(passage, "nomNaissance"):
        return "dossierFormation"
    return "titulaire"


def needed_version(passages: Sequence[Passage], action: FluxAction = "CREATION") -> SchemaVersion:
    """1.1.5 when the passages or the action need it (NIR branch, SUPPRESSION, an element
    that 1.1.2 requires left out, a nil start date), else 1.1.2."""
    if action != "CREATION":
        return "1.1.5"
    for passage in passages:
        if identification(passage) == "identifiantNational":
            return "1.1.5"
        if any(passage.get(k) is None for k in REQUIRED_BEFORE_115):
            return "1.1.5"
        if passage.get("dateDebutValidite") is NIL:
            return "1.1.5"
    return "1.1.2"


def horodatage(now: dt.datetime | None = None) -> str:
    """Local time with a +HH:MM offset and no fraction: the only form the XSD pattern allows."""
    now = (now or dt.datetime.now()).astimezone().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"{stamp[:-2]}:{stamp[-2:]}"


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _q(name))
    if text is not None:
        element.text = text
    return element


def _leaf(parent: etree._Element, key: str, passage: Passage, name: str | None = None) -> None:
    value = passage.get(key)
    if value is None:
        return
    element = _sub(parent, name or by_key()[key].element)
    if value is NIL:
        element.set(_NIL, "true")
    else:
        element.text = str(value)


def _present(passage: Passage, *keys: str) -> bool:
    return any(passage.get(k) is not None for k in keys)


@cache
def _keys(parent: str, *leaving_out: str) -> tuple[str, ...]:
    """The dictionary's fields of one XSD block (champs.toml), in dictionary order; the XSD
    uses xsd:all, so any order validates."""
    return tuple(f.key for f in dictionary() if f.parent == parent and f.key not in leaving_out)


def _passage(parent: etree._Element, passage: Passage, action: FluxAction) -> None:
    node = _sub(parent, "passageCertification")
    if action == "SUPPRESSION":
        _leaf(node, "idTechnique", passage)
        _identification(_sub(node, "identificationTitulaire"), passage)
        return
    for key in _keys("passage"):
        _leaf(node, key, passage)
    results = _keys("resultat")
    if _present(passage, *_keys("niveauNumerique"), *results):
        numeric = _sub(node, "niveauNumeriqueEuropeen")
        for key in _keys("niveauNumerique"):
            _leaf(numeric, key, passage)
        if _present(passage, *results):
            result = _sub(_sub(numeric, "resultats"), "resultat")
            for key in results:
                _leaf(result, key, passage)
    inscription = _sub(node, "modalitesInscription")
    for key in _keys("inscription"):
        _leaf(inscription, key, passage)
    _identification(_sub(node, "identificationTitulaire"), passage)


def _identification(parent: etree._Element, passage: Passage) -> None:
    chosen = identification(passage)
    if chosen == "identifiantNational":
        national = _sub(parent, "identifiantNational")
        _leaf(national, "nir", passage)
        _leaf(national, "nomNaissance", passage)
        return
    if chosen == "dossierFormation":
        dossier = _sub(parent, "dossierFormation")
        for key in _keys("dossier"):
            _leaf(dossier, key, passage)
        return
    person = _sub(parent, "titulaire")
    # The birthplace is a choice (codeInsee or codePostal) nested in codeCommuneNaissance.
    for key in _keys("titulaire", "codeInsee", "codePostal"):
        _leaf(person, key, passage)
    birthplace = _sub(person, "codeCommuneNaissance")
    if passage.get("codeInsee") is not None:
        _leaf(_sub(birthplace, "codeInseeNaissance"), "codeInsee", passage)
    else:
        _leaf(_sub(birthplace, "codePostalNaissance"), "codePostal", passage)


def _check(version: SchemaVersion, action: FluxAction, passages: Sequence[Passage]) -> None:
    if version not in VERSIONS:
        raise FluxError(f"unknown XSD version {version!r}")
    if version == "1.1.2":
        if action != "CREATION":
            raise FluxError("a SUPPRESSION flux needs XSD 1.1.5")
        if any(identification(p) == "identifiantNational" for p in passages):
            raise FluxError("the identifiantNational branch needs XSD 1.1.5")


def _frame(
    header: FluxHeader,
    now: dt.datetime | None,
    version: SchemaVersion,
    action: FluxAction,
    flux_id: str | None,
) -> tuple[etree._Element, etree._Element]:
    """The flux root down to its (empty) certifications element."""
    root = etree.Element(_q("flux"), nsmap={"cpf": NAMESPACE, "xsi": XSI})
    _sub(root, "idFlux", flux_id or str(uuid.uuid4()))
    _sub(root, "horodatage", horodatage(now))
    if version != "1.1.2":
        _sub(root, "action", action)
    emetteur = _sub(root, "emetteur")
    _sub(emetteur, "idClient", header.idClientEmetteur)
    certificateur = _sub(_sub(emetteur, "certificateurs"), "certificateur")
    _sub(certificateur, "idClient", header.idClientCertificateur)
    _sub(certificateur, "idContrat", header.idContrat)
    return root, _sub(certificateur, "certifications")


def group_key(passage: Passage) -> tuple[str, str]:
    return (str(passage.get("type") or ""), str(passage.get("code") or ""))


def _certification(parent: etree._Element, passage: Passage) -> etree._Element:
    """A certification element for that passage's group; returns its passageCertifications."""
    certification = _sub(parent, "certification")
    key = group_key(passage)
    _sub(certification, "type", key[0])
    _sub(certification, "code", key[1])
    _leaf(certification, "natureDeposant", passage)
    return _sub(certification, "passageCertifications")


_MARK = "accuse-contenu-ici"


def _around(holder: etree._Element) -> tuple[bytes, bytes]:
    """The serialised tree of ``holder`` (its last, empty element) split where its content goes."""
    holder.text = _MARK
    root = holder.getroottree().getroot()
    data = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    before, _, after = data.rpartition(_MARK.encode())
    return before, after


# Characters XML 1.0 cannot hold (lxml refuses them too); and those a text node escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPED = re.compile("[&<>\r]")


def _escape(text: str) -> str:
    """Text as libxml2 writes it in an element (UTF-8 output)."""
    if text.isprintable():  # most values: no control character, surrogate or non-character
        if "&" in text or "<" in text or ">" in text:
            return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text
    if _NOT_XML.search(text):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control "
            "characters"
        )
    if _ESCAPED.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


@cache
def _element(key: str) -> str:
    return by_key()[key].element


LINES_SIZE = 4096  # distinct values whose line is remembered, per element and depth


@cache
def _lines(depth: int, keys: tuple[str, ...]) -> tuple[tuple[str, dict[object, str]], ...]:
    """(key, its lines by value) of each leaf at ``depth``: a value's whole line (indent,
    tags, escaped text, or the nil element), remembered for the values that repeat from
    passage to passage (dates, codes, yes/no, certifications)."""
    return tuple((key, {}) for key in keys)


def _line(depth: int, key: str, value: object, lines: dict[object, str]) -> str:
    pad, name = "  " * depth, _element(key)
    if value is NIL:
        line = f'{pad}<cpf:{name} xsi:nil="true"/>\n'
    else:
        line = f"{pad}<cpf:{name}>{_escape(str(value))}</cpf:{name}>\n"
    if len(lines) < LINES_SIZE and (value is NIL or value.__class__ is str):  # True == 1
        lines[value] = line
    return line


class _Text:
    """A passageCertification written as text, indented as lxml's pretty_print does: the
    same bytes as serialising the tree of ``_passage``, four times faster (generer writes
    every passage of a deposit)."""

    def __init__(self, passage: Passage) -> None:
        self.passage = passage
        self.out: list[str] = []

    def leaves(self, depth: int, keys: tuple[str, ...]) -> None:
        get, out = self.passage.get, self.out
        for key, lines in _lines(depth, keys):
            value = get(key)
            if value is None:
                continue
            line = lines.get(value)
            if line is None:
                line = _line(depth, key, value, lines)
            out.append(line)

    def block(self, depth: int, name: str, fill: Callable[[int], None]) -> None:
        """An element whose content ``fill`` writes one level deeper (empty: <cpf:name/>)."""
        pad = "  " * depth
        start = len(self.out)
        self.out.append(f"{pad}<cpf:{name}>\n")
        fill(depth + 1)
        if len(self.out) == start + 1:
            self.out[start] = f"{pad}<cpf:{name}/>\n"
        else:
            self.out.append(f"{pad}</cpf:{name}>\n")

    def passage_content(self, depth: int, action: FluxAction) -> None:
        passage = self.passage
        if action == "SUPPRESSION":
            self.leaves(depth, ("idTechnique",))
            self.block(depth, "identificationTitulaire", self.identification)
            return
        self.leaves(depth, _keys("passage"))
        if _present(passage, *_keys("niveauNumerique"), *_keys("resultat")):
            self.block(depth, "niveauNumeriqueEuropeen", self.numeric)
        self.block(depth, "modalitesInscription", lambda d: self.leaves(d, _keys("inscription")))
        self.block(depth, "identificationTitulaire", self.identification)

    def numeric(self, depth: int) -> None:
        self.leaves(depth, _keys("niveauNumerique"))
        if _present(self.passage, *_keys("resultat")):
            self.block(depth, "resultats", self.results)

    def results(self, depth: int) -> None:
        self.block(depth, "resultat", lambda d: self.leaves(d, _keys("resultat")))

    def identification(self, depth: int) -> None:
        chosen = identification(self.passage)
        if chosen == "identifiantNational":
            self.block(depth, chosen, lambda d: self.leaves(d, ("nir", "nomNaissance")))
        elif chosen == "dossierFormation":
            self.block(depth, chosen, lambda d: self.leaves(d, _keys("dossier")))
        else:
            self.block(depth, "titulaire", self.person)

    def person(self, depth: int) -> None:
        # The birthplace is a choice (codeInsee or codePostal) nested in codeCommuneNaissance.
        self.leaves(depth, _keys("titulaire", "codeInsee", "codePostal"))
        self.block(depth, "codeCommuneNaissance", self.birthplace)

    def birthplace(self, depth: int) -> None:
        if self.passage.get("codeInsee") is not None:
            self.block(depth, "codeInseeNaissance", lambda d: self.leaves(d, ("codeInsee",)))
        else:
            self.block(depth, "codePostalNaissance", lambda d: self.leaves(d, ("codePostal",)))


def passage_xml(passage: Passage, action: FluxAction = "CREATION") -> bytes:
    """One passageCertification as write_flux writes it (indented, without the namespace
    declarations the flux root makes), to be handed to write_grouped."""
    text = _Text(passage)
    text.block(0, "passageCertification", lambda d: text.passage_content(d, action))
    return "".join(text.out).encode("utf-8")


def write_grouped(
    handle: BinaryIO,
    header: FluxHeader,
    groups: Iterable[tuple[Passage, Iterable[bytes]]],
    now: dt.datetime | None = None,
    *,
    version: SchemaVersion = "1.1.2",
    action: FluxAction = "CREATION",
    flux_id: str | None = None,
) -> None:
    """A flux written from passages already serialised by passage_xml, one certification at a
    time: each group is (a passage of that certification, the bytes of its passages). The
    caller checks that ``version`` holds them (write_flux does)."""
    _, certifications = _frame(header, now, version, action, flux_id)
    head, tail = _around(certifications)
    handle.write(b"<?xml version='1.0' encoding='UTF-8'?>\n" + head + b"\n")
    for first, chunks in groups:
        holder = _certification(
            etree.Element(_q("certifications"), nsmap={"cpf": NAMESPACE, "xsi": XSI}), first
        )
        start, end = _around(holder)
        # Leave out the stand-in certifications element around this certification.
        handle.write(start[start.index(b">") + 1 :] + b"\n")
        for chunk in chunks:
            handle.write(chunk)
        handle.write(end[: end.rindex(b"</")] + b"\n")
    handle.write(tail + b"\n")


def write_flux(
    handle: BinaryIO,
    header: FluxHeader,
    passages: Sequence[Passage],
    now: dt.datetime | None = None,
    *,
    version: SchemaVersion = "1.1.2",
    action: FluxAction = "CREATION",
    flux_id: str | None = None,
) -> None:
    """The flux of ``build_flux`` written to ``handle`` one passage at a time: only one
    passage's elements exist at once, whatever the number of passages."""
    _check(version, action, passages)
    groups: dict[tuple[str, str], list[int]] = {}
    for index, passage in enumerate(passages):
        groups.setdefault(group_key(passage), []).append(index)
    write_grouped(
        handle,
        header,
        (
            (passages[indexes[0]], (passage_xml(passages[i], action) for i in indexes))
            for indexes in groups.values()
        ),
        now,
        version=version,
        action=action,
        flux_id=flux_id,
    )


def build_flux(
    header: FluxHeader,
    passages: Sequence[Passage],
    now: dt.datetime | None = None,
    *,
    version: SchemaVersion = "1.1.2",
    action: FluxAction = "CREATION",
    flux_id: str | None = None,
) -> etree._ElementTree:
    """The flux tree: passages grouped by certification (type, code), in first-seen order.

    Raises FluxError when ``version`` cannot hold the action or a passage's NIR branch."""
    _check(version, action, passages)
    root, certifications = _frame(header, now, version, action, flux_id)
    groups: dict[tuple[str, str], etree._Element] = {}
    for passage in passages:
        key = group_key(passage)
        holder = groups.get(key)
        if holder is None:
            holder = groups[key] = _certification(certifications, passage)
        _passage(holder, passage, action)
    return etree.ElementTree(root)


def validation_errors(
    data: bytes, limit: int = 20, *, version: SchemaVersion = "1.1.2"
) -> list[str]:
    """The XSD's complaints about a serialised flux (line: message), empty when it is valid.

    Messages may quote values: NIR-shaped ones are masked."""
    checker = schema(version)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    if root.tag != _q("flux"):
        # XSD 1.1.5 declares nomNaissance globally: such a root alone would pass the schema.
        return [f"ligne {root.sourceline} : l'élément racine doit être cpf:flux."]
    if checker.validate(root.getroottree()):
        return []
    return [f"ligne {e.line} : {mask_in_text(e.message)}" for e in list(checker.error_log)[:limit]]


def serialise(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
