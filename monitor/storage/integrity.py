"""Is this database sound? The check behind ``python -m monitor check``.

:func:`check_database` looks at a ChairSide database from the outside and reports every
problem it finds as a sentence, so that a clinic can tell a healthy record from a damaged
one before trusting it:

* SQLite: the full ``PRAGMA integrity_check`` (every page and index, not the quick check
  the app runs at start-up) and ``PRAGMA foreign_key_check``;
* PostgreSQL: the server answers;
* both: the schema is at the Alembic head, and the record keeps its own rules (a
  correction points at an entry of its session, an amendment's replacement exists, a
  flag's reading exists, every stored value is one the entry form accepts), and every
  session is pinned to a stored protocol version whose content still matches its SHA-256
  and loads (:mod:`monitor.storage.protocol_store`), and every protocol approval was signed for
  the content its version holds.

It never raises for the database's sake: a damaged file, a file that is not a database or
a server that does not answer is a problem in the result, with the reason. It never
writes: a SQLite file is opened read-only and a PostgreSQL check runs in a read-only
transaction, so checking a suspect record cannot make it worse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import quote

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from monitor.clinical.protocol import ProtocolError
from monitor.clinical.validation import MEASURES
from monitor.storage import protocol_store
from monitor.storage.model import (
    Base,
    ProtocolActivation,
)
from monitor.storage.queries import (
    ACKNOWLEDGEMENTS,
    CORRECTIONS,
    EVENTS,
    FLAGS,
    READINGS,
    SESSIONS,
    VERSIONS,
)
from monitor.storage.store import _alembic_config, head_revision, make_engine, sqlite_file

#: Offending rows named per kind of problem; past this the rest are counted, not listed.
MAX_LISTED = 20

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Reading columns with an accepted range (PRODUCT.md, "What is measured").
RANGED_READING_COLUMNS: tuple[str, ...] = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "moaas", "nausea", "anxiety", "pain",
    "phq9", "gad7",
)


@dataclass(frozen=True)
class CheckResult:
    """What the check found. ``ok`` is true exactly when ``problems`` is empty.

    ``details`` holds what was looked at (backend, file, schema revision, row counts) for
    the report; it is informative only.
    """

    ok: bool
    problems: list[str]
    details: dict[str, Any] = field(default_factory=dict)


class _Findings:
    """Problems and details gathered while checking."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.details: dict[str, Any] = {}

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def add_rows(self, what: str, rows: Sequence[str]) -> None:
        """One problem per offending row, up to :data:`MAX_LISTED`, then a count of the rest."""
        for row in rows[:MAX_LISTED]:
            self.add(f"{what}: {row}")
        if len(rows) > MAX_LISTED:
            self.add(f"{what}: {len(rows) - MAX_LISTED} more not listed")

    def result(self) -> CheckResult:
        return CheckResult(ok=not self.problems, problems=self.problems, details=self.details)


def check_database(url: str | URL) -> CheckResult:
    """Check the database at ``url`` and report every problem found (never raises for it)."""
    findings = _Findings()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        findings.add(f"{url!s} is not a database URL ({exc}).")
        return findings.result()
    backend = parsed.get_backend_name()
    findings.details["backend"] = backend
    if backend == "sqlite":
        _check_sqlite(parsed, findings)
    elif backend == "postgresql":
        _check_postgresql(parsed, findings)
    else:
        findings.add(f"ChairSide stores its records in SQLite or PostgreSQL, not {backend}.")
    return findings.result()


# -- SQLite -------------------------------------------------------------------------------


def _check_sqlite(url: URL, findings: _Findings) -> None:
    path = sqlite_file(url)
    if path is None:
        findings.add("An in-memory database holds no record to check; name a file.")
        return
    findings.details["path"] = str(path)
    if not _looks_like_sqlite(path, findings):
        return
    engine = make_engine(_read_only_url(path))
    try:
        with engine.connect() as connection:
            if not _sqlite_pages_sound(connection, path, findings):
                return
            _check_record(connection, findings)
    except SQLAlchemyError as exc:
        # Damage that the integrity check did not reach (or that stopped it) still lands here.
        findings.add(f"{path} is damaged or unreadable: {_reason(exc)}.")
    finally:
        engine.dispose()


def _looks_like_sqlite(path: Path, findings: _Findings) -> bool:
    """Refuse a missing or foreign file up front, with a plainer reason than SQLite's."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        findings.add(f"{path} does not exist.")
        return False
    except OSError as exc:
        findings.add(f"{path} cannot be read: {exc.strerror or exc}.")
        return False
    if header == b"":
        # SQLite treats an empty file as an empty database: nothing damaged, nothing stored.
        findings.add(f"{path} is empty: it holds no ChairSide record.")
        return False
    if header != SQLITE_MAGIC:
        findings.add(f"{path} is not a SQLite database (it may be another kind of file).")
        return False
    return True


def _read_only_url(path: Path) -> URL:
    # mode=ro: a check must not create, migrate or otherwise write to the file it examines.
    return make_url(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")


def _sqlite_pages_sound(connection: Connection, path: Path, findings: _Findings) -> bool:
    """Full integrity and foreign-key checks; False when the file is too damaged to read on."""
    try:
        integrity = [str(r) for r in connection.exec_driver_sql("PRAGMA integrity_check").scalars()]
    except SQLAlchemyError as exc:
        findings.add(f"{path} is damaged or not a SQLite database: {_reason(exc)}.")
        return False
    findings.details["integrity_check"] = integrity[:MAX_LISTED]
    if integrity != ["ok"]:
        findings.add_rows(f"{path} is damaged (integrity_check)", integrity)
        return False
    broken = [
        f"row {rowid} of {table} points at a missing row of {parent}"
        for table, rowid, parent, _fkid in connection.exec_driver_sql("PRAGMA foreign_key_check")
    ]
    findings.add_rows("Broken reference (foreign_key_check)", broken)
    return True


# -- PostgreSQL ---------------------------------------------------------------------------


def _check_postgresql(url: URL, findings: _Findings) -> None:
    shown = url.render_as_string(hide_password=True)
    findings.details["server"] = shown
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError) as exc:
        findings.add(f"Cannot use the database at {shown}: {exc}.")
        return
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            _check_record(connection, findings)
    except SQLAlchemyError as exc:
        findings.add(f"The database at {shown} cannot be reached or read: {_reason(exc)}.")
    finally:
        engine.dispose()


# -- both ---------------------------------------------------------------------------------


def _check_record(connection: Connection, findings: _Findings) -> None:
    """Schema at head, then the record's own rules (only on a schema this code knows)."""
    if not _schema_at_head(connection, findings):
        return
    counts = {
        table.name: connection.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }
    findings.details["rows"] = counts
    for what, query, describe in _INVARIANTS:
        rows = [describe(row) for row in connection.execute(query())]
        findings.add_rows(what, rows)
    for name, problem in _range_problems(connection):
        findings.add_rows(f"Reading {name} outside the accepted range", problem)
    findings.add_rows("Protocol version not sound", _protocol_version_problems(connection))


def _schema_at_head(connection: Connection, findings: _Findings) -> bool:
    head = head_revision()
    findings.details["head"] = head
    try:
        current = MigrationContext.configure(connection).get_current_revision()
    except CommandError as exc:
        findings.add(f"The schema version cannot be read: {exc}.")
        return False
    findings.details["revision"] = current
    tables = set(inspect(connection).get_table_names())
    if current is None:
        if tables:
            findings.add("The database has tables but no ChairSide schema version.")
        else:
            findings.add("The database is empty: it holds no ChairSide record.")
        return False
    known = {
        rev.revision for rev in ScriptDirectory.from_config(_alembic_config(None)).walk_revisions()
    }
    if current not in known:
        findings.add(
            f"The schema ({current}) was written by a newer ChairSide; "
            "check it with that version."
        )
        return False
    if current != head:
        findings.add(
            f"The schema is at {current}, not {head}: ChairSide upgrades it (after a backup) "
            "the next time it opens this database."
        )
        return False
    missing = _missing_columns(connection, tables)
    findings.add_rows("The schema lacks", missing)
    return not missing


def _missing_columns(connection: Connection, tables: set[str]) -> list[str]:
    inspector = inspect(connection)
    missing: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in tables:
            missing.append(f"table {table.name}")
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing.extend(
            f"column {table.name}.{c.name}" for c in table.columns if c.name not in present
        )
    return missing


# -- the record's own rules ---------------------------------------------------------------
#
# Each is a query for the offending rows, so the check costs one pass per rule whatever the
# size of the record. Ids are cast to text: a row written by something other than ChairSide
# may not hold a valid UUID, and reporting it must not fail on it.

#: A SELECT of any shape (SQLAlchemy 2.1 types a Select by its column types).
_Query: TypeAlias = "Select[*tuple[Any, ...]]"

_activations = ProtocolActivation.__table__


def _text(column: Any) -> ColumnElement[str]:
    return cast(column, String)


def _entry_in_session(table: Any, entry_id: Any) -> ColumnElement[bool]:
    """An entry of ``table`` with id ``entry_id`` in the correction's own session."""
    return exists().where(
        table.c.id == entry_id, table.c.session_id == CORRECTIONS.c.session_id
    )


def _bad_targets() -> _Query:
    target_found = or_(
        and_(CORRECTIONS.c.target_kind == "reading",
             _entry_in_session(READINGS, CORRECTIONS.c.target_id)),
        and_(CORRECTIONS.c.target_kind == "event",
             _entry_in_session(EVENTS, CORRECTIONS.c.target_id)),
    )
    return select(
        _text(CORRECTIONS.c.id), CORRECTIONS.c.target_kind, _text(CORRECTIONS.c.target_id)
    ).where(~target_found)


def _bad_actions() -> _Query:
    return select(_text(CORRECTIONS.c.id), CORRECTIONS.c.action).where(
        or_(CORRECTIONS.c.action.is_(None), CORRECTIONS.c.action.not_in(("void", "amend")))
    )


def _bad_replacements() -> _Query:
    replacement_found = or_(
        and_(CORRECTIONS.c.target_kind == "reading",
             _entry_in_session(READINGS, CORRECTIONS.c.replacement_id)),
        and_(CORRECTIONS.c.target_kind == "event",
             _entry_in_session(EVENTS, CORRECTIONS.c.replacement_id)),
    )
    return select(
        _text(CORRECTIONS.c.id), _text(CORRECTIONS.c.replacement_id)
    ).where(CORRECTIONS.c.action == "amend", ~replacement_found)


def _corrected_twice() -> _Query:
    return (
        select(_text(CORRECTIONS.c.target_id), func.count())
        .group_by(CORRECTIONS.c.target_id)
        .having(func.count() > 1)
    )


def _acknowledged_twice() -> _Query:
    return (
        select(_text(ACKNOWLEDGEMENTS.c.flag_id), func.count())
        .group_by(ACKNOWLEDGEMENTS.c.flag_id)
        .having(func.count() > 1)
    )


def _discharged_twice() -> _Query:
    """Sessions with more than one sign-off or override of discharge standing (not void)."""
    return (
        select(_text(EVENTS.c.session_id), func.count())
        .where(EVENTS.c.kind.in_(("discharge_signed", "discharge_override")),
               ~exists().where(CORRECTIONS.c.target_id == EVENTS.c.id))
        .group_by(EVENTS.c.session_id)
        .having(func.count() > 1)
    )


def _orphan_flags() -> _Query:
    return select(_text(FLAGS.c.id), _text(FLAGS.c.reading_id)).where(
        FLAGS.c.reading_id.is_not(None),
        ~exists().where(READINGS.c.id == FLAGS.c.reading_id),
    )


def _diastolic_not_below_systolic() -> _Query:
    return select(_text(READINGS.c.id), READINGS.c.sbp, READINGS.c.dbp).where(
        READINGS.c.sbp.is_not(None), READINGS.c.dbp.is_not(None),
        READINGS.c.dbp >= READINGS.c.sbp,
    )


def _half_blood_pressure() -> _Query:
    sbp, dbp = READINGS.c.sbp, READINGS.c.dbp
    return select(_text(READINGS.c.id), sbp, dbp).where(
        or_(and_(sbp.is_(None), dbp.is_not(None)), and_(sbp.is_not(None), dbp.is_(None)))
    )


def _unpinned_sessions() -> _Query:
    return select(_text(SESSIONS.c.id), SESSIONS.c.profile).where(
        SESSIONS.c.protocol_version_id.is_(None))


def _approvals_not_matching() -> _Query:
    return select(_text(_activations.c.id), _activations.c.profile,
                  _activations.c.content_hash).join(
        VERSIONS, VERSIONS.c.id == _activations.c.version_id).where(
        _activations.c.content_hash != VERSIONS.c.hash)


_INVARIANTS: tuple[tuple[str, Callable[[], _Query], Callable[[Any], str]], ...] = (
    ("Correction of a missing entry", _bad_targets,
     lambda r: f"correction {r[0]} targets {r[1]} {r[2]}, not found in its session"),
    ("Correction with an unknown action", _bad_actions,
     lambda r: f"correction {r[0]} has action {r[1]!r} (void or amend expected)"),
    ("Amendment without its replacement", _bad_replacements,
     lambda r: f"correction {r[0]} names replacement {r[1]}, not found in its session"),
    ("Entry corrected more than once", _corrected_twice,
     lambda r: f"entry {r[0]} has {r[1]} corrections (one at most)"),
    ("Flag acknowledged more than once", _acknowledged_twice,
     lambda r: f"flag {r[0]} has {r[1]} acknowledgements (one at most)"),
    ("Discharge signed more than once", _discharged_twice,
     lambda r: f"session {r[0]} has {r[1]} discharge sign-offs standing (one at most)"),
    ("Flag of a missing reading", _orphan_flags,
     lambda r: f"flag {r[0]} names reading {r[1]}, which does not exist"),
    ("Diastolic BP not below systolic", _diastolic_not_below_systolic,
     lambda r: f"reading {r[0]} has {r[1]}/{r[2]} mmHg"),
    ("Blood pressure entered by half", _half_blood_pressure,
     lambda r: f"reading {r[0]} has systolic {r[1]} and diastolic {r[2]}"),
    ("Session without a stored protocol version", _unpinned_sessions,
     lambda r: f"session {r[0]} (profile {r[1]}) is judged by its profile's current file"),
    ("Protocol approval not matching its version", _approvals_not_matching,
     lambda r: f"activation {r[0]} ({r[1]}) was signed for SHA-256 {r[2]}, which is not the "
               "stored version's"),
)


def _protocol_version_problems(connection: Connection) -> list[str]:
    """Stored versions whose content no longer matches its hash, or no longer loads."""
    problems = []
    for version in protocol_store.all_versions(connection):
        name = f"protocol version {version.id} ({version.profile} {version.version})"
        if not version.sound:
            problems.append(f"{name}: its content does not match its SHA-256 {version.hash}")
            continue
        try:
            protocol_store.protocol_of(version)
        except ProtocolError as exc:
            problems.append(f"{name} cannot be loaded: {exc}")
    return problems


def _range_problems(connection: Connection) -> Iterable[tuple[str, list[str]]]:
    for name in RANGED_READING_COLUMNS:
        spec = MEASURES[name]
        column = READINGS.c[name]
        query = select(_text(READINGS.c.id), _text(column)).where(
            column.is_not(None),
            or_(column < literal(int(spec.low)), column > literal(int(spec.high))),
        )
        rows = [
            f"reading {rid} has {spec.label} {value}; accepted: {spec.accepted}"
            for rid, value in connection.execute(query)
        ]
        yield name, rows


def _reason(exc: BaseException) -> str:
    """The database's own words for a failure, without SQLAlchemy's SQL and parameters."""
    orig = getattr(exc, "orig", None)
    words = str(orig if orig is not None else exc).strip()
    return words.splitlines()[0] if words else type(exc).__name__
