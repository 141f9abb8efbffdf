"""A patient's own limits: each flag limit of the protocol with the patient's value beside it.

Clinicians type a patient's value (empty: the protocol's value holds) and a reason, and save;
every value is checked as typed, alone and against the protocol (a warning limit not beyond
its critical limit, …), and the message names the limit, its unit and what is accepted.
Nurses and administrators read. The screen stores and checks nothing itself: its controller
asks ``service.limits``, on the database worker (the screen answers taps meanwhile).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.service.views import NotFoundError
from monitor.storage.store import StorageError
from ui.common.background import Background, Latest
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, kinetic, label, restyle

if TYPE_CHECKING:
    from concurrent.futures import Future

    from monitor.clinical.validation import FieldError
    from monitor.service.patient_limits import PatientLimits, PatientLimitsView
    from monitor.service.worker import Worker

NAME_PX = 250
VALUE_PX = 130


def _text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


class PatientLimitsScreen(QWidget):
    """Each overridable limit: its name, the protocol's value and unit, the patient's value.

    Signals:
        back(): leave the screen.
        valuesTyped(object): the patient's values as now typed (``{field: text}``), to check.
        saveRequested(object, str): save these values with this reason.
    """

    back = Signal()
    valuesTyped = Signal(object)
    saveRequested = Signal(object, str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.role = "nurse"
        self.view: PatientLimitsView | None = None
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.title = heading("Patient's own limits")
        self.title.setObjectName("limits-title")
        self.subtitle = label("", "muted")
        self.back_button = TouchButton("Back")
        self.back_button.setObjectName("limits-back")
        self.back_button.clicked.connect(self.back)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)

        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        kinetic(self.area.viewport())
        self.reason = QLineEdit()
        self.reason.setObjectName("limits-reason")
        self.reason.setPlaceholderText("Why this patient's limits differ from the protocol")
        self.reason.setMinimumHeight(KEY_MIN)
        self.save_button = TouchButton("Save limits", min_height=PRIMARY_MIN)
        self.save_button.setObjectName("limits-save")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(
            lambda: self.saveRequested.emit(self.values(), self.reason.text()))
        self.message = label("")
        self.message.setObjectName("limits-message")
        actions = QHBoxLayout()
        actions.addWidget(self.reason, 1)
        actions.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 16)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addWidget(self.area, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.set_role("nurse")

    # -- public API --------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """One column in either orientation: nothing to rearrange."""

    def set_role(self, role: str) -> None:
        """Clinicians set a patient's limits; everyone else reads them."""
        self.role = role
        editable = role == "clinician"
        self.reason.setVisible(editable)
        self.save_button.setVisible(editable)
        for field in self.fields.values():
            field.setReadOnly(not editable)

    def show_limits(self, view: PatientLimitsView) -> None:
        self.view = view
        self.title.setText(f"Own limits: {view.name or '(no name)'} · MRN {view.mrn}")
        own = sum(row.patient_value is not None for row in view.rows)
        self.subtitle.setText(
            f"Against the {view.profile.replace('_', ' ')} protocol, version "
            f"{view.protocol_version}. {own} limit{'s' if own != 1 else ''} set for this "
            "patient; an empty value: the protocol's holds. They apply to the sessions "
            "started from now on; a session already started keeps the limits it started "
            "with."
            + (f" Reason: “{view.reason}”" if view.reason and own else ""))
        rows = QWidget()
        grid = QVBoxLayout(rows)
        grid.setSpacing(4)
        self.fields, self.errors = {}, {}
        section = ""
        for row in view.rows:
            if row.section != section:
                section = row.section
                grid.addWidget(label(f"[{section}]", "field"))
            name = label(row.key.replace("_", " "))
            name.setFixedWidth(NAME_PX)
            protocol = label(f"protocol {_text(row.protocol_value)} {row.unit}".rstrip(),
                             "muted", wrap=False)
            protocol.setObjectName(f"limits-protocol-{row.field}")
            value = QLineEdit(_text(row.patient_value))
            value.setObjectName(f"limits-value-{row.field}")
            value.setPlaceholderText(_text(row.protocol_value))
            value.setMinimumHeight(KEY_MIN)
            value.setFixedWidth(VALUE_PX)
            value.textEdited.connect(lambda _text: self.valuesTyped.emit(self.values()))
            self.fields[row.field] = value
            error = label("", "error")
            error.setObjectName(f"limits-error-{row.field}")
            error.hide()
            self.errors[row.field] = error
            line = QHBoxLayout()
            line.addWidget(name)
            line.addWidget(value)
            line.addWidget(label(row.unit, "muted", wrap=False))
            line.addSpacing(12)
            line.addWidget(protocol, 1)
            grid.addLayout(line)
            grid.addWidget(error)
        grid.addStretch(1)
        self.area.setWidget(rows)
        self.reason.setText(view.reason if own else "")
        self.set_role(self.role)

    def values(self) -> dict[str, str]:
        """The patient's values as typed: ``{field: text}`` (empty: the protocol's)."""
        return {field: widget.text().strip() for field, widget in self.fields.items()}

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Each field's refusal (those not named are cleared)."""
        for field, error in self.errors.items():
            text = errors.get(field, "")
            error.setText(text)
            error.setVisible(bool(text))
            restyle(self.fields[field], invalid=bool(text))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setProperty("role", "error" if error else "")
        self.message.setText(text)
        restyle(self.message)


class SignedIn(Protocol):
    """Who is signed in, as the limits screen needs them (the application window)."""

    @property
    def staff_id(self) -> uuid.UUID | None: ...

    @property
    def staff_role(self) -> str: ...


class PatientLimitsController:
    """Connects a :class:`PatientLimitsScreen` to ``service.limits``.

    Its reads, checks and saves run on ``worker`` (:mod:`ui.common.background`; at once
    without one): "Loading…" and "Saving…" meanwhile; a check asked while one is read
    replaces any waiting (only the newest values are checked); a second Save while one is
    in flight sends nothing; a refused save keeps what was typed.

    Signals (of :attr:`events`):
        opened(object): a patient's limits asked for with :meth:`open` are shown (the id).
        failed(object): a read or save was refused (the exception).
    """

    def __init__(self, limits: PatientLimits, screen: PatientLimitsScreen,
                 signed_in: SignedIn, worker: Worker | None = None) -> None:
        self.limits = limits
        self.screen = screen
        self.signed_in = signed_in
        self.patient_id: uuid.UUID | None = None
        self.events = LimitsEvents(screen)
        self.background = Background(worker, parent=screen)
        self._checks = Latest(self.background)
        #: The patient whose limits are being read (None: none), and whether a save is.
        self.opening: uuid.UUID | None = None
        self.saving = False
        screen.valuesTyped.connect(self.check)
        screen.saveRequested.connect(self.save)

    def open(self, patient_id: uuid.UUID) -> None:
        """Read the patient's limits and show them (``events.opened``) once read."""
        if self.opening == patient_id:
            return
        self.opening = patient_id
        limits = self.limits

        def answered(future: Future[PatientLimitsView]) -> None:
            if self.opening != patient_id or not shiboken6.isValid(self.screen):
                return
            self.opening = None
            try:
                view = future.result()
            except (StorageError, NotFoundError) as exc:
                self.events.failed.emit(exc)
                return
            self._checks.cancel()
            self.patient_id = patient_id
            self.screen.set_role(self.signed_in.staff_role)
            self.screen.show_limits(view)
            self.screen.show_errors({})
            self.screen.show_message(
                "" if self.signed_in.staff_role == "clinician"
                else "Only a clinician sets a patient's own limits: shown here to read")
            self.events.opened.emit(patient_id)

        self.background.run(lambda: limits.view(patient_id), answered)

    def check(self, values: dict[str, str]) -> None:
        view = self.screen.view
        if view is None:
            return
        limits, profile, patient_id = self.limits, view.profile, view.patient_id

        def answered(future: Future[list[FieldError]]) -> None:
            view = self.screen.view if shiboken6.isValid(self.screen) else None
            if view is None or view.patient_id != patient_id:
                return
            try:
                errors = future.result()
            except StorageError:
                return  # checked again on Save, which says why it was not saved
            self.screen.show_errors(_by_field(errors))

        self._checks.run(lambda: limits.check(profile, values), answered)

    def save(self, values: dict[str, str], reason: str) -> None:
        from monitor.clinical.permissions import PermissionDenied  # noqa: PLC0415
        from monitor.service.views import InvalidEntryError  # noqa: PLC0415

        if self.patient_id is None or self.signed_in.staff_id is None or self.saving:
            return
        limits, patient_id, by = self.limits, self.patient_id, self.signed_in.staff_id

        def answered(future: Future[PatientLimitsView]) -> None:
            self.saving = False
            if not shiboken6.isValid(self.screen):
                return
            self.screen.save_button.setEnabled(True)
            try:
                view = future.result()
            except InvalidEntryError as exc:
                errors = _by_field(exc.errors)
                self.screen.show_errors(errors)
                self.screen.show_message(
                    "NOT saved: " + "; ".join(e.message for e in exc.errors), error=True)
                return
            except PermissionDenied as exc:
                self.screen.show_message(str(exc), error=True)
                return
            except StorageError as exc:
                self.screen.show_message(exc.message, error=True)
                self.events.failed.emit(exc)
                return
            self.screen.show_limits(view)
            self.screen.show_errors({})
            self.screen.show_message(
                "Saved: this patient's sessions started from now on are judged by these limits")

        self.saving = True
        self.screen.save_button.setEnabled(False)
        self.screen.show_message("Saving…")
        self.background.run(
            lambda: limits.set_limits(patient_id, values, reason=reason, by=by), answered)


class LimitsEvents(QObject):
    """What a :class:`PatientLimitsController` tells the window (see its signals)."""

    opened = Signal(object)
    failed = Signal(object)


def _by_field(errors: list[FieldError]) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field, error.message)
    return found

