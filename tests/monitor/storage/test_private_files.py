"""Patient data on disk is readable by its owner only (POSIX modes; docs/security.md)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.storage.private_files import make_private_dir, usable_folder
from monitor.storage.store import backup_sqlite, open_store

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    """The usual desktop umask, which makes new files world-readable."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_a_new_database_folder_and_files_are_owner_only(tmp_path):
    path = tmp_path / "fresh" / "ChairSide" / "chairside.sqlite3"
    store = open_store(f"sqlite:///{path}")
    try:
        with store.write() as db:
            db.execute(text("CREATE TABLE scratch (x INTEGER)"))
        wal, shm = (path.with_name(path.name + s) for s in ("-wal", "-shm"))
        assert wal.exists()
        assert shm.exists()
        assert {mode(path), mode(wal), mode(shm)} == {0o600}
    finally:
        store.close()
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700


def test_files_left_world_readable_are_tightened_when_opened(tmp_path):
    path = tmp_path / "chairside.sqlite3"
    open_store(f"sqlite:///{path}").close()
    wal = path.with_name(path.name + "-wal")
    wal.touch()
    for file in (path, wal):
        file.chmod(0o644)
    store = open_store(f"sqlite:///{path}")
    try:
        assert mode(path) == 0o600
        assert mode(wal) == 0o600
    finally:
        store.close()


def test_a_backup_before_migrating_is_owner_only(tmp_path):
    path = tmp_path / "chairside.sqlite3"
    open_store(f"sqlite:///{path}").close()
    backup = backup_sqlite(path, "before-migration-test")
    assert mode(backup) == 0o600


def test_an_existing_folder_named_by_the_user_is_left_as_it_is(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_private_dir(shared / "new")
    assert mode(shared) == 0o755
    assert mode(shared / "new") == 0o700


def test_the_export_folder_is_made_when_missing_or_falls_back_to_one_that_exists(tmp_path):
    documents = tmp_path / "Documents"
    assert usable_folder([documents, tmp_path]) == documents
    assert mode(documents) == 0o700
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert usable_folder([blocked / "Documents", None, tmp_path]) == tmp_path
