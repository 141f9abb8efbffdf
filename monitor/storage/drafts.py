"""Entries typed but not yet saved, kept on disk so that a crash or a closed window loses none.

A draft is what the nurse had typed or chosen in the forms of one place — a chair's session
(its entry forms) or a chair's check-in — by one staff member: :class:`DraftKey`. The
:class:`DraftStore` keeps one small JSON file per key under the app's data directory,
written atomically (a temporary file, flushed and synced, then renamed over the old one), so
a crash leaves either the previous draft or the new one, never half of one. Drafts hold
patient data: the directory is made private (0700) and every file is 0600.

:class:`DraftKeeper` writes as the nurse types: each edit restarts an injected timer (a
one-shot ``QTimer`` in the app, a fake in tests), and when it fires the keeper asks for the
drafts on screen and writes those that changed. A form emptied (saved, or cleared by hand)
removes its draft. Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_data_dir

from monitor.storage.private_files import make_private_dir, tighten

#: A draft's forms: form name → its typed state (JSON values only).
Forms = Mapping[str, Mapping[str, Any]]

#: Drafts older than this are removed when the app starts: the session they belong to is
#: long over, and they hold patient data.
MAX_AGE = timedelta(hours=24)
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def default_draft_dir() -> Path:
    """Where drafts are kept: ``drafts`` in the app's user data directory."""
    return Path(user_data_dir("ChairSide", appauthor=False)) / "drafts"


@dataclass(frozen=True)
class DraftKey:
    """What a draft belongs to: ``kind`` "session" (``place`` is the session id) or
    "checkin" (``place`` is the chair), and the staff member who typed it."""

    kind: str
    place: str
    staff: str

    def file_name(self) -> str:
        parts = (self.kind, self.place, self.staff)
        return "--".join(_SAFE.sub("_", part) for part in parts) + ".json"


@dataclass(frozen=True)
class Draft:
    key: DraftKey
    forms: Forms
    saved_at: datetime | None


class DraftStore:
    """One JSON file per :class:`DraftKey` in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def save(self, key: DraftKey, forms: Forms, *, at: datetime | None = None) -> None:
        """Keep ``forms`` as the draft of ``key`` (an empty mapping removes it)."""
        kept = {name: dict(state) for name, state in forms.items() if state}
        if not kept:
            self.clear(key)
            return
        payload = {"kind": key.kind, "place": key.place, "staff": key.staff,
                   "saved_at": at.isoformat() if at is not None else None, "forms": kept}
        self._ensure_directory()
        target = self.directory / key.file_name()
        handle, temporary = tempfile.mkstemp(prefix=".draft-", suffix=".tmp",
                                             dir=self.directory)
        try:
            # mkstemp creates the file readable and writable by its owner only (0600).
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(payload, file, ensure_ascii=False, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._sync_directory()

    def load(self, key: DraftKey) -> Draft | None:
        """The draft of ``key``, or None (none kept, or a file that cannot be read)."""
        return self._read(self.directory / key.file_name(), key)

    def _read(self, path: Path, key: DraftKey | None = None) -> Draft | None:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        forms = payload.get("forms") if isinstance(payload, dict) else None
        if not isinstance(forms, dict):
            return None
        saved = payload.get("saved_at")
        try:
            saved_at = datetime.fromisoformat(saved) if isinstance(saved, str) else None
        except ValueError:
            saved_at = None
        if key is None:
            key = DraftKey(str(payload.get("kind")), str(payload.get("place")),
                           str(payload.get("staff")))
        return Draft(key, {str(k): v for k, v in forms.items() if isinstance(v, dict)},
                     saved_at)

    def clear(self, key: DraftKey) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / key.file_name()).unlink()
            self._sync_directory()

    def prune(self, now: datetime) -> int:
        """Remove drafts written more than :data:`MAX_AGE` before ``now``, unreadable ones
        and temporary files a crash left; returns how many files went."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        for path in self.directory.iterdir():
            if path.suffix == ".json":
                draft = self._read(path)
                if draft is not None and draft.saved_at is not None \
                        and draft.saved_at >= now - MAX_AGE:
                    continue
            elif not path.name.startswith(".draft-"):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        return removed

    def _ensure_directory(self) -> None:
        # The app's own folder: made owner-only, and tightened if an older one was not.
        make_private_dir(self.directory)
        tighten(self.directory)

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX; elsewhere the rename is as good as it gets)."""
        if not hasattr(os, "O_DIRECTORY"):
            return
        descriptor = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class Timer(Protocol):
    """A one-shot timer: ``start`` (re)starts it; the owner calls :meth:`DraftKeeper.flush`
    when it fires."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class DraftKeeper:
    """Writes the drafts on screen a moment after the last edit.

    ``collect`` returns every draft on screen now (key → forms, empty forms included, so
    that an emptied form clears its draft). ``now`` stamps each write.
    """

    def __init__(self, store: DraftStore, timer: Timer,
                 collect: Callable[[], Mapping[DraftKey, Forms]],
                 now: Callable[[], datetime]) -> None:
        self.store = store
        self._timer = timer
        self._collect = collect
        self._now = now
        self._written: dict[DraftKey, dict[str, dict[str, Any]]] = {}
        #: Why the last flush could not keep a draft ("" when it could).
        self.problem = ""

    def edited(self) -> None:
        """Something was typed or chosen: write once the typing pauses."""
        self._timer.start()

    def flush(self) -> None:
        """Write every draft that changed since it was last written."""
        self._timer.stop()
        self.problem = ""
        for key, forms in self._collect().items():
            kept = {name: dict(state) for name, state in forms.items() if state}
            if self._written.get(key) == kept:
                continue
            try:
                self.store.save(key, kept, at=self._now())
            except OSError as exc:
                # A draft is a safety net, not the record: the entry is still on screen and
                # is saved to the database as usual. The next edit tries again.
                self.problem = f"Draft not kept: {exc.strerror or exc}"
                continue
            self._written[key] = kept

    def restore(self, key: DraftKey) -> Draft | None:
        """The kept draft of ``key``, remembered as written (restoring is no change)."""
        draft = self.store.load(key)
        if draft is not None:
            self._written[key] = {name: dict(state) for name, state in draft.forms.items()}
        return draft

    def discard(self, key: DraftKey) -> None:
        """The entry was saved (or deliberately left): its draft goes at once."""
        try:
            self.store.clear(key)
        except OSError as exc:
            self.problem = f"Draft not removed: {exc.strerror or exc}"
            return
        self._written.pop(key, None)
