"""Committed changes from other tablets as Qt signals, on the GUI thread.

:class:`ChangeSignals` subscribes to a :class:`monitor.storage.changes.feed.ChangeFeed` (whose
subscribers are called on the feed's own thread) and re-emits each change through a queued
connection, so slots run on the thread the adapter lives in. Screens connect to what they
show and reload only that: a session screen to :attr:`ChangeSignals.sessionChanged` for its
own session, the overview and the review list to any session, the staff screen to
:attr:`ChangeSignals.staffChanged`.
"""

from __future__ import annotations

from uuid import UUID

from PySide6.QtCore import QObject, Qt, Signal, Slot

from monitor.storage.changes import Change, ChangeKind
from monitor.storage.changes.feed import ChangeFeed


class ChangeSignals(QObject):
    """Signals: ``changed(Change)`` for every change; ``sessionChanged(UUID)`` for a change
    within a session (its id); ``staffChanged()`` when a staff member was added, disabled or
    given a new PIN. :meth:`close` before the adapter is deleted (or the feed stopped)."""

    changed = Signal(object)
    sessionChanged = Signal(object)
    staffChanged = Signal()
    _arrived = Signal(object)

    def __init__(self, feed: ChangeFeed, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._feed = feed
        self._arrived.connect(self._emit, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = feed.subscribe(self._arrived.emit)

    def listening(self) -> bool:
        """Whether the feed is connected and caught up (False while it reconnects)."""
        return self._feed.connected.is_set()

    def close(self) -> None:
        """Stop receiving changes (the feed keeps running for its other subscribers)."""
        self._unsubscribe()

    @Slot(object)
    def _emit(self, change: Change) -> None:
        self.changed.emit(change)
        if isinstance(change.session_id, UUID):
            self.sessionChanged.emit(change.session_id)
        if change.kind is ChangeKind.STAFF:
            self.staffChanged.emit()
