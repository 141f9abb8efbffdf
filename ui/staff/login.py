"""Who is at the chairs: sign-in with a PIN, and the first administrator of a new database.

:class:`LoginScreen` shows one large button per staff member; tapping a name opens the PIN
entry (the built-in keypad, or the hardware keys: a password with letters can be typed on a
keyboard). It stores and checks nothing itself: it emits the chosen staff id and the PIN,
and the window passes them to :meth:`monitor.service.clinic.ClinicService.login`, whose refusal
("Wrong PIN — 2 tries left …", "Locked until 10:57") comes back through :meth:`show_error`.
While the check is on its way (:meth:`show_checking`) the screen says "Checking…" and a
second tap on Sign in or Enter sends nothing; the names say "Loading…" until they are read
(:meth:`show_loading`).

:class:`FirstAdminScreen` is the first start: a name and a PIN typed twice. The PIN check
here (length, both the same) only saves a round trip; the service checks again.

:class:`~ui.common.pin.PinEntry` (a masked field with the keypad under it) is shared with the
lock screen, the signature dialog and staff administration.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import QBoxLayout, QGridLayout, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from monitor.clinical.checkin import validate_name
from ui.common.keypad import ENTER
from ui.common.labels import clock_time, role_word
from ui.common.pin import MIN_PIN, PinEntry, PinField, pin_problem
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, kinetic, label, restyle

if TYPE_CHECKING:
    from monitor.service.auth import StaffInfo

#: Name buttons are tapped first thing, often in a hurry.
NAME_MIN = 72
#: What the screen says while the PIN is being checked.
CHECKING = "Checking…"
#: What the names' place says while they are being read.
LOADING = "Loading…"
#: What it says when nobody can sign in.
NO_STAFF = "No one can sign in yet: an administrator adds staff."


class LoginScreen(QWidget):
    """Large name buttons, then the PIN for the name chosen.

    Signals:
        loginRequested(object, str): a staff id and the PIN (or password) typed.
    """

    loginRequested = Signal(object, str)

    def __init__(self, theme: Theme, *, title: str = "Who is at the chairs?",
                 hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.staff: list[StaffInfo] = []
        self.chosen: StaffInfo | None = None
        self.name_buttons: dict[uuid.UUID, TouchButton] = {}
        #: A PIN sent and not yet answered: nothing more is sent.
        self.checking = False

        self.title = heading(title)
        self.hint = label("Tap your name, then type your PIN. Everything you enter is "
                          "recorded under your name.")
        self.demo_hint = label(hint, "field")
        self.demo_hint.setObjectName("login-demo-hint")
        self.demo_hint.setVisible(bool(hint))
        self._names = QWidget()
        self._grid = QGridLayout(self._names)
        self._grid.setSpacing(10)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._names)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        kinetic(scroll.viewport())
        self.empty = label(NO_STAFF, "muted")
        self.empty.setObjectName("login-staff-state")
        self.empty.hide()

        self.pin = PinField("login-pin", "PIN")
        self.entry = PinEntry(theme, [self.pin])
        self.entry.submitted.connect(self.submit)
        self.who = label("", "field")
        self.who.setObjectName("login-who")
        self.message = label("", "error")
        self.message.setObjectName("login-message")
        self.sign_in = TouchButton("Sign in", min_height=PRIMARY_MIN)
        self.sign_in.setObjectName("login-sign-in")
        self.sign_in.setProperty("primary", True)
        self.sign_in.clicked.connect(self.submit)
        self.not_me = TouchButton("Not me", min_height=PRIMARY_MIN)
        self.not_me.setObjectName("login-not-me")
        self.not_me.clicked.connect(self.reset)
        self.pin_panel = QWidget()
        panel = QVBoxLayout(self.pin_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.setSpacing(8)
        panel.addWidget(self.who)
        panel.addWidget(self.entry)
        panel.addWidget(self.message)
        buttons = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        buttons.addWidget(self.not_me)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in)
        panel.addLayout(buttons)
        panel.addStretch(1)
        self.pin_panel.setMaximumWidth(520)

        names = QVBoxLayout()
        names.setSpacing(10)
        names.addWidget(self.title)
        names.addWidget(self.hint)
        names.addWidget(self.demo_hint)
        names.addWidget(self.empty)
        names.addWidget(scroll, 1)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.body.setContentsMargins(24, 20, 24, 20)
        self.body.setSpacing(24)
        self.body.addLayout(names, 3)
        self.body.addWidget(self.pin_panel, 2)
        self.reset()

    # -- public API ------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Names beside the PIN pad in landscape, above it in portrait."""
        self.body.setDirection(QBoxLayout.Direction.TopToBottom
                               if orientation == Qt.Orientation.Vertical
                               else QBoxLayout.Direction.LeftToRight)

    def show_staff(self, staff: Sequence[StaffInfo], *, at: datetime | None = None) -> None:
        """A button for each active staff member; one locked out says until when."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            shown = item.widget() if item is not None else None
            if shown is not None:
                shown.deleteLater()
        self.name_buttons.clear()
        self.staff = [s for s in staff if s.active]
        for index, person in enumerate(self.staff):
            second = role_word(person.role)
            if person.locked_until is not None and (at is None or person.locked_until > at):
                second += f" · locked until {clock_time(person.locked_until)}"
            button = TouchButton(f"{person.name}\n{second}", min_height=NAME_MIN)
            button.setObjectName(f"login-name-{index}")
            button.setCheckable(True)
            button.setChecked(self.chosen is not None and self.chosen.id == person.id)
            button.clicked.connect(lambda _c=False, s=person.id: self.choose(s))
            button.setEnabled(not self.checking)
            self._grid.addWidget(button, index // 2, index % 2)
            button.show()
            self.name_buttons[person.id] = button
        self.empty.setText(NO_STAFF)
        self.empty.setVisible(not self.staff)
        if self.chosen is not None and self.chosen.id not in self.name_buttons:
            self.reset()

    def show_loading(self) -> None:
        """The names are being read: said in their place (those shown stay until then)."""
        if not self.staff:
            self.empty.setText(LOADING)
            self.empty.show()

    def show_names_problem(self, text: str) -> None:
        """The names could not be read (the server's reason, e.g. cannot be reached)."""
        if not self.staff:
            self.empty.setText(text)
            self.empty.show()

    def show_checking(self, checking: bool) -> None:
        """While the PIN is checked: "Checking…", Sign in and Enter disabled, the PIN kept."""
        self.checking = checking
        self.sign_in.setEnabled(not checking)
        self.not_me.setEnabled(not checking)
        self.entry.keypad.button(ENTER).setEnabled(not checking)
        for button in self.name_buttons.values():
            button.setEnabled(not checking)
        if checking:
            self.message.setText(CHECKING)
            restyle(self.message, role="field")
            return
        if self.message.text() == CHECKING:
            self.message.clear()
        if self.message.property("role") != "error":
            restyle(self.message, role="error")

    def set_hint(self, text: str) -> None:
        self.demo_hint.setText(text)
        self.demo_hint.setVisible(bool(text))

    def choose(self, staff_id: uuid.UUID) -> None:
        """Open the PIN entry for ``staff_id``."""
        person = next((s for s in self.staff if s.id == staff_id), None)
        if person is None or self.checking:
            return
        self.chosen = person
        for key, button in self.name_buttons.items():
            button.setChecked(key == staff_id)
        self.who.setText(f"PIN for {person.name} ({role_word(person.role).lower()})")
        self.entry.clear()
        self.message.clear()
        self.pin_panel.setEnabled(True)
        self.pin.setFocus()

    def reset(self) -> None:
        """Nobody chosen; the PIN forgotten."""
        self.show_checking(False)
        self.chosen = None
        for button in self.name_buttons.values():
            button.setChecked(False)
        self.entry.clear()
        self.message.clear()
        self.who.setText("Tap your name first")
        self.pin_panel.setEnabled(False)

    def show_error(self, text: str, *, keep_pin: bool = False) -> None:
        """A refusal from the service; the PIN is cleared for the next try, or kept
        (``keep_pin``: the server did not answer, the same PIN is sent again)."""
        self.show_checking(False)
        self.message.setText(text)
        restyle(self.message, role="error")
        if not keep_pin:
            self.entry.clear()
        self.pin.setFocus()

    def submit(self) -> None:
        if self.checking:
            return  # the PIN typed is on its way: a second tap sends nothing
        if self.chosen is None:
            self.message.setText("Tap your name first")
            return
        pin = self.pin.text()
        if not pin:
            self.message.setText("PIN: type your PIN (at least 6 digits) or password")
            return
        self.loginRequested.emit(self.chosen.id, pin)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # A hardware key typed anywhere on the screen goes to the PIN once a name is chosen.
        if self.chosen is not None and not self.pin.hasFocus() and event.text().isdigit():
            self.pin.setFocus()
            self.pin.insert(event.text())
            return
        super().keyPressEvent(event)


class FirstAdminScreen(QWidget):
    """The first start of a new database: the administrator's name and PIN, typed twice.

    Signals:
        created(str, str): the name and PIN of the first administrator.
    """

    created = Signal(str, str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.name = QLineEdit()
        self.name.setObjectName("admin-name")
        self.name.setPlaceholderText("Administrator's name")
        self.name.setMinimumHeight(KEY_MIN)
        self.pin = PinField("admin-pin", f"PIN (at least {MIN_PIN} digits)")
        self.repeat = PinField("admin-pin-repeat", "The same PIN again")
        # The name comes first: the PIN fields do not take the focus when the screen shows.
        self.entry = PinEntry(theme, [self.pin, self.repeat], focus_on_show=False)
        self.entry.submitted.connect(self._next_or_submit)
        self.message = label("", "error")
        self.message.setObjectName("admin-message")
        self.create_button = TouchButton("Create administrator", min_height=PRIMARY_MIN)
        self.create_button.setObjectName("admin-create")
        self.create_button.setProperty("primary", True)
        self.create_button.clicked.connect(self.submit)
        #: The administrator sent and not yet answered: nothing more is sent.
        self.saving = False

        intro = QVBoxLayout()
        intro.setSpacing(10)
        intro.addWidget(heading("Set up ChairSide"))
        intro.addWidget(label(
            "This database has no administrator yet. The administrator adds nurses and "
            "clinicians, disables leavers and resets forgotten PINs. An administrator does "
            "not enter clinical records: nurses and clinicians sign in with their own PIN."))
        intro.addWidget(label("Name", "field"))
        intro.addWidget(self.name)
        intro.addWidget(self.message)
        intro.addStretch(1)
        intro.addWidget(self.create_button)
        pins = QVBoxLayout()
        pins.addWidget(label(f"PIN: at least {MIN_PIN} digits, typed twice", "field"))
        pins.addWidget(self.entry)
        pins.addStretch(1)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.body.setContentsMargins(24, 20, 24, 20)
        self.body.setSpacing(24)
        self.body.addLayout(intro, 3)
        self.body.addLayout(pins, 2)

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        self.body.setDirection(QBoxLayout.Direction.TopToBottom
                               if orientation == Qt.Orientation.Vertical
                               else QBoxLayout.Direction.LeftToRight)

    def showEvent(self, event: QShowEvent) -> None:
        # The name comes first: the PIN fields, created with the keypad, would otherwise
        # take the focus and the typed name would go nowhere.
        super().showEvent(event)
        if not self.name.text():
            self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        restyle(self.message, role="error")

    def show_saving(self, saving: bool) -> None:
        """The administrator is on its way: "Saving…", and Create sends nothing more."""
        self.saving = saving
        self.create_button.setEnabled(not saving)
        self.entry.keypad.button(ENTER).setEnabled(not saving)
        if saving:
            self.message.setText("Saving…")
            restyle(self.message, role="field")
        elif self.message.text() == "Saving…":
            self.message.clear()

    def _next_or_submit(self) -> None:
        if self.entry.keypad.target() is self.pin:
            self.entry.select(self.repeat)
        else:
            self.submit()

    def submit(self) -> None:
        if self.saving:
            return
        name = validate_name(self.name.text(), label="Name")
        if name.error is not None or name.value is None:
            self.show_error(name.error.message if name.error else "Name: enter a name")
            return
        problem = pin_problem(self.pin.text())
        if problem is None and self.repeat.text() != self.pin.text():
            problem = "PIN again: not the same as the PIN; type both again"
            self.entry.clear()
        if problem is not None:
            self.show_error(problem)
            return
        self.message.clear()
        self.created.emit(name.value, self.pin.text())
