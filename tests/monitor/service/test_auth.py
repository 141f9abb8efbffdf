"""Staff sign-in: PIN hashing with the outside secret, lockout on an injected clock,
staff management, the staff command line and e-signatures."""

from __future__ import annotations

import io
import os
import stat
from datetime import timedelta

import pytest
from argon2 import Type as Argon2Type
from argon2 import extract_parameters
from sqlalchemy import select, text

from monitor.cli import main as cli
from monitor.clinical.domain import EventKind, Severity
from monitor.clinical.permissions import PermissionDenied
from monitor.clock import ManualClock
from monitor.service.auth import (
    LOCK_DURATION,
    AccountLocked,
    LoginRefused,
    SignatureRequired,
    hash_pin,
    load_secret,
    verify_pin,
)
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError
from monitor.storage.model import Staff
from tests.conftest import TEST_PIN, TEST_SECRET

MIN = timedelta(minutes=1)
WRONG = "000111"


# -- hashing and the secret ---------------------------------------------------------------


@pytest.mark.pin_cost
def test_pins_are_hashed_with_argon2id_at_least_19_mib_and_two_passes_with_unique_salts():
    first, second = hash_pin(TEST_PIN, TEST_SECRET), hash_pin(TEST_PIN, TEST_SECRET)
    params = extract_parameters(first)
    assert params.type is Argon2Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert first.split("$")[4] != second.split("$")[4]  # the salts
    assert verify_pin(first, TEST_PIN, TEST_SECRET)


def test_a_hash_is_useless_without_the_secret():
    stored = hash_pin(TEST_PIN, TEST_SECRET)
    assert not verify_pin(stored, TEST_PIN, b"another-secret-of-32-bytes......")
    assert not verify_pin(stored, "482914", TEST_SECRET)


def test_the_key_file_is_created_once_with_mode_0600(tmp_path):
    secret = load_secret(tmp_path)
    path = tmp_path / "chairside.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(secret) == 32
    assert load_secret(tmp_path) == secret


def test_the_key_files_new_folder_is_the_owners_only(tmp_path):
    folder = tmp_path / "config" / "ChairSide"
    load_secret(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder.parent).st_mode) == 0o700


def test_no_pin_or_secret_is_stored_in_the_database(service, nurse):
    service.login(nurse, TEST_PIN)
    with pytest.raises(LoginRefused):
        service.login(nurse, "739151")
    with service.store.read() as db:
        connection = db.connection()
        dump = []
        for table in ("staff", "audit_log"):
            dump.extend(str(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
    everything = "\n".join(dump)
    for secret in (TEST_PIN, "739151", TEST_SECRET.decode()):
        assert secret not in everything


def test_a_new_pin_must_have_six_digits_or_be_a_password(service):
    admin = service.create_first_admin("Ada Admin", "739151")
    for bad in ("12345", "111111", "abc", ""):
        with pytest.raises(InvalidEntryError) as refused:
            service.add_staff("Nell New", "nurse", bad, by=admin)
        assert refused.value.errors[0].field == "pin"
    service.add_staff("Nell New", "nurse", "correct horse", by=admin)


# -- login and lockout --------------------------------------------------------------------


def test_a_right_pin_signs_in_and_is_audited(service, nurse, clinician):
    info = service.login(nurse, TEST_PIN)
    assert (info.name, info.role, info.locked_until) == ("Nora Nurse", "nurse", None)
    (entry,) = service.audit_entries(by=clinician, action="login")
    assert entry.staff_id == nurse


def test_five_wrong_pins_lock_for_15_minutes_and_every_failure_is_audited(
    service, nurse, clinician, clock
):
    for left in (4, 3, 2, 1):
        with pytest.raises(LoginRefused, match=f"{left} tr(y|ies) left"):
            service.login(nurse, WRONG)
    with pytest.raises(AccountLocked) as locked:
        service.login(nurse, WRONG)
    assert locked.value.until == clock.now() + LOCK_DURATION
    with pytest.raises(AccountLocked):
        service.login(nurse, TEST_PIN)  # even the right PIN, while locked
    actions = [e.action for e in service.audit_entries(by=clinician, staff_id=nurse)]
    assert actions.count("login_failed") == 5  # four wrong PINs and one try while locked
    assert actions.count("lock") == 1
    (shown,) = [s for s in service.staff_list() if s.id == nurse]
    assert shown.locked_until == clock.now() + LOCK_DURATION
    clock.advance(LOCK_DURATION)
    assert service.login(nurse, TEST_PIN).locked_until is None


def _lock(service: ClinicService, staff_id) -> None:
    for _ in range(5):
        with pytest.raises((LoginRefused, AccountLocked)):
            service.login(staff_id, WRONG)


@pytest.mark.parametrize("jump", [timedelta(hours=24), timedelta(hours=-24)])
def test_a_wall_clock_jump_neither_ends_nor_extends_a_lock(service, nurse, clock, jump):
    _lock(service, nurse)
    clock.set_wall(clock.now() + jump)
    with pytest.raises(AccountLocked):
        service.login(nurse, TEST_PIN)
    clock.advance(LOCK_DURATION - MIN)
    with pytest.raises(AccountLocked):
        service.login(nurse, TEST_PIN)
    clock.advance(MIN)
    assert service.login(nurse, TEST_PIN).id == nurse


def test_the_lock_survives_a_restart(service, nurse, clock):
    _lock(service, nurse)
    clock.advance(5 * MIN)
    restarted = ClinicService(service.store, ManualClock(clock.now()), secret=TEST_SECRET)
    with pytest.raises(AccountLocked) as locked:
        restarted.login(nurse, TEST_PIN)
    assert locked.value.until == clock.now() + LOCK_DURATION - 5 * MIN


def test_after_a_restart_a_wall_clock_before_the_lock_restarts_the_15_minutes(
    service, nurse, clock
):
    _lock(service, nurse)
    earlier = ManualClock(clock.now() - timedelta(hours=24))
    restarted = ClinicService(service.store, earlier, secret=TEST_SECRET)
    with pytest.raises(AccountLocked) as locked:
        restarted.login(nurse, TEST_PIN)
    assert locked.value.until == earlier.now() + LOCK_DURATION
    earlier.advance(LOCK_DURATION - MIN)
    with pytest.raises(AccountLocked):
        restarted.login(nurse, TEST_PIN)
    earlier.advance(MIN)
    assert restarted.login(nurse, TEST_PIN).id == nurse


def test_after_a_restart_a_wall_clock_a_day_ahead_ends_the_lock(service, nurse, clock):
    _lock(service, nurse)
    later = ManualClock(clock.now() + timedelta(hours=24))
    restarted = ClinicService(service.store, later, secret=TEST_SECRET)
    assert restarted.login(nurse, TEST_PIN).id == nurse


def test_a_right_pin_resets_the_count_of_wrong_ones(service, nurse):
    for _ in range(4):
        with pytest.raises(LoginRefused):
            service.login(nurse, WRONG)
    service.login(nurse, TEST_PIN)
    with pytest.raises(LoginRefused, match="4 tries left"):
        service.login(nurse, WRONG)


def test_an_admin_reset_lifts_the_lock(service, nurse):
    admin = service.create_first_admin("Ada Admin", "739151")
    _lock(service, nurse)
    service.reset_pin(nurse, "602214", by=admin)
    assert service.login(nurse, "602214").id == nurse


# -- staff management ---------------------------------------------------------------------


def test_the_first_start_asks_for_an_admin_once(service):
    assert service.needs_first_admin()
    admin = service.create_first_admin("Ada Admin", "739151")
    assert not service.needs_first_admin()
    with pytest.raises(PermissionDenied):
        service.create_first_admin("Eve Else", "739152")
    assert service.login(admin, "739151").role == "admin"


def test_admins_add_list_and_disable_staff(service):
    admin = service.create_first_admin("Ada Admin", "739151")
    nurse = service.add_staff("Nora Nurse", "nurse", "482913", by=admin)
    assert [(s.name, s.role) for s in service.staff_list()] == [
        ("Ada Admin", "admin"), ("Nora Nurse", "nurse")]
    service.disable_staff(nurse, by=admin)
    assert [s.name for s in service.staff_list()] == ["Ada Admin"]
    assert [s.active for s in service.staff_list(include_disabled=True)] == [True, False]
    with pytest.raises(LoginRefused, match="disabled"):
        service.login(nurse, "482913")
    with pytest.raises(InvalidEntryError, match="last active admin"):
        service.disable_staff(admin, by=admin)


def test_a_nurse_cannot_manage_staff(service, nurse):
    with pytest.raises(PermissionDenied, match="A nurse cannot manage staff; an admin can"):
        service.add_staff("Nell New", "nurse", "739151", by=nurse)


# -- the command line ---------------------------------------------------------------------


def _run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(argv, clock=ManualClock())
    return code, capsys.readouterr()


def test_the_staff_command_adds_lists_resets_and_disables(sqlite_url, monkeypatch, capsys):
    db = ["--db", sqlite_url]
    code, out = _run(monkeypatch, capsys, ["staff", "add", "Ada Admin", "--role", "admin", *db],
                     "739151\n")
    assert code == 0, out.err
    code, out = _run(monkeypatch, capsys, ["staff", "add", "Nora Nurse", "--role", "nurse",
                                           "--as", "Ada Admin", *db], "739151\n482913\n")
    assert code == 0, out.err
    code, out = _run(monkeypatch, capsys, ["staff", "list", *db])
    assert [line.split("\t")[1:3] for line in out.out.splitlines()] == [
        ["Ada Admin", "admin"], ["Nora Nurse", "nurse"]]
    assert "482913" not in out.out
    code, out = _run(monkeypatch, capsys, ["staff", "reset-pin", "Nora Nurse", "--as",
                                           "Ada Admin", *db], "739151\n602214\n")
    assert code == 0, out.err
    code, out = _run(monkeypatch, capsys, ["staff", "disable", "Nora Nurse", "--as",
                                           "Ada Admin", *db], "739151\n")
    assert code == 0, out.err
    code, out = _run(monkeypatch, capsys, ["staff", "list", "--all", *db])
    assert out.out.splitlines()[1].endswith("disabled")


def test_the_staff_command_refuses_a_wrong_admin_pin(sqlite_url, monkeypatch, capsys):
    db = ["--db", sqlite_url]
    _run(monkeypatch, capsys, ["staff", "add", "Ada Admin", "--role", "admin", *db], "739151\n")
    code, out = _run(monkeypatch, capsys, ["staff", "add", "Nora Nurse", "--role", "nurse",
                                           "--as", "Ada Admin", *db], "000000\n482913\n")
    assert code == 2
    assert "Wrong PIN" in out.err


# -- e-signatures -------------------------------------------------------------------------


def _ready(service, nurse, clock):
    patient = service.add_patient("MRN700", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="1")
    base = {"sbp": 126, "dbp": 78, "hr": 70, "spo2": 98, "cadss6": 0, "moaas": 5, "nausea": 0}
    service.record_reading(session_id, base, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(40 * MIN)
    first = service.record_reading(session_id, base, by=nurse).id
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    for _ in range(4):
        clock.advance(15 * MIN)
        service.record_reading(session_id, base, by=nurse)
    for kind in (EventKind.ORIENTED_STEADY_GAIT, EventKind.ESCORT_PRESENT):
        service.record_event(session_id, kind, by=nurse)
    clock.advance(15 * MIN)
    service.record_reading(session_id, base, by=nurse)
    return session_id, first


def test_signing_discharge_needs_the_pin_again(service, nurse, clock):
    session_id, _ = _ready(service, nurse, clock)
    assert service.load(session_id).discharge.ready
    with pytest.raises(SignatureRequired):
        service.sign_discharge(session_id, by=nurse)
    with pytest.raises(LoginRefused, match="4 tries left"):
        service.sign_discharge(session_id, by=nurse, pin=WRONG)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    (signature,) = service.load(session_id).signatures
    assert (signature.meaning, signature.signer_name, signature.signer_role) == (
        "discharge sign-off", "Nora Nurse", "nurse")
    assert signature.signed_at == clock.now()
    assert signature.valid


def test_a_later_amendment_shows_the_signature_as_superseded(service, nurse, clinician, clock):
    session_id, first = _ready(service, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    signed_at = clock.now()
    clock.advance(MIN)
    service.amend_reading(session_id, first, {"sbp": 127, "dbp": 78, "hr": 70, "spo2": 98},
                          reason="typed 126 for 127", by=clinician)
    (signature,) = service.load(session_id).signatures
    assert not signature.valid
    (then,) = service.load(session_id, at=signed_at).signatures
    assert then.valid


def test_a_reading_after_the_signature_does_not_supersede_it(service, nurse, clinician, clock):
    session_id, _ = _ready(service, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.NOTE, by=clinician, detail="left with escort",
                         after_signoff_reason="seen leaving with the escort")
    (signature,) = service.load(session_id).signatures
    assert signature.valid


def test_acknowledging_a_critical_flag_is_a_signature(service, nurse, clock):
    patient = service.add_patient("MRN701", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="1")
    service.record_reading(session_id, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98}, by=nurse)
    clock.advance(5 * MIN)
    saved = service.record_reading(session_id, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 85},
                                   by=nurse)
    (critical,) = [f for f in saved.new_flags if f.severity is Severity.CRITICAL]
    with pytest.raises(SignatureRequired):
        service.acknowledge(session_id, critical, action="Oxygen given", by=nurse)
    service.acknowledge(session_id, critical, action="Oxygen given", by=nurse, pin=TEST_PIN)
    (signature,) = service.load(session_id).signatures
    assert signature.meaning == "critical flag acknowledged"
    assert signature.valid


def test_override_is_signed_by_the_clinician(service, nurse, clinician, clock):
    patient = service.add_patient("MRN702", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="1")
    service.record_reading(session_id, {"sbp": 128, "dbp": 78}, by=nurse)
    service.override_discharge(session_id, reason="Transfer to the ED for review",
                               by=clinician, pin=TEST_PIN)
    (signature,) = service.load(session_id).signatures
    assert (signature.meaning, signature.signer_role) == ("discharge override", "clinician")


def test_the_demo_pin_is_set_only_where_asked(service):
    nurse = service.ensure_staff("Demo Nurse", "nurse")
    with service.store.read() as db:
        assert db.scalar(select(Staff.pin_hash).where(Staff.id == nurse)) is None
    assert service.set_demo_pins("123456") == 1
    assert service.login(nurse, "123456").id == nurse


def _fake_keyring(monkeypatch) -> object:
    """A keyring package whose only backend is a real-looking one."""
    import sys  # noqa: PLC0415
    import types  # noqa: PLC0415

    class Backend:
        priority = 5

    class Fail:
        pass

    backend = Backend()
    package = types.ModuleType("keyring")
    package.get_keyring = lambda: backend  # type: ignore[attr-defined]
    backends = types.ModuleType("keyring.backends")
    fail = types.ModuleType("keyring.backends.fail")
    fail.Keyring = Fail  # type: ignore[attr-defined]
    backends.fail = fail  # type: ignore[attr-defined]
    package.backends = backends  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", package)
    monkeypatch.setitem(sys.modules, "keyring.backends", backends)
    monkeypatch.setitem(sys.modules, "keyring.backends.fail", fail)
    return backend


def test_a_linux_machine_without_a_session_bus_has_no_keyring_to_ask(monkeypatch):
    from monitor.service import auth  # noqa: PLC0415

    _fake_keyring(monkeypatch)
    monkeypatch.setattr(auth.sys, "platform", "linux")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)

    assert auth._real_keyring() is None


def test_a_linux_machine_with_a_session_bus_asks_its_keyring(monkeypatch):
    from monitor.service import auth  # noqa: PLC0415

    backend = _fake_keyring(monkeypatch)
    monkeypatch.setattr(auth.sys, "platform", "linux")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus")

    assert auth._real_keyring() is backend
