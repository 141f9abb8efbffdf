"""``server init``: the owner and app roles, and what the database lets the app role do.

Each test gets a database and two roles of its own on the shared server (dropped
afterwards), so the roles' rights are proved by PostgreSQL itself, not by reading the code.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.cli.main import main
from monitor.clinical.domain import EventKind, Phase
from monitor.service.auth import LoginRefused
from monitor.service.clinic import ClinicService
from monitor.storage import migrations
from monitor.storage.model import Base
from monitor.storage.server_admin import APP_UPDATES, ServerInitError, init_server, scram_verifier
from monitor.storage.store import StoreOpenError, current_revision, head_revision, open_store
from tests.conftest import TEST_PIN, TEST_SECRET, pg_base_url

pytestmark = pytest.mark.postgres
MIN = timedelta(minutes=1)


@dataclass
class ClinicDatabase:
    """A fresh database on the shared server and the names of the roles to create."""

    superuser_url: str
    database: str
    app_role: str
    owner_role: str

    def url(self, user: str) -> str:
        return make_url(self.superuser_url).set(username=user).render_as_string(
            hide_password=False)

    @property
    def app_url(self) -> str:
        return self.url(self.app_role)

    def dsn(self, user: str) -> str:
        url = make_url(self.superuser_url)
        return (f"host={url.host} port={url.port or 5432} dbname={self.database} "
                f"user={user}")


@pytest.fixture
def clinic_db() -> Iterator[ClinicDatabase]:
    base = pg_base_url()
    if base is None:
        pytest.skip("CHAIRSIDE_TEST_PG_URL is not set: no PostgreSQL server for this run")
    tag = uuid.uuid4().hex[:12]
    found = ClinicDatabase(
        superuser_url="", database=f"cs_test_{tag}", app_role=f"cs_app_{tag}",
        owner_role=f"cs_owner_{tag}")
    found.superuser_url = make_url(base).set(database=found.database).render_as_string(
        hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{found.database}"'))
        yield found
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{found.database}" WITH (FORCE)'))
            for role in (found.app_role, found.owner_role):
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _init(db: ClinicDatabase, **options: str) -> list[str]:
    return init_server(db.superuser_url, app_role=db.app_role, owner_role=db.owner_role,
                       **options).lines


def _refused(db: ClinicDatabase, statement: str) -> str:
    """Run ``statement`` as the app role; the SQLSTATE it was refused with."""
    with psycopg.connect(db.dsn(db.app_role), autocommit=True) as connection:
        try:
            connection.execute(statement)
        except psycopg.Error as exc:
            return exc.sqlstate or ""
    return "accepted"


def test_init_creates_the_roles_migrates_as_the_owner_and_is_idempotent(
    clinic_db: ClinicDatabase,
) -> None:
    first = _init(clinic_db)
    assert f"owner role {clinic_db.owner_role}: created (NOLOGIN)" in first
    assert any(line.startswith(f"schema: migrated from empty to {head_revision()}")
               for line in first)
    again = _init(clinic_db)
    assert f"owner role {clinic_db.owner_role}: exists" in again
    assert f"schema: at {head_revision()} already (the newest this ChairSide knows)" in again

    with psycopg.connect(clinic_db.dsn("postgres")) as connection:
        owners = set(connection.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall())
        app = connection.execute(
            "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s", (clinic_db.app_role,)).fetchone()
        owner_login = connection.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
            (clinic_db.owner_role,)).fetchone()
    assert owners == {(clinic_db.owner_role,)}
    assert app == (True, False, False, False, False)
    assert owner_login == (False,)


def test_app_role_runs_a_whole_session_and_manages_staff(clinic_db: ClinicDatabase) -> None:
    from monitor.clock import ManualClock  # noqa: PLC0415

    _init(clinic_db)
    clock = ManualClock()
    store = open_store(clinic_db.app_url)  # at head: no DDL attempted
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        admin = service.create_first_admin("Ada Admin", TEST_PIN)
        nurse = service.add_staff("Nora Nurse", "nurse", TEST_PIN, by=admin)
        patient = service.add_patient("MRN-7", by=nurse, name="Pat Example", weight_kg=70.0)
        session_id = service.start_session(patient.id, by=nurse, chair="3", weight_kg=70.0,
                                           planned_mg_per_kg=0.5, infusion_minutes=40,
                                           bag_volume_ml=100.0)
        base = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0",
                "moaas": "5", "nausea": "0"}
        service.record_reading(session_id, base, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
        clock.advance(10 * MIN)
        low = {**base, "spo2": "92"}
        (flag,) = service.record_reading(session_id, low, by=nurse).new_flags
        service.acknowledge(session_id, flag, action="Repeated reading", by=nurse)
        for _ in range(3):
            clock.advance(10 * MIN)
            service.record_reading(session_id, base, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
        service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
        clock.advance(15 * MIN)
        service.record_reading(session_id, base, by=nurse)
        service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
        clock.advance(15 * MIN)
        service.record_reading(session_id, base, by=nurse)
        service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
        assert service.load(session_id).phase is Phase.DISCHARGED

        # The column-level UPDATEs: a wrong PIN counts, a reset lifts it, a disable sticks.
        with pytest.raises(LoginRefused):
            service.login(nurse, "000000")
        service.reset_pin(nurse, "593720", by=admin)
        service.disable_staff(nurse, by=admin)
        assert [s.name for s in service.staff_list()] == ["Ada Admin"]

        # A protocol draft is written, edited and approved through the same column grants.
        clinician = service.add_staff("Cara Clinician", "clinician", TEST_PIN, by=admin)
        draft = service.protocols.create_draft(
            "iv_ketamine", by=admin, reason="Clinic review of the HR limits",
            parameters={"hr.high_warning_at_or_above": 115})
        service.protocols.edit_draft(draft, by=admin,
                                     parameters={"hr.high_warning_at_or_above": 112})
        version = service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
        assert service.protocols.active()["iv_ketamine"] == version
        assert service.verify_audit().ok
    finally:
        store.close()


#: What the app role must be refused, and the rule each refusal keeps.
FORBIDDEN = {
    "UPDATE readings SET sbp = 90": "clinical rows are never updated",
    "DELETE FROM readings": "clinical rows are never deleted",
    "UPDATE sessions SET chair = '9'": "clinical rows are never updated",
    "DELETE FROM audit_log": "the audit trail is append-only",
    "UPDATE audit_log SET action = 'x'": "the audit trail is append-only",
    "TRUNCATE audit_log": "the audit trail is append-only",
    "UPDATE staff SET name = 'Someone Else'": "only PIN, lock and active may change",
    "UPDATE staff SET role = 'admin'": "only PIN, lock and active may change",
    "DELETE FROM staff": "staff rows stay",
    "UPDATE alembic_version SET version_num = '0001'": "no schema changes",
    "INSERT INTO alembic_version VALUES ('9999')": "no schema changes",
    "CREATE TABLE notes (n int)": "no DDL",
    "CREATE TEMPORARY TABLE scratch (n int)": "no temporary tables",
    "ALTER TABLE readings ADD COLUMN x int": "no DDL",
    "DROP TABLE signatures": "no DDL",
    "CREATE SCHEMA mine": "no DDL",
}


def test_app_role_is_refused_what_the_record_rules_forbid(clinic_db: ClinicDatabase) -> None:
    _init(clinic_db)
    outcomes = {statement: _refused(clinic_db, statement) for statement in FORBIDDEN}
    assert outcomes == dict.fromkeys(FORBIDDEN, "42501")


def test_app_role_may_update_exactly_the_columns_the_app_updates(
    clinic_db: ClinicDatabase,
) -> None:
    _init(clinic_db)
    with psycopg.connect(clinic_db.dsn("postgres")) as connection:
        granted = connection.execute(
            "SELECT table_name, column_name FROM information_schema.column_privileges "
            "WHERE grantee = %s AND privilege_type = 'UPDATE'", (clinic_db.app_role,)
        ).fetchall()
        table_wide = connection.execute(
            "SELECT table_name, privilege_type FROM information_schema.table_privileges "
            "WHERE grantee = %s ORDER BY 1, 2", (clinic_db.app_role,)).fetchall()
    assert sorted(granted) == sorted(
        (table, column) for table, columns in APP_UPDATES.items() for column in columns)
    assert {privilege for _, privilege in table_wide} == {"SELECT", "INSERT"}
    assert ("alembic_version", "INSERT") not in table_wide


def test_app_role_on_a_schema_behind_is_told_to_run_server_init(
    clinic_db: ClinicDatabase,
) -> None:
    _init(clinic_db)
    owner = create_engine(clinic_db.superuser_url)
    try:
        with owner.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0003'"))
        with pytest.raises(StoreOpenError) as refused:
            open_store(clinic_db.app_url)
        assert str(refused.value) == (
            f"the database schema is at 0003, this app needs {head_revision()}: "
            "run `python -m monitor server init` as the owner")
        assert current_revision(owner) == "0003"  # nothing was changed
    finally:
        owner.dispose()


def test_cli_sets_a_scram_password_read_from_stdin_and_prints_each_step(
    clinic_db: ClinicDatabase, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    status = main(["server", "init", "--db", clinic_db.superuser_url,
                   "--app-role", clinic_db.app_role, "--owner-role", clinic_db.owner_role,
                   "--app-password-from-stdin"])
    out = capsys.readouterr().out
    assert status == 0
    assert f"app role {clinic_db.app_role}: password set" in out
    assert "correct horse" not in out
    assert out.rstrip().splitlines()[-1].startswith("done: tablets connect as")
    with psycopg.connect(clinic_db.dsn("postgres")) as connection:
        (stored,) = connection.execute(
            sql.SQL("SELECT rolpassword FROM pg_authid WHERE rolname = {}").format(
                sql.Literal(clinic_db.app_role))).fetchone()
    assert stored.startswith("SCRAM-SHA-256$4096:")


@pytest.mark.parametrize(("argv", "message"), [
    (["--app-role", "Robert'); DROP"], "--app-role: 1 to 63 characters"),
    (["--owner-role", "9lives"], "--owner-role: 1 to 63 characters"),
    (["--app-role", "same", "--owner-role", "same"], "two different roles"),
])
def test_cli_refuses_bad_role_names_naming_the_option(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["server", "init", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/x",
                   *argv])
    assert status == 2
    assert message in capsys.readouterr().err


def test_cli_reports_an_unreachable_server_with_exit_status_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["server", "init", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/x"])
    assert status == 3
    assert "error: could not use the database at postgresql+psycopg://postgres@127.0.0.1:1/x" \
        in capsys.readouterr().err


def test_init_refuses_sqlite_naming_the_option(tmp_path) -> None:
    with pytest.raises(ServerInitError, match="--db: server init sets up a PostgreSQL"):
        init_server(f"sqlite:///{tmp_path / 'x.sqlite3'}")


def test_scram_verifier_matches_the_rfc_7677_example() -> None:
    # RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==.
    import base64  # noqa: PLC0415

    verifier = scram_verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    assert verifier == ("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
                        "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
                        "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=")


def test_init_as_a_role_that_cannot_create_roles_is_refused_naming_it(
    clinic_db: ClinicDatabase,
) -> None:
    _init(clinic_db)
    with pytest.raises(ServerInitError) as refused:
        init_server(clinic_db.app_url, app_role="other_app", owner_role=clinic_db.owner_role)
    assert str(refused.value) == (
        f"--db: connect as a superuser or a role with CREATEROLE (connected as "
        f"{clinic_db.app_role})")


def test_init_on_a_database_the_app_created_as_superuser_hands_it_to_the_owner(
    clinic_db: ClinicDatabase,
) -> None:
    open_store(clinic_db.superuser_url).close()  # as a single-user set-up would have it
    lines = _init(clinic_db)
    tables = len(Base.metadata.tables) + 1  # and alembic_version
    functions = sum(text.count("RETURNS trigger")
                    for text in _migration_texts())
    assert (f"ownership: {tables} table(s) and {functions} trigger function(s) handed to "
            f"{clinic_db.owner_role}") in lines
    with psycopg.connect(clinic_db.dsn("postgres")) as connection:
        owners = set(connection.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' UNION "
            "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace = "
            "'public'::regnamespace").fetchall())
    assert owners == {(clinic_db.owner_role,)}
    assert _refused(clinic_db, "DELETE FROM audit_log") == "42501"
    assert f"schema: at {head_revision()} already (the newest this ChairSide knows)" in lines


def _migration_texts() -> list[str]:
    """The migration scripts' text: each PostgreSQL trigger function is created in one."""
    folder = Path(migrations.__file__).parent / "versions"
    return [path.read_text(encoding="utf-8") for path in sorted(folder.glob("0*.py"))]
