"""`accuse suivi`: a sequence of receipts replayed into the history (SQLite and PostgreSQL) and
the view checked after each one; deadlines; JSON, workbook and the command itself."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from accuse.cli.suivi import record_analysis, suivi_command
from accuse.history.store import load, record
from accuse.history.tracking import Tracking, add_months, compute, track, urgency
from accuse.pipeline.analysis import analyse
from accuse.render.suivi import build_document, write_workbook
from tests.history_support import Deposit, Holder

pytest_plugins = ["tests.postgres"]

# The day each test runs on, set when the test starts (never at import: a session that
# crosses midnight would compare dates of two different days).
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.TODAY", dt.date.today())


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def view(store: str) -> Tracking:
    tracking = track(store, today=TODAY)
    # The lean read (rejections and the acceptances of rejected passages only) tracks exactly
    # what the whole history loaded gives.
    assert tracking == compute(load(store, every_passage=True), today=TODAY)
    return tracking


def still(tracking: Tracking) -> list[tuple[str, str, int]]:
    return [(p.idTechnique, p.urgency, p.rejected_deposits) for p in tracking.still_rejected]


def resolved(tracking: Tracking) -> dict[str, bool]:
    return {p.idTechnique: p.as_doublon for p in tracking.resolved}


def ko_then_fixed() -> list[Deposit]:
    """Three deposits, their dates counted back from the test's own day."""
    a = Holder("A-1", "Lefebvre", "Léa", "RNCP34567", ago(80))  # deadline in about 10 days
    b = Holder("B-2", '=HYPERLINK("x")', "Paul", "RS5678", ago(200))  # long past its deadline
    d = Holder("D-4", "Martin", "Thomas", "RNCP36129", ago(10).isoformat())  # AAAA-MM-JJ text
    return [
        Deposit("r1", {"A-1": "N1", "B-2": "N2"}, ["C-3"], holders=[a, b], days_ago=60),
        Deposit("r2", {"B-2": "N1"}, ["A-1", "C-3"], holders=[b], days_ago=30),
        # A new rejection; E-5 is not in the source given, so its deadline is unknown.
        Deposit("r3", {"D-4": "DATES", "E-5": "N1"}, [], holders=[d], days_ago=5),
    ]


def test_replay_of_a_sequence_of_receipts(store: str, tmp_path: Path) -> None:
    r1, r2, r3 = ko_then_fixed()

    assert view(store).receipts == []

    # 1. First deposit: two rejected, the one past its deadline first.
    assert record(r1.analyse(tmp_path), store).new
    tracking = view(store)
    assert still(tracking) == [("B-2", "depassee", 1), ("A-1", "sous_30_jours", 1)]
    assert resolved(tracking) == {}
    a = tracking.still_rejected[1]
    assert a.holder == "Lefebvre Léa" and a.code == "RNCP34567"
    assert a.dateDebutValidite == ago(80)
    assert a.deadline == add_months(ago(80), 3)
    assert a.days_left == (a.deadline - TODAY).days
    assert a.first_rejected == a.last_rejected == ago(60)
    assert a.family == "TITULAIRE_INTROUVABLE_N1"
    assert not tracking.repeated

    # 2. A fixed and accepted; B rejected again: two deposits, flagged.
    assert record(r2.analyse(tmp_path), store).new
    tracking = view(store)
    assert still(tracking) == [("B-2", "depassee", 2)]
    assert resolved(tracking) == {"A-1": False}
    b = tracking.still_rejected[0]
    assert (b.first_rejected, b.last_rejected) == (ago(60), ago(30))
    assert b.family == "TITULAIRE_INTROUVABLE_N1"  # the latest rejection's family
    assert b.receipts == ("r1.xml", "r2.xml")
    assert [p.idTechnique for p in tracking.repeated] == ["B-2"]
    assert tracking.resolved[0].accepted_on == ago(30)

    # 3. A new KO, with and without its source row.
    assert record(r3.analyse(tmp_path), store).new
    tracking = view(store)
    assert still(tracking) == [
        ("B-2", "depassee", 2),
        ("D-4", "plus_tard", 1),
        ("E-5", "inconnue", 1),
    ]
    e = tracking.still_rejected[2]
    assert e.holder == "" and e.deadline is None and e.days_left is None
    assert tracking.still_rejected[1].dateDebutValidite == ago(10)

    # 4. The same receipt again (another copy of it): nothing changes.
    copy = tmp_path / "copie-r3.xml"
    shutil.copy(tmp_path / "r3.xml", copy)
    assert not record(analyse(copy, tmp_path / "r3.csv"), store).new
    again = view(store)
    assert still(again) == still(tracking)
    assert len(again.receipts) == 3

    # 5. B comes back as a DOUBLON: the portal holds it, so it counts as accepted. F-6 was
    # only ever a DOUBLON: nothing to track.
    r4 = Deposit("r4", {"B-2": "DOUBLON", "F-6": "DOUBLON"}, ["D-4"], days_ago=0)
    assert record(r4.analyse(tmp_path), store).new
    tracking = view(store)
    assert still(tracking) == [("E-5", "inconnue", 1)]
    assert resolved(tracking) == {"A-1": False, "B-2": True, "D-4": False}
    assert not tracking.repeated
    assert [r.receipt_name for r in tracking.receipts] == ["r1.xml", "r2.xml", "r3.xml", "r4.xml"]


def test_deadline_arithmetic() -> None:
    assert add_months(dt.date(2025, 8, 31), 3) == dt.date(2025, 11, 30)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2025, 10, 15), 3) == dt.date(2026, 1, 15)
    assert [urgency(n) for n in (-1, 0, 30, 31, None)] == [
        "depassee",
        "sous_30_jours",
        "sous_30_jours",
        "plus_tard",
        "inconnue",
    ]


def test_most_overdue_first_then_soonest(tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    holders = [
        Holder("late-1", "Un", "A", "RS1", ago(100)),
        Holder("late-2", "Deux", "B", "RS1", ago(300)),
        Holder("soon-1", "Trois", "C", "RS1", ago(85)),
        Holder("soon-2", "Quatre", "D", "RS1", ago(70)),
        Holder("later", "Cinq", "E", "RS1", ago(1)),
    ]
    deposit = Deposit("r1", {h.idTechnique: "N1" for h in holders}, holders=holders)
    record(deposit.analyse(tmp_path), store)
    order = [p.idTechnique for p in view(store).still_rejected]
    assert order == ["late-2", "late-1", "soon-1", "soon-2", "later"]


def _replayed(tmp_path: Path, store: str) -> None:
    for deposit in ko_then_fixed():
        record(deposit.analyse(tmp_path), store)


def test_json_document(tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    _replayed(tmp_path, store)
    document = build_document(view(store))
    json.dumps(document)  # serialisable as is
    assert document["synthese"] == {
        "accuses": 3,
        "encore_refuses": 3,
        "echeance_depassee": 1,
        "echeance_sous_30_jours": 0,
        "echeance_inconnue": 1,
        "refuses_plusieurs_depots": 1,
        "resolus": 1,
    }
    first = document["encore_refuses"][0]
    assert first["idTechnique"] == "B-2"
    assert first["refuse_plusieurs_depots"] is True
    assert first["premier_refus"] == ago(60).isoformat()
    assert first["echeance"] == add_months(ago(200), 3).isoformat()
    assert first["urgence"] == "depassee"
    assert "conserver les preuves" in document["conseil_refus_repetes"]
    assert document["resolus"] == [
        {
            "idTechnique": "A-1",
            "titulaire": "Lefebvre Léa",
            "depots_refuses": 1,
            "dernier_refus": ago(60).isoformat(),
            "accepte_le": ago(30).isoformat(),
            "doublon": False,
        }
    ]
    assert [r["accuse"] for r in document["accuses"]] == ["r1.xml", "r2.xml", "r3.xml"]


def test_workbook_keeps_text_as_text(tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    _replayed(tmp_path, store)
    target = tmp_path / "suivi.xlsx"
    write_workbook(view(store), target)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Encore refusés", "Résolus", "Accusés"]
    sheet = book["Encore refusés"]
    assert sheet["B2"].value == "B-2"
    holder = sheet["C2"]
    assert holder.value == '=HYPERLINK("x") Paul' and holder.data_type == "s"
    assert sheet["G2"].value == 2 and sheet["H2"].value == "oui"
    assert sheet["L2"].value.date() == add_months(ago(200), 3)
    assert book["Résolus"]["A2"].value == "A-1"
    assert book["Accusés"].max_row == 4
    assert not list(tmp_path.glob(".suivi-*"))  # the temporary file is gone


# --- the command ----------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("suivi")(suivi_command)

    @app.callback()
    def _root() -> None:
        pass

    return app


def test_command_text_json_workbook_and_receipts(store: str, tmp_path: Path) -> None:
    _replayed(tmp_path, store)
    runner = CliRunner()
    app = _app()

    result = runner.invoke(app, ["suivi", "--historique", store], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "3 passages sont encore refusés : 1 a dépassé l'échéance légale." in result.output
    assert "B-2" in result.output and "Lefebvre" not in result.output  # A is resolved
    assert "j de retard" in result.output
    assert "conserver les preuves" in result.output
    assert "1 passage refusé a depuis été accepté." in result.output

    result = runner.invoke(app, ["suivi", "--historique", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["synthese"]["encore_refuses"] == 3
    # Each passage whole on its own line (indent=2 would spread it over a dozen lines through
    # the pure-Python encoder), accents kept.
    lines = [line.strip().rstrip(",") for line in result.output.splitlines()]
    whole = [json.loads(line) for line in lines if line.startswith('{"idTechnique"')]
    assert whole == document["encore_refuses"] + document["resolus"]
    assert any("é" in line for line in lines)

    # The terminal shows the most urgent few; it says where the others are.
    result = runner.invoke(
        app, ["suivi", "--historique", store, "--lignes", "1"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "… et 2 autre(s) passage(s) encore refusé(s)" in result.output

    target = tmp_path / "suivi.xlsx"
    result = runner.invoke(app, ["suivi", "--historique", store, "--sortie", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file()

    result = runner.invoke(app, ["suivi", "--historique", store, "--recus"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "r1.xml" in result.output and "r3.xml" in result.output

    result = runner.invoke(app, ["suivi", "--historique", store, "--recus", "-f", "json"])
    assert [r["idTraitement"] for r in json.loads(result.output)["accuses"]] == ["r1", "r2", "r3"]


def test_command_on_an_empty_history(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["suivi", "--historique", str(tmp_path / "rien.sqlite")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "L'historique est vide" in result.output
    assert not (tmp_path / "rien.sqlite").exists()


def test_command_refuses_a_bad_workbook_name_and_an_input(tmp_path: Path) -> None:
    store = tmp_path / "h.sqlite"
    _replayed(tmp_path, str(store))
    runner = CliRunner()
    result = runner.invoke(
        _app(), ["suivi", "--historique", str(store), "--sortie", str(tmp_path / "suivi.csv")]
    )
    assert result.exit_code == 2
    assert "--sortie attend un classeur .xlsx" in result.output
    bogus = tmp_path / "h.xlsx"
    shutil.copy(store, bogus)
    result = runner.invoke(_app(), ["suivi", "--historique", str(bogus), "--sortie", str(bogus)])
    assert result.exit_code == 2
    assert "jamais" in result.output


def test_record_analysis_notes(tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    analysis = ko_then_fixed()[0].analyse(tmp_path)
    assert record_analysis(analysis, store, True) == (
        "Historique : accusé non enregistré (--sans-historique)."
    )
    note = record_analysis(analysis, store, False)
    assert note.startswith("Historique : accusé enregistré (2 refusés, 1 accepté) dans ")
    note = record_analysis(analysis, store, False)
    assert "y figure déjà" in note and "pas compté deux fois" in note
    note = record_analysis(analysis, str(tmp_path / "absent" / "h.sqlite"), False)
    assert note.startswith("Historique non mis à jour : ")


def test_record_analysis_note_when_the_source_comes_later(tmp_path: Path) -> None:
    store = str(tmp_path / "h.sqlite")
    receipt, source = ko_then_fixed()[0].write(tmp_path)
    record_analysis(analyse(receipt), store, False)
    note = record_analysis(analyse(receipt, source), store, False)
    assert "y ont été ajoutées pour 2 passages refusés." in note
    # Now the deadlines are known.
    assert [p.urgency for p in view(store).still_rejected] == ["depassee", "sous_30_jours"]
