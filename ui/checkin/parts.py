"""The parts of the check-in form: a card per section, the message under a field, the
optional mood questionnaires, and the text and number fields.

A refusal that goes while the nurse works keeps its room until the form is checked again,
and the PHQ-9 warning has its room while the items show: nothing moves under a finger
between two taps.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from monitor.clinical.domain import Severity
from monitor.clinical.scores import PHQ9, PHQ9_SELF_HARM_ITEM, Scale
from monitor.clinical.validation import FieldError, validate_reading
from ui.common.segmented import Segmented
from ui.common.style import TouchButton, tier_icon
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme
from ui.common.widgets import FieldMessage as SharedFieldMessage
from ui.common.widgets import heading, label

ICON_PX = 28
#: Room between the buttons of a choice: a little more than the entry forms' scores.
SEGMENT_SPACING = 6
#: The title and the cards' headings: a size below other screens' titles, the form is long.
FORM_HEADING_PX = TEXT_PX + 6

#: The answer anchors of PHQ-9 and GAD-7 (the same four), shown once above the items.
MOOD_ANCHORS = "0 not at all · 1 several days · 2 more than half the days · 3 nearly every day"
ITEM9_WARNING = ("PHQ-9 item 9 (thoughts of self-harm) is above 0. The clinician will be told "
                 "before the infusion starts.")


def line_edit(name: str, placeholder: str = "", *, max_length: int = 100) -> QLineEdit:
    """A text field named ``name``, at least a finger high."""
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    edit.setMinimumHeight(TOUCH_MIN)
    return edit


def number_field(edit: QLineEdit, *, decimal: bool = False, max_length: int) -> None:
    """Mark ``edit`` as a number field: the screen docks its keypad, writing into it, when
    the field is tapped or focused; a system keyboard offers digits."""
    edit.setProperty("keypad", {"decimal": decimal, "max_length": max_length})
    edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly if not decimal
                             else Qt.InputMethodHint.ImhFormattedNumbersOnly)


def retain_room(widget: QWidget, retain: bool) -> None:
    """Whether ``widget`` keeps its room in the layout while hidden."""
    policy = widget.sizePolicy()
    if policy.retainSizeWhenHidden() != retain:
        policy.setRetainSizeWhenHidden(retain)
        widget.setSizePolicy(policy)


class FieldMessage(SharedFieldMessage):
    """What is wrong with one field, under it: icon + text, and "Confirm" for an unusual
    value (its button named ``confirm-<field>``).

    A message that goes while the nurse works keeps its room (the rows under it stay
    where they are) until :meth:`release` gives it back, when the form is checked again.

    Signals:
        confirmClicked(): the nurse confirmed the unusual value.
        cleared(str): a message that was showing went (the field was changed); the field.
    """

    cleared = Signal(str)

    def __init__(self, theme: Theme, field: str, marked: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        confirm = TouchButton("Confirm")
        confirm.setObjectName(f"confirm-{field}")
        super().__init__(theme, confirm, marked=marked, expand_text=False, parent=parent)
        self.field = field

    def clear(self) -> None:
        showing = not self.isHidden()
        if showing:
            retain_room(self, True)
        super().clear()
        if showing:
            self.cleared.emit(self.field)

    def release(self) -> None:
        """Give back the room a cleared message kept."""
        retain_room(self, False)


class Card(QFrame):
    """One section of the form: a heading, its rows, and a message under each field.

    The messages are in :attr:`messages`, by field (as in ``FieldError.field``), for the
    screen to show refusals in.
    """

    def __init__(self, theme: Theme, title: str, name: str) -> None:
        super().__init__()
        self.theme = theme
        self.messages: dict[str, FieldMessage] = {}
        self.setObjectName(name)
        self.setProperty("role", "card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 14)
        self.body.setSpacing(8)
        self.body.addWidget(heading(title, px=FORM_HEADING_PX))

    def message(self, field: str, marked: QWidget | None = None) -> FieldMessage:
        """A new message for ``field`` (``marked`` is outlined while it shows a refusal)."""
        message = FieldMessage(self.theme, field, marked)
        self.messages[field] = message
        return message

    def field_row(self, caption: str, widget: QWidget, field: str, *,
                  marked: QWidget | None = None, hint: str = "") -> None:
        """A field under its caption (and a hint), with its message under it."""
        self.body.addWidget(label(caption, "field"))
        if hint:
            self.body.addWidget(label(hint, "muted"))
        self.body.addWidget(widget)
        self.body.addWidget(self.message(field, marked))


class ScoreForm(QWidget):
    """An optional questionnaire (PHQ-9 or GAD-7): each item scored 0–3 by tapping, the total
    and its band shown as the items are answered.

    Signals: none; the screen reads :meth:`checked_items` when the nurse checks in.
    """

    def __init__(self, theme: Theme, scale: Scale, field: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.scale = scale
        self.field = field
        self.toggle = TouchButton(f"Add {scale.name}")
        self.toggle.setObjectName(f"{field}-toggle")
        self.toggle.clicked.connect(lambda: self.set_included(not self.included()))
        self.total = label(role="field")
        self.items: list[Segmented] = []
        self._body = QWidget()
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)
        body.addWidget(label(MOOD_ANCHORS, "muted"))
        for number, text in enumerate(scale.items, start=1):
            body.addWidget(label(f"{number}. {text}"))
            segmented = Segmented(f"{field}-{number}", range(scale.item_max + 1),
                                  spacing=SEGMENT_SPACING)
            segmented.changed.connect(lambda _v: self._update())
            body.addWidget(segmented)
            self.items.append(segmented)
        self.item9_warning = QWidget()
        warning_row = QHBoxLayout(self.item9_warning)
        warning_row.setContentsMargins(0, 4, 0, 4)
        warning_icon = QLabel()
        warning_icon.setPixmap(tier_icon(theme, Severity.WARNING, ICON_PX).pixmap(ICON_PX))
        warning_icon.setFixedSize(ICON_PX, ICON_PX)
        self.item9_text = label(ITEM9_WARNING, "confirm")
        warning_row.addWidget(warning_icon, 0, Qt.AlignmentFlag.AlignTop)
        warning_row.addWidget(self.item9_text, 1)
        self.item9_warning.hide()
        # The warning's room is kept while the items show (set_included): answering item 9
        # moves no row.
        self.message = FieldMessage(theme, field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(label(f"{scale.name} (optional)", "field"), 1)
        head.addWidget(self.toggle)
        layout.addLayout(head)
        layout.addWidget(self._body)
        layout.addWidget(self.item9_warning)
        layout.addWidget(self.total)
        layout.addWidget(self.message)
        self.set_included(False)

    def included(self) -> bool:
        return not self._body.isHidden()

    def set_included(self, included: bool) -> None:
        self._body.setVisible(included)
        retain_room(self.item9_warning, included)
        self.toggle.setText(f"Remove {self.scale.name}" if included else f"Add {self.scale.name}")
        if not included:
            for segmented in self.items:
                segmented.set_value(None)
        self._update()

    def answers(self) -> list[int | None]:
        return [segmented.value() for segmented in self.items]

    def set_answers(self, answers: Sequence[int | None]) -> None:
        self.set_included(True)
        for segmented, value in zip(self.items, answers, strict=True):
            segmented.set_value(value)
        self._update()

    def _update(self) -> None:
        self.message.clear()
        answers = self.answers()
        answered = sum(a is not None for a in answers)
        self.total.setVisible(self.included())
        if answered == len(answers):
            total = self.scale.total([a for a in answers if a is not None])
            self.total.setText(f"Total {total} of {self.scale.max_total} — "
                               f"{self.scale.band(total)}")
        else:
            self.total.setText(f"{answered} of {len(answers)} items answered")
        item9 = answers[PHQ9_SELF_HARM_ITEM] if self.scale is PHQ9 else None
        self.item9_warning.setVisible(item9 is not None and item9 > 0)

    def checked_items(self, errors: list[FieldError]) -> tuple[int, ...] | None:
        """The answers as checked for the service, or None when the questionnaire is left
        out; a refusal (an item unanswered) is added to ``errors``."""
        if not self.included():
            return None
        answers = self.answers()
        check = validate_reading({self.field: answers})
        errors.extend(e for e in check.errors if e.field == self.field)
        if any(a is None for a in answers) and not check.errors:
            errors.append(FieldError(self.field, f"Answer all {len(answers)} items of "
                                                 f"{self.scale.name}, or remove it"))
        items = check.values.get(self.field)
        return tuple(items) if isinstance(items, tuple) else None
