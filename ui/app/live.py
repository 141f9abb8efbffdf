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

Every read runs on the app's database worker: with a background thread (the clinic's server)
the tick and the change notices never wait on it; a reload's view is taken when it arrives,
one read in flight per session and for the chairs' list, and a reload older than the view a
save here gave back is not taken.

A tablet started without its server (:class:`~monitor.service.offline.TabletCopies`)
shows the chairs and sessions of its copy until the server answers; they are read again then.

Without a change feed (``live`` False) every :meth:`ChairViews.tiles` reads the record again, as
a lone tablet did before changes were announced (paced the same way while unreachable).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from monitor.clock import Clock
from monitor.service.board import ChairTile, tile_for
from monitor.service.clinic import ClinicService
from monitor.service.live_view import MovingView
from monitor.service.offline import TabletCopies
from monitor.service.reachability import Reachability
from monitor.service.views import NotFoundError, SessionView
from monitor.service.worker import Worker
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.store import StorageError
from ui.common.background import Background

T = TypeVar("T")

#: Reports a database that cannot be read (the window's status bar).
Problem = Callable[[str], None]

#: Saves remembered until their change arrives (a feed that never delivers one must not make
#: the memory grow without end).
_SAVES_REMEMBERED = 256


class ChairViews:
    """The chairs' sessions and their views, as last loaded.

    The reads run on ``worker`` (:class:`~ui.common.background.Background`): with a
    background thread the tick and the change notices never wait on the server; a reload's
    view is taken when it arrives, and ``updated`` is called then (the window redraws with
    :meth:`shown_tiles`). One read at a time per session and for the chairs' list: a reload
    asked while one is in flight is run once more after it. With the inline worker (a lone
    tablet on its own file) every read is answered before the call returns, as before.
    """

    def __init__(self, service: ClinicService, clock: Clock, chairs: Sequence[str], *,
                 live: bool, problem: Problem, reachability: Reachability | None = None,
                 worker: Worker | None = None, updated: Callable[[], None] | None = None,
                 copies: TabletCopies | None = None) -> None:
        self.service = service
        self.copies = copies
        self.clock = clock
        self.chairs = tuple(chairs)
        self.live = live
        self._problem = problem
        self._updated = updated
        self.reachability = reachability if reachability is not None else Reachability(clock)
        self.background = Background(worker)
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
        #: Reads in flight, and those asked for again meanwhile (every: of all sessions).
        self._loading: set[uuid.UUID] = set()
        self._load_again: set[uuid.UUID] = set()
        self._chairs_loading = False
        self._chairs_again: bool | None = None
        #: Bumped when a save here gave a session's view: a reload that started before it
        #: brings an older view, which is not taken.
        self._generation: dict[uuid.UUID, int] = {}

    @property
    def threaded(self) -> bool:
        """Whether the reads run in the background (answered later)."""
        return self.background.threaded

    def tiles(self) -> list[ChairTile] | None:
        """Each chair's tile now (None: the database could never be read). Reads what is
        due (in the background with a threaded worker) and shows what is loaded."""
        if not self.live:
            if self.reachability.due():
                self.reload_chairs(every=True)
        else:
            self.catch_up()
        if self._active is None and self.reachability.due():
            self.reload_chairs()
        return self.shown_tiles()

    def shown_tiles(self) -> list[ChairTile] | None:
        """Each chair's tile now from the views as loaded, brought forward to the clock;
        nothing is read (None: the chairs were never read)."""
        if self._active is None:
            return None
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

    def view(self, session_id: uuid.UUID) -> SessionView | None:
        """The session's view as last loaded here (None: not loaded)."""
        kept = self._views.get(session_id)
        return kept.view if kept is not None else None

    def known(self) -> bool:
        """Whether the chairs' sessions were loaded at least once."""
        return self._active is not None

    def reload(self) -> None:
        """Read every chair again (a chair whose session cannot be read keeps its view)."""
        self.reload_chairs(every=True)

    def changes_lost(self) -> None:
        """The change feed dropped its connection: what changed meanwhile is unknown, so the
        chairs are read again at the next :meth:`catch_up`; a read that fails tells the
        reachability (the banner), so a tablet nobody touches shows the outage too."""
        self._chairs_stale = True

    def catch_up(self) -> None:
        """Read again what the database refused, when the pace of retries allows: the
        chairs' sessions and the sessions whose reload failed, or, with nothing waiting
        while the server is unreachable, the chairs' sessions alone (one cheap statement,
        to notice the server is back). Stops at the first failure; in the background, while
        the server is unreachable, one read at a time."""
        if not self.reachability.due():
            return
        if self.threaded and self.reachability.unreachable and self.background.in_flight:
            return  # the read in flight says whether the server is back
        if self._chairs_stale or (self.reachability.unreachable and not self._stale):
            self.reload_chairs()
        for session_id in list(self._stale):
            if not self.reachability.due():
                return
            if self.threaded and self.reachability.unreachable and self.background.in_flight:
                return
            self.reload_session(session_id)

    def reload_chairs(self, *, every: bool = False) -> bool:
        """Read which session sits on each chair (after a check-in anywhere); the views of
        sessions new to a chair (``every``: of all sessions) are loaded, those of sessions
        gone are dropped. When the chairs cannot be read, the last ones stay shown.
        Whether the chairs were read and taken by the time this returns."""
        if self._chairs_loading:
            self._chairs_again = bool(self._chairs_again) or every
            return False
        self._chairs_loading = True
        taken = [False]
        chairs = self.chairs

        def answered(future: Future[dict[str, uuid.UUID]]) -> None:
            self._chairs_loading = False
            active = self._read(future)
            self._chairs_stale = active is None and self.live
            if active is None and self._active is None:
                self._take_copy()
            if active is not None:
                taken[0] = True
                self._take_chairs(active, every=every)
            again, self._chairs_again = self._chairs_again, None
            if again is not None:
                self.reload_chairs(every=again)
            self._tell_updated()

        self.background.run(lambda: dict(self.service.active_sessions(chairs)), answered)
        return taken[0]

    def _take_chairs(self, active: dict[str, uuid.UUID], *, every: bool) -> None:
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

    def _take_copy(self) -> None:
        """The chairs could never be read: the tablet's copy is shown, each session read
        again once the server answers."""
        if self.copies is None:
            return
        self._active = self.copies.chairs(self.chairs)
        now = self.clock.now()
        for session_id in self._active.values():
            view = self.copies.view(session_id, now)
            if view is not None:
                self._views[session_id] = MovingView(view)
            self._stale.add(session_id)
        self._chairs_stale = True

    def reload_session(self, session_id: uuid.UUID) -> bool:
        """Load ``session_id`` again if it sits on a chair; whether it does."""
        if self._active is None or session_id not in self._active.values():
            return False
        if session_id in self._loading:
            self._load_again.add(session_id)
            return True
        self._loading.add(session_id)
        generation = self._generation.get(session_id, 0)
        at = self.clock.now()

        def answered(future: Future[SessionView]) -> None:
            self._loading.discard(session_id)
            try:
                view = future.result()
            except StorageError as exc:
                self.reachability.failed(exc)
                self._problem(exc.message)
                if self.live:
                    self._stale.add(session_id)
                copy = (self.copies.view(session_id, at)
                        if self.copies is not None and session_id not in self._views else None)
                if copy is not None:
                    self._views[session_id] = MovingView(copy)
            except NotFoundError:
                self.reachability.succeeded()
                self._views.pop(session_id, None)
            else:
                self.reachability.succeeded()
                self._stale.discard(session_id)
                seated = self._active is not None and session_id in self._active.values()
                if seated and self._generation.get(session_id, 0) == generation:
                    self._views[session_id] = MovingView(view)
            if session_id in self._load_again:
                self._load_again.discard(session_id)
                self.reload_session(session_id)
            self._tell_updated()

        self.background.run(lambda: self.service.load(session_id, at), answered)
        return True

    def follow_held(self, held: Callable[[uuid.UUID], int]) -> None:
        """Read again each seated session whose view counts entries held on this tablet
        that ``held`` (the outbox) no longer counts: the drain gave them to the server."""
        for session_id, kept in list(self._views.items()):
            count = kept.view.held
            if count and session_id not in self._loading and held(session_id) != count:
                self.reload_session(session_id)

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
        before the save: a reload refused earlier is no longer needed, and a reload that
        started before it brings nothing newer. Without a change feed nothing is kept (every
        tile reads the record)."""
        if not self.live:
            return
        _remember(self._saved, reading_id, session_id)
        if self._active is not None and session_id in self._active.values():
            self._views[session_id] = MovingView(view)
            self._stale.discard(session_id)
            self._generation[session_id] = self._generation.get(session_id, 0) + 1

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

    def _tell_updated(self) -> None:
        """A read in the background was answered: the window redraws (not asked of the
        inline worker, whose answers come before the caller draws)."""
        if self.threaded and self._updated is not None:
            self._updated()

    def _read(self, future: Future[T]) -> T | None:
        try:
            result = future.result()
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
