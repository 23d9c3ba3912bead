"""What the history gives back, and the quick read of a SQLite history for `accuse suivi`.

The records (a recorded receipt, one mention of a passage, what the tracking reads) are plain
dataclasses, free of the database layer. ``quick_events`` reads what the tracking needs straight
from a SQLite history file with the standard sqlite3 module: on a million recorded passages,
loading SQLAlchemy was about a sixth of `accuse suivi`'s time. It reads only a file it reads
exactly as store.load_events would (a SQLite file, in a format read as it stands); anything
else (a server address, no file, another format, any error at all) is left to load_events,
which reads it the same way or says in French what is wrong.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field, fields
from pathlib import Path

SCHEMA_VERSION = 4
# The oldest schema a reading command reads as it stands, without migrating it: the versions
# after it only add indexes (a reading command never writes; the next recording adds them).
READABLE_FROM = 3
ENV_VAR = "ACCUSE_HISTORIQUE"
DEFAULT_NAME = "historique.sqlite"
BUSY_SECONDS = 30  # how long a SQLite writer waits for another one before giving up


@dataclass(frozen=True)
class RecordedReceipt:
    id: int
    receipt_name: str
    shape: str
    nomFichier: str | None
    idFlux: str | None
    idTraitement: str | None
    idDemande: str | None
    source_name: str | None
    analysed_at: dt.datetime  # local time
    recorded_at: dt.datetime
    accepted_count: int
    rejected_count: int
    file_error_count: int


@dataclass(frozen=True)
class PassageEvent:
    """One mention of a passage in one receipt."""

    receipt_id: int
    idTechnique: str
    status: str
    family: str | None
    family_title: str | None
    message: str | None
    nomNaissance: str | None
    prenom1: str | None
    code: str | None
    dateDebutValidite: dt.date | None


@dataclass(frozen=True)
class WithdrawalEvent:
    """One passage of a SUPPRESSION flux's receipt: withdrawn (OK) or not (KO)."""

    receipt_id: int
    idTechnique: str
    status: str
    message: str | None


# One mention of a passage as the tracking reads it: PassageEvent's fields, in its order, as a
# plain tuple (a hundred thousand frozen dataclasses cost more than the query that finds them);
# on SQLite its date may still be the text stored (TrackedEvents.days gives the date).
EventRow = tuple[
    int,
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    dt.date | str | None,
]
EVENT_COLUMNS = tuple(f.name for f in fields(PassageEvent))  # its date last


@dataclass(frozen=True)
class TrackedEvents:
    """What `accuse suivi` needs of the history, and no more: every rejection, and the
    acceptances of the passages ever rejected (never those of passages only ever accepted)."""

    location: str
    receipts: list[RecordedReceipt]  # in recording order
    events: list[EventRow]  # in no particular order
    withdrawals: list[WithdrawalEvent]  # in recording order
    days: dict[str, dt.date] = field(default_factory=dict)  # stored text -> date (SQLite)

    def day(self, value: dt.date | str | None) -> dt.date | None:
        return self.days[value] if isinstance(value, str) else value


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored moment in local time (SQLite gives it back without its UTC zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone()


def stored_date(text: object) -> dt.date:
    """A date as SQLAlchemy's Date stores it in SQLite (AAAA-MM-JJ)."""
    if not isinstance(text, str):
        raise TypeError(f"{text!r} n'est pas une date")
    return dt.date.fromisoformat(text)


# --- the quick read ------------------------------------------------------------------------

_RECEIPT_COLUMNS = tuple(f.name for f in fields(RecordedReceipt))


def quick_events(given: str | Path | None = None) -> TrackedEvents | None:
    """store.load_events(given), read from a SQLite history file without SQLAlchemy; None when
    this read does not apply or meets anything unexpected (load_events then takes over)."""
    path = _sqlite_file(given)
    if path is None:
        return None
    try:
        return _read(path)
    except Exception:  # load_events reads it again, and tells what is wrong if anything is
        return None


def _sqlite_file(given: str | Path | None) -> Path | None:
    """The history file store.resolve_location names, when it is a SQLite file that exists."""
    text = str(given).strip() if given is not None else ""
    text = text or os.environ.get(ENV_VAR, "").strip()
    if not text:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("accuse", appauthor=False)) / DEFAULT_NAME
    elif text == ":memory:" or "://" in text:
        return None
    else:
        path = Path(text).expanduser()
        if path.is_dir():
            path = path / DEFAULT_NAME
    return path if path.is_file() else None


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _read(path: Path) -> TrackedEvents | None:
    uri = path.absolute().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS, isolation_level=None)
    with contextlib.closing(connection):
        connection.execute("BEGIN")  # one snapshot for every read below
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        if not {"schema_version", "receipts", "passages", "withdrawals"} <= tables:
            return None
        (version,) = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        if type(version) is not int or not READABLE_FROM <= version <= SCHEMA_VERSION:
            return None
        found = [
            RecordedReceipt(
                id=row[0],
                receipt_name=row[1],
                shape=row[2],
                nomFichier=row[3],
                idFlux=row[4],
                idTraitement=row[5],
                idDemande=row[6],
                source_name=row[7],
                analysed_at=aware(_moment(row[8])),
                recorded_at=aware(_moment(row[9])),
                accepted_count=row[10],
                rejected_count=row[11],
                file_error_count=row[12],
            )
            for row in connection.execute(
                f"SELECT {_quoted(_RECEIPT_COLUMNS)} FROM receipts ORDER BY id"
            )
        ]
        columns = _quoted(EVENT_COLUMNS)
        events: list[EventRow] = connection.execute(
            f"SELECT {columns} FROM passages WHERE status = 'KO' UNION ALL "
            f"SELECT {columns} FROM passages WHERE status = 'OK' AND \"idTechnique\" IN "
            "(SELECT \"idTechnique\" FROM passages WHERE status = 'KO')"
        ).fetchall()
        stored = {e[9] for e in events}
        stored.discard(None)
        days = {str(text): stored_date(text) for text in stored}
        withdrawn = [
            WithdrawalEvent(*row)
            for row in connection.execute(
                'SELECT receipt_id, "idTechnique", status, message FROM withdrawals '
                'ORDER BY receipt_id, "idTechnique"'
            )
        ]
        connection.execute("COMMIT")
    return TrackedEvents(str(path), found, events, withdrawn, days)


def _moment(stored: object) -> dt.datetime:
    """A moment as SQLAlchemy's DateTime stores it in SQLite (AAAA-MM-JJ HH:MM:SS.ffffff)."""
    if not isinstance(stored, str):
        raise TypeError(f"{stored!r} n'est pas un moment")
    return dt.datetime.fromisoformat(stored)
