"""The analysis pipeline on the committed fixtures: every source kind joins the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from accuse.pipeline.analysis import analyse
from accuse.reference.catalogue import load_catalogue
from tests.conftest import FIXTURES, write

# recu.xml: 7 KO, one per family; where each sits in each source (fixtures/README.md).
FAMILIES = {
    "202301-1": "DOUBLON",
    "1960012": "CERTIFICATION_INCONNUE",
    "1960020": "TITULAIRE_INTROUVABLE_N1",
    "1960034": "TITULAIRE_INTROUVABLE_N2",
    "1960049": "TITULAIRE_INTROUVABLE_N3",
    "1960059": "TITULAIRES_MULTIPLES",
    "1960071": "DATES_INCOHERENTES",
}
FLAT_ROWS = {
    "202301-1": 2,
    "1960012": 6,
    "1960020": 8,
    "1960034": 13,
    "1960049": 18,
    "1960059": 21,
    "1960071": 25,
}
TEMPLATE_ROWS = {i: r + 19 for i, r in FLAT_ROWS.items()}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(use_default_user_file=False)


@pytest.mark.parametrize(
    ("source", "rows"),
    [
        ("source-plat.xlsx", FLAT_ROWS),
        ("source.csv", FLAT_ROWS),
        ("source-modele.xlsx", TEMPLATE_ROWS),
    ],
)
def test_every_ko_joins_to_its_row(catalogue, source: str, rows: dict[str, int]) -> None:
    analysis = analyse(FIXTURES / "recu.xml", FIXTURES / source, catalogue=catalogue)
    assert {r.idTechnique: r.code for r in analysis.rejected} == FAMILIES
    assert {r.idTechnique: r.row.position for r in analysis.rejected} == rows
    assert analysis.accepted_count == 17
    assert analysis.unmatched_ids == [] and analysis.absent == []
    assert analysis.source is not None and analysis.source.row_count == 24


def test_flux_source_rows_are_passage_lines(catalogue) -> None:
    analysis = analyse(FIXTURES / "recu.xml", FIXTURES / "flux.xml", catalogue=catalogue)
    lines = (FIXTURES / "flux.xml").read_text("utf-8").splitlines()
    for rejected in analysis.rejected:
        assert rejected.row is not None
        start = lines[rejected.row.position - 1]
        assert "<cpf:passageCertification>" in start
        assert f">{rejected.idTechnique}<" in lines[rejected.row.position]


def test_numeric_id_cells_join_as_text(catalogue) -> None:
    analysis = analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx", catalogue=catalogue)
    numeric = next(r for r in analysis.rejected if r.idTechnique == "1960012")
    assert numeric.row is not None and numeric.row.idTechnique == "1960012"
    # The cell was a number in Excel; the join still happened, never as "1960012.0".
    assert analysis.source.value(numeric.row, "idTechnique") == 1960012


def test_findings_point_at_the_planted_mistakes(catalogue) -> None:
    analysis = analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx", catalogue=catalogue)
    by_id = {r.idTechnique: r for r in analysis.rejected}
    fields = {i: {f.champ for f in r.findings} for i, r in by_id.items()}
    assert "code" in fields["1960012"]
    assert {"jourNaissance", "moisNaissance"} & fields["1960034"]
    assert "codeInsee" in fields["1960049"]
    assert "dateFinValidite" in fields["1960071"] or "dateDebutValidite" in fields["1960071"]
    assert not by_id["202301-1"].fixable and by_id["1960012"].fixable


def test_unmatched_duplicates_and_absent_rows(tmp_path: Path, catalogue) -> None:
    receipt = write(
        tmp_path / "r.xml",
        "<rapport><nomFichier>f.xml</nomFichier><PassagesKO>"
        "<passage><idTechnique>A</idTechnique><messageErreur>Plusieurs titulaires ont été identifiés</messageErreur></passage>"
        "<passage><idTechnique>Z</idTechnique><messageErreur>Plusieurs titulaires ont été identifiés</messageErreur></passage>"
        "</PassagesKO><PassagesOK><idTechnique>B</idTechnique></PassagesOK></rapport>",
    )
    source = write(tmp_path / "s.csv", "idTechnique;nomNaissance\nA;X\nB;Y\nC;Z\nA;W\n")
    analysis = analyse(receipt, source, catalogue=catalogue)
    assert analysis.unmatched_ids == ["Z"]
    assert analysis.absent == [(4, "C")]
    assert analysis.duplicates == {"A": [2, 5]}
    first = next(r for r in analysis.rejected if r.idTechnique == "A")
    assert first.row is not None and first.row.position == 2


def test_whole_file_rejection_maps_lines_to_passages(catalogue) -> None:
    analysis = analyse(FIXTURES / "recu-rejet.xml", FIXTURES / "flux.xml", catalogue=catalogue)
    located = [(e.error.ligne, e.idTechnique, e.classification.code) for e in analysis.file_errors]
    assert located == [
        (2, None, "XML_COMMENTAIRE"),
        (198, "1960012", "XSD_ENUMERATION"),
        (198, "1960012", "XSD_FORMAT"),
        (369, "0000-0010", "XSD_FORMAT"),
        (611, "1960043", "XSD_LONGUEUR"),
        (853, "1960059", "XSD_ABSENT"),
    ]
    enumeration = analysis.file_errors[1]
    assert enumeration.classification.hint == (
        "La valeur « H » de « sexe » n'est pas permise : valeurs possibles M, F."
    )
    assert enumeration.row is not None  # the passage's values are there to show
    assert analysis.has_rejections


def test_whole_file_rejection_with_a_spreadsheet_stays_file_level(catalogue) -> None:
    analysis = analyse(
        FIXTURES / "recu-rejet.xml", FIXTURES / "source-plat.xlsx", catalogue=catalogue
    )
    assert all(e.idTechnique is None for e in analysis.file_errors)
    assert analysis.absent == []  # such a receipt lists no passage: nothing is "absent"


def test_receipt_alone_and_empty_receipt(catalogue) -> None:
    alone = analyse(FIXTURES / "recu-variantes.xml", catalogue=catalogue)
    assert alone.source is None
    codes = {r.idTechnique: r.code for r in alone.rejected}
    assert codes == {
        "202006-2510": "TITULAIRE_INTROUVABLE_N1",
        "0000-0042": "MESSAGE_INCONNU",
        "202104-10523": "TITULAIRES_MULTIPLES",
    }
    empty = analyse(FIXTURES / "recu-vide.xml", catalogue=catalogue)
    assert not empty.has_rejections and empty.accepted_count == 0


def test_the_callers_work_runs_once_after_the_receipt_and_its_error_stops_the_analysis(
    tmp_path: Path,
) -> None:
    from accuse.errors import InputError

    calls: list[str] = []
    result = analyse(
        FIXTURES / "recu.xml",
        FIXTURES / "source-plat.xlsx",
        meanwhile=lambda: calls.append("appelé"),
    )
    assert calls == ["appelé"] and result.rejected

    def refuse() -> None:
        raise InputError("adresse d'historique illisible", tmp_path / "x")

    with pytest.raises(InputError, match="historique"):
        analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx", meanwhile=refuse)
    broken = tmp_path / "recu.xml"
    broken.write_text("<rapport>", "utf-8")
    with pytest.raises(InputError) as error:  # the receipt is read first
        analyse(broken, FIXTURES / "source-plat.xlsx", meanwhile=refuse)
    assert "historique" not in error.value.message
