"""pandas on its own paths: to_dataframe() of an analysis and of the history, and
`accuse suivi --stats` (rates per deposit, family and certification, their trend; terminal,
JSON and the HTML page). pandas is loaded by none of the other commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import lxml.html
import pytest
from typer.testing import CliRunner

import accuse
from accuse.cli.app import app
from accuse.history.stats import compute_stats, direction
from accuse.history.store import load, record
from tests.conftest import FIXTURES, ROOT
from tests.history_support import Deposit, Holder
from tests.test_contracts import errors

A = Holder("A-1", "Lefebvre", "Léa", "RNCP34567")
B = Holder("B-2", "Martin", "Paul", "RS5678")
C = Holder("C-3", "Petit", "Anne", "RNCP34567")
D = Holder("D-4", "Blanc", "Jean", "RS5678")
E = Holder("E-5", "Roux", "Marc", "RNCP34567")
# Deposit 1: 2 refused out of 5 (40 %); deposit 2: 1 out of 5 (20 %); then a whole-file
# rejection, which has no rate.
DEPOSITS = [
    Deposit(
        "r1", {"A-1": "N1", "B-2": "DATES"}, ["C-3", "D-4", "E-5"], holders=[A, B], days_ago=20
    ),
    Deposit("r2", {"A-1": "N1"}, ["B-2", "C-3", "D-4", "E-5"], holders=[A], days_ago=10),
]


def _history(tmp_path: Path) -> Path:
    store = tmp_path / "stats.sqlite"
    for deposit in DEPOSITS:
        record(deposit.analyse(tmp_path), store)
    whole = Path(FIXTURES / "recu-rejet.xml")
    record(accuse.analyse(whole), store)
    return store


def run(*args: str | Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args])


# --- to_dataframe --------------------------------------------------------------------------


def test_analysis_dataframe_one_row_per_rejected_passage() -> None:
    frame = accuse.analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx").to_dataframe()
    assert len(frame) == 7
    assert list(frame.columns[:9]) == [
        "idTechnique",
        "message",
        "family",
        "family_title",
        "redeposer",
        "hint",
        "source_line",
        "findings",
        "finding_fields",
    ]
    assert list(frame.columns).count("idTechnique") == 1
    row = frame.set_index("idTechnique").loc["1960012"]
    assert row["family"] == "CERTIFICATION_INCONNUE"
    assert row["source_line"] == 6
    assert row["code"] == "34567"  # the source's certification code column
    assert row["nomNaissance"] == "Perrin"
    assert "code" in row["finding_fields"]
    assert any("préfixe" in f for f in row["findings"])


def test_analysis_dataframe_without_source() -> None:
    frame = accuse.analyse(FIXTURES / "recu.xml").to_dataframe()
    assert len(frame) == 7 and len(frame.columns) == 9
    assert frame["source_line"].isna().all()


def test_history_dataframe_one_row_per_passage_per_receipt(tmp_path: Path) -> None:
    store = _history(tmp_path)
    frame = accuse.read_history(store).to_dataframe()
    assert len(frame) == 10  # 5 passages in each of the two per-passage receipts
    assert frame.groupby("receipt_name").size().to_dict() == {"r1.xml": 5, "r2.xml": 5}
    assert set(frame["status"]) == {"OK", "KO"}
    first = frame[(frame["receipt_name"] == "r1.xml") & (frame["idTechnique"] == "B-2")]
    assert first[["status", "family", "code"]].values.tolist() == [
        ["KO", "DATES_INCOHERENTES", "RS5678"]
    ]
    # Loaded for tracking only (passages ever rejected): A-1 twice, B-2 twice.
    assert len(load(store).to_dataframe()) == 4


# --- the rates -----------------------------------------------------------------------------


def test_rates_per_deposit_family_and_certification(tmp_path: Path) -> None:
    stats = compute_stats(load(_history(tmp_path)))
    assert [(r.receipt_name, r.rate) for r in stats.receipts] == [
        ("r1.xml", 0.4),
        ("r2.xml", 0.2),
        ("recu-rejet.xml", None),
    ]
    assert stats.receipts[1].change == pytest.approx(-0.2)
    assert stats.whole_file == 1
    assert (stats.deposited, stats.rejected, stats.rate) == (10, 3, 0.3)
    assert stats.trend == pytest.approx(-0.2)
    assert direction(stats.trend) == "baisse"
    families = {g.key: (g.rejected, g.share, g.rate, g.trend) for g in stats.families}
    assert families["TITULAIRE_INTROUVABLE_N1"] == pytest.approx((2, 2 / 3, 0.2, 0.0))
    assert families["DATES_INCOHERENTES"] == pytest.approx((1, 1 / 3, 0.1, -0.2))
    assert direction(families["TITULAIRE_INTROUVABLE_N1"][3]) == "stable"
    certifications = {g.key: g.rejected for g in stats.certifications}
    assert certifications == {"RNCP34567": 2, "RS5678": 1}


def test_the_api_gives_the_same_rates(tmp_path: Path) -> None:
    stats = accuse.statistics(accuse.read_history(_history(tmp_path)))
    assert isinstance(stats, accuse.Stats)
    assert (stats.deposited, stats.rejected) == (10, 3)


def test_an_empty_history_has_no_rate(tmp_path: Path) -> None:
    stats = compute_stats(load(tmp_path / "vide.sqlite"))
    assert stats.receipts == [] and stats.rate is None and stats.trend is None
    assert stats.families == [] and stats.certifications == []


# --- the command ---------------------------------------------------------------------------


def test_suivi_stats_in_the_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = run("suivi", "--historique", _history(tmp_path), "--stats")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Sur 10 passages déposés dans 2 accusés, 3 ont été refusés (30\u00a0%)" in out
    assert "taux en baisse (−20\u00a0pts par dépôt)" in out
    assert "1 accusé de rejet du fichier entier" in out
    for section in ("Taux de refus par dépôt", "Par famille de refus", "Par certification"):
        assert section in out
    assert "40\u00a0%" in out and "20\u00a0%" in out and "−20\u00a0pts" in out
    assert "RNCP34567" in out


def test_suivi_stats_json_follows_its_schema(tmp_path: Path) -> None:
    result = run("suivi", "--historique", _history(tmp_path), "--stats", "-f", "json")
    document = json.loads(result.stdout)
    assert errors("suivi-stats", document) == []
    assert document["taux"] == 0.3 and document["sens"] == "baisse"
    assert [r["taux"] for r in document["par_accuse"]] == [0.4, 0.2, None]
    renamed = {**document, "par_familles": document.pop("par_famille")}
    assert errors("suivi-stats", renamed)
    empty = json.loads(
        run("suivi", "--historique", tmp_path / "v.sqlite", "--stats", "-f", "json").stdout
    )
    assert errors("suivi-stats", empty) == []


def test_suivi_stats_page_with_its_charts(tmp_path: Path) -> None:
    store = _history(tmp_path)
    hostile = tmp_path / "<img src=x onerror=alert(1)>.xml"
    hostile.write_bytes((FIXTURES / "recu-variantes.xml").read_bytes())
    record(accuse.analyse(hostile), store)  # a receipt whose name is HTML
    page = tmp_path / "statistiques.html"
    result = run("suivi", "--historique", store, "--stats", "--sortie", page)
    assert result.exit_code == 0, result.output
    doc = lxml.html.document_fromstring(page.read_text("utf-8"))
    assert doc.xpath("//img") == [] and hostile.name in doc.text_content()
    charts = doc.xpath("//figure[@class='graphique']")
    assert [c.get("id") for c in charts] == [
        "graphique-depots",
        "graphique-familles",
        "graphique-certifications",
    ]
    bars = charts[0].xpath(".//g[@class='barre']/text[@class='valeur']")
    assert [b.text for b in bars][:2] == ["40\u00a0%", "20\u00a0%"]
    rows = doc.get_element_by_id("table-depots").xpath(".//tbody/tr")
    assert "fichier entier refusé" in rows[2].text_content()
    assert len(rows) == 4
    assert not doc.xpath("//script") and not doc.xpath("//link")


def test_suivi_stats_wants_an_html_page(tmp_path: Path) -> None:
    result = run("suivi", "--historique", _history(tmp_path), "--stats", "-o", tmp_path / "s.xlsx")
    assert result.exit_code == 2
    assert "page .html" in result.output
    assert not (tmp_path / "s.xlsx").exists()


# --- pandas stays off the other paths ------------------------------------------------------


def _loads_pandas(args: list[str], tmp_path: Path) -> bool:
    code = (
        "import sys\nfrom accuse.cli.app import main\n"
        f"sys.argv = ['accuse', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "ACCUSE_HISTORIQUE": str(tmp_path / "h.sqlite"),
        },
        timeout=300,
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_pandas_only_for_the_statistics(tmp_path: Path) -> None:
    analyse = [
        "analyse",
        str(FIXTURES / "recu.xml"),
        "-s",
        str(FIXTURES / "source.csv"),
        "-o",
        str(tmp_path / "out"),
        "-f",
        "json",
    ]
    assert not _loads_pandas(analyse, tmp_path)
    assert (tmp_path / "out" / "corrections.xlsx").is_file(), "the analysis really ran"
    assert not _loads_pandas(["suivi"], tmp_path)
    assert not _loads_pandas(["--help"], tmp_path)
    assert _loads_pandas(["suivi", "--stats"], tmp_path)  # the check itself can fail


def test_the_stats_schema_is_valid() -> None:
    from importlib import resources

    text = resources.files("accuse").joinpath("data/schemas/suivi-stats.json").read_text("utf-8")
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


# --- the receipts' own order ----------------------------------------------------------------

OLDER = "Accusé de traitement_flux.xml_20250110"
NEWER = "Accusé de traitement_flux.xml_20250210"


def test_stats_follow_the_receipts_own_dates_not_the_recording_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The February receipt is recorded first, the January one after it: the rates are still
    listed, compared and trended from January to February (2 of 2 refused, then 1 of 2)."""
    store = tmp_path / "ordre.sqlite"
    holders = [A, B]
    newer = Deposit(NEWER, {"B-2": "N1"}, ["A-1"], holders=holders)
    older = Deposit(OLDER, {"A-1": "N1", "B-2": "N1"}, [], holders=holders)
    for deposit in (newer, older):
        record(deposit.analyse(tmp_path), store)
    assert [r.receipt_name for r in load(store).receipts] == [f"{NEWER}.xml", f"{OLDER}.xml"]

    stats = compute_stats(load(store))
    assert [(r.receipt_name, r.rate) for r in stats.receipts] == [
        (f"{OLDER}.xml", 1.0),
        (f"{NEWER}.xml", 0.5),
    ]
    assert [r.received_on.isoformat() for r in stats.receipts] == ["2025-01-10", "2025-02-10"]
    assert stats.receipts[0].change is None
    assert stats.receipts[1].change == pytest.approx(-0.5)
    assert stats.trend == pytest.approx(-0.5) and direction(stats.trend) == "baisse"
    family = next(g for g in stats.families if g.key == "TITULAIRE_INTROUVABLE_N1")
    assert family.trend == pytest.approx(-0.5)

    document = json.loads(run("suivi", "--historique", store, "--stats", "-f", "json").stdout)
    assert errors("suivi-stats", document) == []
    assert [(r["date_accuse"], r["evolution"]) for r in document["par_accuse"]] == [
        ("2025-01-10", None),
        ("2025-02-10", -0.5),
    ]
    assert document["sens"] == "baisse"
    monkeypatch.setenv("COLUMNS", "200")
    text = run("suivi", "--historique", store, "--stats").stdout
    assert "Accusé du" in text
    assert text.index("10/01/2025") < text.index("10/02/2025")
    assert "en baisse" in text
