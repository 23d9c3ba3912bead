"""The history store, on SQLite and on a real PostgreSQL server: schema, recording, duplicate
receipts, newer schemas, and two processes at once or one killed mid-record."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select

from accuse.errors import InputError
from accuse.history import store as history
from accuse.history.store import (
    accepted_ids,
    load,
    load_events,
    passages,
    receipts,
    record,
    resolve_location,
    schema_version,
    unknown_messages,
    unknown_sightings,
    withdrawals,
)
from accuse.history.tracking import track
from tests.history_support import Deposit, Holder, big_deposit, killed_worker, record_worker

pytest_plugins = ["tests.postgres"]


def _counts(store: str) -> tuple[int, int]:
    engine = create_engine(resolve_location(store).url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(select(func.count()).select_from(receipts)).scalar_one(),
                conn.execute(select(func.count()).select_from(passages)).scalar_one(),
            )
    finally:
        engine.dispose()


def _consistent(store: str) -> None:
    """Every receipt has exactly the passages its counts say, and no passage is orphaned."""
    engine = create_engine(resolve_location(store).url)
    try:
        with engine.connect() as conn:
            for receipt in conn.execute(select(receipts)):
                mentioned = conn.execute(
                    select(passages.c.status, func.count())
                    .where(passages.c.receipt_id == receipt.id)
                    .group_by(passages.c.status)
                ).all()
                got = dict(mentioned)
                assert got.get("OK", 0) == receipt.accepted_count
                assert got.get("KO", 0) == receipt.rejected_count
            orphans = conn.execute(
                select(func.count())
                .select_from(passages)
                .where(passages.c.receipt_id.not_in(select(receipts.c.id)))
            ).scalar_one()
            assert orphans == 0
    finally:
        engine.dispose()


# --- where ----------------------------------------------------------------------------------


def test_default_location_is_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCUSE_HISTORIQUE", raising=False)
    location = resolve_location(None)
    assert location.default
    assert location.path is not None
    assert location.path.name == "historique.sqlite"
    assert location.path.parent.name == "accuse"


def test_environment_variable_then_argument(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ACCUSE_HISTORIQUE", str(tmp_path / "env.sqlite"))
    assert resolve_location(None).path == tmp_path / "env.sqlite"
    assert resolve_location(str(tmp_path / "arg.sqlite")).path == tmp_path / "arg.sqlite"
    # A folder gets the default file name inside it.
    assert resolve_location(str(tmp_path)).path == tmp_path / "historique.sqlite"


def test_postgresql_url_uses_psycopg_and_hides_the_password() -> None:
    location = resolve_location("postgresql://alice:secret@db.example.fr:5433/accuse")
    assert location.path is None
    assert location.url.drivername == "postgresql+psycopg"
    assert "secret" not in location.display
    assert resolve_location("postgres://bob@/h?host=/tmp").url.drivername == "postgresql+psycopg"


def test_other_urls_are_refused() -> None:
    with pytest.raises(InputError, match="non prise en charge"):
        resolve_location("mysql://root@localhost/accuse")


def test_missing_folder_of_an_explicit_path_is_refused(tmp_path: Path) -> None:
    analysis = Deposit("r1", {"A": "N1"}).analyse(tmp_path)
    with pytest.raises(InputError, match="n'existe pas"):
        record(analysis, str(tmp_path / "absent" / "h.sqlite"))


def test_default_folder_is_created(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ACCUSE_HISTORIQUE", raising=False)
    monkeypatch.setattr(history, "default_path", lambda: tmp_path / "data" / "accuse" / "h.sqlite")
    analysis = Deposit("r1", {"A": "N1"}).analyse(tmp_path)
    assert record(analysis).new
    assert (tmp_path / "data" / "accuse" / "h.sqlite").is_file()


# --- recording ------------------------------------------------------------------------------


def test_record_keeps_receipt_identity_and_source_fields(store: str, tmp_path: Path) -> None:
    deposit = Deposit(
        "r1",
        {"A": "N1", "B": "DOUBLON"},
        ["C", "D"],
        holders=[
            Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025"),
            Holder("B", "Martin", "Paul", "RS2", "2025-03-04"),
        ],
    )
    outcome = record(deposit.analyse(tmp_path), store)
    assert outcome.new and outcome.rejected == 2 and outcome.accepted == 2
    loaded = load(store)
    (receipt,) = loaded.receipts
    assert receipt.receipt_name == "r1.xml"
    assert (receipt.nomFichier, receipt.idFlux, receipt.idTraitement) == (
        "flux.xml",
        "flux-r1",
        "r1",
    )
    assert receipt.shape == "passages" and receipt.source_name == "r1.csv"
    assert receipt.analysed_at.tzinfo is not None
    events = {e.idTechnique: e for e in loaded.events}
    assert set(events) == {"A", "B"}  # passages only ever accepted are not loaded
    a = events["A"]
    assert (a.status, a.family, a.nomNaissance, a.prenom1, a.code) == (
        "KO",
        "TITULAIRE_INTROUVABLE_N1",
        "Lefebvre",
        "Léa",
        "RNCP1",
    )
    assert str(a.dateDebutValidite) == "2025-02-01"
    assert str(events["B"].dateDebutValidite) == "2025-03-04"
    assert _counts(store) == (1, 4)
    _consistent(store)


def test_values_reach_the_store_as_they_are(store: str, tmp_path: Path) -> None:
    """Rows go by the driver's own path (PostgreSQL: COPY, whose text format escapes
    backslashes and tabs): what is read back is what was recorded."""
    odd = "ID\\N\tx"  # a backslash, then N, a tab: COPY's own escapes, here as data
    holders = [Holder(odd, "D'Été\\", "Zoé")]
    record(Deposit("r1", {odd: "DATES"}, ["OK\\1"], holders).analyse(tmp_path), store)
    (event,) = load(store).events
    assert event.idTechnique == odd
    assert event.nomNaissance == "D'Été\\" and event.prenom1 == "Zoé"
    assert event.message is not None and odd in event.message
    assert accepted_ids(store)[1] == frozenset({"OK\\1"})


def test_same_receipt_twice_is_recognised(store: str, tmp_path: Path) -> None:
    first = Deposit("r1", {"A": "N1"}, ["B"]).analyse(tmp_path)
    assert record(first, store).new
    # The same bytes under another name, analysed again: not counted twice.
    copy = tmp_path / "copie.xml"
    shutil.copy(tmp_path / "r1.xml", copy)
    from accuse.pipeline.analysis import analyse

    again = record(analyse(copy), store)
    assert not again.new
    assert again.rejected == 1 and again.accepted == 1
    assert _counts(store) == (1, 2)


def test_same_receipt_with_its_source_later_completes_it(store: str, tmp_path: Path) -> None:
    from accuse.pipeline.analysis import analyse

    deposit = Deposit(
        "r1",
        {"A": "N1", "B": "N2", "Z": "N1"},
        ["C"],
        holders=[Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025"), Holder("B", "Roy", "Ana")],
    )
    receipt, source = deposit.write(tmp_path)
    alone = record(analyse(receipt), store)
    assert alone.new and alone.completed == 0
    assert {e.nomNaissance for e in load(store).events} == {None}

    again = record(analyse(receipt, source), store)
    assert not again.new and again.completed == 2  # Z is not in the source
    events = {e.idTechnique: e for e in load(store).events}
    assert (events["A"].nomNaissance, str(events["A"].dateDebutValidite)) == (
        "Lefebvre",
        "2025-02-01",
    )
    assert events["B"].prenom1 == "Ana" and events["Z"].nomNaissance is None
    assert load(store).receipts[0].source_name == "r1.csv"

    # Never overwritten, never counted twice.
    other = tmp_path / "other.csv"
    other.write_text("Id Technique;Nom de naissance;Prénom\nA;Autre;Nom\n", encoding="utf-8")
    assert record(analyse(receipt, other), store).completed == 0
    assert {e.idTechnique: e.nomNaissance for e in load(store).events}["A"] == "Lefebvre"
    assert _counts(store) == (1, 4)


def test_whole_file_rejection_is_recorded_without_passages(store: str) -> None:
    from accuse.pipeline.analysis import analyse
    from tests.conftest import FIXTURES

    outcome = record(analyse(FIXTURES / "recu-rejet.xml"), store)
    assert outcome.new
    (receipt,) = load(store).receipts
    assert receipt.shape == "rejet_fichier" and receipt.file_error_count == 6
    assert _counts(store) == (1, 0)


def test_fixture_receipt_with_its_source(store: str) -> None:
    from accuse.pipeline.analysis import analyse
    from tests.conftest import FIXTURES

    record(analyse(FIXTURES / "recu.xml", FIXTURES / "source-plat.xlsx"), store)
    events = {e.idTechnique: e for e in load(store).events}
    assert len(events) == 7
    assert events["1960071"].dateDebutValidite is not None
    assert events["1960020"].nomNaissance
    _consistent(store)


def test_nothing_is_written_to_read(tmp_path: Path) -> None:
    where = tmp_path / "h.sqlite"
    assert load(str(where)).receipts == []
    assert not where.exists()


# --- schema ---------------------------------------------------------------------------------


def test_schema_version_is_recorded(store: str, tmp_path: Path) -> None:
    record(Deposit("r1", {"A": "N1"}).analyse(tmp_path), store)
    engine = create_engine(resolve_location(store).url)
    with engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [1, 2, 3, 4]
    engine.dispose()


def test_unknown_messages_are_kept_masked_and_filled_in_from_version_1(
    store: str, tmp_path: Path
) -> None:
    record(Deposit("r1", {"A": "NIR", "B": "NIR", "C": "N1"}).analyse(tmp_path), store)
    seen = sorted((s.message, s.passages, s.receipt_name) for s in unknown_sightings(store))
    masked = "Le NIR 1 85 05 •• ••• ••• •• est inconnu pour l'id technique partenaire {}"
    assert seen == [(masked.format("A"), 1, "r1.xml"), (masked.format("B"), 1, "r1.xml")]
    # A version 1 history (before unknown messages were kept, NIR in clear) is filled in from
    # its passages when a newer accuse opens it, the NIR masked on the way.
    engine = create_engine(resolve_location(store).url)
    with engine.begin() as conn:
        unknown_messages.drop(conn)
        withdrawals.drop(conn)
        conn.execute(schema_version.delete().where(schema_version.c.version >= 2))
        for i in ("A", "B"):
            conn.execute(
                passages.update()
                .where(passages.c.idTechnique == i)
                .values(
                    message=f"Le NIR 185057800608436 est inconnu pour l'id technique partenaire {i}"
                )
            )
    engine.dispose()
    again = sorted((s.message, s.passages, s.receipt_name) for s in unknown_sightings(store))
    assert again == seen
    engine = create_engine(resolve_location(store).url)
    with engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [1, 2, 3, 4]
    engine.dispose()


def test_tracking_reads_the_rejections_and_their_acceptances_only(
    store: str, tmp_path: Path
) -> None:
    accepted_only = [f"OK-{n:04d}" for n in range(300)]
    holders = [Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025")]
    record(Deposit("r1", {"A": "N1", "B": "N2"}, accepted_only, holders).analyse(tmp_path), store)
    record(Deposit("r2", {"B": "N1"}, ["A", *accepted_only]).analyse(tmp_path), store)
    found = load_events(store)
    names = {r.id: r.receipt_name for r in found.receipts}
    # 604 passages recorded; the tracking reads the 3 rejections and A's acceptance, no more.
    assert _counts(store) == (2, 604)
    assert sorted((names[e[0]], e[1], e[2]) for e in found.events) == [
        ("r1.xml", "A", "KO"),
        ("r1.xml", "B", "KO"),
        ("r2.xml", "A", "OK"),
        ("r2.xml", "B", "KO"),
    ]
    (a,) = [e for e in found.events if e[1] == "A" and e[2] == "KO"]
    assert (a[6], a[7], a[8], found.day(a[9])) == ("Lefebvre", "Léa", "RNCP1", dt.date(2025, 2, 1))


def test_many_rows_per_statement_record_every_passage_as_one_per_statement_would(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passages go in many to an INSERT (SQLite; COPY on PostgreSQL): with room for only a few
    rows a statement, full statements and a shorter last one, rejected rows (every column)
    and accepted ones (their ids and status) come back exactly as recorded."""
    monkeypatch.setattr(history, "_VARIABLES", 25)  # 2 rejected or 8 accepted a statement
    rejected = {f"KO-{n:02d}": "N1" for n in range(7)}
    holders = [Holder(i, f"Nom{n}", "Léa", "RNCP1", "01/02/2025") for n, i in enumerate(rejected)]
    accepted = [f"OK-{n:02d}" for n in range(21)]
    record(Deposit("r1", rejected, accepted, holders).analyse(tmp_path), store)
    loaded = load(store, every_passage=True)
    assert _counts(store) == (1, 28)
    _consistent(store)
    by_id = {e.idTechnique: e for e in loaded.events}
    assert sorted(by_id) == sorted([*rejected, *accepted])
    for n, identifier in enumerate(rejected):
        event = by_id[identifier]
        assert (event.status, event.family, event.nomNaissance, event.prenom1) == (
            "KO",
            "TITULAIRE_INTROUVABLE_N1",
            f"Nom{n}",
            "Léa",
        )
        assert str(event.dateDebutValidite) == "2025-02-01"
    for identifier in accepted:
        event = by_id[identifier]
        assert event.status == "OK"
        assert (event.family, event.family_title, event.message, event.nomNaissance) == (
            (None,) * 4
        )
        assert (event.prenom1, event.code, event.dateDebutValidite) == (None, None, None)


def test_the_rejections_of_given_passages_only(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What accuse analyse reads of the history: the rejections of the passages its receipt
    rejects (looked up a few ids at a time here), the same rows the full read holds for them."""
    monkeypatch.setattr(history, "_VARIABLES", 3)
    first = {f"P{n}": "N1" for n in range(8)}
    record(Deposit("r1", first, ["OK1"]).analyse(tmp_path), store)
    record(Deposit("r2", {"P1": "N2", "P5": "N1", "Q": "N1"}, ["P2"]).analyse(tmp_path), store)
    wanted = ["P1", "P2", "P5", "P7", "Q", "P5", "absent"]
    some = load_events(store, rejections_only=True, among=wanted)
    every = load_events(store, rejections_only=True)
    assert len(some.receipts) == 2
    expected = sorted(e for e in every.events if e[1] in wanted)
    assert sorted(some.events) == expected
    assert sorted((e[0], e[1]) for e in expected) == [
        (1, "P1"),
        (1, "P2"),
        (1, "P5"),
        (1, "P7"),
        (2, "P1"),
        (2, "P5"),
        (2, "Q"),
    ]
    assert load_events(store, rejections_only=True, among=[]).events == []


def _as_version_3(store: str) -> None:
    """The history as accuse wrote it before version 4 (no index of the rejections)."""
    engine = create_engine(resolve_location(store).url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_passages_rejected")
        conn.execute(schema_version.delete().where(schema_version.c.version == 4))
    engine.dispose()


def _indexes(store: str) -> set[str]:
    engine = create_engine(resolve_location(store).url)
    try:
        with engine.connect() as conn:
            return {str(i["name"]) for i in inspect(conn).get_indexes("passages")}
    finally:
        engine.dispose()


def test_a_version_3_history_is_read_as_it_stands_then_migrated_by_a_record(
    store: str, tmp_path: Path
) -> None:
    record(Deposit("r1", {"A": "N1", "B": "N2"}, ["C"]).analyse(tmp_path), store)
    assert "ix_passages_rejected" in _indexes(store)
    expected = track(store)
    _as_version_3(store)
    where = resolve_location(store).path
    before = where.read_bytes() if where is not None else b""
    # A reading command reads it as it stands: same tracking, not a byte written.
    assert track(store) == expected
    assert "ix_passages_rejected" not in _indexes(store)
    if where is not None:
        assert where.read_bytes() == before
        assert not Path(f"{where}-wal").exists() or Path(f"{where}-wal").stat().st_size == 0
    # The next record migrates it: the index is added, in the same transaction as its version.
    record(Deposit("r2", {"B": "N1"}, ["A"]).analyse(tmp_path), store)
    assert "ix_passages_rejected" in _indexes(store)
    engine = create_engine(resolve_location(store).url)
    with engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [1, 2, 3, 4]
    engine.dispose()
    assert [p.idTechnique for p in track(store).still_rejected] == ["B"]


def test_a_sqlite_file_is_read_without_the_database_layer_as_the_store_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """accuse suivi reads a SQLite history with sqlite3 alone (records.quick_events): the same
    receipts, passages, withdrawals and dates as store.load_events, however the file is named
    (its path, its folder, ACCUSE_HISTORIQUE)."""
    from accuse.history.records import quick_events
    from accuse.pipeline.analysis import analyse
    from tests.conftest import FIXTURES

    where = tmp_path / "h.sqlite"
    holders = [Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025")]
    record(Deposit("r1", {"A": "N1", "B": "N2"}, ["C"], holders).analyse(tmp_path), str(where))
    record(Deposit("r2", {"B": "N1"}, ["A"]).analyse(tmp_path), str(where))
    for name in ("creation", "suppression"):
        found = analyse(FIXTURES / f"recu-2026-{name}.xml", FIXTURES / f"flux-2026-{name}.xml")
        record(found, str(where))
    full = load_events(str(where))
    assert len(full.receipts) == 4 and len(full.withdrawals) == 3 and full.days
    (folder := tmp_path / "dossier").mkdir()
    shutil.copy(where, folder / "historique.sqlite")
    monkeypatch.setenv("ACCUSE_HISTORIQUE", str(where))
    for given in (str(where), where, None, folder):
        quick = quick_events(given)
        assert quick is not None, given
        expected = full if given != folder else load_events(folder)
        assert quick.location == expected.location
        assert (quick.receipts, quick.withdrawals, quick.days) == (
            expected.receipts,
            expected.withdrawals,
            expected.days,
        )
        assert sorted(quick.events, key=repr) == sorted(expected.events, key=repr)
    assert track(str(where)) == track(resolve_location(str(where)))  # quick, then the store


def test_the_quick_read_leaves_every_other_history_to_the_store(tmp_path: Path) -> None:
    """No file, a server, a file that is no history, a newer format, a damaged value: not
    read quickly (the store then reads it, or says what is wrong)."""
    from accuse.history.records import quick_events

    where = tmp_path / "h.sqlite"
    assert quick_events(where) is None
    assert quick_events("postgresql://u@localhost/base") is None
    (tmp_path / "texte.sqlite").write_text("pas une base")
    assert quick_events(tmp_path / "texte.sqlite") is None
    holders = [Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025")]
    record(Deposit("r1", {"A": "N1"}, [], holders).analyse(tmp_path), str(where))
    assert quick_events(where) is not None
    engine = create_engine(resolve_location(str(where)).url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE passages SET \"dateDebutValidite\" = 'pas une date'")
    assert quick_events(where) is None
    with engine.begin() as conn:
        conn.exec_driver_sql('UPDATE passages SET "dateDebutValidite" = NULL')
        conn.execute(schema_version.insert().values(version=99, applied_at=dt.datetime.now()))
    engine.dispose()
    assert quick_events(where) is None
    with pytest.raises(InputError, match="plus récent"):
        track(str(where))


def test_a_damaged_passage_date_is_told_not_crashed(tmp_path: Path) -> None:
    where = tmp_path / "h.sqlite"
    holders = [Holder("A", "Lefebvre", "Léa", "RNCP1", "01/02/2025")]
    record(Deposit("r1", {"A": "N1"}, [], holders).analyse(tmp_path), str(where))
    engine = create_engine(resolve_location(str(where)).url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE passages SET \"dateDebutValidite\" = 'pas une date'")
    engine.dispose()
    with pytest.raises(InputError, match="valeur illisible"):
        track(str(where))


def test_newer_schema_is_refused_untouched(store: str, tmp_path: Path) -> None:
    record(Deposit("r1", {"A": "N1"}).analyse(tmp_path), store)
    engine = create_engine(resolve_location(store).url)
    with engine.begin() as conn:
        conn.execute(schema_version.insert().values(version=99, applied_at=history._utc_now()))
    engine.dispose()
    analysis = Deposit("r2", {"B": "N1"}).analyse(tmp_path)
    with pytest.raises(InputError, match="plus récent") as caught:
        record(analysis, store)
    assert "Mettez accuse à jour" in caught.value.message
    with pytest.raises(InputError, match="plus récent"):
        load(store)
    assert _counts(store) == (1, 1)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("ceci n'est pas une base\n" * 100)
    analysis = Deposit("r1", {"A": "N1"}).analyse(tmp_path)
    with pytest.raises(InputError, match="n'est pas un historique accuse"):
        record(analysis, str(bogus))


def test_foreign_tables_are_not_taken_over(tmp_path: Path) -> None:
    where = tmp_path / "autre.sqlite"
    engine = create_engine(f"sqlite:///{where}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE receipts (x INTEGER)")
    engine.dispose()
    with pytest.raises(InputError, match="ne viennent pas d'accuse"):
        record(Deposit("r1", {"A": "N1"}).analyse(tmp_path), str(where))


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    analysis = Deposit("r1", {"A": "N1"}).analyse(tmp_path)
    url = f"postgresql://nobody@/nothing?host={tmp_path}"
    with pytest.raises(InputError, match="impossible d'utiliser l'historique"):
        record(analysis, url)


# --- two processes at once, and a process killed --------------------------------------------


def _run_together(deposits: list[Deposit], folder: Path, store: str) -> list[tuple]:
    context = multiprocessing.get_context("spawn")  # no inherited connections or locks
    barrier = context.Barrier(len(deposits))
    results = context.Queue()
    workers = [
        context.Process(target=record_worker, args=(d, str(folder), store, barrier, results))
        for d in deposits
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(90)
        assert worker.exitcode == 0
    return [results.get(timeout=5) for _ in workers]


def test_two_processes_record_different_receipts(store: str, tmp_path: Path) -> None:
    deposits = [big_deposit("p1", 3000), big_deposit("p2", 3000)]
    outcomes = _run_together(deposits, tmp_path, store)
    assert sorted((name, new) for name, new, _ in outcomes) == [("p1", True), ("p2", True)]
    assert _counts(store) == (2, 6000)
    _consistent(store)


def test_two_processes_record_the_same_receipt(store: str, tmp_path: Path) -> None:
    deposit = big_deposit("p1", 3000)
    twin = Deposit(deposit.name, deposit.ko, deposit.ok)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=record_worker, args=(d, str(f), store, barrier, results))
        for d, f in ((deposit, first), (twin, second))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(90)
        assert worker.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in workers]
    assert sorted(new for _, new, _ in outcomes) == [False, True]
    assert len({receipt_id for _, _, receipt_id in outcomes}) == 1
    assert _counts(store) == (1, 3000)
    _consistent(store)


def test_a_process_killed_mid_record_leaves_the_history_consistent(
    store: str, tmp_path: Path
) -> None:
    record(Deposit("before", {"A": "N1"}, ["B"]).analyse(tmp_path), store)
    deposit = big_deposit("killed", 5000)  # several batches: killed after the first
    context = multiprocessing.get_context("spawn")
    worker = context.Process(target=killed_worker, args=(deposit, str(tmp_path), store))
    worker.start()
    worker.join(90)
    assert worker.exitcode == -9
    assert _counts(store) == (1, 2)
    _consistent(store)
    assert [r.receipt_name for r in load(store).receipts] == ["before.xml"]
    # The same receipt recorded afterwards is new and whole.
    from accuse.pipeline.analysis import analyse

    assert record(analyse(tmp_path / "killed.xml"), store).new
    assert _counts(store) == (2, 5002)
    _consistent(store)
    if not store.startswith("postgresql"):
        engine = create_engine(resolve_location(store).url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        engine.dispose()
