"""A new deposit flux (XSD 1.1.2) from converted passages, validated before it is written."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from lxml import etree

from accuse.fix.checks import NIL
from accuse.reference.fields import NAMESPACE, by_key, dictionary

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NAME = "flux-xsd-1.1.2.xsd"
_NIL = f"{{{XSI}}}nil"

Passage = dict[str, "str | object | None"]  # dictionary key -> XSD value, NIL or None


@dataclass(frozen=True)
class FluxHeader:
    idClientEmetteur: str
    idClientCertificateur: str
    idContrat: str


@cache
def schema() -> etree.XMLSchema:
    """The official XSD shipped in the package."""
    with resources.files("accuse").joinpath(f"data/{XSD_NAME}").open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle))


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


def _keys(parent: str, *leaving_out: str) -> list[str]:
    """The dictionary's fields of one XSD block (champs.toml), in dictionary order; the XSD
    uses xsd:all, so any order validates."""
    return [f.key for f in dictionary() if f.parent == parent and f.key not in leaving_out]


def _passage(parent: etree._Element, passage: Passage) -> None:
    node = _sub(parent, "passageCertification")
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
    if _present(passage, "idDossier") and not _present(passage, "nomNaissance"):
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


def build_flux(
    header: FluxHeader, passages: Sequence[Passage], now: dt.datetime | None = None
) -> etree._ElementTree:
    """The flux tree: passages grouped by certification (type, code), in first-seen order."""
    root = etree.Element(_q("flux"), nsmap={"cpf": NAMESPACE, "xsi": XSI})
    _sub(root, "idFlux", str(uuid.uuid4()))
    _sub(root, "horodatage", horodatage(now))
    emetteur = _sub(root, "emetteur")
    _sub(emetteur, "idClient", header.idClientEmetteur)
    certificateur = _sub(_sub(emetteur, "certificateurs"), "certificateur")
    _sub(certificateur, "idClient", header.idClientCertificateur)
    _sub(certificateur, "idContrat", header.idContrat)
    certifications = _sub(certificateur, "certifications")
    groups: dict[tuple[str, str], etree._Element] = {}
    for passage in passages:
        group_key = (str(passage.get("type") or ""), str(passage.get("code") or ""))
        holder = groups.get(group_key)
        if holder is None:
            certification = _sub(certifications, "certification")
            _sub(certification, "type", group_key[0])
            _sub(certification, "code", group_key[1])
            _leaf(certification, "natureDeposant", passage)
            holder = groups[group_key] = _sub(certification, "passageCertifications")
        _passage(holder, passage)
    return etree.ElementTree(root)


def validation_errors(data: bytes, limit: int = 20) -> list[str]:
    """The XSD's complaints about a serialised flux (line: message), empty when it is valid."""
    checker = schema()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    if checker.validate(etree.fromstring(data, parser).getroottree()):
        return []
    return [f"ligne {e.line} : {e.message}" for e in list(checker.error_log)[:limit]]


def serialise(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
