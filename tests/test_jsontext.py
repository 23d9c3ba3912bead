"""accuse.render.jsontext: the JSON text the commands print, laid out by the C encoder."""

from __future__ import annotations

import json

import pytest

from accuse.render.jsontext import dumps

DOCUMENTS: list[object] = [
    {
        "format": 1,
        "accuse": {"fichier": "C:\\dépôts\\reçu.xml", "idFlux": None, "vide": {}},
        "ko": [
            {"idTechnique": "A-1", "valeurs": {"nom": 'Łukasz "le"\nNoël'}, "champs": []},
            {"diagnostic": [{"champ": "NIR", "message": "é"}], "ligne": 3.5},
        ],
        "introuvables": [],
        "lignes": [[1, [2, {"x": True}]], "\u2028"],
    },
    {},
    [],
    [{}, [], {"a": {"b": {"c": [1]}}}],
    "texte",
    None,
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_same_document_as_the_standard_encoder(document: object) -> None:
    text = dumps(document)
    assert text.endswith("\n")
    assert json.loads(text) == json.loads(json.dumps(document))


def test_one_refusal_per_line_and_accents_kept() -> None:
    lines = dumps(DOCUMENTS[0]).splitlines()
    refusals = [line for line in lines if '"idTechnique"' in line or '"diagnostic"' in line]
    assert len(refusals) == 2
    assert all(json.loads(line.strip().rstrip(",")) for line in refusals)
    assert any("reçu" in line for line in lines)
    assert lines[0] == "{" and lines[-1] == "}"


def test_values_orjson_refuses_are_still_written() -> None:
    """A cell of 1e300 is read as an integer beyond 64 bits: the standard encoder takes it."""
    document = {"ko": [{"valeurs": {"annee": 10**300, "nom": "Noël"}}, {"valeurs": {"x": 1}}]}
    text = dumps(document)
    assert json.loads(text) == document
    assert any("Noël" in line and str(10**300) in line for line in text.splitlines())
