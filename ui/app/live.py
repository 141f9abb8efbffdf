"""Every chair's session as last loaded, loaded again only when a change says so.

:class:`ChairViews` keeps which session sits on each chair and each one's
:class:`~monitor.service.views.SessionView`. The window's one-second tick asks it for the tiles
(:meth:`ChairViews.tiles`): the views are brought forward to the clock
(:class:`monitor.service.live_view.MovingView`) without a statement to the database. A change
committed
anywhere (another tablet, this one) reloads what it touched: a session's change that
session, a check-in the list of chairs' sessions.

A reading saved on this tablet needs no reload: the save gave back the session as it then
stood, which the chair's screen shows and the chair's tile takes (:meth:`ChairViews.show_saved`);
the change that announces that save, and the flags it raised, are then known to be shown
already (:meth:`ChairViews.shown_already`). Any other change, including one from another
tablet or another of this tablet's windows, reloads.

A reload the database refused (unreachable, busy) is tried again at a later
:meth:`ChairViews.tiles`, until it succeeds: a change is never lost to a passing failure. While
the server is unreachable the reads are paced by :class:`~monitor.service.reachability.Reachability`
(which every read here reports to), and the chairs keep the views last loaded: a chair occupied
before the outage stays occupied, never shown free because its session could not be read.

Without a change feed (``live`` False) every :meth:`ChairViews.tiles` reads the record again, as
a lone tablet did before changes were announced (paced the same way while unreachable).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from monitor.clock import Clock
from monitor.service.board import ChairTile, tile_for
from monitor.service.clinic import ClinicService
from monitor.service.live_view import MovingView
from monitor.service.reachability import Reachability
from monitor.service.views import NotFoundError, SessionView
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.store import StorageError

T = TypeVar("T")

#: Reports a database that cannot be read (the window's status bar).
Problem = Callable[[str], None]

#: Saves remembered until their change arrives (a feed that never delivers one must not make
#: the memory grow without end).
_SAVES_REMEMBERED = 256


class ChairViews:
    """The chairs' sessions and their views, as last loaded."""

    def __init__(self, service: ClinicService, clock: Clock, chairs: Sequence[str], *,
                 live: bool, problem: Problem, reachability: Reachability | None = None,
                 ) -> None:
        self.service = service
        self.clock = clock
        self.chairs = tuple(chairs)
        self.live = live
        self._problem = problem
        self.reachability = reachability if reachability is not None else Reachability(clock)
        #: chair → its session (None: not loaded yet, or the database could not be read).
        self._active: dict[str, uuid.UUID] | None = None
        self._views: dict[uuid.UUID, MovingView] = {}
        #: Reloads the database refused, tried again on the next tiles.
        self._stale: set[uuid.UUID] = set()
        self._chairs_stale = False
        #: Readings saved here whose view is shown, until their change arrives: id → session.
        self._saved: OrderedDict[uuid.UUID, uuid.UUID] = OrderedDict()
        #: The audit entries of those saves whose change arrived (their flags follow).
        self._saved_entries: OrderedDict[int, None] = OrderedDict()

    def tiles(self) -> list[ChairTile] | None:
        """Each chair's tile now (None: the database could never be read)."""
        if not self.live:
            if self.reachability.due():
                self.reload_chairs(every=True)
        else:
            self.catch_up()
        if self._active is None and (not self.reachability.due() or not self.reload_chairs()):
            return None
        assert self._active is not None
        now = self.clock.now()
        tiles = []
        for chair in self.chairs:
            seated = self._active.get(chair)
            view = self._views.get(seated) if seated is not None else None
            tiles.append(tile_for(chair, view.at(now) if view is not None else None))
        return tiles

    def seated(self, chair: str) -> uuid.UUID | None:
        """The session last loaded on ``chair`` (None: free, or never loaded)."""
        return self._active.get(chair) if self._active is not None else None

    def known(self) -> bool:
        """Whether the chairs' sessions were loaded at least once."""
        return self._active is not None

    def reload(self) -> None:
        """Read every chair again (a chair whose session cannot be read keeps its view)."""
        self.reload_chairs(every=True)

    def catch_up(self) -> None:
        """Read again what the database refused, when the pace of retries allows: the
        chairs' sessions and the sessions whose reload failed, or, with nothing waiting
        while the server is unreachable, the chairs' sessions alone (one cheap statement,
        to notice the server is back). Stops at the first failure."""
        if not self.reachability.due():
            return
        if self._chairs_stale or (self.reachability.unreachable and not self._stale):
            self.reload_chairs()
        for session_id in list(self._stale):
            if not self.reachability.due():
                return
            self.reload_session(session_id)

    def reload_chairs(self, *, every: bool = False) -> bool:
        """Read which session sits on each chair (after a check-in anywhere); the views of
        sessions new to a chair (``every``: of all sessions) are loaded, those of sessions
        gone are dropped. When the chairs cannot be read, the last ones stay shown."""
        active = self._read(lambda: self.service.active_sessions(self.chairs))
        self._chairs_stale = active is None and self.live
        if active is None:
            return False
        self._active = dict(active)
        shown = set(active.values())
        for session_id in [s for s in self._views if s not in shown]:
            del self._views[session_id]
        for session_id in shown if every else shown - set(self._views):
            if not self.reachability.due():
                if self.live:
                    self._stale.add(session_id)
                continue
            self.reload_session(session_id)
        return True

    def reload_session(self, session_id: uuid.UUID) -> bool:
        """Load ``session_id`` again if it sits on a chair; whether it does."""
        if self._active is None or session_id not in self._active.values():
            return False
        try:
            self._views[session_id] = MovingView(
                self.service.load(session_id, self.clock.now()))
        except StorageError as exc:
            self.reachability.failed(exc)
            self._problem(exc.message)
            if self.live:
                self._stale.add(session_id)
        except NotFoundError:
            self.reachability.succeeded()
            self._views.pop(session_id, None)
        else:
            self.reachability.succeeded()
            self._stale.discard(session_id)
        return True

    def show_held(self, session_id: uuid.UUID, view: SessionView) -> None:
        """The tablet's copy of a session with entries saved here, not yet on the server:
        its tile shows it (with how many wait) until the session is read again."""
        if self._active is not None and session_id in self._active.values():
            self._views[session_id] = MovingView(view)

    def show_saved(self, session_id: uuid.UUID, view: SessionView,
                   reading_id: uuid.UUID) -> None:
        """The session as the save of reading ``reading_id`` here gave it back, taken as the
        chair's view without loading it; the change announcing that save will not reload it.

        The view was evaluated in the save's transaction, so it holds everything committed
        before the save: a reload refused earlier is no longer needed. Without a change
        feed nothing is kept (every tile reads the record)."""
        if not self.live:
            return
        _remember(self._saved, reading_id, session_id)
        if self._active is not None and session_id in self._active.values():
            self._views[session_id] = MovingView(view)
            self._stale.discard(session_id)

    def shown_already(self, change: Change) -> bool:
        """Whether ``change`` is only the announcement of a reading saved here, or of a flag
        that save raised, whose view :meth:`show_saved` took: nothing to load again.

        Each save is recognised once, by its reading's id and session; anything else (an
        event, an acknowledgement, a correction, a sign-off, another tablet's reading, a
        device reading received) is not shown already."""
        if change.kind is ChangeKind.READING:
            if (change.record_id is None or change.session_id is None
                    or self._saved.get(change.record_id) != change.session_id):
                return False
            del self._saved[change.record_id]
            _remember(self._saved_entries, change.seq, None)
            return True
        return change.kind is ChangeKind.FLAG and change.seq in self._saved_entries

    def _read(self, action: Callable[[], T]) -> T | None:
        try:
            result = action()
        except StorageError as exc:
            self.reachability.failed(exc)
            self._problem(exc.message)
        except NotFoundError:
            self.reachability.succeeded()
        else:
            self.reachability.succeeded()
            return result
        return None


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _remember(memory: OrderedDict[K, V], key: K, value: V) -> None:
    """Keep ``key`` in ``memory``, forgetting the oldest beyond :data:`_SAVES_REMEMBERED`."""
    memory[key] = value
    while len(memory) > _SAVES_REMEMBERED:
        memory.popitem(last=False)
