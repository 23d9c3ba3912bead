"""The XSD check of a deposit flux, streamed, with every error told in French.

The portal shows at most 100 XSD errors, in Xerces' wording; lxml (libxml2) finds the same
errors in its own words. Each error is mapped to the Xerces code (accuse/data/verification.toml),
then told with the catalogue's whole-file family for that code, with its line, the passage it
falls in and the element.

Memory stays flat on a 200 MB flux: each passageCertification is validated on its own, against
the official XSD plus a global declaration of that type, then released; each certification is
validated once its passages are gone (they then count as "anything"), and the frame last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lxml import etree

from accuse.progress import SILENT, Progress
from accuse.read.xmlread import XmlSyntaxError, localname, open_events, release
from accuse.reference.catalogue import Catalogue
from accuse.reference.fields import by_key
from accuse.reference.rules import verification_data

NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"
_XSD = "http://www.w3.org/2001/XMLSchema"
_ELEMENT_NAME = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_EXPECTED = re.compile(r"\{[^}]*\}([A-Za-z0-9_]+)")
WHAT = "le flux de dépôt"


@dataclass(frozen=True)
class XsdError:
    """One error of a flux, as the portal would report it, told in French."""

    line: int | None
    element: str | None  # local name of the element in error (or the block missing a child)
    idTechnique: str | None  # the passage it falls in, when it falls in one
    family: str  # catalogue whole-file family code
    message: str


def available_versions() -> list[str]:
    """The XSD versions shipped in accuse/data (flux-xsd-<version>.xsd), oldest first."""
    names = [p.name for p in resources.files("accuse").joinpath("data").iterdir()]
    found = [m.group(1) for n in names if (m := re.fullmatch(r"flux-xsd-([\d.]+)\.xsd", n))]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def newest_version() -> str:
    return available_versions()[-1]


def _xsd_tree(version: str) -> etree._ElementTree:
    if version not in available_versions():
        known = ", ".join(available_versions())
        raise ValueError(f"unknown XSD version {version} (known: {known})")
    data = resources.files("accuse").joinpath(f"data/flux-xsd-{version}.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser).getroottree()


def _declarations(tree: etree._ElementTree, name: str) -> list[etree._Element]:
    return [e for e in tree.iter(f"{{{_XSD}}}element") if e.get("name") == name]


def _global(tree: etree._ElementTree, name: str) -> None:
    """Declare an element of the named complex type at the top of the schema."""
    root = tree.getroot()
    root.append(etree.Element(f"{{{_XSD}}}element", name=name, type=f"cpf:{name}"))


def _anything(tree: etree._ElementTree, name: str) -> None:
    """The local declarations of ``name`` accept any content (already checked on its own)."""
    for declaration in _declarations(tree, name):
        if declaration.getparent() is not tree.getroot():
            declaration.attrib.pop("type", None)


@dataclass(frozen=True)
class _Schemas:
    passage: etree.XMLSchema
    certification: etree.XMLSchema
    frame: etree.XMLSchema
    required: frozenset[str]  # element names the XSD requires wherever they are declared


@cache
def _schemas(version: str) -> _Schemas:
    passage = _xsd_tree(version)
    _global(passage, "passageCertification")
    certification = _xsd_tree(version)
    _global(certification, "certification")
    _anything(certification, "passageCertification")
    frame = _xsd_tree(version)
    _anything(frame, "passageCertification")
    _anything(frame, "certification")
    required = frozenset(
        e.get("name", "")
        for e in _xsd_tree(version).iter(f"{{{_XSD}}}element")
        if e.get("minOccurs") != "0"
    )
    return _Schemas(
        etree.XMLSchema(passage),
        etree.XMLSchema(certification),
        etree.XMLSchema(frame),
        required,
    )


@cache
def _element_names(version: str) -> frozenset[str]:
    """Every element name the XSD declares (and the root's): what lies inside any other
    element is never needed to tell the errors, and is freed as the parser goes."""
    names = {e.get("name", "") for e in _xsd_tree(version).iter(f"{{{_XSD}}}element")}
    return frozenset(names - {""})


def _passage_id(passage: etree._Element) -> str | None:
    for child in passage:
        if localname(child.tag) == "idTechnique":
            return (child.text or "").strip() or None
    return None


class _Teller:
    """Turns lxml's errors into XsdErrors, once each."""

    def __init__(self, catalogue: Catalogue, version: str) -> None:
        self.catalogue = catalogue
        self.required = _schemas(version).required
        self.errors: list[XsdError] = []
        self._seen: set[tuple[int, int | None, str | None]] = set()

    def tell(
        self, log: etree._ListErrorLog, scope: etree._Element, identifier: str | None, n: int
    ) -> None:
        for error in log:
            found = _ELEMENT_NAME.search(error.message)
            element = found.group(1) if found else None
            key = (n, error.line, element)
            if key in self._seen:
                continue  # libxml2 says some things twice (nil, then the empty value)
            self._seen.add(key)
            self.errors.append(self._one(error, scope, element, identifier))

    def _one(
        self,
        error: etree._LogEntry,
        scope: etree._Element,
        element: str | None,
        identifier: str | None,
    ) -> XsdError:
        data = verification_data()
        mapping = data.xsd_code(error.type_name, error.message)
        code = mapping.code if mapping else error.type_name
        classification = self.catalogue.classify(f"{code} : {error.message}", "fichier")
        captures: dict[str, str] = {}
        if element:
            captures["element"] = element
            value = _value_at(scope, element, error.line)
            if value is not None:
                captures["valeur"] = value
        if mapping and mapping.valeurs:
            found = mapping.valeurs.search(error.message)
            if found:
                captures.update({k: v for k, v in found.groupdict().items() if v is not None})
                if "valeurs" in captures:
                    captures["valeurs"] = captures["valeurs"].replace("'", "")
                if "trouvee" in captures and "valeur" not in captures:
                    captures["valeur"] = ""
        entry = classification.entry
        hint = classification.with_captures(**captures).hint
        message = f"{entry.titre}. {hint}" if hint else f"{entry.titre}."
        if entry.code == "XSD_ABSENT":
            expected = error.message.partition("Expected is")[2]
            missing = [n for n in _EXPECTED.findall(expected) if n in self.required]
            if missing:
                message += " Il manque : " + ", ".join(f"« {n} »" for n in missing) + "."
                element = missing[0]
        elif not hint and element:
            message += f" Élément « {element} »."
        return XsdError(error.line or None, element, identifier, entry.code, message)


def _value_at(scope: etree._Element, name: str, line: int) -> str | None:
    for node in scope.iter():
        if localname(node.tag) == name and node.sourceline == line and not len(node):
            return (node.text or "").strip()
    return None


def _root_error(root: etree._Element, catalogue: Catalogue) -> XsdError | None:
    if root.tag == f"{{{NAMESPACE}}}flux":
        return None
    name = root.prefix + ":" + localname(root.tag) if root.prefix else localname(root.tag)
    entry = catalogue.classify("cvc-elt.1.a : x", "fichier").with_captures(element=name)
    namespace = etree.QName(root).namespace or "aucun"
    return XsdError(
        root.sourceline,
        localname(root.tag),
        None,
        entry.code,
        f"{entry.entry.titre}. {entry.hint} La racine doit être « cpf:flux » dans l'espace de "
        f"noms {NAMESPACE} (trouvé : {namespace}). Le portail s'arrête à cette erreur.",
    )


def _syntax_error(error: XmlSyntaxError, catalogue: Catalogue) -> XsdError:
    family = verification_data().syntax_family(error.reason)
    entry = catalogue.get(family) or catalogue.classify("", "fichier").entry
    return XsdError(
        error.line,
        None,
        None,
        entry.code,
        f"{entry.titre}. Le fichier n'est pas du XML lisible à cette ligne (libxml2 : "
        f"« {error.reason} ») ; le portail le refuserait en entier.",
    )


def _looks_like_flux(path: Path) -> bool:
    with path.open("rb") as handle:
        return NAMESPACE.encode() in handle.read(4096).replace(b"\x00", b"")


def _first_element(path: Path) -> etree._Element:
    events = open_events(path, WHAT, events=("start",))
    try:
        for _, element in events:
            return element
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # stop the parser and close the file at once
    raise AssertionError("a readable XML file has a root element")


def check_flux(
    path: Path, version: str, catalogue: Catalogue, progress: Progress = SILENT
) -> list[XsdError]:
    """Every XSD (and well-formedness) error of a flux against the given version, in file order.

    Raises InputError when the file is not a flux at all (unreadable, a receipt, empty)."""
    try:
        root = _first_element(path)
    except XmlSyntaxError as error:
        if _looks_like_flux(path):
            return [_syntax_error(error, catalogue)]
        raise
    if localname(root.tag) == "rapport":
        _receipt(path)
    wrong = _root_error(root, catalogue)
    if wrong is not None:
        return [wrong]  # the portal stops at this error: so does the check
    schemas = _schemas(version)
    teller = _Teller(catalogue, version)
    events: Iterator = open_events(
        path,
        WHAT,
        progress,
        # The root among the tags: the tree is in hand from the first bytes, so what lies in
        # an unknown element before the first passage is freed too.
        tags=("passageCertification", "certification", localname(root.tag)),
        known=_element_names(version),
    )
    top: etree._Element | None = None
    count = 0
    try:
        for _, element in events:
            top = top if top is not None else element.getroottree().getroot()
            name = localname(element.tag)
            if name not in ("passageCertification", "certification"):
                continue  # the root's own end: the frame is validated below
            count += 1
            if name == "passageCertification":
                if not schemas.passage.validate(element):
                    ident = _passage_id(element)
                    teller.tell(schemas.passage.error_log, element, ident, count)
            elif not schemas.certification.validate(element):
                teller.tell(schemas.certification.error_log, element, None, count)
            release(element)
    except XmlSyntaxError as error:
        teller.errors.append(_syntax_error(error, catalogue))
        return teller.errors
    if top is not None and not schemas.frame.validate(top.getroottree()):
        teller.tell(schemas.frame.error_log, top, None, -1)
    elif top is None:
        # No passage nor certification at all: the frame alone says what is missing.
        frame = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        if not schemas.frame.validate(frame):
            teller.tell(schemas.frame.error_log, frame.getroot(), None, -1)
    return sorted(teller.errors, key=lambda e: e.line or 0)


def _receipt(path: Path) -> None:
    from accuse.errors import InputError

    raise InputError(
        "ce fichier est un accusé de traitement, pas un flux à déposer : donnez le flux XML "
        "(ou le classeur, le csv) que vous vous apprêtez à déposer.",
        path,
    )


def field_element(key: str) -> str:
    """The XSD element name of a dictionary key (idClientEmetteur -> idClient); the key itself
    for a column outside the XSD (dateNaissance, a whole birth date)."""
    field = by_key().get(key)
    return field.element if field and field.element else key
