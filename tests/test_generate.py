"""The bench generator: coherent, valid, deterministic; the committed fixtures are its output.

Uses only the stdlib, lxml, python_calamine and openpyxl, never the accuse package, so a bug
in accuse cannot hide a bug in the data it is tested with.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from python_calamine import CalamineWorkbook

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
XSD = Path(__file__).resolve().parent.parent / "accuse" / "data" / "flux-xsd-1.1.2.xsd"
FIXTURE_ARGS = {"passages": 24, "ko_rate": 0.29, "seed": 0}


def _load_generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench/generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclass-free, but pickling by a worker needs the name
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    return out, gen.generate(out, 300, ko_rate=0.1, seed=7)


def _flux_ids(path: Path) -> list[str]:
    tree = etree.parse(str(path))
    return [e.text for e in tree.iter(f"{{{gen.NS}}}idTechnique")]


def _receipt(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    root = etree.parse(str(path)).getroot()
    kos = [
        (p.findtext("idTechnique").strip(), p.findtext("messageErreur"))
        for p in root.iter("passage")
    ]
    oks = [e.text.strip() for e in root.findall("PassagesOK/idTechnique")]
    return kos, oks


def _id_text(value: object) -> str:
    # users' Excel stores 1979262 as the number 1979262.0
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet(path: Path, name: str) -> list[list]:
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _passage_spans(path: Path) -> dict[str, tuple[int, int]]:
    """idTechnique -> (first, last) line of its passageCertification, by reading the text."""
    spans: dict[str, tuple[int, int]] = {}
    start = ident = None
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if "<cpf:passageCertification>" in line:
            start = number
        elif start is not None and ident is None and "<cpf:idTechnique>" in line:
            ident = re.search(r"<cpf:idTechnique>(.*)</cpf:idTechnique>", line).group(1)
        elif "</cpf:passageCertification>" in line:
            spans[ident] = (start, number)
            start = ident = None
    return spans


# --- a generated set ----------------------------------------------------------------------


def test_flux_is_valid_against_the_xsd(bench):
    out, _facts = bench
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    flux = etree.parse(str(out / "flux.xml"))
    assert schema.validate(flux), schema.error_log
    assert flux.getroot().prefix == "cpf"
    # one element per line, so a line number names one element
    assert all(line.count("<cpf:") <= 1 for line in (out / "flux.xml").read_text().splitlines())


def test_receipt_covers_every_passage_once(bench):
    out, facts = bench
    ids = _flux_ids(out / "flux.xml")
    kos, oks = _receipt(out / "recu.xml")
    assert len(ids) == len(set(ids)) == 300
    assert sorted([i for i, _m in kos] + oks) == sorted(ids)
    assert len(kos) == facts["ko"] == 30 and len(oks) == facts["ok"] == 270
    root = etree.parse(str(out / "recu.xml")).getroot()
    assert root.tag == "rapport" and root.findtext("idFlux") == facts["idFlux"]
    assert set(facts["ko_par_famille"]) == set(gen.FAMILIES)
    by_id = dict(kos)
    for ko in facts["ko_detail"]:
        assert by_id[ko["idTechnique"]] == ko["message"]
    k5 = {by_id[i] for i in facts["ko_par_famille"]["K5"]}
    assert any("réconciliation" in m for m in k5) and any("reconciliation" in m for m in k5)


def test_sources_hold_the_same_ids_in_flux_order(bench):
    out, _facts = bench
    ids = _flux_ids(out / "flux.xml")

    flat = _sheet(out / "source-plat.xlsx", "Titulaires")
    column = flat[0].index("Id Technique")
    assert [_id_text(r[column]) for r in flat[1:]] == ids
    assert any(isinstance(r[column], float) for r in flat[1:])  # numeric ids as numbers
    assert all(isinstance(r[column], str) for r in flat[1:] if "-" in _id_text(r[column]))

    template = _sheet(out / "source-modele.xlsx", "Tableau declaration")
    column = template[11].index("5.1")
    assert template[12][column] == "Id Technique"
    assert template[19][1] == "Commencez votre saisie en-dessous de cette ligne"
    assert [_id_text(r[column]) for r in template[20:]] == ids
    assert len(template[11]) == 51 and template[11][1:] == [i for _k, i, _l in gen.TEMPLATE_COLUMNS]

    with (out / "source.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == flat[0][: len(rows[0])]
    assert [r[0] for r in rows[1:]] == ids
    assert (out / "source.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_template_conventions(bench):
    out, _facts = bench
    template = _sheet(out / "source-modele.xlsx", "Tableau declaration")
    header = template[11]
    data = template[20:]
    natures = {r[header.index("4.3")] for r in data}
    assert "TIERS_DE_CONFIANCE" in natures and "TIERS_CONFIANCE" not in natures
    assert {r[header.index("5.5")] for r in data} <= {"OUI", "NON"}
    assert "NILL" in {r[header.index("5.11")] for r in data}
    assert all(isinstance(r[header.index("5.10")], dt.date) for r in data)


def test_ko_rows_look_wrong_for_their_family(bench):
    out, facts = bench
    sheet = openpyxl.load_workbook(out / "source-plat.xlsx", read_only=True)["Titulaires"]
    rows = list(sheet.iter_rows(values_only=True))
    col = {h: i for i, h in enumerate(rows[0])}
    by_id = {_id_text(r[col["Id Technique"]]): r for r in rows[1:]}
    for ko in facts["ko_detail"]:
        row = by_id[ko["idTechnique"]]
        assert rows.index(row) + 1 == ko["ligne_plat"]
        family = ko["famille"]
        if family == "K2":
            assert not str(row[col["Code"]]).startswith(("RNCP", "RS"))
        elif family == "K4":
            day, month = row[col["Jour de naissance"]], row[col["Mois de naissance"]]
            assert day <= 12 and month <= 12 and day != month
        elif family == "K5":
            insee = row[col["Code Insee"]]
            assert insee in {postal for _i, postal, _l in gen._COMMUNES}
        elif family == "K7":
            assert row[col["Date Fin Validite"]] < row[col["Date Debut Validite"]]
        elif family in ("K3", "K8"):
            assert (
                " " in row[col["Prénom"]] or row[col["Nom de naissance"]] == row[col["Nom d'usage"]]
            )


def test_rejection_lines_fall_inside_the_recorded_passages(bench):
    out, facts = bench
    spans = _passage_spans(out / "flux.xml")
    root = etree.parse(str(out / "recu-rejet.xml")).getroot()
    errors = root.findall("erreurs/erreur")
    assert [int(e.findtext("ligne")) for e in errors] == [e["ligne"] for e in facts["rejet"]]
    assert {e.findtext("type") for e in errors} == {"XSD"}
    assert len(facts["rejet"]) >= 5
    for error in facts["rejet"]:
        line = error["ligne"]
        if error["idTechnique"] is None:
            assert not any(a <= line <= b for a, b in spans.values())
        else:
            first, last = spans[error["idTechnique"]]
            assert first < line < last
    for ko in facts["ko_detail"]:
        assert tuple(ko["lignes_flux"]) == spans[ko["idTechnique"]]


# --- the committed fixtures ---------------------------------------------------------------


def test_fixtures_are_the_generator_output(tmp_path):
    facts = gen.generate(
        tmp_path, FIXTURE_ARGS["passages"], FIXTURE_ARGS["ko_rate"], FIXTURE_ARGS["seed"]
    )
    for name in ("flux.xml", "recu.xml", "recu-rejet.xml", "source.csv", "facts.json"):
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name
    for name, sheet in (
        ("source-plat.xlsx", "Titulaires"),
        ("source-modele.xlsx", "Tableau declaration"),
    ):
        assert _sheet(tmp_path / name, sheet) == _sheet(FIXTURES / name, sheet), name
    assert facts["ko"] == 7 and facts["passages"] == 24
    assert sorted(facts["ko_par_famille"]) == ["K1", "K2", "K3", "K4", "K5", "K6", "K7"]
    assert json.loads((FIXTURES / "facts.json").read_text(encoding="utf-8")) == facts


def test_hand_written_receipts():
    kos, oks = _receipt(FIXTURES / "recu-reel-pix.xml")
    assert [i for i, _m in kos] == ["1979262", "1996215", "1983189"]
    assert oks == ["1968666", "1964200"]

    raw = (FIXTURES / "recu-variantes.xml").read_bytes()
    assert b"ISO-8859-1" in raw and "é".encode("latin-1") in raw
    root = etree.fromstring(raw)
    ns = "{urn:cdc:cpf:pc5:rapport:schema}"
    assert root.tag == f"{ns}rapport"
    ids = [e.text.strip() for e in root.iter(f"{ns}idTechnique")]
    assert ids == ["202006-2510", "0000-0042", "202104-10523"]
    assert root.find(f"{ns}PassagesOK") is not None and len(root.find(f"{ns}PassagesOK")) == 0
    assert root.find(f"{ns}dateTraitement") is not None

    root = etree.parse(str(FIXTURES / "recu-vide.xml")).getroot()
    assert [c.tag for c in root] == ["nomFichier", "idFlux"]


def test_cli(tmp_path, capsys):
    assert (
        gen.main(["--passages", "10", "--ko", "0.2", "--graine", "3", "--sortie", str(tmp_path)])
        == 0
    )
    facts = json.loads((tmp_path / "facts.json").read_text(encoding="utf-8"))
    assert facts["passages"] == 10 and facts["ko"] == 2 and facts["graine"] == 3
    assert "10 passages" in capsys.readouterr().err


def test_parallel_workbooks_match(tmp_path, monkeypatch):
    # Big sets write each workbook in its own process; the result must not change.
    monkeypatch.setattr(gen, "PARALLEL_FROM", 10)
    gen.generate(tmp_path, FIXTURE_ARGS["passages"], FIXTURE_ARGS["ko_rate"], FIXTURE_ARGS["seed"])
    for name, sheet in (
        ("source-plat.xlsx", "Titulaires"),
        ("source-modele.xlsx", "Tableau declaration"),
    ):
        assert _sheet(tmp_path / name, sheet) == _sheet(FIXTURES / name, sheet), name
