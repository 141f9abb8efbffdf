"""Staff administration: the administrator's screen.

An administrator adds nurses, clinicians and other administrators (name, role, initial PIN
typed twice), disables a leaver (records stay under their name; they can no longer sign in)
and resets a forgotten PIN. An administrator enters no clinical record, so this screen, the
audit trail and the lock are all the administrator is offered.

The screen stores nothing: it emits what was asked and shows the service's answer
(:meth:`show_message`, :meth:`show_error`). While the list is read it says "Loading…"
(:meth:`show_loading`); while a change is on its way, "Saving…" (:meth:`show_saving`), and
nothing more is sent until it is answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.checkin import validate_name
from ui.common.keypad import ENTER
from ui.common.labels import clock_time, role_word
from ui.common.pin import MIN_PIN, PinEntry, PinField, pin_problem
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, kinetic, label, restyle

if TYPE_CHECKING:
    from monitor.service.auth import StaffInfo

ROLES = ("nurse", "clinician", "admin")
LOADING = "Loading…"
SAVING = "Saving…"


def status_text(person: StaffInfo, at: datetime | None = None) -> str:
    if not person.active:
        return "disabled"
    if person.locked_until is not None and (at is None or person.locked_until > at):
        return f"locked until {clock_time(person.locked_until)}"
    return "active"


class StaffAdminScreen(QWidget):
    """Staff list with "Reset PIN" and "Disable" per person, and the form to add someone.

    Signals:
        addRequested(str, str, str): name, role and initial PIN of a new staff member.
        disableRequested(object): the staff id to disable (after a second, confirming tap).
        resetPinRequested(object, str): a staff id and their new PIN.
        auditRequested(): open the audit trail.
        protocolRequested(): open the clinic protocol.
        lockRequested(): lock the tablet (or hand it to someone else).
    """

    addRequested = Signal(str, str, str)
    disableRequested = Signal(object)
    resetPinRequested = Signal(object, str)
    auditRequested = Signal()
    protocolRequested = Signal()
    lockRequested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.staff: list[StaffInfo] = []
        self.resetting: StaffInfo | None = None
        self.row_buttons: dict[uuid.UUID, dict[str, TouchButton]] = {}
        self._arming: uuid.UUID | None = None
        #: A change sent and not yet answered: nothing more is sent.
        self.saving = False

        self.user = label("", "muted")
        self.audit_button = TouchButton("Audit trail")
        self.audit_button.setObjectName("admin-audit")
        self.audit_button.clicked.connect(self.auditRequested)
        self.protocol_button = TouchButton("Protocol")
        self.protocol_button.setObjectName("admin-protocol")
        self.protocol_button.clicked.connect(self.protocolRequested)
        self.lock_button = TouchButton("Lock / switch user")
        self.lock_button.setObjectName("admin-lock")
        self.lock_button.clicked.connect(self.lockRequested)
        head = QHBoxLayout()
        head.addWidget(heading("Staff"))
        head.addStretch(1)
        head.addWidget(self.user)
        head.addWidget(self.audit_button)
        head.addWidget(self.protocol_button)
        head.addWidget(self.lock_button)

        self._rows = QWidget()
        self._grid = QGridLayout(self._rows)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(8)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._grid.setColumnStretch(0, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._rows)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        kinetic(scroll.viewport())
        self.list_state = label("", "muted")
        self.list_state.setObjectName("admin-list-state")
        self.list_state.hide()
        staff_column = QVBoxLayout()
        staff_column.setContentsMargins(0, 0, 0, 0)
        staff_column.addWidget(self.list_state)
        staff_column.addWidget(scroll, 1)
        self.staff_box = QWidget()
        self.staff_box.setLayout(staff_column)

        self.form_title = label("Add a staff member", "field")
        self.form_title.setObjectName("admin-form-title")
        self.name = QLineEdit()
        self.name.setObjectName("admin-staff-name")
        self.name.setPlaceholderText("Full name")
        self.name.setMinimumHeight(KEY_MIN)
        self.role = "nurse"
        self.role_buttons: dict[str, TouchButton] = {}
        roles = QHBoxLayout()
        roles.setSpacing(6)
        for role in ROLES:
            button = TouchButton(role_word(role))
            button.setObjectName(f"admin-role-{role}")
            button.setCheckable(True)
            button.setChecked(role == self.role)
            button.clicked.connect(lambda _c=False, r=role: self.set_role(r))
            self.role_buttons[role] = button
            roles.addWidget(button)
        self.roles_box = QWidget()
        self.roles_box.setLayout(roles)
        roles.setContentsMargins(0, 0, 0, 0)
        self.pin = PinField("admin-new-pin", f"Initial PIN (≥ {MIN_PIN} digits)")
        self.repeat = PinField("admin-new-pin-repeat", "The same PIN again")
        self.entry = PinEntry(theme, [self.pin, self.repeat])
        self.entry.submitted.connect(self._next_or_submit)
        self.message = label("")
        self.message.setObjectName("admin-staff-message")
        self.save = TouchButton("Add staff member", min_height=PRIMARY_MIN)
        self.save.setObjectName("admin-save")
        self.save.setProperty("primary", True)
        self.save.clicked.connect(self.submit)
        self.cancel = TouchButton("Cancel", min_height=PRIMARY_MIN)
        self.cancel.setObjectName("admin-cancel")
        self.cancel.clicked.connect(self.show_add)
        actions = QHBoxLayout()
        actions.addWidget(self.cancel)
        actions.addStretch(1)
        actions.addWidget(self.save)

        form = QVBoxLayout()
        form.setSpacing(8)
        form.addWidget(self.form_title)
        form.addWidget(self.name)
        form.addWidget(self.roles_box)
        form.addWidget(self.entry)
        form.addWidget(self.message)
        form.addLayout(actions)
        form.addStretch(1)
        self.form = QWidget()
        self.form.setLayout(form)
        self.form.setMaximumWidth(560)

        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(20)
        self.body.addWidget(self.staff_box, 3)
        self.body.addWidget(self.form, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 16)
        layout.setSpacing(12)
        layout.addLayout(head)
        layout.addLayout(self.body, 1)
        self.show_add()

    # -- public API ------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        self.body.setDirection(QBoxLayout.Direction.TopToBottom
                               if orientation == Qt.Orientation.Vertical
                               else QBoxLayout.Direction.LeftToRight)

    def show_user(self, name: str) -> None:
        self.user.setText(f"Signed in: {name} (administrator)" if name else "")

    def show_staff(self, staff: Sequence[StaffInfo], *, at: datetime | None = None) -> None:
        """Every staff member, disabled ones included, with their state."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.row_buttons.clear()
        self._arming = None
        self.list_state.hide()
        self.staff = list(staff)
        for row, person in enumerate(self.staff):
            name = label(f"{person.name}\n{role_word(person.role)} · {status_text(person, at)}")
            name.setObjectName(f"admin-row-{row}")
            reset = TouchButton("Reset PIN")
            reset.setObjectName(f"admin-reset-{row}")
            reset.clicked.connect(lambda _c=False, s=person.id: self.show_reset(s))
            disable = TouchButton("Disable")
            disable.setObjectName(f"admin-disable-{row}")
            disable.clicked.connect(lambda _c=False, s=person.id: self._disable(s))
            reset.setEnabled(person.active and not self.saving)
            disable.setEnabled(person.active and not self.saving)
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(reset, row, 1)
            self._grid.addWidget(disable, row, 2)
            for widget in (name, reset, disable):
                widget.show()
            self.row_buttons[person.id] = {"reset": reset, "disable": disable}

    def show_loading(self) -> None:
        """The list is being read (the rows shown stay until it comes)."""
        self.list_state.setText(LOADING)
        self.list_state.show()

    def show_list_problem(self, text: str) -> None:
        """The list could not be read: why (the rows last read stay)."""
        self.list_state.setText(text)
        self.list_state.show()

    def show_saving(self, saving: bool) -> None:
        """A change is on its way: "Saving…", and the buttons that send one are off."""
        self.saving = saving
        self.save.setEnabled(not saving)
        self.entry.keypad.button(ENTER).setEnabled(not saving)
        for person in self.staff:
            for button in self.row_buttons.get(person.id, {}).values():
                button.setEnabled(person.active and not saving)
        if saving:
            self.show_message(SAVING)
        elif self.message.text() == SAVING:
            self.message.clear()

    def show_add(self) -> None:
        """The form adds a new staff member."""
        self.resetting = None
        self.form_title.setText("Add a staff member")
        self.name.show()
        self.roles_box.show()
        self.name.clear()
        self.entry.clear()
        self.save.setText("Add staff member")
        self.cancel.hide()

    def show_reset(self, staff_id: uuid.UUID) -> None:
        """The form sets a new PIN for ``staff_id``."""
        person = next((s for s in self.staff if s.id == staff_id), None)
        if person is None:
            return
        self.resetting = person
        self.form_title.setText(f"New PIN for {person.name}")
        self.name.hide()
        self.roles_box.hide()
        self.entry.clear()
        self.message.clear()
        self.save.setText("Save new PIN")
        self.cancel.show()

    def set_role(self, role: str) -> None:
        self.role = role
        for key, button in self.role_buttons.items():
            button.setChecked(key == role)

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        restyle(self.message, role="error")

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        restyle(self.message, role="field")

    def submit(self) -> None:
        if self.saving:
            return  # a change is on its way: a second tap sends nothing
        problem = pin_problem(self.pin.text())
        if problem is None and self.repeat.text() != self.pin.text():
            problem = "PIN again: not the same as the PIN; type both again"
            self.entry.clear()
        if self.resetting is not None:
            if problem is not None:
                self.show_error(problem)
                return
            self.resetPinRequested.emit(self.resetting.id, self.pin.text())
            return
        name = validate_name(self.name.text(), label="Name")
        if name.error is not None or name.value is None:
            self.show_error(name.error.message if name.error else "Name: enter a name")
            return
        if problem is not None:
            self.show_error(problem)
            return
        self.addRequested.emit(name.value, self.role, self.pin.text())

    # -- internals -------------------------------------------------------------------------

    def _next_or_submit(self) -> None:
        if self.entry.keypad.target() is self.pin:
            self.entry.select(self.repeat)
        else:
            self.submit()

    def _disable(self, staff_id: uuid.UUID) -> None:
        # Two taps: a leaver is disabled on purpose, never by a stray touch.
        if self.saving:
            return
        buttons = self.row_buttons[staff_id]
        if self._arming != staff_id:
            if self._arming is not None and self._arming in self.row_buttons:
                self.row_buttons[self._arming]["disable"].setText("Disable")
            self._arming = staff_id
            buttons["disable"].setText("Tap again to disable")
            return
        self._arming = None
        buttons["disable"].setText("Disable")
        self.disableRequested.emit(staff_id)
