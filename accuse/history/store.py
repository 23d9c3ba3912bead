"""The history store: every analysed receipt and its passages, in SQLite or PostgreSQL.

One SQLAlchemy Core schema serves both back ends; the only per-back-end code is how the engine
is opened (SQLite needs WAL, a busy timeout and real transactions). Writes are single
transactions guarded by unique constraints, so two processes recording at once neither lose nor
duplicate anything, and a process killed mid-record leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import astuple, dataclass, field, fields
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, ProgrammingError, SQLAlchemyError

from accuse.cells import as_date, cell_text
from accuse.digest import file_digest
from accuse.errors import InputError
from accuse.files import os_reason, require_regular_file
from accuse.history.records import (
    BUSY_SECONDS,
    DEFAULT_NAME,
    ENV_VAR,
    EVENT_COLUMNS,
    READABLE_FROM,
    SCHEMA_VERSION,
    EventRow,
    PassageEvent,
    RecordedReceipt,
    TrackedEvents,
    WithdrawalEvent,
    aware,
    stored_date,
)
from accuse.model import CellValue
from accuse.nir import mask_in_text as mask_nir
from accuse.text import inert, squeeze

if TYPE_CHECKING:
    import pandas as pd

    from accuse.pipeline.analysis import Analysis

_CHUNK = 2000  # passages per INSERT batch: bounded memory on large receipts
_CACHE_KIB = 32 * 1024  # page cache of a writing SQLite connection
_VARIABLES = 999  # values bound in one SQLite statement at most (SQLite before 3.32)

metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

schema_version = Table(
    "schema_version",
    metadata,
    # One row per migration applied: a concurrent migration of the same step collides here.
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    # The same receipt analysed twice (or by two people) is recognised by its bytes.
    Column("sha256", String(64), nullable=False, unique=True),
    Column("receipt_name", Text, nullable=False),
    Column("shape", String(16), nullable=False),
    Column("nomFichier", Text),
    Column("idFlux", Text),
    Column("idTraitement", Text),
    Column("idDemande", Text),
    Column("source_name", Text),
    Column("analysed_at", DateTime(timezone=True), nullable=False),  # stored in UTC
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("accepted_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    Column("file_error_count", Integer, nullable=False),
)

passages = Table(
    "passages",
    metadata,
    Column(
        "receipt_id",
        Integer,
        ForeignKey("receipts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("idTechnique", Text, primary_key=True),
    Column("status", String(2), nullable=False),
    Column("family", String(64)),
    Column("family_title", Text),
    Column("message", Text),
    # The few source fields tracking needs, when a source was given (rejected passages only).
    Column("nomNaissance", Text),
    Column("prenom1", Text),
    Column("code", Text),
    Column("dateDebutValidite", Date),
    CheckConstraint("status IN ('OK', 'KO')", name="status"),
    Index(None, "idTechnique"),
)


# Version 2: the portal messages no catalogue family recognised, kept so that the catalogue can
# be completed (accuse catalogue --inconnus). One row per distinct message of a receipt; when
# it was seen comes from the receipt. The text is stored with any NIR masked.
unknown_messages = Table(
    "unknown_messages",
    metadata,
    Column(
        "receipt_id",
        Integer,
        ForeignKey("receipts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", String(64), primary_key=True),  # sha256 of the stored text
    Column("message", Text, nullable=False),
    Column("passages", Integer, nullable=False),
    Index(None, "digest"),
)

UNKNOWN_FAMILY = "MESSAGE_INCONNU"
MAX_MESSAGE = 4000  # characters kept of one unknown message (a portal message is a sentence)


def _create_v1(conn: Connection) -> None:
    # When a later version alters these tables, freeze the version 1 definitions here.
    metadata.create_all(conn, tables=[receipts, passages])


def _create_v2(conn: Connection) -> None:
    """The unknown-messages table, filled from the passages already recorded."""
    unknown_messages.create(conn)
    found = conn.execute(
        select(passages.c.receipt_id, passages.c.message, func.count())
        .where(passages.c.status == "KO", passages.c.family == UNKNOWN_FAMILY)
        .group_by(passages.c.receipt_id, passages.c.message)
    )
    counts: dict[tuple[int, str], int] = {}
    for receipt_id, message, count in found:
        key = (receipt_id, _stored_message(message or ""))
        counts[key] = counts.get(key, 0) + count
    rows = [
        {"receipt_id": r, "digest": _digest(m), "message": m, "passages": n}
        for (r, m), n in counts.items()
    ]
    if rows:
        conn.execute(unknown_messages.insert(), rows)


# Version 3: the passages of a SUPPRESSION flux's receipt (known from its source, the flux
# itself): OK is a passage withdrawn from the portal, KO a withdrawal refused. They are not
# deposits, so they stay out of `passages` and of the tracking of rejections.
withdrawals = Table(
    "withdrawals",
    metadata,
    Column(
        "receipt_id",
        Integer,
        ForeignKey("receipts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("idTechnique", Text, primary_key=True),
    Column("status", String(2), nullable=False),
    Column("message", Text),
    CheckConstraint("status IN ('OK', 'KO')", name="withdrawal_status"),
    Index(None, "idTechnique"),
)


def _create_v3(conn: Connection) -> None:
    withdrawals.create(conn)


# Version 4: the rejections found without reading every passage (accuse suivi reads the
# rejections, then the acceptances of the passages ever rejected, through this index). Partial:
# only the rejected passages (a tenth, typically) are in it, so recording barely pays for it.
# Written as SQL (the same for SQLite and PostgreSQL): declared on the table, its
# postgresql_where would load SQLAlchemy's PostgreSQL dialect in every command.
REJECTED_INDEX = "ix_passages_rejected"


def _create_v4(conn: Connection) -> None:
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {quote(REJECTED_INDEX)} ON {quote(passages.name)} "
        f"({quote('idTechnique')}) WHERE {quote('status')} = 'KO'"
    )


# version -> step bringing the schema from version - 1 to it, run in one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _create_v1,
    2: _create_v2,
    3: _create_v3,
    4: _create_v4,
}


# --- where the history lives --------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    url: URL
    path: Path | None  # the SQLite file, None for a server
    default: bool  # the per-user default, whose folder the tool may create

    @property
    def display(self) -> str:
        """The history as shown to the user: a server address with every credential masked."""
        if self.path is not None:
            return str(self.path)
        return masked(self.url)

    def secrets(self) -> list[str]:
        """Credential values this address carries (and PGPASSWORD's), to scrub from messages."""
        found = [self.url.password] if self.url.password else []
        found += [
            value
            for key, values in self.url.query.items()
            if key.lower() not in _PLAIN_PARAMETERS
            for value in ((values,) if isinstance(values, str) else values)
        ]
        if self.path is None and os.environ.get("PGPASSWORD"):
            found.append(os.environ["PGPASSWORD"])
        return [str(s) for s in found if s]


# Connection parameters shown as they are; every other one (password, sslpassword, passfile,
# sslkey, an unknown one...) is masked, whatever its name.
_PLAIN_PARAMETERS = {
    "sslmode",
    "connect_timeout",
    "application_name",
    "target_session_attrs",
    "client_encoding",
    "gssencmode",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
}


def masked(url: URL) -> str:
    """An address with its password and any secret-looking query parameter as ***."""
    shown = url.set(query={}).render_as_string(hide_password=True)
    parameters = [
        f"{key}={value if key.lower() in _PLAIN_PARAMETERS else '***'}"
        for key, values in url.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    ]
    return shown + ("?" + "&".join(parameters) if parameters else "")


def scrub(text: str, location: Location) -> str:
    """A message (a server's, a driver's) with this address's credentials taken out."""
    for secret in location.secrets():
        text = text.replace(secret, "***")
    return text


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("accuse", appauthor=False)) / DEFAULT_NAME


def resolve_location(given: str | Path | Location | None = None) -> Location:
    """``--historique``, else ``ACCUSE_HISTORIQUE``, else the per-user data folder."""
    if isinstance(given, Location):
        return given
    if given is None or str(given).strip() == "":
        given = os.environ.get(ENV_VAR, "").strip() or None
    if given is None:
        path = default_path()
        return Location(_sqlite_url(path), path, default=True)
    text = str(given).strip()
    if text == ":memory:":
        return _server_location("sqlite:///:memory:")  # refused there, with its reason
    if "://" in text:
        return _server_location(text)
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / DEFAULT_NAME
    return Location(_sqlite_url(path), path, default=False)


def _sqlite_url(path: Path) -> URL:
    return URL.create("sqlite+pysqlite", database=str(path.absolute()))


def _server_location(text: str) -> Location:
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        # The address as typed may hold a password: never echoed.
        raise InputError(
            "adresse d'historique illisible : vérifiez sa forme, "
            "postgresql://utilisateur@serveur:port/base (le port est un nombre ; une adresse "
            "IPv6 s'écrit entre crochets, [::1]), ou donnez un chemin de fichier."
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite" and (url.database in (None, "", ":memory:") or "memory" in str(url)):
        raise InputError(
            "un historique en mémoire (sqlite:///:memory:) serait perdu à la fin de la "
            "commande : donnez un chemin de fichier, ou une adresse postgresql://."
        )
    if backend in ("postgresql", "postgres"):
        # psycopg 3 is the driver installed with accuse; plain postgresql:// would pick psycopg2.
        return Location(url.set(drivername="postgresql+psycopg"), None, default=False)
    if backend == "sqlite" and url.database:
        path = Path(url.database).expanduser()
        return Location(_sqlite_url(path), path, default=False)
    raise InputError(
        f"adresse d'historique non prise en charge : « {masked(url)} ». "
        "Donnez un chemin de fichier (SQLite) ou une adresse postgresql://."
    )


# --- opening ------------------------------------------------------------------------------


def _engine(location: Location, *, read_only: bool = False) -> Engine:
    if location.path is None:
        return create_engine(location.url, connect_args={"connect_timeout": 10})
    if read_only:
        # A reading command never writes: no WAL switch, no write lock, so it reads a
        # read-only file, or one a writer holds, as it stands.
        uri = location.path.absolute().as_uri() + "?mode=ro"
        return create_engine(
            "sqlite+pysqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS),
        )
    engine = create_engine(location.url, connect_args={"timeout": BUSY_SECONDS})

    # pysqlite's own transaction handling skips BEGIN before DDL and begins lazily; taking it
    # over (the recipe of SQLAlchemy's SQLite documentation) makes migrations transactional,
    # and BEGIN IMMEDIATE takes the write lock up front so a transaction never has to upgrade
    # a stale read snapshot (which fails at once instead of waiting).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # The indexes of a year of receipts outgrow SQLite's 2 MiB page cache: every insert
        # then reads its index pages back. 32 MiB at most, for this connection only.
        cursor.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        _wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (readers never block the writer; it stays so once set).

    Switching needs the file to itself and SQLite does not wait for that (no busy handler):
    two processes opening a new history at once retry here instead of failing.
    """
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            if cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")
        time.sleep(0.02)


@contextlib.contextmanager
def open_store(location: Location, *, create: bool, write: bool = False) -> Iterator[Engine | None]:
    """An engine on a store whose schema is current, or None when there is no store yet.
    ``create=False`` opens it read-only unless ``write`` says the caller changes an existing
    store (forgetting a receipt). Database errors come out as InputError."""
    current = 0
    if location.path is not None and location.path.exists():
        require_regular_file(location.path, "l'historique")
        # A file accuse would refuse is refused before anything writes to it (the WAL switch
        # alone rewrites its header): looked at read-only first.
        with _database_errors(location):
            current = _check_read_only(location)
    if location.path is not None and not location.path.exists():
        if not create:
            yield None
            return
        folder = location.path.parent
        if not folder.is_dir():
            if not location.default:
                raise InputError(
                    "le dossier de l'historique n'existe pas ; créez-le ou choisissez un autre "
                    "chemin avec --historique.",
                    folder,
                )
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                why = os_reason(error, writing=True)
                raise InputError(
                    f"impossible de créer le dossier de l'historique ({why}).", folder
                ) from None
    # A reading command reads read-only, unless a schema older than READABLE_FROM must be
    # migrated first.
    reading = not create and not write
    as_it_stands = current == 0 or READABLE_FROM <= current <= SCHEMA_VERSION
    engine = _engine(location, read_only=reading and as_it_stands)
    try:
        with _database_errors(location):
            version = ensure_schema(engine, create=create, reading=reading)
        yield engine if version else None
    finally:
        engine.dispose()


def _check_read_only(location: Location) -> int:
    """The schema version of an existing file, looked at read-only; refused when newer."""
    engine = _engine(location, read_only=True)
    try:
        with engine.connect() as conn:
            version = _version(conn)
    finally:
        engine.dispose()
    if version > SCHEMA_VERSION:
        raise _newer(version)
    return version


def _newer(version: int) -> InputError:
    return InputError(
        f"l'historique est au format {version}, plus récent que celui que cette version "
        f"d'accuse connaît ({SCHEMA_VERSION}) : il a été écrit par une version plus récente "
        "d'accuse. Mettez accuse à jour ; l'historique n'a pas été modifié."
    )


@contextlib.contextmanager
def _database_errors(location: Location) -> Iterator[None]:
    try:
        yield
    except InputError:
        raise
    except SQLAlchemyError as error:
        raise _input_error(error, location) from None
    except (ValueError, TypeError, OverflowError) as error:
        # A value SQLAlchemy cannot turn back into its column's type (a date that is no date,
        # text where a number belongs): the file was edited outside accuse, or damaged.
        detail = scrub(str(error).strip().splitlines()[0] if str(error).strip() else "", location)
        raise InputError(
            f"l'historique {inert(location.display, one_line=True)} contient une valeur illisible "
            f"({inert(detail)}) : il a "
            "été modifié hors d'accuse ou est abîmé. Il n'a pas été modifié ; choisissez un "
            "autre historique avec --historique, ou restaurez-en une sauvegarde."
        ) from None


def _input_error(error: SQLAlchemyError, location: Location) -> InputError:
    where = inert(
        location.display, one_line=True
    )  # a path may hold a newline or an escape sequence
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    # The server's or driver's own words, quoted after a French sentence, credentials out.
    detail = inert(scrub(lines[0], location), one_line=True) if lines else type(error).__name__
    if location.path is not None:
        if "locked" in detail or "busy" in detail:
            return InputError(
                f"l'historique {where} est occupé par une autre analyse depuis plus de "
                f"{BUSY_SECONDS} s ; relancez la commande dans un instant."
            )
        if "readonly" in detail or "unable to open" in detail:
            return InputError(
                f"impossible d'écrire dans l'historique {where} (droits insuffisants ou "
                "emplacement en lecture seule). Choisissez un autre chemin avec --historique."
            )
        if "not a database" in detail or "malformed" in detail:
            return InputError(
                f"{where} n'est pas un historique accuse lisible (base SQLite abîmée ou autre "
                "fichier). Choisissez un autre chemin avec --historique."
            )
        why = next((french for words, french in _SQLITE_REASONS if words in detail.lower()), None)
        return InputError(
            f"historique {where} inutilisable ({why or 'erreur de la base SQLite'}) ; "
            f"détail : « {detail} »."
        )
    why = next((french for words, french in _SERVER_REASONS if words in detail.lower()), None)
    told = f" ({why})" if why else ""
    return InputError(
        f"impossible d'utiliser l'historique {where}{told} : vérifiez l'adresse, le serveur "
        f"PostgreSQL et vos droits. Message du serveur : « {detail} »."
    )


# SQLite's common reasons, in French (its own words follow, quoted).
_SQLITE_REASONS = (
    ("database or disk is full", "le disque est plein"),
    ("disk i/o error", "erreur de lecture ou d'écriture du disque"),
    ("no such table", "ce n'est pas un historique accuse"),
    ("no such column", "ce n'est pas un historique accuse, ou il est abîmé"),
    ("out of memory", "mémoire insuffisante"),
)


# The server's or driver's common reasons, in French (its own words follow, quoted).
_SERVER_REASONS = (
    ("connection refused", "le serveur ne répond pas à cette adresse"),
    ("password authentication failed", "utilisateur ou mot de passe refusé"),
    ("no password supplied", "mot de passe absent"),
    ("does not exist", "la base ou l'utilisateur n'existe pas"),
    ("timeout expired", "le serveur n'a pas répondu à temps"),
    ("could not translate host name", "nom de serveur inconnu"),
    ("name or service not known", "nom de serveur inconnu"),
    ("permission denied", "droits insuffisants"),
)


def ensure_schema(engine: Engine, *, create: bool, reading: bool = False) -> int:
    """Create or migrate the schema; the version in place afterwards (0: no store). A reading
    command leaves a schema it can read as it stands (READABLE_FROM)."""
    for attempt in range(6):
        try:
            with engine.begin() as conn:
                version = _version(conn)
                if version > SCHEMA_VERSION:
                    raise _newer(version)
                if version == SCHEMA_VERSION or (version == 0 and not create):
                    return version
                if reading and version >= READABLE_FROM:
                    return version
                now = _utc_now()
                if version == 0:
                    schema_version.create(conn)
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[step](conn)
                    conn.execute(schema_version.insert().values(version=step, applied_at=now))
            return SCHEMA_VERSION
        except (IntegrityError, ProgrammingError):
            # Another process created or migrated the schema at the same moment (duplicate
            # table or version row): our transaction rolled back whole; look again.
            if attempt == 5:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _version(conn: Connection) -> int:
    tables = set(inspect(conn).get_table_names())
    if schema_version.name not in tables:
        if tables & {receipts.name, passages.name}:
            raise InputError(
                "cette base contient des tables « receipts » ou « passages » qui ne viennent "
                "pas d'accuse : choisissez une autre base ou un autre fichier avec --historique."
            )
        return 0
    version = conn.execute(select(func.max(schema_version.c.version))).scalar_one() or 0
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(
            "cette base n'est pas un historique accuse lisible : son numéro de format "
            f"(table schema_version) vaut « {inert(version)} » au lieu d'un nombre. Elle n'a "
            "pas été modifiée ; choisissez un autre historique avec --historique."
        )
    return version


# --- recording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordOutcome:
    new: bool  # False: the same receipt (same bytes) was already in the history
    receipt_id: int
    recorded_at: dt.datetime
    accepted: int
    rejected: int
    location: str
    completed: int = 0  # passages of a known receipt given their source fields this time


class RecordWithdrawn(Exception):
    """The caller's ``ready`` said no before the commit: nothing was recorded."""


def record(
    analysis: Analysis,
    location: str | Path | Location | None = None,
    *,
    ready: Callable[[], bool] | None = None,
) -> RecordOutcome:
    """Record the receipt of an analysis and its passages, in one transaction.

    ``ready``, when given, is asked just before the commit (the rows are already written in
    the open transaction): False rolls everything back and raises RecordWithdrawn. accuse
    analyse uses it to record in a child process while the worksheet is still being written,
    and to keep nothing should that fail."""
    where = resolve_location(location)
    digest = receipt_digest(analysis.receipt.path)

    def confirm() -> None:
        if ready is not None and not ready():
            raise RecordWithdrawn

    with open_store(where, create=True) as engine, _database_errors(where):
        assert engine is not None
        try:
            with engine.begin() as conn:
                outcome = _insert(conn, analysis, digest, where)
                confirm()
                return outcome
        except IntegrityError:
            # Recorded meanwhile by another process (or before): the unique hash decided.
            with engine.begin() as conn:
                found = conn.execute(
                    select(receipts).where(receipts.c.sha256 == digest)
                ).one_or_none()
                if found is None:
                    raise
                completed = _complete(conn, found.id, analysis)
                confirm()
            return RecordOutcome(
                new=False,
                receipt_id=found.id,
                recorded_at=aware(found.recorded_at),
                accepted=found.accepted_count,
                rejected=found.rejected_count,
                location=where.display,
                completed=completed,
            )


_SOURCE_FIELDS = ("nomNaissance", "prenom1", "code", "dateDebutValidite")


def is_suppression(analysis: Analysis) -> bool:
    """The receipt of a SUPPRESSION flux: its source, the deposited flux, says so."""
    return analysis.source is not None and analysis.source.action == "SUPPRESSION"


def _for(table: Table, row: dict[str, object]) -> dict[str, object]:
    return {c.name: row.get(c.name) for c in table.columns}


def _complete(conn: Connection, receipt_id: int, analysis: Analysis) -> int:
    """A receipt first analysed alone, now with its source: add the source fields it lacked
    (never overwrite what an earlier analysis recorded); a SUPPRESSION flux's receipt first
    taken for a deposit has its passages moved to the withdrawals."""
    if analysis.source is None:
        return 0
    if is_suppression(analysis):
        moved = conn.execute(delete(passages).where(passages.c.receipt_id == receipt_id))
        if moved.rowcount:
            rows = [{**r, "receipt_id": receipt_id} for r in passage_rows(analysis)]
            conn.execute(withdrawals.insert(), [_for(withdrawals, r) for r in rows])
        return moved.rowcount or 0
    rows = [
        {
            "rid": receipt_id,
            "pid": row["idTechnique"],
            **{f"new_{k}": row[k] for k in _SOURCE_FIELDS},
        }
        for row in passage_rows(analysis)
        if row["status"] == "KO" and any(row[k] is not None for k in _SOURCE_FIELDS)
    ]
    if not rows:
        return 0
    statement = (
        update(passages)
        .where(
            passages.c.receipt_id == bindparam("rid"),
            passages.c.idTechnique == bindparam("pid"),
            *(passages.c[k].is_(None) for k in _SOURCE_FIELDS),
        )
        .values({k: bindparam(f"new_{k}") for k in _SOURCE_FIELDS})
    )
    completed = 0
    for row in rows:  # one by one: executemany row counts differ between drivers
        completed += conn.execute(statement, row).rowcount
    if completed:
        conn.execute(
            update(receipts)
            .where(receipts.c.id == receipt_id, receipts.c.source_name.is_(None))
            .values(source_name=analysis.source.path.name)
        )
    return completed


def _insert(conn: Connection, analysis: Analysis, digest: str, where: Location) -> RecordOutcome:
    receipt = analysis.receipt
    now = _utc_now()
    # First statement of the transaction is this write, so nothing was read before the lock.
    result = conn.execute(
        receipts.insert().values(
            sha256=digest,
            receipt_name=receipt.path.name,
            shape=receipt.shape,
            nomFichier=receipt.nomFichier,
            idFlux=receipt.idFlux,
            idTraitement=receipt.idTraitement,
            idDemande=receipt.idDemande,
            source_name=analysis.source.path.name if analysis.source is not None else None,
            analysed_at=_to_utc(analysis.analysed_at),
            recorded_at=now,
            accepted_count=analysis.accepted_count,
            rejected_count=analysis.rejected_count,
            file_error_count=len(receipt.file_errors),
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has its key
    receipt_id = inserted[0]
    # On the driver's own path: SQLAlchemy's executemany of dictionaries cost three times the
    # driver's on 200,000 passages; PostgreSQL's COPY a third of the driver's executemany. Same
    # transaction, in batches, so still all or nothing.
    table = withdrawals if is_suppression(analysis) else passages
    names = [column.name for column in table.columns]
    sqlite = conn.dialect.name == "sqlite"
    rejected, accepted = _passage_tuples(analysis, names, receipt_id, day_as_text=sqlite)
    if conn.dialect.name == "postgresql":
        rest = tuple(_ACCEPTED[name] for name in names[2:])
        rejected += [(receipt_id, identifier, *rest) for identifier in accepted]
        _copy(conn, table, names, rejected)
    else:
        # An accepted passage is its ids and its status, every other column NULL: bound as
        # three values instead of ten (binding is most of the driver's time per row).
        assert names[2] == "status" and all(_ACCEPTED[n] is None for n in names[3:])
        # In idTechnique order, the order of the indexes: each insert lands next to the last
        # one instead of anywhere in them (a row's place in the table is not its meaning).
        rejected.sort(key=itemgetter(1))
        accepted.sort()
        _execute_many(conn, table, names, rejected)
        _execute_many(conn, table, names[:3], [(receipt_id, i, "OK") for i in accepted])
    unknown = unknown_rows(analysis)
    for row in unknown:
        row["receipt_id"] = receipt_id
    if unknown:
        conn.execute(unknown_messages.insert(), unknown)
    return RecordOutcome(
        new=True,
        receipt_id=receipt_id,
        recorded_at=aware(now),
        accepted=analysis.accepted_count,
        rejected=analysis.rejected_count,
        location=where.display,
    )


def _execute_many(
    conn: Connection, table: Table, names: list[str], rows: list[tuple[object, ...]]
) -> None:
    """The rows inserted through the driver, many rows per INSERT: sqlite3 pays its overhead
    per statement executed (binding, reset), so 300 rows a statement cost about a third of one
    row a statement on 50,000 passages. At most 999 values a statement, the limit of the
    oldest SQLite versions."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"  # sqlite3 / psycopg
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    one = f"({', '.join([marker] * len(names))})"
    per = max(1, _VARIABLES // len(names))  # rows per statement
    chunk = max(per, _CHUNK // per * per)  # rows per call (then the seam below)
    many = head + ", ".join([one] * per)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        whole = len(part) // per * per
        if whole:
            conn.exec_driver_sql(
                many,
                [tuple(chain.from_iterable(part[i : i + per])) for i in range(0, whole, per)],
            )
        if whole < len(part):
            conn.exec_driver_sql(head + one, part[whole:])
        _after_batch()


def _copy(conn: Connection, table: Table, names: list[str], rows: list[tuple[object, ...]]) -> None:
    """PostgreSQL: the rows streamed by COPY (psycopg 3) inside the record's transaction."""
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection has its driver's
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(rows), _CHUNK):
            for row in rows[start : start + _CHUNK]:
                copy.write_row(row)
            _after_batch()


def _after_batch() -> None:
    """A seam for the tests that kill a process in the middle of a record."""


def passage_rows(analysis: Analysis) -> list[dict[str, object]]:
    """One row per idTechnique of the receipt (an id listed twice keeps its acceptance, or else
    its first rejection)."""
    by_id = _rejected_rows(analysis)
    for identifier in analysis.receipt.accepted_ids:
        by_id[identifier] = {"idTechnique": identifier, **_ACCEPTED}
    return list(by_id.values())


# Every field of an accepted passage but its idTechnique.
_ACCEPTED: dict[str, object] = {
    "status": "OK",
    "family": None,
    "family_title": None,
    "message": None,
    "nomNaissance": None,
    "prenom1": None,
    "code": None,
    "dateDebutValidite": None,
}


def _rejected_rows(analysis: Analysis) -> dict[str, dict[str, object]]:
    """idTechnique -> the row of its first rejection in the receipt."""
    by_id: dict[str, dict[str, object]] = {}
    masked: dict[str, str] = {}  # message -> as stored: a family's wording comes back often
    with_source = analysis.source is not None
    for rejected in analysis.rejected:
        if rejected.idTechnique in by_id:
            continue
        message = masked.get(rejected.message)
        if message is None:
            message = masked[rejected.message] = mask_nir(rejected.message)
        row: dict[str, object] = {
            "idTechnique": rejected.idTechnique,
            "status": "KO",
            "family": rejected.code,
            "family_title": rejected.classification.entry.titre,
            "message": message,
            "nomNaissance": None,
            "prenom1": None,
            "code": None,
            "dateDebutValidite": None,
        }
        if with_source and rejected.row is not None:
            values = analysis.row_values(rejected.row)
            row["nomNaissance"] = _text(values.get("nomNaissance"))
            row["prenom1"] = _text(values.get("prenom1"))
            row["code"] = _text(values.get("code"))
            row["dateDebutValidite"] = as_date(values.get("dateDebutValidite"))
        by_id[rejected.idTechnique] = row
    return by_id


def _passage_tuples(
    analysis: Analysis, names: list[str], receipt_id: int, *, day_as_text: bool
) -> tuple[list[tuple[object, ...]], list[str]]:
    """passage_rows(analysis) of this receipt: the rejected ones as tuples in the order of
    ``names`` (receipt_id and idTechnique first), and the ids of the accepted ones (each
    passage once; an id listed twice keeps its acceptance). ``day_as_text``: dates as
    SQLAlchemy's Date stores them in SQLite."""
    assert names[:2] == ["receipt_id", "idTechnique"]
    accepted = dict.fromkeys(analysis.receipt.accepted_ids)
    pick = itemgetter(*names[1:])
    rows: list[tuple[object, ...]] = []
    for identifier, row in _rejected_rows(analysis).items():
        if identifier in accepted:
            continue  # an id listed twice keeps its acceptance
        day = row["dateDebutValidite"]
        if day_as_text and isinstance(day, dt.date):
            row["dateDebutValidite"] = day.isoformat()
        rows.append((receipt_id, *pick(row)))
    return rows, list(accepted)


def unknown_rows(analysis: Analysis) -> list[dict[str, object]]:
    """The messages of the receipt that no family recognised, each with its passage count."""
    counts: dict[str, int] = {}
    for rejected in analysis.rejected:
        if rejected.code == UNKNOWN_FAMILY:
            text = _stored_message(rejected.message)
            counts[text] = counts.get(text, 0) + 1
    return [
        {"digest": _digest(text), "message": text, "passages": count}
        for text, count in counts.items()
    ]


def _stored_message(message: str) -> str:
    """What the history keeps of a message: squeezed, any NIR masked, at most MAX_MESSAGE."""
    text = mask_nir(squeeze(message))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def receipt_digest(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError as error:
        raise InputError(f"lecture impossible ({os_reason(error)}).", path) from None


def _text(value: CellValue) -> str | None:
    text = cell_text(value).strip()
    return text or None


# --- time: stored in UTC, naive on SQLite ---------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _to_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(dt.UTC)


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    location: str
    receipts: list[RecordedReceipt]  # in recording order
    # Every mention of each passage ever rejected (what tracking needs), or of every passage
    # when loaded with every_passage=True; in recording order.
    events: list[PassageEvent]
    withdrawals: list[WithdrawalEvent] = field(default_factory=list)  # in recording order

    def to_dataframe(self) -> pd.DataFrame:
        """One row per passage per receipt (as loaded: see load's every_passage), with the
        receipt's name, shape and analysis time beside the passage's fields. Imports pandas."""
        import pandas as pd

        receipts = pd.DataFrame(
            {
                "receipt_id": [r.id for r in self.receipts],
                "receipt_name": [r.receipt_name for r in self.receipts],
                "shape": [r.shape for r in self.receipts],
                "analysed_at": [r.analysed_at for r in self.receipts],
            },
            columns=["receipt_id", "receipt_name", "shape", "analysed_at"],
        )
        columns = [f.name for f in fields(PassageEvent)]
        events = pd.DataFrame([astuple(e) for e in self.events], columns=columns)
        events = events.astype({"receipt_id": "int64"})
        merged = events.merge(receipts.astype({"receipt_id": "int64"}), on="receipt_id")
        return merged[
            ["receipt_id", "receipt_name", "shape", "analysed_at", *columns[1:]]
        ].reset_index(drop=True)


def _recorded(r: Row) -> RecordedReceipt:
    return RecordedReceipt(
        id=r.id,
        receipt_name=r.receipt_name,
        shape=r.shape,
        nomFichier=r.nomFichier,
        idFlux=r.idFlux,
        idTraitement=r.idTraitement,
        idDemande=r.idDemande,
        source_name=r.source_name,
        analysed_at=aware(r.analysed_at),
        recorded_at=aware(r.recorded_at),
        accepted_count=r.accepted_count,
        rejected_count=r.rejected_count,
        file_error_count=r.file_error_count,
    )


def load(location: str | Path | Location | None = None, *, every_passage: bool = False) -> History:
    """All receipts, and every mention of each passage ever rejected (of every passage with
    ``every_passage``: passages only ever accepted matter to statistics, not to tracking)."""
    where = resolve_location(location)
    with open_store(where, create=False) as engine, _database_errors(where):
        if engine is None:
            return History(where.display, [], [])
        with engine.begin() as conn:
            found = [_recorded(r) for r in conn.execute(select(receipts).order_by(receipts.c.id))]
            query = select(passages).order_by(passages.c.receipt_id, passages.c.idTechnique)
            if not every_passage:
                ever_rejected = select(passages.c.idTechnique).where(passages.c.status == "KO")
                query = query.where(passages.c.idTechnique.in_(ever_rejected))
            events = [
                PassageEvent(
                    receipt_id=p.receipt_id,
                    idTechnique=p.idTechnique,
                    status=p.status,
                    family=p.family,
                    family_title=p.family_title,
                    message=p.message,
                    nomNaissance=p.nomNaissance,
                    prenom1=p.prenom1,
                    code=p.code,
                    dateDebutValidite=p.dateDebutValidite,
                )
                for p in conn.execute(query)
            ]
            order = (withdrawals.c.receipt_id, withdrawals.c.idTechnique)
            withdrawn = [
                WithdrawalEvent(w.receipt_id, w.idTechnique, w.status, w.message)
                for w in conn.execute(select(withdrawals).order_by(*order))
            ]
    return History(where.display, found, events, withdrawn)


def load_events(
    location: str | Path | Location | None = None,
    *,
    rejections_only: bool = False,
    among: Collection[str] | None = None,
) -> TrackedEvents:
    """The rows the tracking needs, read on the driver's own path in one read transaction:
    the rejections (through the partial index of schema version 4; a scan on an older history
    read as it stands), then, unless ``rejections_only``, the acceptances of the passages ever
    rejected. ``among``: only the rejections of these passages (what accuse analyse asks of
    the history for the passages its receipt rejects), looked up by their idTechnique."""
    where = resolve_location(location)
    with open_store(where, create=False) as engine, _database_errors(where):
        if engine is None:
            return TrackedEvents(where.display, [], [], [])
        with engine.begin() as conn:
            found = [_recorded(r) for r in conn.execute(select(receipts).order_by(receipts.c.id))]
            quote = conn.dialect.identifier_preparer.quote
            table, status, identifier = quote("passages"), quote("status"), quote("idTechnique")
            columns = ", ".join(quote(c) for c in EVENT_COLUMNS)
            statement = f"SELECT {columns} FROM {table} WHERE {status} = 'KO'"
            if not rejections_only and among is None:
                statement += (
                    f" UNION ALL SELECT {columns} FROM {table} WHERE {status} = 'OK' AND "
                    f"{identifier} IN (SELECT {identifier} FROM {table} WHERE {status} = 'KO')"
                )
            events: list[EventRow] = []
            cursor = conn.connection.cursor()
            try:
                if among is None:
                    cursor.execute(statement)
                    events += cursor.fetchall()
                else:
                    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                    wanted = list(dict.fromkeys(among))
                    for start in range(0, len(wanted), _VARIABLES):
                        part = wanted[start : start + _VARIABLES]
                        cursor.execute(
                            f"{statement} AND {identifier} IN ({', '.join([marker] * len(part))})",
                            part,
                        )
                        events += cursor.fetchall()
            finally:
                cursor.close()
            days: dict[str, dt.date] = {}
            if conn.dialect.name == "sqlite":  # dates come back as SQLAlchemy's Date stored them
                stored = {e[9] for e in events}
                stored.discard(None)
                # A value that is no date raises ValueError or TypeError: a damaged history.
                days = {str(text): stored_date(text) for text in stored}
            order_by = (withdrawals.c.receipt_id, withdrawals.c.idTechnique)
            withdrawn = [
                WithdrawalEvent(w.receipt_id, w.idTechnique, w.status, w.message)
                for w in conn.execute(select(withdrawals).order_by(*order_by))
            ]
    return TrackedEvents(where.display, found, events, withdrawn, days)


def accepted_ids(location: str | Path | Location | None = None) -> tuple[str, frozenset[str]]:
    """Where the history is, and every idTechnique a recorded receipt accepted (or refused as
    a DOUBLON, which says the portal already holds it): sending one again brings a DOUBLON."""
    where = resolve_location(location)
    with open_store(where, create=False) as engine, _database_errors(where):
        if engine is None:
            return where.display, frozenset()
        with engine.begin() as conn:
            query = (
                select(passages.c.idTechnique, func.max(passages.c.receipt_id))
                .where((passages.c.status == "OK") | (passages.c.family == "DOUBLON"))
                .group_by(passages.c.idTechnique)
            )
            held = conn.execute(query).all()
            gone_query = (
                select(withdrawals.c.idTechnique, func.max(withdrawals.c.receipt_id))
                .where(withdrawals.c.status == "OK")
                .group_by(withdrawals.c.idTechnique)
            )
            gone: dict[str, int] = {i: r for i, r in conn.execute(gone_query).all()}
            # Withdrawn by a SUPPRESSION recorded after its last acceptance: no longer held.
            return where.display, frozenset(i for i, r in held if gone.get(i, -1) < r)


@dataclass(frozen=True)
class UnknownSighting:
    """A message no family recognised, as one receipt carried it."""

    message: str  # NIR masked
    passages: int
    receipt_id: int
    receipt_name: str
    analysed_at: dt.datetime  # local time


def unknown_sightings(location: str | Path | Location | None = None) -> list[UnknownSighting]:
    """Every unknown message of the history, receipt by receipt, oldest first."""
    where = resolve_location(location)
    with open_store(where, create=False) as engine, _database_errors(where):
        if engine is None:
            return []
        query = (
            select(
                unknown_messages.c.message,
                unknown_messages.c.passages,
                receipts.c.id,
                receipts.c.receipt_name,
                receipts.c.analysed_at,
            )
            .join(receipts, receipts.c.id == unknown_messages.c.receipt_id)
            .order_by(receipts.c.analysed_at, receipts.c.id, unknown_messages.c.digest)
        )
        with engine.begin() as conn:
            return [
                UnknownSighting(message, count, receipt_id, name, aware(analysed_at))
                for message, count, receipt_id, name, analysed_at in conn.execute(query)
            ]


# --- forgetting a receipt -----------------------------------------------------------------


def find_receipts(location: str | Path | Location | None, given: str) -> list[RecordedReceipt]:
    """The recorded receipts ``given`` names: a receipt file (recognised by its bytes, as when
    it was recorded), else a receipt name as ``accuse suivi --recus`` shows it, or its
    idTraitement / idDemande."""
    path = Path(given).expanduser()
    digest = receipt_digest(path) if path.is_file() else None
    return [
        found
        for found, sha in _receipts_with_digest(location)
        if (sha == digest if digest is not None else given in _names(found))
    ]


def _names(receipt: RecordedReceipt) -> set[str]:
    names = {receipt.receipt_name, Path(receipt.receipt_name).stem}
    return names | {i for i in (receipt.idTraitement, receipt.idDemande) if i}


def _receipts_with_digest(
    location: str | Path | Location | None,
) -> list[tuple[RecordedReceipt, str]]:
    where = resolve_location(location)
    with open_store(where, create=False) as engine, _database_errors(where):
        if engine is None:
            return []
        with engine.begin() as conn:
            query = select(receipts).order_by(receipts.c.id)
            return [(_recorded(r), r.sha256) for r in conn.execute(query)]


def recorded_id(location: str | Path | Location | None, receipt: Path) -> int | None:
    """The id under which this receipt file (its bytes) is recorded, if it is."""
    digest = receipt_digest(receipt)
    return next((r.id for r, sha in _receipts_with_digest(location) if sha == digest), None)


def forget(location: str | Path | Location | None, receipt_id: int) -> int:
    """Take one receipt, its passages and its unknown messages out of the history, in one
    transaction; how many passages went with it."""
    where = resolve_location(location)
    with open_store(where, create=False, write=True) as engine, _database_errors(where):
        if engine is None:
            return 0
        with engine.begin() as conn:
            conn.execute(
                unknown_messages.delete().where(unknown_messages.c.receipt_id == receipt_id)
            )
            removed = conn.execute(
                passages.delete().where(passages.c.receipt_id == receipt_id)
            ).rowcount
            conn.execute(receipts.delete().where(receipts.c.id == receipt_id))
    return removed
