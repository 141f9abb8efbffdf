"""Files holding patient data are readable by their owner only.

On POSIX the database's folder is created 0700 and the database, its ``-wal``, ``-shm`` and
``-journal`` files and the backups taken before migrations are 0600, whatever the process's
umask: the files are created with that mode (SQLite gives the ``-wal`` and ``-shm`` it
creates later the database file's own mode) and files left group- or world-readable by an
earlier version are tightened when the database is opened. On Windows these calls change
nothing: there the user profile's access control lists protect the files (docs/security.md).

:func:`usable_folder` picks the default export folder, creating it when it is missing.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
#: The files SQLite keeps beside a database.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _posix() -> bool:
    return os.name == "posix"


def make_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each new folder 0700 (owner only).

    Existing folders are left as they are: a folder named by the user may be shared on
    purpose; see :func:`tighten` for the app's own folder.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process


def tighten(path: Path) -> None:
    """Take group and world permissions off an existing file or folder (POSIX)."""
    if not _posix():
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & ~0o077)  # the owner's own permissions stay as they were


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; else tighten it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    os.close(fd)


def tighten_sqlite(path: Path) -> None:
    """Make a SQLite database and the files beside it 0600 (those that exist)."""
    tighten(path)
    for suffix in SQLITE_SIDE_FILES:
        tighten(path.with_name(path.name + suffix))


def usable_folder(candidates: Iterable[Path | None]) -> Path:
    """The first of ``candidates`` that is a folder or can be made one (new folders 0700).

    For the default export folder: ``~/Documents`` does not exist on a fresh account, and
    the first export must not fail for that. The system's temporary folder is the last
    resort, so there is always an answer; the caller shows the path it gets.
    """
    for candidate in candidates:
        if candidate is None or not str(candidate):
            continue
        try:
            make_private_dir(candidate)
        except OSError:
            continue
        if candidate.is_dir():
            return candidate
    return Path(tempfile.gettempdir())
