"""The clinic protocol: every parameter with its unit, value and source; drafts; versions.

Nurses read. An administrator starts a draft and edits its values (each checked as typed:
the message names the parameter, unit and accepted range); a clinician approves a draft with
an e-signature. The screen stores and checks nothing itself: it emits what was asked and
shows the answers (:class:`ui.protocol.controller.ProtocolController` talks to
``service.protocols``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui.common.labels import clock_time
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, kinetic, label, restyle

if TYPE_CHECKING:
    from monitor.service.protocol_admin import (
        DraftInfo,
        ParameterRow,
        VersionInfo,
    )

#: Widths of a parameter's name and value.
NAME_PX = 240
VALUE_PX = 160

#: The words of a protocol approval, as the signer reads them.
APPROVE_MEANING = ("I approve this protocol version for clinical use: sessions started from "
                   "now on run under it. Reason: “{reason}”.")


class ProtocolScreen(QWidget):
    """Parameters grouped by section, the profile's drafts, and its versions.

    Signals:
        back(): leave the screen.
        profileChosen(str): show another profile.
        draftChosen(object): show a draft (its id), or the current version (None).
        newDraftRequested(str): an administrator starts a draft with this reason.
        valueTyped(str, str): a value as typed (field, text), to be checked.
        saveRequested(object): an administrator saves the edited values ``{field: text}``.
        approveRequested(object): a clinician approves the draft shown (its id).
        withdrawRequested(object): an administrator withdraws the draft shown (its id).
        whatIfRequested(object): try the draft shown (its id) on past sessions.
    """

    back = Signal()
    profileChosen = Signal(str)
    draftChosen = Signal(object)
    newDraftRequested = Signal(str)
    valueTyped = Signal(str, str)
    saveRequested = Signal(object)
    approveRequested = Signal(object)
    withdrawRequested = Signal(object)
    whatIfRequested = Signal(object)

    def __init__(self, theme: Theme, profiles: Sequence[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.role = "nurse"
        self.profile = profiles[0] if profiles else ""
        self.draft: DraftInfo | None = None
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.sources: dict[str, QLabel] = {}
        self.shown: dict[str, str] = {}

        self.back_button = TouchButton("Back")
        self.back_button.setObjectName("protocol-back")
        self.back_button.clicked.connect(self.back)
        head = QHBoxLayout()
        head.addWidget(heading("Protocol"))
        head.addStretch(1)
        self.profile_buttons: dict[str, TouchButton] = {}
        for profile in profiles:
            button = TouchButton(profile.replace("_", " "))
            button.setObjectName(f"protocol-profile-{profile}")
            button.setCheckable(True)
            button.setChecked(profile == self.profile)
            button.clicked.connect(lambda _c=False, p=profile: self.profileChosen.emit(p))
            # Room for the bold face of the chosen one.
            button.setMinimumWidth(button.sizeHint().width() + 32)
            self.profile_buttons[profile] = button
            head.addWidget(button)
        head.addWidget(self.back_button)

        self.title = label("", "field")
        self.title.setObjectName("protocol-title")
        self.parameter_area = QScrollArea()
        self.parameter_area.setWidgetResizable(True)
        self.parameter_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        kinetic(self.parameter_area.viewport())
        self._new_grid()
        self.parameter_area.setWidget(self._rows)
        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.parameter_area, 1)

        self.current_button = TouchButton("Current version")
        self.current_button.setObjectName("protocol-current")
        self.current_button.clicked.connect(lambda: self.draftChosen.emit(None))
        self.drafts_box = QVBoxLayout()
        self.drafts_box.setSpacing(6)
        self.reason = QLineEdit()
        self.reason.setObjectName("protocol-reason")
        self.reason.setPlaceholderText("Why the protocol changes")
        self.reason.setMinimumHeight(KEY_MIN)
        self.new_button = TouchButton("New draft", min_height=PRIMARY_MIN)
        self.new_button.setObjectName("protocol-new-draft")
        self.new_button.clicked.connect(
            lambda: self.newDraftRequested.emit(self.reason.text()))
        self.save_button = TouchButton("Save draft", min_height=PRIMARY_MIN)
        self.save_button.setObjectName("protocol-save")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self._save)
        self.approve_button = TouchButton("Approve…", min_height=PRIMARY_MIN)
        self.approve_button.setObjectName("protocol-approve")
        self.approve_button.setProperty("primary", True)
        self.approve_button.clicked.connect(self._approve)
        self.whatif_button = TouchButton("What-if…", min_height=PRIMARY_MIN)
        self.whatif_button.setObjectName("protocol-whatif")
        self.whatif_button.setToolTip("Try this draft on the clinic's past sessions")
        self.whatif_button.clicked.connect(self._what_if)
        self.withdraw_button = TouchButton("Withdraw…", min_height=PRIMARY_MIN)
        self.withdraw_button.setObjectName("protocol-withdraw")
        self.withdraw_button.clicked.connect(self._withdraw)
        self.message = label("")
        self.message.setObjectName("protocol-message")
        self.versions = label("", "muted")
        self.versions.setObjectName("protocol-versions")
        side = QVBoxLayout()
        side.setSpacing(8)
        side.addWidget(label("Drafts", "field"))
        side.addWidget(self.current_button)
        side.addLayout(self.drafts_box)
        side.addWidget(self.reason)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.approve_button)
        side.addLayout(buttons)
        draft_actions = QHBoxLayout()
        draft_actions.addWidget(self.whatif_button)
        draft_actions.addWidget(self.withdraw_button)
        side.addLayout(draft_actions)
        side.addWidget(self.message)
        side.addWidget(label("Versions", "field"))
        side.addWidget(self.versions)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_scroll = QScrollArea()
        side_scroll.setWidgetResizable(True)
        side_scroll.setWidget(side_widget)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.side = side_scroll

        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(16)
        self.body.addLayout(left, 2)
        self.body.addWidget(self.side, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 16)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(self.body, 1)
        self.set_role("nurse")

    # -- public API ------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        vertical = orientation == Qt.Orientation.Vertical
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if vertical
                               else QBoxLayout.Direction.LeftToRight)
        self.body.setStretch(0, 3 if vertical else 2)
        self.body.setStretch(1, 1)

    def set_role(self, role: str) -> None:
        """Administrators write drafts, clinicians approve them, nurses read."""
        self.role = role
        self._update_actions()

    def show_profile(self, profile: str) -> None:
        self.profile = profile
        for name, button in self.profile_buttons.items():
            button.setChecked(name == profile)

    def show_parameters(self, rows: Sequence[ParameterRow], draft: DraftInfo | None) -> None:
        """Every parameter by section: value (editable in an open draft, for an
        administrator), unit, source, and a mark where it differs from the factory file."""
        self.draft = draft
        self._new_grid()
        self.fields, self.errors, self.shown, self.sources = {}, {}, {}, {}
        editable = self._editable()
        self.title.setText(
            f"Draft by {draft.created_by_name} ({draft.state}): {draft.reason}" if draft
            else f"{self.profile.replace('_', ' ')}: the version in force")
        section = ""
        for row in rows:
            if row.section != section:
                section = row.section
                self._list.addWidget(label(f"[{section}]", "field"))
            name = label(row.key.replace("_", " "))
            name.setObjectName(f"protocol-name-{row.field}")
            name.setFixedWidth(NAME_PX)
            value = QLineEdit(_text(row.value))
            value.setObjectName(f"protocol-value-{row.field}")
            value.setMinimumHeight(KEY_MIN)
            value.setFixedWidth(VALUE_PX)
            value.setReadOnly(not editable)
            value.textEdited.connect(lambda text, f=row.field: self.valueTyped.emit(f, text))
            self.fields[row.field] = value
            self.shown[row.field] = _text(row.value)
            unit = label(row.unit, "muted")
            marks = []
            if row.differs:
                marks.append(f"factory {_text(row.factory_value)}")
            if row.changed:
                marks.append("changed in this draft")
            source = label(row.source + (f"  ·  {', '.join(marks)}" if marks else ""), "muted")
            source.setObjectName(f"protocol-source-{row.field}")
            self.sources[row.field] = source
            error = label("", "error")
            error.setObjectName(f"protocol-error-{row.field}")
            error.hide()
            self.errors[row.field] = error
            line = QHBoxLayout()
            line.addWidget(name)
            line.addWidget(value)
            line.addWidget(unit, 1)
            self._list.addLayout(line)
            self._list.addWidget(source)
            self._list.addWidget(error)
        self._list.addStretch(1)
        self.parameter_area.setWidget(self._rows)  # deletes the grid it held
        self._update_actions()

    def show_drafts(self, drafts: Sequence[DraftInfo]) -> None:
        while self.drafts_box.count():
            item = self.drafts_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.setParent(None)  # gone from the screen now, deleted later
                widget.deleteLater()
        for draft in drafts:
            reason = draft.reason if len(draft.reason) <= 18 else draft.reason[:17] + "…"
            button = TouchButton(f"{draft.state} · {clock_time(draft.updated_at)} · {reason}")
            button.setToolTip(f"{draft.created_by_name}: {draft.reason}")
            button.setObjectName(f"protocol-draft-{draft.id}")
            button.clicked.connect(lambda _c=False, d=draft.id: self.draftChosen.emit(d))
            self.drafts_box.addWidget(button)
            button.show()  # at once, not at the layout's next pass: it replaces one gone

    def show_versions(self, versions: Sequence[VersionInfo]) -> None:
        lines = []
        for info in reversed(versions):
            stored = info.version
            who = (f"by {info.made_by}, approved by {info.activation.approver_name} "
                   f"{info.activation.activated_at:%d %b %Y %H:%M}: {info.reason}"
                   if info.activation and info.made_by else "factory file")
            lines.append(f"{'● ' if info.active else ''}{stored.version} · sha256 "
                         f"{stored.hash[:10]} · {who}")
        self.versions.setText("\n".join(lines) or "No version stored yet: the factory file "
                                                  "is in force")

    def show_field_error(self, field: str, message: str | None) -> None:
        error = self.errors.get(field)
        if error is None:
            return
        error.setText(message or "")
        error.setVisible(bool(message))
        value = self.fields.get(field)
        if value is not None:
            restyle(value, invalid=bool(message))

    def show_message(self, text: str) -> None:
        self.message.setProperty("role", "")
        self.message.setText(text)
        restyle(self.message)

    def show_error(self, text: str) -> None:
        self.message.setProperty("role", "error")
        self.message.setText(text)
        restyle(self.message)

    def edits(self) -> dict[str, str]:
        """The values changed on screen since they were shown: ``{field: text}``."""
        return {f: w.text() for f, w in self.fields.items() if w.text() != self.shown.get(f)}

    # -- internals -------------------------------------------------------------------------

    def _new_grid(self) -> None:
        """A fresh list of parameters, given to the scroll area once filled."""
        self._rows = QWidget()
        self._list = QVBoxLayout(self._rows)
        self._list.setSpacing(4)

    def _editable(self) -> bool:
        return self.role == "admin" and self.draft is not None and self.draft.state == "draft"

    def _update_actions(self) -> None:
        admin = self.role == "admin"
        self.reason.setVisible(admin)
        self.new_button.setVisible(admin)
        self.save_button.setVisible(self._editable())
        open_draft = self.draft is not None and self.draft.state == "draft"
        self.approve_button.setVisible(self.role == "clinician" and open_draft)
        self.whatif_button.setVisible(self.role in ("admin", "clinician") and open_draft)
        self.withdraw_button.setVisible(admin and open_draft)
        for value in self.fields.values():
            value.setReadOnly(not self._editable())

    def set_busy(self, *, busy: bool) -> None:
        """While a write is in flight its buttons take no tap (a second sends nothing)."""
        for button in (self.new_button, self.save_button, self.approve_button,
                       self.withdraw_button):
            button.setEnabled(not busy)

    def _save(self) -> None:
        self.saveRequested.emit(self.edits())

    def _approve(self) -> None:
        if self.draft is not None:
            self.approveRequested.emit(self.draft.id)

    def _withdraw(self) -> None:
        if self.draft is not None:
            self.withdrawRequested.emit(self.draft.id)

    def _what_if(self) -> None:
        if self.draft is None:
            return
        if self.edits():
            self.show_error("Save the draft first: the what-if tries the draft as saved")
            return
        self.whatIfRequested.emit(self.draft.id)


def _text(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
