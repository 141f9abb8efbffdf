"""The clinicians' review, reached from the overview: the search of past sessions, one
session read back with its exports, a patient's course, and the export of a date range.

Each screen is built on first use, so that start-up loads only what the first screen shows.
Their reads run on the window's database worker (:mod:`ui.common.background`): the list
searches in the background, a session or a course opens once its read arrives (the status
line says "Opening…" meanwhile; a second tap reads nothing twice), and a refused read is said
on the status line (or the banner, for a server that cannot be reached) while the screen
stays as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

import shiboken6

from monitor.clinical.permissions import PermissionDenied
from monitor.service.views import NotFoundError
from monitor.storage.store import StorageError
from ui.app.frame import WindowFrame
from ui.common.background import Background

if TYPE_CHECKING:
    from monitor.service.review import Course, Cursor, Page, SessionQuery
    from ui.review.batch_export import BatchExportDialog
    from ui.review.course import CourseScreen
    from ui.review.export import SessionExporter
    from ui.review.search import ReviewScreen
    from ui.review.session import SessionReviewScreen


class ReviewFlows(WindowFrame):
    """The review screens, as part of the window (a clinician's)."""

    #: What to do once the session asked for is shown (the what-if's flags).
    _review_then: Callable[[SessionReviewScreen], None] | None = None
    #: A course asked for and not yet read.
    _course_loading = False
    _review_worker_calls: Background | None = None

    def show_review(self) -> ReviewScreen:
        """The search of past sessions, built on first use."""
        from ui.review.search import ReviewScreen  # noqa: PLC0415 - built on first use

        if self.review_screen is None:
            screen = ReviewScreen(self.theme, self._find_sessions,
                                  today=lambda: self.clock.now().astimezone().date(),
                                  worker=self.worker)
            screen.model.failed.connect(self._review_refused)
            screen.model.searched.connect(lambda _query: self._review_answered())
            screen.openSession.connect(self.show_session_review)
            screen.back.connect(self.show_overview)
            screen.batchExport.connect(self.open_batch_export)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.review_screen = screen
            screen.search()
        self._show(self.review_screen)
        return self.review_screen

    def _find_sessions(self, query: SessionQuery, after: Cursor | None, limit: int) -> Page:
        """One page of the search (on the database worker)."""
        return self.service.find_sessions(query, by=self._by(), after=after, limit=limit)

    def _review_answered(self) -> None:
        """A review read was answered: the server is there."""
        if shiboken6.isValid(self):
            self.reachability.succeeded()
            self._show_reachability()

    def _review_refused(self, exc: BaseException) -> None:
        """A review read was refused: said once (the banner, for an unreachable server)."""
        if shiboken6.isValid(self):
            self._refused_read(exc)

    def _exporter(self) -> SessionExporter:
        from ui.review.export import SessionExporter  # noqa: PLC0415 - loads the exports

        return SessionExporter(self.service, self.clock, lambda: self.staff_id)

    def show_session_review(
            self, session_id: uuid.UUID,
            then: Callable[[SessionReviewScreen], None] | None = None,
    ) -> SessionReviewScreen | None:
        """One session read-only, with the scrubber, exports and printing, shown once read;
        ``then(screen)`` after it is shown. Returns the screen once the session is shown
        (at once with the inline worker), else None (not yet, or refused)."""
        from ui.review.session import (  # noqa: PLC0415 - built on first use
            SessionReviewScreen,
            replay_loader,
        )

        if self.session_review is None:
            screen = SessionReviewScreen(self.theme, replay_loader(self.service.loading),
                                         exporter=self._exporter(), worker=self.worker)
            screen.back.connect(self._review_back)
            screen.openCourse.connect(self.show_course)
            screen.openLimits.connect(self.show_patient_limits)
            screen.opened.connect(self._session_review_opened)
            screen.failed.connect(self._session_review_refused)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.session_review = screen
        screen = self.session_review
        self._review_then = then
        if screen.opening is None and screen.background.threaded:
            self.statusBar().showMessage("Opening the session…")
        screen.open_session(session_id)
        opened = (screen.opening is None and screen.session_id == session_id
                  and self.stack.currentWidget() is screen)
        return screen if opened or (self.locked and self._under_lock is screen) else None

    def _session_review_opened(self, _session_id: uuid.UUID) -> None:
        screen = self.session_review
        if not shiboken6.isValid(self) or screen is None:
            return
        if self.statusBar().currentMessage() == "Opening the session…":
            self.statusBar().clearMessage()
        self._review_answered()
        self._review_return = None
        screen.back_button.setText("Back to list")
        self._show(screen)
        then, self._review_then = self._review_then, None
        if then is not None:
            then(screen)

    def _session_review_refused(self, exc: BaseException) -> None:
        self._review_then = None
        if shiboken6.isValid(self) and self.statusBar().currentMessage() == (
                "Opening the session…"):
            self.statusBar().clearMessage()
        self._review_refused(exc)

    def _review_back(self) -> None:
        """Back from a session: to where it was opened from (a what-if), else the list."""
        back_to, self._review_return = self._review_return, None
        if back_to is not None:
            self._show(back_to)
        else:
            self.show_review()

    def show_course(self, patient_id: uuid.UUID) -> CourseScreen | None:
        """A patient's course of treatment across sessions, shown once read (returned when
        shown at once, with the inline worker); a second tap meanwhile reads nothing."""
        if self._course_loading:
            return None
        self._course_loading = True
        background = self._review_background()
        service, by = self.service, self._by()
        shown: list[CourseScreen] = []

        def answered(future: Future[Course]) -> None:
            self._course_loading = False
            if not shiboken6.isValid(self):
                return
            if self.statusBar().currentMessage() == "Opening the course…":
                self.statusBar().clearMessage()
            try:
                course = future.result()
            except (StorageError, PermissionDenied, NotFoundError) as exc:
                self._review_refused(exc)
                return
            self._review_answered()
            shown.append(self._show_course(course))

        if background.threaded:
            self.statusBar().showMessage("Opening the course…")
        background.run(lambda: service.course(patient_id, by=by), answered)
        return shown[0] if shown else None

    def _review_background(self) -> Background:
        """Where the review's own reads run (the window's database worker)."""
        if self._review_worker_calls is None:
            self._review_worker_calls = Background(self.worker, parent=self)
        return self._review_worker_calls

    def _show_course(self, course: Course) -> CourseScreen:
        from ui.review.course import CourseScreen  # noqa: PLC0415 - built on first use

        if self.course_screen is None:
            screen = CourseScreen(self.theme)
            screen.back.connect(lambda: self._show(self.session_review or self.overview))
            screen.openSession.connect(self.show_session_review)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.course_screen = screen
        self.course_screen.show_course(course)
        self._show(self.course_screen)
        return self.course_screen

    def open_batch_export(self) -> BatchExportDialog:
        """Export a date range of sessions to a folder (non-modal, with progress)."""
        from ui.review.batch_export import (  # noqa: PLC0415 - loads the exports
            BatchExportDialog,
            BatchPdfWriter,
        )
        from ui.review.export import documents_folder  # noqa: PLC0415

        previous = self.batch_dialog
        if previous is not None and previous.running:
            previous.show()
            previous.raise_()
            return previous
        if previous is not None:
            # Opened again, the dialog starts afresh: the last one's refusal is not shown.
            previous.close()
            previous.deleteLater()
        dialog = BatchExportDialog(self.theme, self._exporter().batch,
                                   folder=documents_folder(),
                                   today=self.clock.now().astimezone().date(),
                                   pdf_writer=BatchPdfWriter(self.clock), parent=self)
        self.batch_dialog = dialog
        dialog.show()
        return dialog
