"""The tablet's cache: a private SQLite file with the staff's PIN hashes, the chairs and the
sessions' views, refreshed in place and kept across a reopen."""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from monitor.storage.tablet_cache import CachedStaff, TabletCache, default_cache_path

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"


def member(name: str, *, role: str = "nurse", active: bool = True,
           pin_hash: str | None = HASH) -> CachedStaff:
    return CachedStaff(id=uuid.uuid4(), name=name, role=role, active=active,
                       pin_hash=pin_hash, failed_logins=0, locked_at=None)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_cache_file_and_the_files_beside_it_are_the_owners_only(tmp_path):
    folder = tmp_path / "ChairSide"
    path = default_cache_path(folder / "drafts")
    assert path == folder / "tablet-cache.sqlite3"
    old = os.umask(0o022)
    try:
        cache = TabletCache(path)
        cache.put_staff([member("Nora Nurse")], AT)
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(path) == 0o600
    for side in ("-wal", "-shm"):
        beside = path.with_name(path.name + side)
        if beside.exists():
            assert mode(beside) == 0o600
    cache.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_cache_file_left_readable_by_others_is_tightened_when_opened(tmp_path):
    path = tmp_path / "tablet-cache.sqlite3"
    TabletCache(path).close()
    path.chmod(0o644)
    TabletCache(path).close()
    assert mode(path) == 0o600


def test_staff_are_kept_with_their_pin_hashes_and_replaced_on_refresh(tmp_path):
    path = tmp_path / "tablet-cache.sqlite3"
    cache = TabletCache(path)
    assert not cache.has_copy()
    assert cache.refreshed_at() is None
    nora, sam = member("Nora Nurse"), member("Sam Admin", role="admin")
    cache.put_staff([sam, nora], AT)
    cache.close()

    reopened = TabletCache(path)
    assert reopened.has_copy()
    assert reopened.refreshed_at() == AT
    assert [s.name for s in reopened.staff()] == ["Nora Nurse", "Sam Admin"]
    assert reopened.staff_member(nora.id) == nora
    assert reopened.staff_member(nora.id).pin_hash == HASH

    disabled = CachedStaff(id=nora.id, name="Nora Nurse", role="nurse", active=False,
                           pin_hash=HASH, failed_logins=0, locked_at=None)
    reopened.put_staff([disabled], AT + timedelta(minutes=5))
    assert reopened.staff() == [disabled]  # Sam is gone from the server: gone here too
    assert reopened.refreshed_at() == AT + timedelta(minutes=5)
    assert not reopened.has_copy()  # nobody left who may sign in
    reopened.close()


def test_staff_without_a_pin_do_not_make_a_copy_to_start_on(tmp_path):
    cache = TabletCache(tmp_path / "tablet-cache.sqlite3")
    cache.put_staff([member("Import", role="nurse", pin_hash=None)], AT)
    assert not cache.has_copy()
    cache.close()


def test_wrong_pins_counted_here_are_kept_until_the_server_is_read_again(tmp_path):
    path = tmp_path / "tablet-cache.sqlite3"
    cache = TabletCache(path)
    nora = member("Nora Nurse")
    cache.put_staff([nora], AT)
    cache.set_failures(nora.id, 5, AT + timedelta(minutes=1))
    cache.close()
    reopened = TabletCache(path)
    kept = reopened.staff_member(nora.id)
    assert (kept.failed_logins, kept.locked_at) == (5, AT + timedelta(minutes=1))
    reopened.put_staff([nora], AT + timedelta(minutes=2))
    assert reopened.staff_member(nora.id).failed_logins == 0
    reopened.close()


def test_chairs_and_views_are_kept_and_a_view_goes_with_its_chair(tmp_path):
    cache = TabletCache(tmp_path / "tablet-cache.sqlite3")
    first, second = uuid.uuid4(), uuid.uuid4()
    cache.put_chairs({"1": first, "2": second}, ["1", "2", "3"], AT)
    cache.put_view(first, b"view one", AT)
    cache.put_view(second, b"view two", AT)
    cache.put_view(second, b"view two, later", AT + timedelta(minutes=1))
    assert cache.chairs(["1", "2", "3"]) == {"1": first, "2": second}
    assert cache.chairs(["2"]) == {"2": second}
    assert cache.view_payload(second) == b"view two, later"
    assert cache.refreshed_at() == AT + timedelta(minutes=1)

    # Chair 1 read alone, now free: its session and its view leave the copy; chair 2 stays.
    cache.put_chairs({}, ["1"], AT + timedelta(minutes=2))
    assert cache.chairs(["1", "2"]) == {"2": second}
    assert cache.view_payload(first) is None
    assert cache.view_payload(second) == b"view two, later"
    cache.close()


def test_the_cache_holds_no_pin_in_clear(tmp_path):
    path = tmp_path / "tablet-cache.sqlite3"
    cache = TabletCache(path)
    cache.put_staff([member("Nora Nurse")], AT)
    cache.close()
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(staff)")]
    assert "pin" not in columns
    assert "pin_hash" in columns


def test_sign_ins_noted_on_the_copy_stay_in_order_until_forgotten(tmp_path):
    path = tmp_path / "tablet-cache.sqlite3"
    cache = TabletCache(path)
    nora = uuid.uuid4()
    cache.note_signin(nora, "login_failed", AT, {"failures": 1})
    cache.note_signin(nora, "login", AT + timedelta(seconds=20), {})
    cache.close()
    reopened = TabletCache(path)
    first, second = reopened.signins()
    assert (first.staff_id, first.action, first.at, first.detail) == (
        nora, "login_failed", AT, {"failures": 1})
    assert (second.action, second.at) == ("login", AT + timedelta(seconds=20))
    reopened.forget_signin(first.id)
    assert [s.id for s in reopened.signins()] == [second.id]
    reopened.close()
