"""The session screen: everything about one chair on one screen.

A header (back to the chairs, patient, phase and elapsed time, the next reading's countdown,
undo, infusion controls: :mod:`ui.session.header`), the latest-value rail, the live chart,
the flags list, and the entry panel with its tabs (vitals, CADSS-6, MOAA/S, comfort, event,
discharge, history).
It shows what its :class:`~ui.session.presenter.SessionPresenter` announces and forwards what the
nurse does to it; it decides nothing clinical.

Landscape (1280 × 800): rail across the top; chart over flags on the left, the entry panel
on the right. Portrait (800 × 1280): rail, chart, flags and entry panel stacked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import EventKind, Flag
from monitor.clinical.protocol import Medication
from monitor.clinical.start_gate import (
    CONFIRM_BASELINE,
    baseline_question,
    missing_baseline,
    start_hold,
)
from monitor.clock import Clock
from monitor.service.views import MIN_OVERRIDE_REASON, SessionView
from ui.common.ask import ConfirmDialog, ReasonDialog, ask
from ui.common.labels import clock_time
from ui.common.style import tier_icon
from ui.common.theme import Theme
from ui.session.chart import SessionChart
from ui.session.closed import ClosedPanel
from ui.session.discharge import DischargePanel
from ui.session.early_stop import EarlyStopDialog
from ui.session.entry import CadssEntry, ComfortEntry, EventEntry, MoaasEntry, VitalsEntry
from ui.session.flags import FlagsPanel
from ui.session.header import RateDialog, SessionHeader
from ui.session.history.panel import HistoryPanel
from ui.session.presenter import SessionPresenter
from ui.session.rail import ValueRail

#: Size of the worst open tier's icon on the flags tab (portrait).
FLAG_TAB_ICON_PX = 24
#: The vital signs the vitals form opens on.
VITAL_KEYS = ("sbp", "dbp", "hr", "spo2", "rr")
#: Event kinds the event form can produce, from its ``kind`` value.
_EVENT_KINDS = {kind.value: kind for kind in EventKind}


def _unsaved(raw: dict[str, Any]) -> bool:
    """Whether a form holds something the nurse typed or chose and has not saved."""
    for key, value in raw.items():
        if key == "on_oxygen":
            continue
        if isinstance(value, tuple):
            if any(v is not None for v in value):
                return True
        elif value not in (None, "", False):
            return True
    return False


#: Tab padding in portrait, where eight tabs share 800 px.
PORTRAIT_TABS = "QTabBar::tab { padding-left: 4px; padding-right: 4px; }"


class SessionScreen(QWidget):
    """One chair's session. See the module docstring for the layout.

    Signals:
        back(): the nurse wants the chair overview.
    """

    back = Signal()

    def __init__(
        self,
        theme: Theme,
        clock: Clock,
        presenter: SessionPresenter,
        medications: Sequence[Medication],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        self.clock = clock
        self.presenter = presenter
        self.view: SessionView | None = None
        self._orientation = Qt.Orientation.Horizontal

        self.header = SessionHeader(theme)
        self.rail = ValueRail(theme)
        self.chart = SessionChart(theme)
        self.flags = FlagsPanel(theme, is_clinician=presenter.is_clinician)
        self.vitals = VitalsEntry(theme, clock)
        self.cadss = CadssEntry(theme, clock)
        self.moaas = MoaasEntry(theme, clock)
        self.comfort = ComfortEntry(theme, clock)
        self.event_form = EventEntry(theme, clock, medications)
        self.discharge = DischargePanel(theme)
        self.history = HistoryPanel(theme, is_clinician=presenter.is_clinician)
        self.closed_panel = ClosedPanel(theme, is_clinician=presenter.is_clinician)
        self.forms = (self.vitals, self.cadss, self.moaas, self.comfort, self.event_form)
        #: What the entry tabs show: (the closed panel, the forms).
        self._entry_tabs = (False, True)
        #: A reading id per form, kept across Retry so a save is never stored twice.
        self._pending_ids: dict[int, uuid.UUID] = {}
        #: form -> how many entries the server had refused when its entry was held here.
        self._refused_at_hold: dict[int, int] = {}

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(lambda _index: self._show_tab_pages())
        for widget, title in (
            (self.vitals, "Vitals"), (self.cadss, "CADSS-6"), (self.moaas, "MOAA/S"),
            (self.comfort, "Comfort"), (self.event_form, "Event"), (self.discharge, "Discharge"),
            (self.history, "History"),
        ):
            self.tabs.addTab(widget, title)
        bar = self.tabs.tabBar()
        bar.setExpanding(True)
        # Every tab stays in view: scroll arrows would be touch targets far below 48 px.
        bar.setUsesScrollButtons(False)
        bar.setElideMode(Qt.TextElideMode.ElideRight)

        self.left = QSplitter(Qt.Orientation.Vertical)
        self.left.addWidget(self.chart)
        self.left.addWidget(self.flags)
        self.left.setStretchFactor(0, 3)
        self.left.setStretchFactor(1, 1)
        self.left.setChildrenCollapsible(False)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(self.left)
        self.body.addWidget(self.tabs)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 1)
        self.body.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.rail)
        layout.addWidget(self.body, 1)

        self.header.back.connect(self.back)
        self.header.undo.connect(presenter.undo_last)
        self.header.infusion.connect(self._infusion)
        for form in self.forms:
            form.submitted.connect(
                lambda raw, when, confirmed, f=form: self._submitted(f, raw, when, confirmed))
        self.flags.acknowledgeRequested.connect(self._acknowledge)
        self.discharge.attestRequested.connect(
            lambda kind: self._record_event(kind, label=kind.value.replace("_", " ")))
        self.discharge.signRequested.connect(presenter.sign_discharge)
        self.discharge.overrideRequested.connect(presenter.override_discharge)
        self.closed_panel.lateEntryRequested.connect(self._late_entry)
        self.closed_panel.lateEntryEnded.connect(lambda: presenter.enter_after_signoff(None))
        self.history.voidRequested.connect(presenter.void)
        self.history.amendRequested.connect(presenter.amend_reading)
        presenter.viewChanged.connect(self.show_view)
        presenter.saved.connect(self._saved)
        presenter.heldOnTablet.connect(self._held)
        presenter.refused.connect(self._refused)
        presenter.notSaved.connect(self._not_saved)
        presenter.saveUnknown.connect(self._save_unknown)
        presenter.undoAvailable.connect(self.header.show_undo)

    # -- layout ----------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Landscape: one row of values; flags under the chart, entry beside them.
        Portrait: values in two rows, the chart, then the tabs, with the flags as a tab
        (the rail and the header still show every open flag's tier at once)."""
        self._orientation = orientation
        landscape = orientation == Qt.Orientation.Horizontal
        self.header.set_orientation(orientation)
        self.rail.set_orientation(Qt.Orientation.Horizontal, columns=5 if landscape else 3)
        flags_in_tabs = self.tabs.indexOf(self.flags) >= 0
        if landscape and flags_in_tabs:
            self.tabs.removeTab(self.tabs.indexOf(self.flags))
            self.left.addWidget(self.flags)
            self.left.setStretchFactor(1, 1)
            self.flags.setVisible(True)  # the tab widget hid it when it was not current
        elif not landscape and not flags_in_tabs:
            self.tabs.insertTab(0, self.flags, "Flags")
        # Eight tabs share a portrait screen: narrower side padding keeps every name whole.
        self.tabs.tabBar().setStyleSheet("" if landscape else PORTRAIT_TABS)
        self.body.setOrientation(Qt.Orientation.Horizontal if landscape
                                 else Qt.Orientation.Vertical)
        # In portrait the entry panel needs only its own height; the rest goes to the chart,
        # whose BP pane is otherwise too flat to read.
        self.body.setStretchFactor(0, 1 if landscape else 4)
        self.body.setStretchFactor(1, 1)
        self._update_flag_tab()

    def _show_tab_pages(self) -> None:
        """Bring the panels that live in tabs up to date; a page out of sight is brought up
        to date when it is chosen, so a save does not wait for panels nobody sees."""
        if self.view is None:
            return
        current = self.tabs.currentWidget()
        for panel in (self.flags, self.discharge, self.history):
            in_tabs = self.tabs.indexOf(panel) >= 0
            if not in_tabs or panel is current:
                panel.show_view(self.view)

    def _update_flag_tab(self) -> None:
        index = self.tabs.indexOf(self.flags)
        if index < 0:
            return
        open_flags = self.view.open_flags if self.view is not None else ()
        if not open_flags:
            self.tabs.setTabText(index, "Flags")
            self.tabs.setTabIcon(index, QIcon())
            self.tabs.setTabToolTip(index, "No open flags")
            return
        # The worst open tier by its icon's shape (and colour), seen from any other tab. Its
        # word would not fit: eight tabs share a portrait screen, and a longer label would
        # cut the others' names short ("Vit…"). The rail and the flags list say it in words.
        worst = max(flag.severity for flag in open_flags)
        self.tabs.setTabText(index, f"Flags {len(open_flags)}")
        self.tabs.setTabIcon(index, tier_icon(self.theme, worst, FLAG_TAB_ICON_PX))
        self.tabs.setTabToolTip(index, f"{len(open_flags)} open flags, the worst {worst.label}")

    def _show_closed(self, view: SessionView) -> None:
        """Once the discharge is signed the entry forms give way to the closed panel, which
        says why; they come back beside it while a clinician enters after sign-off."""
        entering = self.presenter.after_signoff_reason
        if view.sign_off is not None:
            self.closed_panel.show_state(view.sign_off, entering)
        wanted = (view.sign_off is not None, view.sign_off is None or entering is not None)
        if wanted == self._entry_tabs:
            return
        self._entry_tabs = wanted
        for shown in (self.closed_panel, *self.forms):
            index = self.tabs.indexOf(shown)
            if index >= 0:
                self.tabs.removeTab(index)
        at = self.tabs.indexOf(self.discharge)
        pages: list[tuple[QWidget, str]] = []
        if wanted[0]:
            pages.append((self.closed_panel, "Closed"))
        if wanted[1]:
            pages += list(zip(self.forms, ("Vitals", "CADSS-6", "MOAA/S", "Comfort", "Event"),
                              strict=True))
        for offset, (page, title) in enumerate(pages):
            self.tabs.insertTab(at + offset, page, title)
        self.tabs.setCurrentWidget(self.vitals if entering is not None else pages[0][0])

    def _late_entry(self, reason: str) -> None:
        if not self.presenter.enter_after_signoff(reason):
            self.closed_panel.show_problem(self.presenter.last_refusal)

    def has_unsaved_entry(self) -> bool:
        return any(_unsaved(form.raw()) for form in self.forms)

    # -- showing ---------------------------------------------------------------------------

    def show_view(self, view: SessionView) -> None:
        self.view = view
        self._show_closed(view)
        self.header.show_view(view)
        self.rail.show_view(view)
        self.chart.show_view(view)
        self._show_tab_pages()
        self._update_flag_tab()
        # The vitals form starts from the last reading with a vital sign: a comfort or
        # CADSS-6 entry after it leaves the last BP what the nurse starts from.
        last = next((r for r in reversed(view.record.readings)
                     if any(getattr(r, key) is not None for key in VITAL_KEYS)), None)
        self.vitals.set_last(last)
        # A form's "Saved on this tablet — not yet on the server" follows the header's count:
        # once none wait, it says they reached the server (or goes, if one was refused).
        refused = len(view.refused_on_server)
        for form in self.forms:
            form.follow_held(view.held,
                             refused=refused > self._refused_at_hold.get(id(form), refused))
        # The entry time shown as "now" follows the clock at every tick, not on a slower
        # timer of its own (which left it a minute behind, five in the fast demo).
        for form in self.forms:
            form.time.refresh()

    # -- forwarding --------------------------------------------------------------------------

    def _submitted(self, form: Any, raw: dict[str, Any], when: datetime,
                   confirmed: frozenset[str]) -> None:
        form.show_saving()
        # The last save's "✓ Saved …" beside "Saving…" would read as this one's outcome.
        self.header.mark_earlier()
        if form is self.event_form:
            self._save_event(raw, when)
            return
        values = dict(raw)
        note = str(values.pop("note", "") or "")
        on_oxygen = bool(values.pop("on_oxygen", False))
        reading_id = self._pending_ids.setdefault(id(form), uuid.uuid4())
        labels = {id(self.vitals): "vitals", id(self.cadss): "CADSS-6",
                  id(self.moaas): "MOAA/S", id(self.comfort): "comfort scores"}
        self.presenter.save_reading(
            values, when=when, confirmed=confirmed, note=note, on_oxygen=on_oxygen,
            reading_id=reading_id, label=labels[id(form)], origin=form,
        )

    def _save_event(self, raw: dict[str, Any], when: datetime) -> None:
        kind = _EVENT_KINDS.get(str(raw.get("kind") or ""))
        if kind is None:
            return
        note = str(raw.get("note") or "")
        medication = raw.get("medication")
        detail, data, label = note, {}, kind.value.replace("_", " ")
        if kind is EventKind.MEDICATION and isinstance(medication, Medication):
            detail = f"{medication.label}{' — ' + note if note else ''}"
            data = {"name": medication.name, "dose": medication.dose, "route": medication.route}
            label = medication.name
        elif kind is EventKind.ADVERSE_EVENT:
            code = str(raw.get("adverse_event") or "other")
            detail = f"{code.replace('_', ' / ')}{' — ' + note if note else ''}"
            data = {"type": code}
            label = "adverse event"
        self.presenter.record_event(kind, detail=detail, data=data, when=when, label=label,
                                    origin=self.event_form)

    def _record_event(self, kind: EventKind, *, label: str, detail: str = "",
                      data: dict[str, Any] | None = None) -> None:
        self.presenter.record_event(kind, detail=detail, data=data, label=label)

    def _infusion(self, kind: EventKind) -> None:
        early = (self.view.early_stop(self.clock.now())
                 if kind is EventKind.INFUSION_STOP and self.view is not None else None)
        if early is not None:
            early_dialog = EarlyStopDialog(self.theme, early, self)
            if early_dialog.exec() != QDialog.DialogCode.Accepted:
                return
            self._record_event(kind, label="early stop", data=early_dialog.data())
            return
        if kind is EventKind.INFUSION_STOP and not self.confirm(
            "Stop infusion", f"Record the infusion as stopped at {clock_time(self.clock.now())}?"
        ):
            return
        if kind is EventKind.RATE_CHANGE:
            current = self.view.info.pump_ml_per_h if self.view else None
            dialog = RateDialog(self.theme, current, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            rate = dialog.rate()
            self._record_event(kind, label="rate change", detail=f"Pump rate {rate:g} mL/h",
                               data={"pump_ml_per_h": rate})
            return
        if kind is EventKind.INFUSION_START and self.view is not None:
            self._start(self.view)
            return
        labels = {EventKind.INFUSION_START: "infusion start",
                  EventKind.INFUSION_PAUSE: "infusion pause",
                  EventKind.INFUSION_RESUME: "infusion resume",
                  EventKind.INFUSION_STOP: "infusion stop"}
        self._record_event(kind, label=labels[kind])

    def _start(self, view: SessionView) -> None:
        """Start: a clinician may start with a written reason while PHQ-9 item 9 or a high
        baseline BP waits for review (the service refuses anyone else, and says why); a
        start without a complete baseline is asked about first."""
        hold = start_hold(view.flags, view.record.acknowledgements)
        reason = ""
        if hold is not None and self.presenter.is_clinician():
            reason = self.ask_start_reason(hold)
            if not reason:
                return
        missing = missing_baseline(view.record)
        if missing and (hold is None or reason) and not self.confirm_start(missing):
            return
        self.presenter.record_event(EventKind.INFUSION_START, label="infusion start",
                                    confirmed={CONFIRM_BASELINE} if missing else (),
                                    override_reason=reason)

    def ask_start_reason(self, hold: str) -> str:
        """A clinician's reason for starting while the start waits for ``hold`` ("" when
        cancelled)."""
        dialog = ReasonDialog(
            self.theme, "Start before the clinician's review?",
            f"The start waits for {hold}. To start now, write why; the reason is kept with "
            "the start in the record and the audit trail.",
            action="Start with this reason", min_length=MIN_OVERRIDE_REASON,
            placeholder="e.g. Assessed in clinic this morning; safety plan on file",
            parent=self)
        return dialog.reason() if dialog.exec() == QDialog.DialogCode.Accepted else ""

    def confirm_start(self, missing: Sequence[str]) -> bool:
        """Ask before starting without a complete baseline, naming what is missing."""
        dialog = ConfirmDialog(
            self.theme, "Start without a complete baseline?", baseline_question(missing),
            action="Start without it", keep="Go back",
            detail="Your confirmation is kept with the start in the record.", parent=self)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def confirm(self, title: str, text: str) -> bool:
        """Ask before an action that cannot simply be undone (stopping the infusion)."""
        return ask(self, title, text)

    def _acknowledge(self, flag: Flag, action: str, note: str, record_pause: bool = False) -> None:
        """Record the acknowledgement, with the infusion pause if the nurse chose to record
        it in the dialog: both in one step, once any signature is given. If either is
        refused (or the signature cancelled), neither is recorded: the notice says why and
        the flag stays open."""
        self.presenter.acknowledge(flag, action, note, record_pause=record_pause)

    # -- answers from the presenter --------------------------------------------------------

    def _answered_form(self) -> Any:
        """The form whose Save the presenter answers now (None: an action outside them)."""
        origin = self.presenter.answering
        return origin if any(origin is form for form in self.forms) else None

    def _saved(self, text: str) -> None:
        form = self._answered_form()
        if form is not None:
            self._pending_ids.pop(id(form), None)
            form.clear()
            form.show_saved(text)
        self.flash(text)

    def _held(self, text: str) -> None:
        """Saved on this tablet only: the form empties as after a save, said in amber."""
        form = self._answered_form()
        if form is not None:
            self._pending_ids.pop(id(form), None)
            form.clear()
            form.show_held(text)
            self._refused_at_hold[id(form)] = (
                len(self.view.refused_on_server) if self.view is not None else 0)
        self.header.show_held(text, at=self.clock.now())

    def _refused(self, errors: list[Any], needs_confirmation: list[Any]) -> None:
        form = self._answered_form()
        if form is not None:
            self._pending_ids.pop(id(form), None)
            form.show_errors(errors, needs_confirmation)
            return
        self.header.show_notice(
            "Not recorded: " + "; ".join(e.message for e in [*errors, *needs_confirmation]),
            problem=True, at=self.clock.now())

    def _not_saved(self, message: str) -> None:
        form = self._answered_form()
        if form is not None:
            form.show_not_saved(message)
            return
        said = "Nothing was recorded" in message  # the tablet says so, and what to do
        self.header.show_notice(message if said else f"{message} Nothing was recorded; try again.",
                                problem=True, at=self.clock.now())

    def _save_unknown(self, message: str) -> None:
        form = self._answered_form()
        if form is not None:
            form.show_save_unknown(message)
            return
        self.header.show_notice(message, problem=True, at=self.clock.now())

    def flash(self, text: str) -> None:
        """The last confirmation, in the header, for actions outside the forms."""
        self.header.show_notice(text, problem=False, at=self.clock.now())
