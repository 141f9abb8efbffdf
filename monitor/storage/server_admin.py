"""Setting up a clinic's PostgreSQL database: the roles, their rights, the schema.

:func:`init_server` connects as a superuser (or a role with CREATEROLE that may act as the
owner) and, idempotently:

* creates the **owner** role (``NOLOGIN`` when new), which owns every ChairSide table and is
  the only role that changes the schema; existing ChairSide tables and their trigger
  functions are handed to it;
* creates the **app** role (``LOGIN``, no other attribute), the one the tablets and the
  clinician's desk use: ``CONNECT`` on the database, ``USAGE`` on the schema, ``SELECT`` and
  ``INSERT`` on the clinical tables and the audit trail, ``SELECT`` on the schema revision,
  ``USAGE`` on the schema's sequences, and ``UPDATE`` only on the columns the app changes
  today (:data:`APP_UPDATES`). No ``UPDATE`` of a clinical row, no ``DELETE``, no
  ``TRUNCATE``, no DDL: the database itself keeps the record append-only;
* brings the schema up to date with the Alembic migrations, run as the owner;
* revokes from PUBLIC what would let any other role in: ``CONNECT`` and ``TEMPORARY`` on the
  database, ``CREATE`` on the schema.

A password for the app role is sent as a SCRAM-SHA-256 verifier computed here, so the
password itself never reaches the server (nor its statement log).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url

from monitor.storage.model import Base
from monitor.storage.store import current_revision, head_revision, make_engine, migrate

DEFAULT_APP_ROLE = "chairside_app"
DEFAULT_OWNER_ROLE = "chairside_owner"
#: The only UPDATEs the app makes: a staff member's PIN, sign-in failures, lock and
#: whether the account is active (:mod:`monitor.service.clinic`), and a protocol draft while it is
#: a draft (:mod:`monitor.service.protocol_admin`; a trigger refuses any change once it is approved
#: or withdrawn), and the bedside-monitor feed's own bookkeeping (:mod:`monitor.feed.filing`:
#: a monitor's last message, a binding's end, what became of an observation and of a device
#: reading; the readings it files are inserted like typed ones). Every other table is
#: append-only.
APP_UPDATES: dict[str, tuple[str, ...]] = {
    "staff": ("pin_hash", "failed_logins", "locked_at", "active"),
    "protocol_drafts": ("changes", "updated_at", "reason", "state", "approved_version_id"),
    "feed_devices": ("last_message_at", "location"),
    "feed_bindings": ("unbound_at", "unbound_by"),
    "feed_observations": ("status", "reason", "device_reading_id"),
    "device_readings": ("status", "reason", "decided_by", "decided_at"),
}
#: Alembic's table: the app reads it at start-up to see whether the schema is current.
REVISION_TABLE = "alembic_version"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
SCRAM_ITERATIONS = 4096


class ServerInitError(Exception):
    """The set-up was refused (bad input, not PostgreSQL, not enough rights); a sentence."""


@dataclass
class InitReport:
    """What :func:`init_server` did, one line per step, in order."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)


def chairside_tables() -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables]


def check_role_name(value: str, option: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise ServerInitError(
            f"{option}: 1 to 63 characters of lower-case letters, digits and _, not starting "
            f"with a digit (got {value!r})")
    return value


def scram_verifier(password: str, *, salt: bytes | None = None,
                   iterations: int = SCRAM_ITERATIONS) -> str:
    """The ``SCRAM-SHA-256$…`` form PostgreSQL stores for ``password`` (RFC 7677)."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def init_server(url: str | URL, *, app_role: str = DEFAULT_APP_ROLE,
                owner_role: str = DEFAULT_OWNER_ROLE,
                app_password: str | None = None) -> InitReport:
    """Set up the database at ``url`` for a clinic; see the module docstring."""
    url = make_url(url)
    if url.get_backend_name() != "postgresql":
        raise ServerInitError(
            f"--db: server init sets up a PostgreSQL database (postgresql+psycopg://…), "
            f"not {url.get_backend_name()}")
    check_role_name(app_role, "--app-role")
    check_role_name(owner_role, "--owner-role")
    if app_role == owner_role:
        raise ServerInitError("--app-role and --owner-role must be two different roles")
    if app_password is not None and not app_password:
        raise ServerInitError("app password: at least 1 character (got an empty line)")
    report = InitReport()
    engine = make_engine(url, application_name="chairside server init")
    try:
        with engine.begin() as connection:
            _set_up_roles(connection, report, app_role, owner_role, app_password)
            _take_ownership(connection, report, owner_role)
        _migrate_as(engine.url, owner_role, report)
        with engine.begin() as connection:
            _grant(connection, report, app_role, owner_role)
    finally:
        engine.dispose()
    return report


def _q(name: str) -> str:
    """A checked role, database or schema name, quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def _role_exists(connection: Connection, name: str) -> bool:
    return connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
    ).first() is not None


def _set_up_roles(connection: Connection, report: InitReport, app_role: str,
                  owner_role: str, app_password: str | None) -> None:
    me, superuser, createrole = connection.execute(text(
        "SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    )).one()
    if not (superuser or createrole):
        raise ServerInitError(
            f"--db: connect as a superuser or a role with CREATEROLE (connected as {me})")
    if _role_exists(connection, owner_role):
        report.add(f"owner role {owner_role}: exists")
    else:
        connection.execute(text(f"CREATE ROLE {_q(owner_role)} NOLOGIN"))
        report.add(f"owner role {owner_role}: created (NOLOGIN)")
    if not superuser:
        connection.execute(text(f"GRANT {_q(owner_role)} TO {_q(me)}"))
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if _role_exists(connection, app_role):
        connection.execute(text(f"ALTER ROLE {_q(app_role)} {attributes}"))
        report.add(f"app role {app_role}: exists; attributes set to {attributes}")
    else:
        connection.execute(text(f"CREATE ROLE {_q(app_role)} {attributes}"))
        report.add(f"app role {app_role}: created ({attributes})")
    if app_password is not None:
        verifier = scram_verifier(app_password).replace("'", "''")
        # Not text(): a verifier's ":" would read as a bind parameter.
        connection.exec_driver_sql(f"ALTER ROLE {_q(app_role)} PASSWORD '{verifier}'")
        report.add(f"app role {app_role}: password set (sent as a SCRAM-SHA-256 verifier)")
    # The app must not reach the owner's rights through membership.
    memberships = connection.execute(text(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :app"), {"app": app_role}
    ).scalars().all()
    for group in memberships:
        connection.execute(text(f"REVOKE {_q(group)} FROM {_q(app_role)}"))
        report.add(f"app role {app_role}: removed from role {group}")


def _schema(connection: Connection) -> tuple[str, str]:
    database, schema = connection.execute(
        text("SELECT current_database(), current_schema()")).one()
    if schema is None:
        raise ServerInitError("--db: the connection has no schema to use (check search_path)")
    return database, schema


def _take_ownership(connection: Connection, report: InitReport, owner_role: str) -> None:
    """Hand ChairSide's tables (and their trigger functions) to the owner role."""
    database, schema = _schema(connection)
    connection.execute(text(f"GRANT CONNECT ON DATABASE {_q(database)} TO {_q(owner_role)}"))
    connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA {_q(schema)} TO {_q(owner_role)}"))
    report.add(f"schema {database}.{schema}: {owner_role} may create objects in it")
    names = [*chairside_tables(), REVISION_TABLE]
    tables = connection.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind = 'r' AND c.relname = ANY(:names) "
        "AND pg_get_userbyid(c.relowner) <> :owner ORDER BY c.relname"),
        {"schema": schema, "names": names, "owner": owner_role}).scalars().all()
    for table in tables:
        connection.execute(text(f"ALTER TABLE {_q(schema)}.{_q(table)} OWNER TO {_q(owner_role)}"))
    functions = connection.execute(text(
        "SELECT DISTINCT p.oid::regprocedure::text FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relname = ANY(:names) AND NOT t.tgisinternal "
        "AND pg_get_userbyid(p.proowner) <> :owner"),
        {"schema": schema, "names": names, "owner": owner_role}).scalars().all()
    for function in functions:
        connection.execute(text(f"ALTER FUNCTION {function} OWNER TO {_q(owner_role)}"))
    if tables or functions:
        report.add(f"ownership: {len(tables)} table(s) and {len(functions)} trigger "
                   f"function(s) handed to {owner_role}")


def _migrate_as(url: URL, owner_role: str, report: InitReport) -> None:
    """Run the migrations with the owner's identity, so the owner owns what they create."""
    engine = make_engine(url, application_name="chairside server init")

    @event.listens_for(engine, "connect")
    def _become_owner(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(f"SET ROLE {_q(owner_role)}")
        cursor.close()
        dbapi_connection.commit()  # type: ignore[attr-defined]

    try:
        before = current_revision(engine)
        migrate(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        report.add(f"schema: at {after} already (the newest this ChairSide knows)")
    else:
        report.add(f"schema: migrated from {before or 'empty'} to {after} as {owner_role}")


def _grant(connection: Connection, report: InitReport, app_role: str, owner_role: str) -> None:
    database, schema = _schema(connection)
    app, s = _q(app_role), _q(schema)
    run = connection.execute
    run(text(f"REVOKE CONNECT, TEMPORARY ON DATABASE {_q(database)} FROM PUBLIC"))
    run(text(f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC"))
    run(text(f"GRANT CONNECT ON DATABASE {_q(database)} TO {app}"))
    run(text(f"GRANT USAGE ON SCHEMA {s} TO {app}"))
    report.add(f"database {database}: CONNECT and TEMPORARY revoked from PUBLIC; "
               f"CREATE on schema {schema} revoked from PUBLIC")
    report.add(f"app role {app_role}: CONNECT on {database}, USAGE on schema {schema}")
    for table in chairside_tables():
        run(text(f"REVOKE ALL ON {s}.{_q(table)} FROM {app}"))
        run(text(f"GRANT SELECT, INSERT ON {s}.{_q(table)} TO {app}"))
        columns = APP_UPDATES.get(table)
        if columns:
            listed = ", ".join(_q(column) for column in columns)
            run(text(f"GRANT UPDATE ({listed}) ON {s}.{_q(table)} TO {app}"))
    report.add(f"app role {app_role}: SELECT, INSERT on {', '.join(chairside_tables())}")
    for table, columns in APP_UPDATES.items():
        report.add(f"app role {app_role}: UPDATE only of {table}({', '.join(columns)})")
    run(text(f"REVOKE ALL ON {s}.{_q(REVISION_TABLE)} FROM {app}"))
    run(text(f"GRANT SELECT ON {s}.{_q(REVISION_TABLE)} TO {app}"))
    report.add(f"app role {app_role}: SELECT on {REVISION_TABLE} (to see the schema is current)")
    sequences = connection.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind = 'S' "
        "AND pg_get_userbyid(c.relowner) = :owner"),
        {"schema": schema, "owner": owner_role}).scalars().all()
    for sequence in sequences:
        run(text(f"GRANT USAGE ON SEQUENCE {s}.{_q(sequence)} TO {app}"))
    report.add(f"app role {app_role}: USAGE on {len(sequences)} sequence(s) of {owner_role}; "
               f"no UPDATE of clinical rows, no DELETE, no TRUNCATE, no DDL")
    report.add(f"done: tablets connect as {app_role}; the schema is at {head_revision()}; "
               f"after a ChairSide upgrade, run server init again")
