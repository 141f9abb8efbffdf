"""The Alembic migrations build exactly the schema the model declares, on both backends."""

import uuid
from datetime import UTC, datetime, timedelta

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
