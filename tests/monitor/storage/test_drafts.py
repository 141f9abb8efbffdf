"""Drafts: typed-but-unsaved entries kept on disk, privately, written atomically, debounced."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from monitor.storage.drafts import MAX_AGE, DraftKeeper, DraftKey, DraftStore

NOW = datetime(2026, 3, 2, 10, 42, tzinfo=UTC)
KEY = DraftKey("session", "6f1c0c2e-0000-4000-8000-000000000001", "nurse-1")
VITALS = {"vitals": {"sbp": "128", "dbp": "7", "hr": "", "note": "restless"}}


class FakeTimer:
    """Stands in for the one-shot QTimer: the test fires it."""

    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    def start(self) -> None:
        self.running = True
        self.starts += 1

    def stop(self) -> None:
        self.running = False


def test_a_draft_is_read_back_as_typed(tmp_path) -> None:
    store = DraftStore(tmp_path / "drafts")
    store.save(KEY, VITALS, at=NOW)
    draft = store.load(KEY)
    assert draft is not None
    assert draft.forms == VITALS
    assert draft.saved_at == NOW


def test_drafts_are_private_to_the_user(tmp_path) -> None:
    directory = tmp_path / "drafts"
    DraftStore(directory).save(KEY, VITALS, at=NOW)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (path,) = directory.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_open_directory_is_made_private(tmp_path) -> None:
    directory = tmp_path / "drafts"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    DraftStore(directory).save(KEY, VITALS, at=NOW)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_failed_write_leaves_the_previous_draft_whole(tmp_path, monkeypatch) -> None:
    store = DraftStore(tmp_path)
    store.save(KEY, VITALS, at=NOW)

    def broken_dump(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        store.save(KEY, {"vitals": {"sbp": "140"}}, at=NOW)
    monkeypatch.undo()
    draft = store.load(KEY)
    assert draft is not None
    assert draft.forms == VITALS
    assert [p.name for p in tmp_path.iterdir()] == [KEY.file_name()]  # no temporary left


def test_keys_keep_staff_and_places_apart(tmp_path) -> None:
    store = DraftStore(tmp_path)
    other_staff = DraftKey(KEY.kind, KEY.place, "nurse-2")
    checkin = DraftKey("checkin", "3", "nurse-1")
    store.save(KEY, VITALS, at=NOW)
    store.save(checkin, {"checkin": {"mrn": "MRN-1"}}, at=NOW)
    assert store.load(other_staff) is None
    assert store.load(checkin).forms == {"checkin": {"mrn": "MRN-1"}}
    assert "/" not in DraftKey("checkin", "../x", "a/b").file_name()


def test_an_unreadable_draft_is_none_not_a_crash(tmp_path) -> None:
    store = DraftStore(tmp_path)
    (tmp_path / KEY.file_name()).write_text("{ half", encoding="utf-8")
    assert store.load(KEY) is None


def test_the_keeper_writes_once_typing_pauses_and_only_what_changed(tmp_path) -> None:
    store = DraftStore(tmp_path)
    timer = FakeTimer()
    on_screen = {KEY: {"vitals": {"sbp": "12"}}}
    writes = []
    original = store.save

    def counting_save(key, forms, *, at=None):
        writes.append(dict(forms))
        original(key, forms, at=at)

    store.save = counting_save  # type: ignore[method-assign]
    keeper = DraftKeeper(store, timer, lambda: on_screen, lambda: NOW)
    keeper.edited()
    keeper.edited()
    assert timer.running
    assert store.load(KEY) is None  # nothing written while typing goes on
    keeper.flush()
    assert store.load(KEY).forms == {"vitals": {"sbp": "12"}}
    keeper.flush()
    assert len(writes) == 1  # unchanged: not written again
    on_screen[KEY] = {"vitals": {}}  # saved, the form emptied
    keeper.flush()
    assert store.load(KEY) is None


def test_discarding_removes_the_draft_at_once(tmp_path) -> None:
    store = DraftStore(tmp_path)
    keeper = DraftKeeper(store, FakeTimer(), lambda: {KEY: VITALS}, lambda: NOW)
    keeper.flush()
    keeper.discard(KEY)
    assert store.load(KEY) is None
    assert list(tmp_path.iterdir()) == []


def test_old_drafts_and_left_temporaries_are_pruned(tmp_path) -> None:
    store = DraftStore(tmp_path)
    old = DraftKey("checkin", "1", "nurse-1")
    store.save(old, VITALS, at=NOW - MAX_AGE - timedelta(minutes=1))
    store.save(KEY, VITALS, at=NOW - timedelta(hours=2))
    (tmp_path / ".draft-abc.tmp").write_text("{", encoding="utf-8")
    (tmp_path / "garbled.json").write_text("{", encoding="utf-8")
    assert store.prune(NOW) == 3
    assert store.load(old) is None
    assert store.load(KEY) is not None


def test_a_draft_that_cannot_be_written_is_said_and_tried_again(tmp_path, monkeypatch) -> None:
    store = DraftStore(tmp_path)
    keeper = DraftKeeper(store, FakeTimer(), lambda: {KEY: VITALS}, lambda: NOW)

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "save", full_disk)
    keeper.flush()
    assert keeper.problem == "Draft not kept: No space left on device"
    monkeypatch.undo()
    keeper.flush()
    assert keeper.problem == ""
    assert store.load(KEY) is not None
