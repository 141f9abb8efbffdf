"""The tablet's copy: refreshed as the server is read, signing in and showing sessions while
the server is away, and what needs the server saying so.

The outage is the store failing as an unreachable server makes it fail (tests/support/
outage.py); test_offline_start.py starts a tablet against a stopped private server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.service.auth import MAX_FAILURES, AccountLocked, LoginRefused, verify_pin
from monitor.service.offline import (
    CachingClinic,
    TabletCopies,
    ViewCodec,
    open_clinic_store,
    server_host,
)
from monitor.service.tablet import TabletService
from monitor.storage.model import Staff
from monitor.storage.outbox import Outbox
from monitor.storage.store import StorageError, StoreOpenError
from monitor.storage.tablet_cache import TabletCache
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage

NORMAL = {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98"}
#: A port nothing listens on: connecting is refused at once.
DEAD_URL = "postgresql+psycopg://chairside:s3cret-pw@127.0.0.1:9/chairside"


@pytest.fixture
def cache(tmp_path) -> Iterator[TabletCache]:
    opened = TabletCache(tmp_path / "tablet-cache.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def clinic(store, clock, cache) -> CachingClinic:
    return CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")


@pytest.fixture
def outage(store) -> Iterator[Outage]:
    cut = Outage(store)
    yield cut
    cut.end()


@pytest.fixture
def nurse(clinic) -> uuid.UUID:
    return clinic.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)


def test_reading_the_staff_keeps_each_ones_pin_hash_as_the_server_stores_it(
        clinic, nurse, cache, tmp_path):
    clinic.ensure_staff("Sid Disabled", "nurse", pin="907153")
    listed = clinic.staff_list()
    assert [s.name for s in listed] == ["Nora Nurse", "Sid Disabled"]
    with clinic.store.read() as db:
        stored = db.scalar(select(Staff.pin_hash).where(Staff.id == nurse))
    kept = cache.staff_member(nurse)
    assert kept is not None
    assert kept.pin_hash == stored
    assert kept.pin_hash.startswith("$argon2id$")
    assert verify_pin(kept.pin_hash, TEST_PIN, TEST_SECRET)
    assert TEST_PIN.encode() not in (tmp_path / "tablet-cache.sqlite3").read_bytes()


def test_a_nurse_signs_in_on_the_copy_while_the_server_is_away(clinic, nurse, outage):
    clinic.staff_list()
    outage.begin()
    assert [s.name for s in clinic.staff_list()] == ["Nora Nurse"]
    assert not clinic.needs_first_admin()
    info = clinic.login(nurse, TEST_PIN)
    assert (info.id, info.name, info.role) == (nurse, "Nora Nurse", "nurse")
    assert clinic.staff_info(nurse).name == "Nora Nurse"
    assert clinic.on_copy


def test_a_read_the_server_answers_ends_the_answers_from_the_copy(clinic, nurse, outage):
    clinic.staff_list()
    assert not clinic.on_copy
    outage.begin()
    clinic.staff_list()
    assert clinic.on_copy
    outage.end()
    clinic.active_sessions(["1"])
    assert not clinic.on_copy


def test_while_the_server_is_away_the_staff_reads_try_it_again_only_at_the_retry_pace(
        clinic, nurse, outage, clock, store):
    clinic.staff_list()
    outage.begin()
    clinic.staff_list()  # tried, failed: answered from the copy
    outage.end()
    tried = []
    read = store.read
    store.read = lambda *a, **k: (tried.append(1), read(*a, **k))[1]
    try:
        assert clinic.login(nurse, TEST_PIN).id == nurse  # on the copy: the server not asked
        clinic.staff_list()
        assert clinic.on_copy
        assert tried == []
        clock.advance(timedelta(seconds=1))
        clinic.staff_list()  # the retry is due: the server answers
        assert tried
        assert not clinic.on_copy
    finally:
        del store.read


def test_wrong_pins_on_the_copy_count_and_lock_as_the_server_would(clinic, nurse, outage,
                                                                   clock, cache):
    clinic.staff_list()
    outage.begin()
    for left in range(MAX_FAILURES - 1, 0, -1):
        with pytest.raises(LoginRefused) as refused:
            clinic.login(nurse, "000000")
        assert refused.value.tries_left == left
    with pytest.raises(AccountLocked) as locked:
        clinic.login(nurse, "000000")
    assert locked.value.until == clock.now() + timedelta(minutes=15)
    # Locked: even the right PIN is refused, and the list shows the lock.
    with pytest.raises(AccountLocked):
        clinic.login(nurse, TEST_PIN)
    assert clinic.staff_list()[0].locked_until == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert clinic.login(nurse, TEST_PIN).id == nurse
    assert cache.staff_member(nurse).failed_logins == 0


def test_a_wrong_pin_once_does_not_lock_and_a_right_one_clears_the_count(
        clinic, nurse, outage, cache):
    clinic.staff_list()
    outage.begin()
    with pytest.raises(LoginRefused):
        clinic.login(nurse, "000000")
    assert cache.staff_member(nurse).failed_logins == 1
    clinic.login(nurse, TEST_PIN)
    assert cache.staff_member(nurse).failed_logins == 0


def test_sign_ins_on_the_copy_reach_the_servers_audit_trail_once_it_answers(
        clinic, nurse, outage, clock, cache):
    admin = clinic.ensure_staff("Ann Admin", "admin", pin="735194")
    clinic.staff_list()
    outage.begin()
    with pytest.raises(LoginRefused):
        clinic.login(nurse, "000000")
    wrong_at = clock.now()
    clock.advance(timedelta(seconds=30))
    clinic.login(nurse, TEST_PIN)
    right_at = clock.now()
    assert [s.action for s in cache.signins()] == ["login_failed", "login"]
    clock.advance(timedelta(minutes=5))
    outage.end()
    clinic.active_sessions(["1"])  # the server answers: the sign-ins go to its trail
    assert cache.signins() == []
    entries = [e for e in clinic.audit_entries(by=admin, staff_id=nurse)
               if e.action in ("login", "login_failed")]
    assert sorted((e.at, e.action, e.new["on_tablet_copy"]) for e in entries) == [
        (wrong_at, "login_failed", True), (right_at, "login", True)]
    # Entered five minutes after they happened: the entries say when, for the trail's reader.
    assert {e.new["entered_at"] for e in entries} == {clock.now().isoformat()}
    assert all(datetime.fromisoformat(e.new["entered_at"]) > e.at for e in entries)
    assert entries[0].tablet == "Chair 2"
    assert clinic.verify_audit().ok
    assert clinic.send_signins() == 0  # none twice


def test_someone_disabled_or_unknown_cannot_sign_in_on_the_copy(clinic, nurse, outage):
    admin = clinic.ensure_staff("Ann Admin", "admin", pin="735194")
    gone = clinic.ensure_staff("Gus Gone", "nurse", pin="735194")
    clinic.disable_staff(gone, by=admin)
    clinic.staff_list()
    outage.begin()
    assert [s.name for s in clinic.staff_list()] == ["Ann Admin", "Nora Nurse"]
    for staff_id in (gone, uuid.uuid4()):
        with pytest.raises(LoginRefused, match="cannot sign in"):
            clinic.login(staff_id, "735194")


def test_without_a_copy_the_server_being_away_is_said(clinic, nurse, outage):
    outage.begin()
    with pytest.raises(StorageError):
        clinic.needs_first_admin()
    with pytest.raises(StorageError):
        clinic.login(nurse, TEST_PIN)


def test_a_later_start_shows_the_chairs_and_the_session_from_the_copy(
        clinic, nurse, patient, session_id, store, clock, cache, tmp_path, outage):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
    assert clinic.active_sessions(["1", "2"]) == {"2": session_id}
    tablet.record_reading(session_id, NORMAL, by=nurse, with_view=True)
    clock.advance(timedelta(minutes=5))

    # Another run of the app: nothing in memory, the server away.
    later = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
    again = TabletService(later, outbox, clock, cached=later.cached_view)
    copies = TabletCopies(later, again.copy_of, started_offline=cache.refreshed_at())
    outage.begin()
    assert copies.chairs(["1", "2", "3"]) == {"2": session_id}
    shown = again.load(session_id)
    assert shown.on_tablet
    assert len(shown.record.readings) == 1  # the reading saved before, from its save's view
    low = again.record_reading(session_id, {**NORMAL, "spo2": "88"}, by=nurse, with_view=True)
    assert low.held == 1
    assert [f.key for f in low.new_flags] == ["spo2-low"]
    tile = copies.view(session_id, clock.now())
    assert tile is not None
    assert tile.held == 1
    assert tile.on_tablet
    assert copies.view(uuid.uuid4(), clock.now()) is None
    outbox.close()


def test_a_copy_from_yesterday_seats_no_patient_of_yesterday(
        clinic, nurse, session_id, clock, tmp_path, outage):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
    clinic.active_sessions(["2"])
    clinic.load(session_id)
    copies = TabletCopies(clinic, tablet.copy_of)
    outage.begin()
    clock.advance(timedelta(hours=11, minutes=59))
    assert copies.chairs(["2"]) == {"2": session_id}
    clock.advance(timedelta(minutes=2))
    assert copies.chairs(["2"]) == {}
    outbox.close()


def test_a_view_changed_in_the_cache_is_ignored_not_read(clinic, nurse, session_id, cache):
    clinic.load(session_id)
    assert clinic.cached_view(session_id) is not None
    payload = bytearray(cache.view_payload(session_id))
    payload[-1] ^= 0xFF
    cache.put_view(session_id, bytes(payload), clinic.clock.now())
    assert clinic.cached_view(session_id) is None
    other = ViewCodec(b"another clinic's secret, 32 bytes")
    assert other.loads(ViewCodec(TEST_SECRET).dumps(clinic.load(session_id))) is None


def test_what_has_no_copy_says_it_needs_the_server(clinic, nurse, outage):
    admin = clinic.ensure_staff("Ann Admin", "admin", pin="735194")
    outage.begin()
    with pytest.raises(StorageError, match="Adding staff needs the server"):
        clinic.add_staff("New Nurse", "nurse", "918273", by=admin)
    with pytest.raises(StorageError, match="A new PIN needs the server"):
        clinic.reset_pin(nurse, "918273", by=admin)
    with pytest.raises(StorageError, match="The audit trail needs the server"):
        clinic.audit_entries(by=admin)


def test_a_first_start_without_the_server_names_its_host_and_no_password(cache, clock):
    with pytest.raises(StoreOpenError) as refused:
        open_clinic_store(DEAD_URL, cache, clock, application_name="Chair 2")
    text = str(refused.value)
    assert "first start" in text
    assert "127.0.0.1:9" in text
    assert "s3cret-pw" not in text
    assert server_host("postgresql+psycopg://u:p@clinic-db/x") == "clinic-db"


def test_a_start_without_the_server_opens_on_the_copy_from_when_it_was_made(
        clinic, nurse, cache, clock):
    clinic.staff_list()
    made = cache.refreshed_at()
    clock.advance(timedelta(hours=2))
    store, copy_from = open_clinic_store(DEAD_URL, cache, clock, application_name="Chair 2")
    try:
        assert copy_from == made
        assert not store.is_sqlite
        with pytest.raises(StorageError) as failed, store.read() as db:
            db.execute(select(Staff.id))
        assert failed.value.reason == "unreachable"
    finally:
        store.close()
