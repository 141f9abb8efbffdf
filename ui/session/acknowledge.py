"""The acknowledgement of a flag: what was done about it, chosen from large choices.

The nurse picks every action taken (and may add a note); choosing "Infusion paused" while the
infusion runs offers to record the pause too, shown and chosen in the dialog, never recorded
behind her back. A flag only a clinician acknowledges (PHQ-9 item 9) says so up front to
anyone else, beside choices that cannot be chosen.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Flag, Phase
from monitor.clinical.rules import PHQ9_ACK_CHOICES, PHQ9_ITEM9_FLAG
from monitor.clinical.start_gate import BASELINE_BP_CHOICES, needs_baseline_bp_review
from monitor.clinical.wording import MEASURE_NAMES
from ui.common.labels import clock_time
from ui.common.style import tier_icon
from ui.common.theme import TOUCH_MIN, Theme, tier_style

#: What the nurse can say she did. "Other" needs a note saying what.
ACKNOWLEDGE_ACTIONS: tuple[str, ...] = (
    "Repeated reading",
    "Informed clinician",
    "Infusion paused",
    "Infusion rate reduced",
    "Medication given",
    "Observed — no action needed",
    "Other",
)
OTHER_ACTION = "Other"
PAUSED_ACTION = "Infusion paused"
#: Says that nothing else was done, so it is not combined with another action.
NO_ACTION = "Observed — no action needed"
RECORD_PAUSE_TEXT = "Also record the pause now"
#: Said up front, beside the disabled choices, when someone other than a clinician opens
#: the acknowledgement of a flag only a clinician acknowledges.
CLINICIAN_ONLY_REASON = ("A clinician acknowledges PHQ-9 item 9, with what they found: "
                         "ask the clinician to sign in and acknowledge it.")
#: The row's button for such a flag, seen by someone other than a clinician.
CLINICIAN_ONLY_BUTTON = "Clinician only"
#: How several actions are joined into the one action text that is stored.
ACTION_SEPARATOR = "; "

#: The tier icon's size, in a flag's row and in its acknowledgement.
ICON_PX = 32
CHOICE_MIN_PX = 64
#: Room beside a choice's text for the style sheet's padding and border.
CHOICE_PADDING_PX = 44


def clinician_only(flag: Flag) -> bool:
    """Whether only a clinician acknowledges ``flag`` (PHQ-9 item 9: the service refuses
    anyone else; the screens say so before anything is chosen)."""
    return flag.key == PHQ9_ITEM9_FLAG


class AcknowledgeDialog(QDialog):
    """Asks what was done about a flag: any number of actions from large choices, and a note.

    ``phase`` is the session's phase: while the infusion runs, choosing "Infusion paused"
    shows a second choice, "Record the pause now", on by default and named in the button
    ("Acknowledge + record pause"), so the chart and the timer show the pause; the nurse can
    turn it off. While paused, the dialog says the pause is already recorded.

    Signals: ``chosen(str, str, bool)`` — the actions (joined with "; " in the order listed),
    the note (stripped), and whether to record the infusion pause — when the nurse confirms.
    "Acknowledge" stays disabled until an action is chosen, and for "Other" until the note
    says what was done.
    """

    chosen = Signal(str, str, bool)

    def __init__(self, theme: Theme, flag: Flag, parent: QWidget | None = None, *,
                 phase: Phase | None = None, clinician: bool = True) -> None:
        super().__init__(parent)
        self.theme = theme
        self.flag = flag
        self.phase = phase
        #: False when the flag is a clinician's and someone else opened it: nothing can be
        #: chosen, and :attr:`refusal` says why, above the choices.
        self.allowed = clinician or not clinician_only(flag)
        self.setWindowTitle("Acknowledge flag")
        style = tier_style(theme, flag.severity)

        icon = QLabel()
        icon.setPixmap(tier_icon(theme, flag.severity, ICON_PX).pixmap(ICON_PX))
        word = QLabel(f"{style.text}  ·  {clock_time(flag.time)}  ·  "
                      f"{MEASURE_NAMES[flag.measure]}")
        # The tier colour depends on the flag shown, so it is set here.
        word.setStyleSheet(f"color: {style.colour}; font-weight: bold;")
        message = QLabel(flag.shown_message)
        message.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(icon)
        head.addWidget(word, 1)

        # PHQ-9 item 9 is a clinician's to acknowledge, with what was found, not done.
        # So is a high BP before the start: the infusion waits for the review.
        clinical = flag.key == PHQ9_ITEM9_FLAG
        review = phase is not None and needs_baseline_bp_review(flag, phase)
        choices = (PHQ9_ACK_CHOICES if clinical else BASELINE_BP_CHOICES if review
                   else ACKNOWLEDGE_ACTIONS)
        clinical = clinical or review
        prompt = QLabel("Clinician: what did you find? Choose all that apply." if clinical
                        else "What was done? Choose all that apply.")
        prompt.setProperty("role", "field")
        self.refusal = QLabel(CLINICIAN_ONLY_REASON)
        self.refusal.setObjectName("clinician-only")
        self.refusal.setProperty("role", "confirm")
        self.refusal.setWordWrap(True)
        self.refusal.setVisible(not self.allowed)
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(False)
        grid = QGridLayout()
        grid.setSpacing(10)
        for number, action in enumerate(choices):
            button = QPushButton(action)
            button.setProperty("action", action)
            button.setCheckable(True)
            button.setProperty("choice", "true")
            button.setMinimumHeight(CHOICE_MIN_PX)
            # No keyboard focus: a focus frame on the first choice reads as "already chosen".
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setEnabled(self.allowed)
            self.choices.addButton(button, number)
            grid.addWidget(button, number // 2, number % 2)
        self.choices.buttonToggled.connect(self._toggled)

        #: Shown while "Infusion paused" is chosen and the infusion is running.
        self.record_pause = QPushButton(RECORD_PAUSE_TEXT)
        self.record_pause.setObjectName("record-pause")
        self.record_pause.setCheckable(True)
        self.record_pause.setChecked(True)
        self.record_pause.setProperty("choice", "true")
        self.record_pause.setMinimumHeight(CHOICE_MIN_PX)
        self.record_pause.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.record_pause.toggled.connect(self._update)
        self.record_pause.hide()
        #: Says the pause is on record already, while the infusion is paused.
        self.pause_note = QLabel("The infusion is already recorded as paused.")
        self.pause_note.setProperty("role", "muted")
        self.pause_note.setWordWrap(True)
        self.pause_note.hide()

        self.cancel = QPushButton("Cancel")
        self.ok = QPushButton("Acknowledge")
        self.ok.setProperty("primary", "true")
        self.ok.setDefault(True)
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)
        for button in (self.cancel, self.ok):
            button.setMinimumSize(TOUCH_MIN * 3, TOUCH_MIN + 8)

        self.note = QLineEdit()
        self.note.setPlaceholderText("Note (optional)" if clinical
                                     else "Note (optional; required for Other)")
        self.note.setMinimumHeight(TOUCH_MIN)
        self.note.setEnabled(self.allowed)
        self.note.textChanged.connect(self._update)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.ok)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.setContentsMargins(20, 20, 20, 20)
        layout.addLayout(head)
        layout.addWidget(message)
        layout.addSpacing(8)
        layout.addWidget(self.refusal)
        layout.addWidget(prompt)
        layout.addLayout(grid)
        layout.addWidget(self.record_pause)
        layout.addWidget(self.pause_note)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self._update()
        # Open with the focus on Cancel, not the note: a focused text field would bring up
        # the on-screen keyboard over the choices.
        self.cancel.setFocus()

    def chosen_actions(self) -> list[str]:
        """The chosen actions, in the order they are listed."""
        return [str(button.property("action")) for button in self.choices.buttons()
                if button.isChecked()]

    def action(self) -> str:
        """The chosen actions as the one text stored, or "" when none is chosen yet."""
        return ACTION_SEPARATOR.join(self.chosen_actions())

    def note_text(self) -> str:
        return self.note.text().strip()

    def will_record_pause(self) -> bool:
        """Whether confirming also records the infusion pause."""
        return self.record_pause.isVisibleTo(self) and self.record_pause.isChecked()

    def _toggled(self, button: QAbstractButton, checked: bool) -> None:
        # "No action needed" and an action taken contradict each other: the last tap wins.
        if checked:
            for other in self.choices.buttons():
                if other is not button and other.isChecked() and NO_ACTION in (
                        button.property("action"), other.property("action")):
                    other.setChecked(False)
        self._update()

    def _update(self) -> None:
        # A chosen button says so in words too (a tick), not by its colour alone.
        for button in (*self.choices.buttons(), self.record_pause):
            text = str(button.property("action") or RECORD_PAUSE_TEXT)
            button.setText(f"✓ {text}" if button.isChecked() else text)
            # Wide enough for the tick from the start, so a choice never grows when tapped;
            # measured in bold, as the style sheet draws a chosen one.
            bold = QFont(button.font())
            bold.setBold(True)
            ticked = QFontMetrics(bold).horizontalAdvance(f"✓ {text}") + CHOICE_PADDING_PX
            button.setMinimumWidth(max(button.minimumWidth(), ticked))
        actions = self.chosen_actions()
        paused = PAUSED_ACTION in actions
        self.record_pause.setVisible(paused and self.phase is Phase.INFUSING)
        self.pause_note.setVisible(paused and self.phase is Phase.PAUSED)
        complete = bool(actions) and (OTHER_ACTION not in actions or bool(self.note_text()))
        self.ok.setEnabled(self.allowed and complete)
        self.ok.setToolTip("" if self.allowed else CLINICIAN_ONLY_REASON)
        self.ok.setText("Acknowledge + record pause" if self.will_record_pause()
                        else "Acknowledge")

    def showEvent(self, event: QShowEvent) -> None:
        # The style sheet's font is known once the dialog is polished: size the choices again.
        self._update()
        super().showEvent(event)

    def accept(self) -> None:
        if not self.ok.isEnabled():
            return
        self.chosen.emit(self.action(), self.note_text(), self.will_record_pause())
        super().accept()
