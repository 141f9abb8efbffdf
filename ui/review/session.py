"""A finished (or running) session as the clinician reviews it, replayable minute by minute.

:class:`SessionReviewScreen` shows one session read-only: the chair's chart
(:class:`ui.session.chart.SessionChart`, without the entry panel), the readings table, the flags
with their acknowledgements, the events and everything done on the record with who did it
(entries, acknowledgements, voids and amendments, signatures), and the discharge record.

A scrubber runs from check-in to the end of the session (its last entry, correction or
signature); at minute *m* every part of the screen shows the session as it stood then, as
:meth:`ClinicService.load` gives it ``at=`` that moment: a reading voided later is still a
valid reading before its void, a flag not yet acknowledged is open.

The screen reads through the ``load`` function it is given and stores nothing; exports and
printing go through the :class:`ui.review.export.SessionExporter` it is given. Its reads and
the exports' audit entries run on the database worker it is given
(:mod:`ui.common.background`): a session opens when its read arrives (``opened``), the
scrubber's label says "loading…" while a moment is read (only the newest moment asked is
read next), and the export dialog says "Exporting…" until its file is written.
Its tables and the discharge record in words are :mod:`ui.review.session_tables`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Event, Reading
from monitor.clinical.permissions import PermissionDenied
from monitor.service.views import NotFoundError
from monitor.storage.store import StorageError
from ui.common.background import Background, Latest
from ui.common.labels import clock_time
from ui.common.style import TouchButton
from ui.common.theme import TEXT_PX, Theme
from ui.common.widgets import kinetic, restyle
from ui.review.export import ExportDialog, SessionExporter, documents_folder, export_stem
from ui.review.session_tables import (
    NARROW_PAD_PX,
    ActivityModel,
    ReadingsModel,
    ShareTheRest,
    discharge_html,
    touch_table,
)
from ui.review.whatif_flags import WhatIfFlagsModel, flag_differences
from ui.session.chart import SessionChart
from ui.session.flags import FlagsModel

if TYPE_CHECKING:
    from concurrent.futures import Future

    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    from monitor.service.loading import Loading
    from monitor.service.views import SessionView
    from monitor.service.whatif import ChangedSession
    from monitor.service.worker import Worker

#: The scrubber's height.
SLIDER_PX = 56
#: The scrubber's handle, dragged with a fingertip.
HANDLE_PX = 48
#: ``load(session_id, at)``: the session as it stood at ``at`` (``None``: now).
Load = Callable[[uuid.UUID, datetime | None], "SessionView"]


def replay_loader(loading: Loading) -> Load:
    """``loading.load`` (``service.loading``) for the replay: at each moment, only what had
    been entered by then (a reading entered late appears from the minute it was entered)."""
    return lambda session_id, at: loading.load(session_id, at, entered_only=True)


def session_end(view: SessionView) -> datetime:
    """The last moment anything was entered on the session: an entry (the time it describes
    or the time it was entered, whichever is later), a correction, an acknowledgement or a
    signature. The scrubber ends here."""
    times: list[datetime] = [view.info.time]
    entries: list[Reading | Event] = [*view.record.readings, *view.superseded_readings,
                                      *view.record.events, *view.superseded_events]
    for entry in entries:
        times.append(entry.time)
        if entry.recorded_at is not None:
            times.append(entry.recorded_at)
    times += [c.time for c in view.corrections]
    times += [a.time for a in view.record.acknowledgements]
    times += [s.signed_at for s in view.signatures]
    return max(times)


def session_start(view: SessionView) -> datetime:
    """Check-in, or the first effective entry if one describes an earlier time (an import).

    A voided entry does not count: one entered at a wrong time and voided would otherwise
    start the replay long before anything happened.
    """
    times = [view.info.time, *(r.time for r in view.record.readings)]
    times += [e.time for e in view.record.events]
    return min(times)


#: What each treatment profile is called on screen.
PROFILE_TITLES = {"iv_ketamine": "IV ketamine", "esketamine_rems": "Esketamine (REMS)"}


def session_subtitle(view: SessionView) -> str:
    """When, where and what, for people:
    "22 Jul 2025 10:30 · Chair 1 · IV ketamine · 0.75 mg/kg"."""
    info = view.info
    when = info.time.astimezone()
    parts = [f"{when.day} {when:%b %Y %H:%M}"]
    if info.chair:
        parts.append(f"Chair {info.chair}")
    parts.append(PROFILE_TITLES.get(info.profile) or view.protocol.name or info.profile)
    if info.planned_mg_per_kg:
        parts.append(f"{info.planned_mg_per_kg:g} mg/kg")
    return " · ".join(parts)


class SessionReviewScreen(QWidget):
    """One session, read-only, with a scrubber that replays it minute by minute.

    Signals:
        back(): "Back to list" was tapped.
        openCourse(object): "Course of treatment" was tapped (the patient's id).
        openLimits(object): "Own limits" was tapped (the patient's id).
        opened(object): a session asked for with :meth:`open_session` is shown (its id).
        failed(object): its read was refused (the exception); the screen is as it was.
    """

    back = Signal()
    openCourse = Signal(object)
    openLimits = Signal(object)
    opened = Signal(object)
    failed = Signal(object)

    def __init__(self, theme: Theme, load: Load, *, exporter: SessionExporter | None = None,
                 worker: Worker | None = None, parent: QWidget | None = None) -> None:
        """``worker``: where the session is read and exports audited (default: at once)."""
        super().__init__(parent)
        self.theme = theme
        self._load = load
        self.exporter = exporter
        self.background = Background(worker, parent=self)
        self._moments = Latest(self.background)
        #: The session being read for :meth:`open_session` (None: none).
        self.opening: uuid.UUID | None = None
        #: Whether an export's audit entry is being written.
        self.exporting = False
        #: Where exports go unless another folder is chosen.
        self.export_folder: Path = documents_folder()
        self.session_id: uuid.UUID | None = None
        #: The whole session (at its end): what is exported and printed.
        self.full_view: SessionView | None = None
        #: What the screen shows: the session at the scrubber's minute.
        self.view: SessionView | None = None
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.export_dialog: ExportDialog | None = None
        self.print_dialog: QPrintDialog | None = None

        self.back_button = TouchButton("Back to list")
        self.back_button.setObjectName("back-to-list")
        self.back_button.clicked.connect(self.back)
        self.title = QLabel()
        self.title.setObjectName("session-title")
        self.title.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setProperty("role", "muted")
        self.subtitle.setWordWrap(True)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        self.course_button = TouchButton("Course of treatment")
        self.course_button.setObjectName("open-course")
        self.course_button.clicked.connect(self._course)
        self.limits_button = TouchButton("Own limits")
        self.limits_button.setObjectName("open-limits")
        self.limits_button.clicked.connect(self._limits)
        self.export_button = TouchButton("Export…")
        self.export_button.setObjectName("export-session")
        self.export_button.clicked.connect(lambda _checked=False: self.open_export())
        self.print_button = TouchButton("Print…")
        self.print_button.setObjectName("print-session")
        self.print_button.clicked.connect(lambda _checked=False: self.open_print())
        #: Why printing failed, shown to the clinician (hidden while nothing failed).
        self.print_message = QLabel()
        self.print_message.setObjectName("print-message")
        self.print_message.setProperty("role", "error")
        self.print_message.setWordWrap(True)
        self.print_message.hide()
        titles.addWidget(self.print_message)
        self.head = QHBoxLayout()
        self.head.addWidget(self.back_button)
        self.head.addLayout(titles, 1)
        self.action_row = QHBoxLayout()
        for button in (self.course_button, self.limits_button, self.export_button,
                       self.print_button):
            self.action_row.addWidget(button)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("scrubber")
        self.slider.setMinimumHeight(SLIDER_PX)
        self.slider.setPageStep(10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(15)
        t = theme
        # A handle a fingertip can take hold of, on a groove visible in a dim room.
        self.slider.setStyleSheet(
            f"QSlider::groove:horizontal {{ height: 10px; background: {t.border};"
            f" border-radius: 5px; }}"
            f"QSlider::sub-page:horizontal {{ background: {t.accent}; border-radius: 5px; }}"
            f"QSlider::handle:horizontal {{ width: {HANDLE_PX}px; margin: -19px 0;"
            f" border-radius: {HANDLE_PX // 2}px; background: {t.accent};"
            f" border: 3px solid {t.text}; }}")
        self.slider.valueChanged.connect(self._scrubbed)
        self.scrub_label = QLabel()
        self.scrub_label.setObjectName("scrub-label")
        self.scrub_label.setStyleSheet(f"font-size: {TEXT_PX}px; font-weight: bold;")
        self.scrub_label.setMinimumWidth(250)
        self.end_button = TouchButton("End")
        self.end_button.setObjectName("scrub-end")
        self.end_button.clicked.connect(lambda: self.slider.setValue(self.slider.maximum()))
        scrub = QHBoxLayout()
        scrub.addWidget(QLabel("Replay"))
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.scrub_label)
        scrub.addWidget(self.end_button)

        self.chart = SessionChart(theme)
        self.chart.setObjectName("review-chart")
        self.readings = ReadingsModel(theme, self)
        self.flags = FlagsModel(theme, self)
        self.activity = ActivityModel(self)
        # Narrow padding and values broken onto two lines ("23:00\n(late)", "98\non O2") so
        # every value column, to MOAA/S, is on screen beside the chart; the rest scrolls.
        self.readings_table = touch_table(self.readings, "readings-table", {
            ReadingsModel.TIME: "00:00\n(late)", ReadingsModel.BP: "188/112",
            ReadingsModel.SPO2: "100\non O2", ReadingsModel.OTHER: "Nausea 10 · PHQ-9 27",
            ReadingsModel.BY: "Firstname Lastname"}, pad=NARROW_PAD_PX)
        self.flags_table = touch_table(self.flags, "flags-table", {
            FlagsModel.TIER: "ADVISORY", FlagsModel.TIME: "00:00",
            FlagsModel.STATUS: "acknowledged 00:00 by",
            FlagsModel.MESSAGE: "SBP 188 ≥ 180"}, icon_column=FlagsModel.TIER,
            pad=NARROW_PAD_PX)
        # Few rows, each read whole: what was flagged and what was done about it, wrapped
        # (the measure is in the message already).
        self.flags_table.hideColumn(FlagsModel.MEASURE)
        # The message and the status share what the tier and time leave, each at least as
        # wide as its longest word ("acknowledged" is never cut to "acknowledg…"; a
        # message wraps between its value and its limit).
        self.flags_sharing = ShareTheRest(self.flags_table, {
            FlagsModel.MESSAGE: "SBP 188", FlagsModel.STATUS: "acknowledged"},
            pad=NARROW_PAD_PX)
        self.flags_table.setWordWrap(True)
        self.flags_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.activity_table = touch_table(self.activity, "activity-table", {
            ActivityModel.WHO: "Firstname Lastname"})
        self.discharge = QLabel()
        self.discharge.setObjectName("discharge-record")
        self.discharge.setTextFormat(Qt.TextFormat.RichText)
        self.discharge.setWordWrap(True)
        self.discharge.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.discharge.setContentsMargins(10, 6, 10, 6)
        discharge_scroll = QScrollArea()
        discharge_scroll.setWidgetResizable(True)
        discharge_scroll.setWidget(self.discharge)
        kinetic(discharge_scroll.viewport())
        self.tabs = QTabWidget()
        self.tabs.setObjectName("review-tabs")
        self.tabs.addTab(self.readings_table, "Readings")
        self.tabs.addTab(self.flags_table, "Flags")
        self.tabs.addTab(self.activity_table, "Who did what")
        self.tabs.addTab(discharge_scroll, "Discharge")
        # A session opened from a protocol what-if: its flags under both protocols, above
        # the tabs (shown only then).
        self.whatif_flags = WhatIfFlagsModel(theme, self)
        self.whatif_table = touch_table(self.whatif_flags, "whatif-flags-table", {
            WhatIfFlagsModel.MEASURE: "MOAAS", WhatIfFlagsModel.BEFORE: "Critical",
            WhatIfFlagsModel.AFTER: "Critical"}, icon_column=WhatIfFlagsModel.BEFORE)
        self.whatif_legend = QLabel()
        self.whatif_legend.setObjectName("whatif-legend")
        self.whatif_legend.setWordWrap(True)
        self.whatif_panel = QWidget()
        self.whatif_panel.setObjectName("whatif-panel")
        whatif_layout = QVBoxLayout(self.whatif_panel)
        whatif_layout.setContentsMargins(0, 0, 0, 0)
        whatif_layout.addWidget(self.whatif_legend)
        whatif_layout.addWidget(self.whatif_table, 1)
        self.whatif_panel.hide()
        side = QVBoxLayout()
        side.setSpacing(8)
        side.addWidget(self.whatif_panel, 1)
        side.addWidget(self.tabs, 1)

        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(10)
        self.body.addWidget(self.chart, 3)
        self.body.addLayout(side, 2)
        self.top = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.top.addLayout(self.head, 1)
        self.top.addLayout(self.action_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(self.top)
        layout.addLayout(scrub)
        layout.addLayout(self.body, 1)

    # -- layout ------------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Landscape: chart and tables side by side; portrait: the tables under the chart,
        the actions under the title."""
        portrait = orientation == Qt.Orientation.Vertical
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                               else QBoxLayout.Direction.LeftToRight)
        self.body.setStretch(0, 3)
        self.body.setStretch(1, 2)
        self.top.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                              else QBoxLayout.Direction.LeftToRight)

    # -- showing ---------------------------------------------------------------------------

    def open_session(self, session_id: uuid.UUID) -> None:
        """Show ``session_id`` as it stood at its end, the scrubber at the end, once read
        (``opened``, or ``failed``); asked again while it is read, nothing is read twice."""
        if self.opening == session_id:
            return
        self.opening = session_id
        load = self._load

        def read() -> tuple[datetime, datetime, SessionView]:
            latest = load(session_id, None)
            end = session_end(latest)
            return session_start(latest), end, load(session_id, end)

        def answered(future: Future[tuple[datetime, datetime, SessionView]]) -> None:
            if self.opening != session_id:
                return  # another session was asked for since: its answer follows
            self.opening = None
            try:
                start, end, full = future.result()
            except (StorageError, NotFoundError, PermissionDenied) as exc:
                self.failed.emit(exc)
                return
            self._opened(session_id, start, end, full)
            self.opened.emit(session_id)

        self.background.run(read, answered)

    def _opened(self, session_id: uuid.UUID, start: datetime, end: datetime,
                full: SessionView) -> None:
        self._moments.cancel()
        self.whatif_panel.hide()
        self.session_id = session_id
        self.start, self.end = start, end
        self.full_view = full
        info = self.full_view.info
        patient = info.patient
        self.title.setText(f"{patient.name or '(no name)'} · MRN {patient.mrn}")
        self.subtitle.setText(session_subtitle(self.full_view))
        minutes = max(1, math.ceil((self.end - self.start).total_seconds() / 60))
        self.slider.blockSignals(True)
        self.slider.setRange(0, minutes)
        self.slider.setValue(minutes)
        self.slider.blockSignals(False)
        self._show(self.full_view)

    def show_whatif(self, changed: ChangedSession, before: str, after: str) -> None:
        """Show, above the tabs, the session's flags under the version it ran under
        (``before`` names it) and under a draft (``after``)."""
        rows = flag_differences(changed)
        self.whatif_flags.set_differences(rows)
        t = self.theme
        self.whatif_legend.setText(
            f"<b>What-if</b> · <b>Ran under</b>: {before}, {len(changed.before)} flags · "
            f"<b>Draft</b>: {after}, {len(changed.after)} flags. "
            f"<span style='color:{t.accent}'>Blue</span>: only as it ran · "
            f"<span style='color:{t.warning}'>amber</span>: only under the draft · "
            "— none on that side. The chart shows the flags as they were raised.")
        self.whatif_panel.show()

    def minutes(self) -> int:
        """The scrubber's range: minutes from check-in to the end."""
        return self.slider.maximum()

    def set_minute(self, minute: int) -> None:
        """Show the session as it stood ``minute`` minutes after check-in."""
        self.slider.setValue(minute)

    def moment(self, minute: int) -> datetime:
        """The time ``minute`` minutes after check-in (the end at the last minute)."""
        assert self.start is not None
        assert self.end is not None
        if minute >= self.slider.maximum():
            return self.end
        return self.start + timedelta(minutes=minute)

    def _scrubbed(self, minute: int) -> None:
        if self.session_id is None:
            return
        at = self.moment(minute)
        if at == self.end and self.full_view:
            self._moments.cancel()
            self._show(self.full_view)
            return
        session_id, load = self.session_id, self._load

        def answered(future: Future[SessionView]) -> None:
            if self.session_id != session_id or self.moment(self.slider.value()) != at:
                return  # the scrubber has moved on (to the end, shown without a read)
            try:
                view = future.result()
            except (StorageError, NotFoundError, PermissionDenied) as exc:
                message = exc.message if isinstance(exc, StorageError) else str(exc)
                self.scrub_label.setText(f"Not shown: {message}")
                return
            self._show(view)

        self._moments.run(lambda: load(session_id, at), answered)
        if self._moments.busy:
            self.scrub_label.setText(f"{minute} min after check-in · loading…")

    def _show(self, view: SessionView) -> None:
        self.view = view
        self.chart.show_view(view)
        self.readings.set_view(view)
        self.flags.set_flags([*view.flags, *view.superseded_flags])
        self.flags_sharing.share()
        self.activity.set_view(view)
        self.discharge.setText(discharge_html(view, self.theme))
        minute = self.slider.value()
        at_end = minute >= self.slider.maximum()
        self.scrub_label.setText(f"{clock_time(view.at)} · {minute} min after check-in"
                                 + (" (end)" if at_end else ""))

    def _limits(self) -> None:
        if self.full_view is not None:
            self.openLimits.emit(self.full_view.info.patient.id)

    def _course(self) -> None:
        if self.full_view is not None:
            self.openCourse.emit(self.full_view.info.patient.id)

    # -- export and print --------------------------------------------------------------------

    def open_export(self, fmt: str = "pdf") -> ExportDialog | None:
        """Open the export dialog (non-modal) for the whole session."""
        if self.full_view is None:
            return None
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        dialog = ExportDialog(self.theme, folder=self.export_folder,
                              stem=export_stem(self.full_view), fmt=fmt, parent=self)
        dialog.exportRequested.connect(self._export)
        self.export_dialog = dialog
        dialog.show()
        return dialog

    def _export(self, fmt: str, path: Path) -> None:
        dialog = self.export_dialog
        exporter, view = self.exporter, self.full_view
        if exporter is None or view is None or dialog is None or self.exporting:
            return
        self.exporting = True

        def answered(future: Future[str]) -> None:
            # The audit entry is written: the file is written here (a PDF draws a widget).
            self.exporting = False
            dialog.export_button.setEnabled(True)
            try:
                written = exporter.write_audited(view, fmt, path, future.result())
            except StorageError as exc:
                dialog.show_error(exc.message)
                return
            except Exception as exc:  # noqa: BLE001 - a refusal (permission, file) is shown
                dialog.show_error(str(exc))
                return
            dialog.show_done(written)

        dialog.export_button.setEnabled(False)
        dialog.show_progress("Exporting…")
        self.background.run(lambda: exporter.audit(view, fmt), answered)

    def open_print(self) -> QPrintDialog | None:
        """Open the print dialog (non-modal); printing starts when it is accepted."""
        from PySide6.QtPrintSupport import (  # noqa: PLC0415 - loaded when first printing
            QPrintDialog,
            QPrinter,
        )

        if self.full_view is None:
            return None
        self.print_message.hide()
        try:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            dialog = QPrintDialog(printer, self)
            dialog.setWindowModality(Qt.WindowModality.NonModal)
            dialog.accepted.connect(lambda: self._print_accepted(printer))
            self.print_dialog = dialog
            self._printer = printer
            dialog.show()
        except Exception as exc:  # noqa: BLE001 - whatever failed, the clinician is told
            self._print_failed(exc)
            return None
        return dialog

    def _print_accepted(self, printer: QPrinter) -> None:
        try:
            self.print_to(printer)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the clinician is told
            self._print_failed(exc)

    def _print_failed(self, exc: BaseException) -> None:
        self.print_message.setProperty("role", "error")
        restyle(self.print_message)
        self.print_message.setText(f"Not printed: {exc}")
        self.print_message.show()

    def print_to(self, printer: QPrinter) -> None:
        """Print the whole session on ``printer``: its audit entry written on the worker
        ("Printing…" meanwhile), then the pages drawn here."""
        exporter, view = self.exporter, self.full_view
        if exporter is None or view is None:
            return

        def answered(future: Future[str]) -> None:
            self.print_message.hide()
            try:
                exporter.print_audited(view, printer, future.result())
            except StorageError as exc:
                self._print_failed(Exception(exc.message))
            except Exception as exc:  # noqa: BLE001 - whatever failed, the clinician is told
                self._print_failed(exc)

        if self.background.threaded:
            self.print_message.setProperty("role", "muted")
            restyle(self.print_message)
            self.print_message.setText("Printing…")
            self.print_message.show()
        self.background.run(lambda: exporter.audit(view, "print"), answered)
