"""The one way into the database.

:func:`open_store` builds the engine and session factory from a URL, checks the database,
and brings the schema up to date with Alembic (backing up a SQLite file first).

* SQLite (the embedded default, a file in the user data directory): every connection runs
  with WAL, ``synchronous=FULL``, foreign keys on and a busy timeout; ``PRAGMA quick_check``
  runs at open, and a damaged or foreign file is refused with :class:`StoreOpenError`.
* PostgreSQL (``postgresql+psycopg://…``, the shared database of a clinic with several
  tablets): the same code; each connection names its device (``application_name``) and
  has a connect timeout, TCP keepalives and a statement timeout (docs/clinic-server.md).

Writes go through :meth:`Store.write`, a transaction that commits on leaving the block.
When the environment fails — disk full, read-only database, server unreachable, database
locked — it raises :class:`NotSavedError`: nothing of the transaction was stored and the
caller must tell the user the entry is NOT saved and keep it. When the link drops during the
COMMIT itself the outcome is not known (the server may have stored it): it raises
:class:`OutcomeUnknownError`, and the caller asks the server whether the entry's id is
stored before saying Saved or NOT saved. Anything else (a constraint
violated, a programming error) propagates unchanged: those are bugs, not the environment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    DatabaseError,
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.orm import Session, sessionmaker

from monitor.storage import batch
from monitor.storage.migrations import HEAD_REVISION
from monitor.storage.private_files import (
    create_private_file,
    make_private_dir,
    tighten,
    tighten_sqlite,
)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

#: Environment variable naming the database when ``--db`` is not given.
DB_URL_ENV = "CHAIRSIDE_DB"
#: How long a writer waits for another writer's lock before the save is reported NOT saved.
SQLITE_BUSY_TIMEOUT_MS = 5000
#: PostgreSQL: seconds to wait for a connection, and the default ``statement_timeout`` (ms),
#: which ``CHAIRSIDE_PG_STATEMENT_TIMEOUT_MS`` or the URL's ``options`` override.
PG_CONNECT_TIMEOUT_S = 5
PG_STATEMENT_TIMEOUT_MS = 5000
PG_STATEMENT_TIMEOUT_ENV = "CHAIRSIDE_PG_STATEMENT_TIMEOUT_MS"
#: PostgreSQL's SQLSTATE for "permission denied".
INSUFFICIENT_PRIVILEGE = "42501"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StorageError(Exception):
    """The database could not do what was asked because of the environment.

    ``reason`` is one of ``disk-full``, ``read-only``, ``unreachable``, ``busy``, ``io``;
    ``message`` is a sentence for the user.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class NotSavedError(StorageError):
    """A write failed for an environmental reason; nothing of it was stored."""


class OutcomeUnknownError(StorageError):
    """The link was lost during COMMIT: the write may or may not be stored. Ask the server
    for the entry's id (:meth:`monitor.service.loading.Loading.stored`) before saying."""


class StoreUnavailableError(StorageError):
    """A read failed for an environmental reason (usually: server unreachable)."""


class StoreOpenError(Exception):
    """The database cannot be opened: damaged, not a ChairSide database, or too new."""


_REASON_TEXT = {
    "disk-full": "the disk is full",
    "read-only": "the database is read-only",
    "unreachable": "the database cannot be reached",
    "busy": "the database is busy (another device holds a lock, or the server is overloaded)",
    "io": "the storage device reported an error",
}


def classify(exc: BaseException) -> str | None:
    """Name the environmental failure behind a database exception, or None for a bug."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code:
        if code == "53100":
            return "disk-full"
        if code == "25006":
            return "read-only"
        if code.startswith(("08", "57P")):
            return "unreachable"
        if code in ("57014", "55P03"):
            # The statement or lock timeout ran out: the server answered, but in time it
            # could not do the work (another device's lock, an overloaded server).
            return "busy"
        if code.startswith("53"):
            return "disk-full"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    text_ = str(orig).lower()
    if "disk is full" in text_ or "no space left" in text_:
        return "disk-full"
    if "readonly" in text_ or "read-only" in text_ or "read only" in text_:
        return "read-only"
    if "database is locked" in text_ or "database is busy" in text_:
        return "busy"
    if "disk i/o error" in text_:
        return "io"
    if "unable to open database" in text_:
        return "unreachable"
    if isinstance(exc, OperationalError | InterfaceError):
        # Connection refused, server closed the connection, timeouts: all unreachable.
        return "unreachable"
    return None


def _environmental(exc: Exception, kind: type[StorageError]) -> StorageError | None:
    reason = classify(exc)
    if reason is None:
        return None
    verb = "NOT saved" if kind is NotSavedError else "Could not read"
    return kind(reason, f"{verb}: {_REASON_TEXT[reason]}.")


def default_database_path() -> Path:
    return Path(user_data_dir("ChairSide", appauthor=False)) / "chairside.sqlite3"


def default_url() -> str:
    """``CHAIRSIDE_DB`` if set, else the SQLite file in the user data directory."""
    env = os.environ.get(DB_URL_ENV)
    if env:
        return env
    return f"sqlite:///{default_database_path()}"


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for memory databases and other backends."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = url.database
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


@dataclass
class Store:
    """An open database: the engine, a session factory and the write transaction."""

    engine: Engine
    sessions: sessionmaker[Session]
    url: URL
    _readers: sessionmaker[Session] | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def _reader(self, transaction: bool = False) -> Session:
        """A session for :meth:`read`. On PostgreSQL its statements run without a transaction
        block: at READ COMMITTED each statement sees what was committed when it began,
        inside a block or not, and the ``BEGIN`` and ``ROLLBACK`` would each cost a round
        trip. SQLite reads in a transaction, as before (one snapshot for the whole read)."""
        if transaction or self.url.get_backend_name() != "postgresql":
            return self.sessions()
        if self._readers is None:
            self._readers = sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False)
        return self._readers()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends.

        Raises :class:`NotSavedError` when the environment fails before the COMMIT; on any
        such exception the transaction is rolled back, so a failed save leaves nothing
        behind. The server lost during the COMMIT raises :class:`OutcomeUnknownError`.
        """
        session = self.sessions()
        committing = False
        try:
            with session.begin():
                yield session
                committing = True
        except (OperationalError, InterfaceError, InternalError, DatabaseError) as exc:
            translated = _environmental(exc, NotSavedError)
            if translated is None:
                raise
            during_commit = committing or getattr(exc, "during_commit", False)
            if during_commit and translated.reason == "unreachable":
                translated = OutcomeUnknownError(
                    "unreachable", "Not known whether saved: the connection to the database "
                    "was lost while saving.")
            log.warning("write failed: %s", exc)
            raise translated from exc
        finally:
            session.close()

    @contextmanager
    def read(self, *, transaction: bool = False) -> Iterator[Session]:
        """A session for reading; environment failures raise :class:`StoreUnavailableError`.

        Write through :meth:`write`: on PostgreSQL a read has no transaction block unless
        ``transaction`` asks for one (a server-side cursor, ``stream_results``, needs it)."""
        session = self._reader(transaction)
        try:
            yield session
        except (OperationalError, InterfaceError, InternalError, DatabaseError) as exc:
            translated = _environmental(exc, StoreUnavailableError)
            if translated is None:
                raise
            raise translated from exc
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            # Changing the journal mode writes to the file; a read-only one keeps its mode.
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc).lower():
                    raise
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def make_engine(url: str | URL, *, application_name: str | None = None) -> Engine:
    """An engine configured for ChairSide; no checks, no migrations (see :func:`open_store`).

    ``application_name`` names this device in the server's ``pg_stat_activity`` (a
    tablet's name; default: the host name).
    """
    url = make_url(url)
    # hide_parameters: error messages (and the log lines made from them) must not carry the
    # values of a failed statement, which are patients' names, MRNs and vital signs.
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(
        url, hide_parameters=True, connect_args=_pg_connect_args(url, application_name),
    )
    if url.get_backend_name() == "postgresql":
        event.listen(engine, "checkout", _still_connected)
        event.listen(engine, "checkin", batch.restore)
    return engine


def _still_connected(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server closed, without a round trip.

    A connection resting in the pool has nothing to read: the server only speaks when asked.
    If its socket is readable (the server's goodbye after a restart or an administrator's
    kill, the end of the stream, a reset) or the connection is known broken, the pool is
    told to connect afresh (it tries again up to three times). A ``SELECT 1`` before every
    transaction (SQLAlchemy's pre-ping) would cost a round trip each time on the clinic's
    Wi-Fi. A link that died without a word is found by TCP keepalives within about 25 s
    (:func:`_pg_connect_args`); a transaction started on it before then fails as the server
    being unreachable, which a save reports as NOT saved.
    """
    closed = getattr(dbapi_connection, "closed", False)
    broken = getattr(dbapi_connection, "broken", False)
    if closed or broken:
        raise DisconnectionError("the connection was closed")
    try:
        readable, _, failed = select.select([dbapi_connection.fileno()], [], [
            dbapi_connection.fileno()], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(f"the connection's socket is gone ({exc})") from exc
    if readable or failed:
        raise DisconnectionError("the server closed the connection or spoke unasked")
    batch.restore(dbapi_connection, record)


def _pg_connect_args(url: URL, application_name: str | None = None) -> dict[str, Any]:
    """libpq settings for a clinic's server; anything the URL sets itself is kept."""
    if url.get_backend_name() != "postgresql":
        return {}
    args: dict[str, Any] = {
        # A server that does not answer should be reported in seconds, not hang the tablet.
        "connect_timeout": PG_CONNECT_TIMEOUT_S,
        # A peer that vanished (Wi-Fi gone, server powered off) is noticed in about 25 s on
        # an idle connection, and a write nobody acknowledges fails after 15 s, instead of
        # after the operating system's two hours.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 15000,
        "application_name": (application_name or socket.gethostname() or "ChairSide")[:63],
    }
    args = {key: value for key, value in args.items() if key not in url.query}
    # A statement that runs longer than this is stopped by the server, so a lock held by a
    # stuck device turns into "NOT saved" instead of a tablet that hangs. The URL's own
    # ``options`` (a search_path, another statement_timeout) are kept.
    options = str(url.query.get("options", ""))
    if "statement_timeout" not in options:
        args["options"] = f"{options} -c statement_timeout={_statement_timeout_ms()}".strip()
    return args


def _statement_timeout_ms() -> int:
    given = os.environ.get(PG_STATEMENT_TIMEOUT_ENV)
    if given is None:
        return PG_STATEMENT_TIMEOUT_MS
    if not given.strip().isdigit():
        raise StoreOpenError(
            f"{PG_STATEMENT_TIMEOUT_ENV}: a whole number of milliseconds, 0 (no limit) or more "
            f"(got {given!r})")
    return int(given)


def _alembic_config(connection: Any) -> Config:
    # Alembic is imported only when a schema is to be changed or checked against the
    # scripts: importing it costs a noticeable part of every start-up.
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this ChairSide knows (kept in ``monitor.storage.migrations``)."""
    return HEAD_REVISION


def script_revisions() -> set[str]:
    """Every revision the migration scripts define."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    script = ScriptDirectory.from_config(_alembic_config(None))
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, or None when it has none (new or foreign)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def quick_check(engine: Engine) -> None:
    """Refuse a damaged or foreign SQLite file with a sentence, not a traceback."""
    try:
        with engine.connect() as connection:
            result = connection.exec_driver_sql("PRAGMA quick_check").scalars().all()
    except DatabaseError as exc:
        raise StoreOpenError(
            f"{engine.url.database} is not a ChairSide database or is damaged "
            f"({getattr(exc, 'orig', exc)})."
        ) from exc
    if result != ["ok"]:
        detail = "; ".join(str(r) for r in result[:5])
        raise StoreOpenError(f"{engine.url.database} is damaged: {detail}")


def backup_sqlite(path: Path, label: str, now: datetime | None = None) -> Path:
    """Copy a live SQLite database (WAL included) beside itself, consistently."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{label}.{stamp}.bak")
    create_private_file(target)  # a full copy of the record: owner only, like the original
    source = sqlite3.connect(path)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target


#: What the migration scripts add to a SQLite database beside the model's tables: triggers
#: that keep the audit trail append-only and stored protocol versions, activations and
#: closed drafts as written. Word for word as the scripts create them.
_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER {name} BEFORE {verb} ON {table} {when}BEGIN SELECT RAISE(ABORT, "
    f"'{message}'); END"
    for name, verb, table, when, message in (
        ("audit_log_no_update", "UPDATE", "audit_log", "", "the audit trail is append-only"),
        ("audit_log_no_delete", "DELETE", "audit_log", "", "the audit trail is append-only"),
        ("protocol_versions_no_update", "UPDATE", "protocol_versions", "",
         "a stored protocol version never changes"),
        ("protocol_versions_no_delete", "DELETE", "protocol_versions", "",
         "a stored protocol version never changes"),
        ("protocol_activations_no_update", "UPDATE", "protocol_activations", "",
         "a protocol activation never changes"),
        ("protocol_activations_no_delete", "DELETE", "protocol_activations", "",
         "a protocol activation never changes"),
        ("protocol_drafts_closed", "UPDATE", "protocol_drafts", "WHEN OLD.state <> 'draft' ",
         "an approved or withdrawn protocol draft never changes"),
        ("protocol_drafts_no_delete", "DELETE", "protocol_drafts", "",
         "a protocol draft is never deleted"),
    )
)
#: Alembic's own table, as Alembic creates it.
_ALEMBIC_VERSION = ("CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n"
                    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)")


def create_sqlite_schema(engine: Engine) -> None:
    """Create the newest schema in an empty SQLite database in one transaction, as running
    every migration script would leave it: the model's tables and indexes, the scripts'
    triggers, and the head revision stamped. A new tablet's first start need not load
    Alembic and rebuild tables script by script (a test keeps the two schemas equal)."""
    from monitor.storage.model import Base  # noqa: PLC0415 - only a new database needs it

    with engine.begin() as connection:
        # The sqlite3 module runs DDL outside any transaction, each statement committed and
        # synced to disk on its own: one explicit transaction, one commit, all or nothing.
        connection.exec_driver_sql("BEGIN")
        Base.metadata.create_all(connection, checkfirst=False)  # the database is empty
        for statement in (*_SQLITE_TRIGGERS, _ALEMBIC_VERSION):
            connection.exec_driver_sql(statement)
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                           {"head": head_revision()})


def migrate(engine: Engine, *, backup_dir_label: str = "before-migration") -> Path | None:
    """Bring the schema to the newest revision; returns the backup made, if any.

    An empty SQLite database gets the newest schema at once (:func:`create_sqlite_schema`);
    a PostgreSQL one is set up by the scripts, as its owner does with ``server init``.
    """
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return None
    # Refuse a newer schema before copying anything: every refused start would otherwise
    # leave one more full copy of the record on a disk that may already be short of space.
    if current is not None and current not in script_revisions():
        raise StoreOpenError(
            f"the database was written by a newer ChairSide (schema {current}); "
            "update ChairSide on this device"
        )
    backup: Path | None = None
    path = sqlite_file(engine.url)
    empty = not _has_tables(engine)
    if path is not None and path.exists() and not empty:
        backup = backup_sqlite(path, f"{backup_dir_label}-{current or 'unversioned'}")
        log.info("backed up %s to %s before migrating", path, backup)
    try:
        if empty and engine.dialect.name == "sqlite":
            create_sqlite_schema(engine)
            return None
        from alembic import command  # noqa: PLC0415

        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Rebuilding an index on a large record may take longer than a statement may.
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            command.upgrade(_alembic_config(connection), "head")
    except DatabaseError as exc:
        if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            # A clinic's app role may not change the schema; its owner brings it up to date.
            raise StoreOpenError(
                f"the database schema is at {current or 'nothing (empty)'}, this app needs "
                f"{head}: run `python -m monitor server init` as the owner"
            ) from exc
        # A schema that cannot be upgraded (tables without a version, a read-only file, a
        # full disk) is a start-up refusal with a sentence, not a traceback.
        kept = f"; the copy taken before the attempt is {backup}" if backup else ""
        raise StoreOpenError(
            f"the database schema could not be brought up to date "
            f"({getattr(exc, 'orig', exc)}){kept}."
        ) from exc
    return backup


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(inspect(connection).get_table_names())


def open_store(url: str | URL | None = None, *, migrate_schema: bool = True,
               application_name: str | None = None) -> Store:
    """Open (creating if needed) the database at ``url`` and make it ready for use.

    A schema already at the newest revision is left alone, so a PostgreSQL role without
    rights to change the schema (a clinic's app role) opens it; one that is behind is
    refused with a sentence naming ``server init``. ``application_name``: see
    :func:`make_engine`.

    Raises :class:`StoreOpenError` for a damaged or foreign file or a schema from a newer
    version, and :class:`StoreUnavailableError` when a server cannot be reached.
    """
    url = make_url(url or default_url())
    path = sqlite_file(url)
    if path is not None and "mode=ro" not in str(url):
        _prepare_private_sqlite(path)
    engine = make_engine(url, application_name=application_name)
    try:
        if url.get_backend_name() == "sqlite":
            quick_check(engine)
        else:
            _ping(engine)
        if migrate_schema:
            migrate(engine)
        elif current_revision(engine) != head_revision():
            raise StoreOpenError(
                f"the database schema is {current_revision(engine) or 'empty'}, "
                f"ChairSide needs {head_revision()}"
            )
    except BaseException:
        engine.dispose()
        raise
    if path is not None and "mode=ro" not in str(url):
        with contextlib.suppress(PermissionError):  # logged by _prepare_private_sqlite
            tighten_sqlite(path)  # -wal and -shm, made by the first connection
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False), url=url)


def _prepare_private_sqlite(path: Path) -> None:
    """The database folder 0700 and the file 0600 before SQLite opens it (POSIX).

    SQLite creates the ``-wal`` and ``-shm`` files later with the database file's mode, so
    they are 0600 too. The app's own data folder is tightened even when it exists already
    (earlier versions made it 0755); a folder named by ``--db`` is only created, never
    changed.
    """
    make_private_dir(path.parent)
    try:
        if path.parent == default_database_path().parent:
            tighten(path.parent)
        create_private_file(path)
        tighten_sqlite(path)
    except PermissionError as exc:
        # Another account's file or folder: SQLite says whether it can be used at all.
        log.warning("could not make %s private: %s", path, exc)


def _ping(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailableError(
            "unreachable", f"Could not reach the database at {engine.url.render_as_string()}: "
            f"{getattr(exc, 'orig', exc)}"
        ) from exc
