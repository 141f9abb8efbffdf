"""The clinicians' review, reached from the overview: the search of past sessions, one
session read back with its exports, a patient's course, and the export of a date range.

Each screen is built on first use, so that start-up loads only what the first screen shows.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from monitor.clinical.permissions import PermissionDenied
from monitor.storage.store import StorageError
from ui.app.frame import WindowFrame, refusal_text

if TYPE_CHECKING:
    from monitor.service.review import Cursor, Page, SessionQuery
    from ui.review.batch_export import BatchExportDialog
    from ui.review.course import CourseScreen
    from ui.review.export import SessionExporter
    from ui.review.search import ReviewScreen
    from ui.review.session import SessionReviewScreen


class ReviewFlows(WindowFrame):
    """The review screens, as part of the window (a clinician's)."""

    def show_review(self) -> ReviewScreen:
        """The search of past sessions, built on first use."""
        from ui.review.search import ReviewScreen  # noqa: PLC0415 - built on first use

        if self.review_screen is None:
            screen = ReviewScreen(self.theme, self._find_sessions,
                                  today=lambda: self.clock.now().astimezone().date())
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
        from monitor.service.review import Page  # noqa: PLC0415 - with the review screen

        try:
            return self.service.find_sessions(query, by=self._by(), after=after, limit=limit)
        except (StorageError, PermissionDenied) as exc:
            self.statusBar().showMessage(refusal_text(exc), 10_000)
            return Page([], None)

    def _exporter(self) -> SessionExporter:
        from ui.review.export import SessionExporter  # noqa: PLC0415 - loads the exports

        return SessionExporter(self.service, self.clock, lambda: self.staff_id)

    def show_session_review(self, session_id: uuid.UUID) -> SessionReviewScreen | None:
        """One session read-only, with the scrubber, exports and printing."""
        from ui.review.session import (  # noqa: PLC0415 - built on first use
            SessionReviewScreen,
            replay_loader,
        )

        if self.session_review is None:
            screen = SessionReviewScreen(self.theme, replay_loader(self.service.loading),
                                         exporter=self._exporter())
            screen.back.connect(self._review_back)
            screen.openCourse.connect(self.show_course)
            screen.openLimits.connect(self.show_patient_limits)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.session_review = screen
        screen = self.session_review
        self._review_return = None
        screen.back_button.setText("Back to list")

        def open_session() -> bool:
            screen.open_session(session_id)
            return True

        if self._guard(open_session) is None:
            return None
        self._show(screen)
        return screen

    def _review_back(self) -> None:
        """Back from a session: to where it was opened from (a what-if), else the list."""
        back_to, self._review_return = self._review_return, None
        if back_to is not None:
            self._show(back_to)
        else:
            self.show_review()

    def show_course(self, patient_id: uuid.UUID) -> CourseScreen | None:
        """A patient's course of treatment across sessions."""
        from ui.review.course import CourseScreen  # noqa: PLC0415 - built on first use

        try:
            course = self.service.course(patient_id, by=self._by())
        except (StorageError, PermissionDenied) as exc:
            self.statusBar().showMessage(refusal_text(exc), 10_000)
            return None
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
