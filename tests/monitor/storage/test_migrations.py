"""The Alembic migrations build exactly the schema the model declares, on both backends."""

import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from monitor.clinical.protocol import load_protocol
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage import protocol_store
from monitor.storage.integrity import check_database
from monitor.storage.model import Base, UTCDateTime
from monitor.storage.store import (
    MIGRATIONS_DIR,
    StoreOpenError,
    _alembic_config,
    head_revision,
    make_engine,
    open_store,
)
from tests.conftest import TEST_SECRET


def test_migrated_schema_matches_the_model(db_url):
    store = open_store(db_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def _sqlite_schema(path) -> dict[str, object]:
    """Everything a SQLite database's schema holds, in a form two databases can be compared
    in: each table's columns (by name), constraints, foreign keys and indexes, each index's
    and trigger's statement, and the rows stored (none but Alembic's revision)."""
    connection = sqlite3.connect(path)
    try:
        master = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        schema: dict[str, object] = {
            "objects": [(kind, name, table) for kind, name, table, _ in master],
            "statements": {name: sql for kind, name, _, sql in master if kind != "table"},
        }
        for kind, table, _, sql in master:
            if kind != "table":
                continue
            # A column a script added comes last in its table, where the model may declare
            # it earlier; no statement of ChairSide relies on the order, so names are compared.
            columns = {row[1]: row[2:] for row in connection.execute(
                f'PRAGMA table_xinfo("{table}")')}
            body = [line.strip().rstrip(",") for line in sql.splitlines()[1:-1]]
            schema[table] = {
                "columns": columns,
                "constraints": sorted(line for line in body if line.startswith("CONSTRAINT")),
                "foreign keys": sorted(row[2:] for row in connection.execute(
                    f'PRAGMA foreign_key_list("{table}")')),
                "indexes": sorted(row[1:] for row in connection.execute(
                    f'PRAGMA index_list("{table}")')),
                "rows": connection.execute(f'SELECT * FROM "{table}"').fetchall(),
            }
        return schema
    finally:
        connection.close()


def test_a_new_sqlite_database_is_created_as_the_migrations_would_build_it(tmp_path):
    """A new SQLite file gets the newest schema in one step, without the scripts: it must
    be the schema the scripts build, revision included."""
    created_url = f"sqlite:///{tmp_path / 'created.sqlite3'}"
    open_store(created_url).close()
    migrated = tmp_path / "migrated.sqlite3"
    engine = make_engine(f"sqlite:///{migrated}")
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    created = _sqlite_schema(tmp_path / "created.sqlite3")
    assert created == _sqlite_schema(migrated)
    assert created["alembic_version"]["rows"] == [(head_revision(),)]  # type: ignore[index]
    assert sum(kind == "trigger" for kind, _, _ in created["objects"]) == 8  # type: ignore[attr-defined]


def test_a_new_sqlite_database_is_created_without_loading_alembic(tmp_path):
    """The first start of a new tablet does not load Alembic (a second of start-up)."""
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    code = ("import sys; from monitor.storage.store import open_store; "
            f"open_store({url!r}).close(); "
            "print(any(m == 'alembic' or m.startswith('alembic.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "False"


def test_a_new_sqlite_schema_is_created_whole_or_not_at_all(tmp_path, monkeypatch):
    """A creation that fails half-way leaves no table behind: the next start creates the
    schema again instead of refusing a database with tables and no revision."""
    from monitor.storage import store as store_module  # noqa: PLC0415

    monkeypatch.setattr(store_module, "_SQLITE_TRIGGERS",
                        (*store_module._SQLITE_TRIGGERS, "CREATE TRIGGER broken"))
    path = tmp_path / "new.sqlite3"
    with pytest.raises(StoreOpenError, match="could not be brought up to date"):
        open_store(f"sqlite:///{path}")
    assert _sqlite_schema(path) == {"objects": [], "statements": {}}
    monkeypatch.undo()
    open_store(f"sqlite:///{path}").close()
    assert ("trigger", "audit_log_no_update", "audit_log") in _sqlite_schema(path)["objects"]


def test_head_revision_constant_names_the_newest_script():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == head_revision()


def test_upgrade_pins_existing_sessions_to_their_profiles_current_file(db_url):
    """Sessions recorded before protocol versions were kept are pinned to their profile's
    file as it is at the upgrade (the earlier content was never stored); a session of a
    profile that no longer loads is left unpinned, and ``check`` says so."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0003")
            ids = _sessions_at_0003(connection, ["iv_ketamine", "esketamine_rems",
                                                 "iv_ketamine", "retired_profile"])
    finally:
        engine.dispose()

    store = open_store(db_url)
    try:
        clock = ManualClock()
        service = ClinicService(store, clock, secret=TEST_SECRET)
        expected = {
            profile: protocol_store.version_of(load_protocol(profile), profile, clock.now())
            for profile in ("iv_ketamine", "esketamine_rems")
        }
        for session_id, profile in ids[:3]:
            info = service.session_info(session_id)
            assert info.protocol_version_id == expected[profile].id
            assert info.protocol_hash == expected[profile].hash
            assert info.protocol_version == expected[profile].version
            assert service.load(session_id).protocol.name == load_protocol(profile).name
        with store.read() as db:
            stored = protocol_store.all_versions(db.connection())
        assert sorted(v.hash for v in stored) == sorted(v.hash for v in expected.values())
        assert all(v.sound for v in stored)
        assert service.session_info(ids[3][0]).protocol_version_id is None
    finally:
        store.close()
    # Ids are read back as text: SQLite keeps a UUID as 32 hex digits.
    problems = [p.replace("-", "") for p in check_database(db_url).problems]
    assert [p for p in problems if "protocol" in p] == [
        f"Session without a stored protocol version: session {ids[3][0].hex} "
        "(profile retired_profile) is judged by its profile's current file"
    ]


def _sessions_at_0003(connection, profiles: list[str]) -> list[tuple[uuid.UUID, str]]:
    """Rows as ChairSide wrote them at schema 0003: a nurse, a patient, one session each."""
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    staff_id, patient_id = uuid.uuid4(), uuid.uuid4()
    staff = sa.table("staff", sa.column("id", sa.Uuid), sa.column("name", sa.String),
                     sa.column("role", sa.String), sa.column("active", sa.Boolean),
                     sa.column("created_at", UTCDateTime))
    patients = sa.table("patients", sa.column("id", sa.Uuid), sa.column("mrn", sa.String),
                        sa.column("limit_overrides", sa.JSON),
                        sa.column("limit_override_reason", sa.Text),
                        sa.column("recorded_at", UTCDateTime), sa.column("entered_by", sa.Uuid))
    sessions = sa.table(
        "sessions", *(sa.column(name, sa.String) for name in (
            "chair", "profile", "protocol_version", "lot_number", "escort_name", "source")),
        sa.column("id", sa.Uuid), sa.column("patient_id", sa.Uuid),
        sa.column("time", UTCDateTime), sa.column("concomitant_medications", sa.JSON),
        sa.column("recorded_at", UTCDateTime), sa.column("entered_by", sa.Uuid),
    )
    connection.execute(staff.insert().values(id=staff_id, name="Nora Nurse", role="nurse",
                                             active=True, created_at=now))
    connection.execute(patients.insert().values(
        id=patient_id, mrn="MRN000777", limit_overrides={}, limit_override_reason="",
        recorded_at=now, entered_by=staff_id))
    ids = []
    for number, profile in enumerate(profiles):
        session_id = uuid.uuid4()
        connection.execute(sessions.insert().values(
            id=session_id, patient_id=patient_id, time=now + timedelta(days=number),
            chair="1", profile=profile, protocol_version="1.0", lot_number="",
            escort_name="", source="chair", concomitant_medications={}, recorded_at=now,
            entered_by=staff_id))
        ids.append((session_id, profile))
    return ids


def test_upgrade_gives_existing_sessions_their_patients_limits(db_url):
    """Sessions recorded before a session kept its patient's own limits keep those the
    patient has at the upgrade; limits set afterwards do not re-judge them."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0003")
            (session_id, _), = _sessions_at_0003(connection, ["iv_ketamine"])
            connection.execute(sa.text(
                "UPDATE patients SET limit_overrides = :limits"),
                {"limits": '{"hr.high_warning_at_or_above": 120}'})
    finally:
        engine.dispose()

    store = open_store(db_url)
    try:
        service = ClinicService(store, ManualClock(), secret=TEST_SECRET)
        info = service.session_info(session_id)
        assert dict(info.limit_overrides) == {"hr.high_warning_at_or_above": 120}
        with store.write() as db:
            db.execute(sa.text("UPDATE patients SET limit_overrides = :limits"),
                       {"limits": '{"hr.high_warning_at_or_above": 125}'})
        assert service.session_protocol(session_id).hr.high_warning_at_or_above == 120
    finally:
        store.close()
