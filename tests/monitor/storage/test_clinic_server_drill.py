"""The commands of docs/clinic-server.md, run against private servers.

A clinic's database is set up with ``server init``, used by the app role, dumped with
``pg_dump`` and restored into a fresh cluster, where ``check`` and ``audit verify`` pass; a
base backup with archived WAL is recovered to a point in time; the app role's password
works over SCRAM. Each uses a private server (tests/support/pgserver.py), never the shared one.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.cli.main import main
from monitor.clock import ManualClock
from monitor.service.auth import load_secret
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN
from tests.support.pgserver import (
    PG_BIN,
    PrivateServer,
    private_dir,
    private_server,
    require_private_server,
    run_as_server_user,
    wait_for,
)

DB = "chairside"
APP = "chairside_app"
NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        yield started


def _sql(server: PrivateServer, statement: str, database: str = "postgres") -> list[tuple]:
    with psycopg.connect(server.dsn(database), autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _tool(*command: str) -> str:
    done = subprocess.run([str(PG_BIN / command[0]), *command[1:]], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _monitor(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def _set_up_clinic(server: PrivateServer, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(server, f"CREATE DATABASE {DB}")
    _monitor(capsys, "server", "init", "--db", server.url(DB))


def _record_sessions(url: str, sessions: int) -> ClinicService:
    """Sessions entered through the app role, as the tablets would."""
    clock = ManualClock()
    service = ClinicService(open_store(url, application_name="Chair 1"), clock,
                            secret=load_secret())
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    for _ in range(sessions):
        patient = service.add_patient(f"MRN-{uuid.uuid4().hex[:8]}", by=nurse,
                                      name="Pat Example", weight_kg=70.0)
        session_id = service.start_session(patient.id, by=nurse, chair="1")
        for _ in range(3):
            service.record_reading(session_id, NORMAL, by=nurse)
            clock.advance(timedelta(minutes=5))
    return service


def _counts(server: PrivateServer) -> tuple:
    return _sql(server, "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM "
                        "readings), (SELECT max(mac) FROM audit_log)", DB)[0]


def test_dump_and_restore_into_a_new_cluster_passes_check_and_audit_verify(
    server: PrivateServer, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    _set_up_clinic(server, capsys)
    service = _record_sessions(server.url(DB, APP), sessions=2)
    head = service.audit_head()
    service.store.close()
    before = _counts(server)

    # The nightly dump, and the roles (once, and after every role change).
    dump, roles = tmp_path / "chairside.dump", tmp_path / "roles.sql"
    source = f"host=127.0.0.1 port={server.port} user=postgres"
    _tool("pg_dump", "--format=custom", f"--file={dump}", f"{source} dbname={DB}")
    _tool("pg_dumpall", "--roles-only", f"--file={roles}", f"--dbname={source}")

    # The restore drill, on a server of its own.
    with private_server() as target:
        to = f"host=127.0.0.1 port={target.port} user=postgres"
        # "role postgres already exists" is expected: the new cluster has it.
        subprocess.run([str(PG_BIN / "psql"), "--quiet", f"--file={roles}",
                        f"{to} dbname=postgres"], capture_output=True, check=False)
        _tool("createdb", f"--maintenance-db={to} dbname=postgres", DB)
        _tool("pg_restore", "--exit-on-error", f"--dbname={to} dbname={DB}", str(dump))
        _monitor(capsys, "server", "init", "--db", target.url(DB))

        assert _counts(target) == before
        assert "is intact" in _monitor(capsys, "check", "--db", target.url(DB, APP))
        verified = _monitor(capsys, "audit", "verify", "--head", head, "--db",
                            target.url(DB, APP))
        assert "intact" in verified
        _record_sessions(target.url(DB, APP), sessions=1).store.close()  # the app carries on


def test_app_role_signs_in_with_its_password_over_scram(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_private_server()
    hba = ["host all postgres 127.0.0.1/32 trust",
           "host all all 127.0.0.1/32 scram-sha-256"]
    with private_server(hba=hba) as server:
        _sql(server, f"CREATE DATABASE {DB}")
        monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
        _monitor(capsys, "server", "init", "--db", server.url(DB), "--app-password-from-stdin")
        with psycopg.connect(server.dsn(DB, APP), password="correct horse battery") as ok:
            assert ok.execute("SELECT current_user").fetchone() == (APP,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(server.dsn(DB, APP), password="wrong")


@pytest.mark.slow
def test_base_backup_and_archived_wal_recover_to_a_point_in_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    require_private_server()
    archive, backups = private_dir("chairside-wal-"), private_dir("chairside-base-")
    settings = {"wal_level": "replica", "archive_mode": "on",
                "archive_command": f"'test ! -f {archive}/%f && cp %p {archive}/%f'"}
    try:
        with private_server(settings=settings) as server:
            _set_up_clinic(server, capsys)
            _record_sessions(server.url(DB, APP), sessions=1).store.close()
            run_as_server_user([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p",
                                str(server.port), "-U", "postgres", "-D",
                                str(backups / "base"), "--checkpoint=fast",
                                "--wal-method=stream"], "pg_basebackup")
            _record_sessions(server.url(DB, APP), sessions=2).store.close()
            wanted = _counts(server)
            (target_time,) = _sql(server, "SELECT now()::text")[0]
            # What comes after the target time must not be in the recovered database.
            _record_sessions(server.url(DB, APP), sessions=3).store.close()
            (last_wal,) = _sql(server, "SELECT pg_walfile_name(pg_switch_wal())")[0]
            wait_for((archive / last_wal).exists, 30, f"{last_wal} to be archived")

        recovered = PrivateServer(data_from=backups / "base", settings={
            "restore_command": f"'cp {archive}/%f %p'",
            "recovery_target_time": f"'{target_time}'",
            "recovery_target_action": "'promote'",
            "archive_mode": "off",
        })
        try:
            (recovered.data / "recovery.signal").touch()
            shutil.chown(recovered.data / "recovery.signal", *_owner(recovered.data))
            recovered.start()
            wait_for(lambda: _sql(recovered, "SELECT pg_is_in_recovery()") == [(False,)], 60,
                     "recovery to reach the target and promote")
            assert _counts(recovered) == wanted
            assert "is intact" in _monitor(capsys, "check", "--db", recovered.url(DB, APP))
        finally:
            recovered.close()
    finally:
        shutil.rmtree(archive, ignore_errors=True)
        shutil.rmtree(backups, ignore_errors=True)


def _owner(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_uid, stat.st_gid
