"""The flags list: what needs attention, what was done about it, and the acknowledgement.

:class:`FlagsModel` is a table over ``view.flags`` (tier, time, measure, message, status),
open flags first and the worst tier first among them. :class:`FlagsPanel` shows it as a list
of large rows; an open critical row is tinted and barred in its tier colour so that it
dominates the list, and every open row has its own "Acknowledge" button. The button opens
:class:`AcknowledgeDialog`, where the nurse picks every action taken (and may add a note);
choosing "Infusion paused" while the infusion runs offers to record the pause too, shown and
chosen in the dialog, never recorded behind her back. The panel then emits
``acknowledgeRequested`` and saves nothing itself; the session screen passes the request to
the service. When a new flag is raised the list goes back to the top, where open flags are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Flag, Phase, Severity
from monitor.clinical.rules import PHQ9_ACK_CHOICES, PHQ9_ITEM9_FLAG
from monitor.clinical.start_gate import BASELINE_BP_CHOICES, needs_baseline_bp_review
from monitor.clinical.wording import MEASURE_NAMES
from ui.common.labels import clock_time, short_name
from ui.common.style import tier_icon
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import SMALL_PX, TEXT_PX, TOUCH_MIN, Theme, tier_style
from ui.common.widgets import kinetic

if TYPE_CHECKING:
    from uuid import UUID

    from monitor.service.views import SessionView

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

#: The flag behind a row, for the panel and the delegate.
FlagRole = Qt.ItemDataRole.UserRole + 1

#: Lines of message a row shows before the rest is elided (the tooltip has it whole).
MESSAGE_LINES = 3
#: Lines of message a row keeps room for however short its message: an open critical row
#: keeps two, so that it stands out as the tallest among one-line rows.
MIN_MESSAGE_LINES = {Severity.CRITICAL: 2, Severity.WARNING: 1, Severity.ADVISORY: 1}
#: Padding above the header line and below the last line, inside a row.
ROW_PAD_PX = 8
#: More room below an open critical row's message: it stays the tallest of equal rows.
CRITICAL_EXTRA_PX = 8
#: Width of the tier bar at the left of an open row: wider for a worse tier.
BAR_PX = {Severity.CRITICAL: 12, Severity.WARNING: 8, Severity.ADVISORY: 5}
#: Tint of an open row's background (alpha of the tier colour).
TINT_ALPHA = {Severity.CRITICAL: 70, Severity.WARNING: 30, Severity.ADVISORY: 0}
ICON_PX = 32
BUTTON_SIZE = QSize(160, 56)
CHOICE_MIN_PX = 64
#: Room beside a choice's text for the style sheet's padding and border.
CHOICE_PADDING_PX = 44

_Index = QModelIndex | QPersistentModelIndex


def flag_status(flag: Flag) -> str:
    """"open", "acknowledged 10:44 by N. Nurse: Repeated reading — Dr Kim aware", or what
    resolved it: "reading taken 10:32" (overdue), "escalated 10:29" (a worse flag of the
    same condition took over), "reading voided 10:50 (signed by Dr Lee): probe slipped off"."""
    ack = flag.acknowledgement
    if ack is not None:
        by = f" by {short_name(ack.by)}" if ack.by else ""
        note = f" — {ack.note}" if ack.note else ""
        return f"acknowledged {clock_time(ack.time)}{by}: {ack.action}{note}"
    if flag.resolved_at is not None:
        # "reading voided 12:40 (signed by Dr Lee): probe slipped off": the time goes with
        # what happened, before who did it and why.
        head, _, why = (flag.resolution or "resolved").partition(" (")
        return f"{head} {clock_time(flag.resolved_at)}" + (f" ({why}" if why else "")
    return "open"


class FlagsModel(ReadOnlyTableModel[Flag]):
    """The session's flags as a table, open flags first, then by tier (worst first) and time.

    Signals: only those of :class:`QAbstractTableModel`; :meth:`set_flags` resets the model.
    """

    TIER, TIME, MEASURE, MESSAGE, STATUS = range(5)
    HEADERS: ClassVar[tuple[str, ...]] = ("Tier", "Time", "Measure", "Message", "Status")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._icons = {severity: tier_icon(theme, severity, ICON_PX) for severity in Severity}

    def set_flags(self, flags: tuple[Flag, ...] | list[Flag]) -> None:
        self._reset_rows(sorted(flags, key=lambda f: (not f.open, -f.severity, f.time)))

    def flags_shown(self) -> list[Flag]:
        return list(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        flag = self._row(index)
        if flag is None:
            return None
        column = index.column()
        if role == FlagRole:
            return flag
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(flag, column, tooltip=role == Qt.ItemDataRole.ToolTipRole)
        if role == Qt.ItemDataRole.DecorationRole and column == self.TIER:
            return self._icons[flag.severity]
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == self.TIER:
                return QColor(self.theme.tier_colour(flag.severity))
            return QColor(self.theme.text if flag.open else self.theme.text_muted)
        return None

    def _text(self, flag: Flag, column: int, *, tooltip: bool) -> str:
        if column == self.TIER:
            return tier_style(self.theme, flag.severity).text
        if column == self.TIME:
            return clock_time(flag.time)
        if column == self.MEASURE:
            return MEASURE_NAMES[flag.measure]
        if column == self.MESSAGE:
            return flag.message
        status = flag_status(flag)
        ack = flag.acknowledgement
        if tooltip and ack is not None and ack.note:
            return f"{status} — {ack.note}"
        return status


class _FlagDelegate(QStyledItemDelegate):
    """Paints a flag as one large row, with an "Acknowledge" button while it is open.

    Signals: ``acknowledgeClicked(Flag)`` when the button of an open row is tapped.
    """

    acknowledgeClicked = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._icons = {severity: tier_icon(theme, severity, ICON_PX) for severity in Severity}
        #: Whether the one signed in is a clinician: if not, a flag only a clinician
        #: acknowledges shows a muted "Clinician only" button instead of "Acknowledge".
        self.clinician = True

    @staticmethod
    def _flag(index: _Index) -> Flag:
        flag = index.data(FlagRole)
        assert isinstance(flag, Flag)
        return flag

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        # As tall as the row's own lines need, no taller: at 1280 x 800 the panel under the
        # chart then holds two open flags, not one card and white space.
        flag = self._flag(index)
        view = self.parent()
        width = view.viewport().width() if isinstance(view, QListView) else option.rect.width()
        lines = MESSAGE_LINES
        if width > 0:
            font = QFont(option.font)
            font.setPixelSize(TEXT_PX)
            font.setBold(flag.open and flag.severity is Severity.CRITICAL)
            row = QRect(0, 0, width, 0)
            lines = len(_wrap(QFontMetrics(font), flag.message, self._text_width(row, flag)))
        return QSize(width, row_height(flag.severity, lines, is_open=flag.open))

    def _text_width(self, row: QRect, flag: Flag) -> int:
        left = row.left() + BAR_PX[Severity.CRITICAL] + 12
        right = (self.button_rect(row).left() - 12) if flag.open else row.right() - 12
        return max(right - left, 10)

    def button_rect(self, row: QRect) -> QRect:
        """Where the "Acknowledge" button of an open row is drawn and tapped."""
        rect = QRect(0, 0, BUTTON_SIZE.width(), BUTTON_SIZE.height())
        rect.moveCenter(row.center())
        rect.moveRight(row.right() - 12)
        return rect

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        t = self.theme
        flag = self._flag(index)
        colour = QColor(t.tier_colour(flag.severity))
        row = option.rect.adjusted(0, 2, 0, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(t.surface_raised if flag.open else t.surface))
        painter.drawRect(row)
        if flag.open:
            tint = QColor(colour)
            tint.setAlpha(TINT_ALPHA[flag.severity])
            painter.setBrush(tint)
            painter.drawRect(row)
            painter.setBrush(colour)
            painter.drawRect(QRect(row.left(), row.top(), BAR_PX[flag.severity], row.height()))
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(QColor(t.accent), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(row.adjusted(1, 1, -2, -2))

        # The icon leads the header line; the message below starts under the icon, so a
        # narrow panel keeps as much width as possible for it.
        left = row.left() + BAR_PX[Severity.CRITICAL] + 12
        top = row.top() + 8
        self._icons[flag.severity].paint(painter, QRect(left, top, ICON_PX, ICON_PX))
        right = (self.button_rect(row).left() - 12) if flag.open else row.right() - 12
        width = max(right - left, 10)
        head_left = left + ICON_PX + 10
        line_px = TEXT_PX + 6

        head_font = QFont(option.font)
        head_font.setPixelSize(TEXT_PX)
        head_font.setBold(True)
        painter.setFont(head_font)
        painter.setPen(colour if flag.open else QColor(t.text_muted))
        word = tier_style(t, flag.severity).text
        # The message names the measure ("SpO2 93 % ≤ 93 %"), so the header is tier and time.
        head = f"{word} · {clock_time(flag.time)}"
        head = painter.fontMetrics().elidedText(head, Qt.TextElideMode.ElideRight,
                                                max(right - head_left, 10))
        painter.drawText(QRect(head_left, top, max(right - head_left, 10), ICON_PX),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, head)

        body_font = QFont(option.font)
        body_font.setPixelSize(TEXT_PX)
        body_font.setBold(flag.open and flag.severity is Severity.CRITICAL)
        painter.setFont(body_font)
        painter.setPen(QColor(t.text if flag.open else t.text_muted))
        body_top = top + ICON_PX + 2
        lines = _wrap(painter.fontMetrics(), flag.message, width)
        for number, line in enumerate(lines):
            painter.drawText(QRect(left, body_top + number * line_px, width, line_px),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
        if not flag.open:
            small = QFont(option.font)
            small.setPixelSize(SMALL_PX)
            painter.setFont(small)
            status = painter.fontMetrics().elidedText(flag_status(flag),
                                                      Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRect(left, body_top + len(lines) * line_px, width, SMALL_PX + 6),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, status)
        else:
            self._paint_button(painter, self.button_rect(row), flag)
        painter.restore()

    def button_text(self, flag: Flag) -> str:
        """The open row's button: "Clinician only" on a flag that is not this person's."""
        if self.clinician or not clinician_only(flag):
            return "Acknowledge"
        return CLINICIAN_ONLY_BUTTON

    def _paint_button(self, painter: QPainter, rect: QRect, flag: Flag) -> None:
        t = self.theme
        if self.button_text(flag) == CLINICIAN_ONLY_BUTTON:
            # Looks disabled; a tap still opens the dialog, which says who acknowledges it.
            painter.setPen(QPen(QColor(t.text_muted), 2))
            painter.setBrush(QColor(t.surface))
            painter.drawRoundedRect(rect, 8, 8)
            font = QFont(painter.font())
            font.setPixelSize(TEXT_PX)
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, CLINICIAN_ONLY_BUTTON)
            return
        critical = flag.severity is Severity.CRITICAL
        fill = QColor(t.tier_colour(flag.severity) if critical else t.surface)
        painter.setPen(QPen(QColor(t.tier_colour(flag.severity) if critical else t.accent), 2))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 8, 8)
        font = QFont(painter.font())
        font.setPixelSize(TEXT_PX)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(t.background if critical else t.text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "Acknowledge")

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem,
                    index: _Index) -> bool:
        if (event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
                and event.button() == Qt.MouseButton.LeftButton):
            flag = self._flag(index)
            row = option.rect.adjusted(0, 2, 0, -2)
            if flag.open and self.button_rect(row).contains(event.position().toPoint()):
                self.acknowledgeClicked.emit(flag)
                return True
        return super().editorEvent(event, model, option, index)


def clinician_only(flag: Flag) -> bool:
    """Whether only a clinician acknowledges ``flag`` (PHQ-9 item 9: the service refuses
    anyone else; the screens say so before anything is chosen)."""
    return flag.key == PHQ9_ITEM9_FLAG


def row_height(severity: Severity, lines: int, *, is_open: bool = True) -> int:
    """The height of a flag's row when its message takes ``lines`` lines: the header
    line, the message, the status line of a closed row; an open row holds its button."""
    if is_open:
        lines = max(lines, MIN_MESSAGE_LINES[severity])
    height = 2 + ROW_PAD_PX + ICON_PX + 2 + lines * (TEXT_PX + 6) + ROW_PAD_PX + 2
    if not is_open:
        return height + SMALL_PX + 6
    if severity is Severity.CRITICAL:
        height += CRITICAL_EXTRA_PX
    return max(height, BUTTON_SIZE.height() + 2 * ROW_PAD_PX + 4)


def _wrap(metrics: QFontMetrics, text: str, width: int, limit: int = MESSAGE_LINES) -> list[str]:
    """``text`` wrapped at word boundaries into at most ``limit`` lines of ``width`` px, the
    last elided if the message is longer still."""
    words = text.split()
    lines: list[str] = []
    while words and len(lines) < limit - 1:
        line = ""
        while words and metrics.horizontalAdvance(f"{line} {words[0]}".strip()) <= width:
            line = f"{line} {words.pop(0)}".strip()
        if not line:
            break
        lines.append(line)
    if words:
        lines.append(metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
    return lines


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
        message = QLabel(flag.message)
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

    def actions(self) -> list[str]:
        """The chosen actions, in the order they are listed."""
        return [str(button.property("action")) for button in self.choices.buttons()
                if button.isChecked()]

    def action(self) -> str:
        """The chosen actions as the one text stored, or "" when none is chosen yet."""
        return ACTION_SEPARATOR.join(self.actions())

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
        actions = self.actions()
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


class FlagsPanel(QWidget):
    """The session's flags as a touch list, with an "Acknowledge" button per open flag.

    Signals: ``acknowledgeRequested(Flag, str, str, bool)`` — the flag, the actions taken,
    the note, and whether to record the infusion pause first — once the nurse confirms the
    acknowledgement dialog. The panel stores nothing; the flag stays open here until a new
    view says it was acknowledged.
    """

    acknowledgeRequested = Signal(object, str, str, bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None, *,
                 is_clinician: Callable[[], bool] = lambda: True) -> None:
        super().__init__(parent)
        self.theme = theme
        #: Asked when flags are shown and a dialog opens: whether the one signed in is a
        #: clinician (a flag only a clinician acknowledges says so up front to anyone else).
        self.is_clinician = is_clinician
        self.model = FlagsModel(theme, self)
        self.dialog: AcknowledgeDialog | None = None
        #: The session's phase, for the dialog's offer to record a pause.
        self.phase: Phase | None = None
        #: Flags listed so far: a flag not among them is new, and the list goes to the top.
        self._seen: set[UUID] = set()

        self.summary = QLabel("No flags")
        self.summary.setProperty("role", "field")
        # Not a touch target: one line of text, so that the room goes to the flags.
        self.summary.setWordWrap(True)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setModelColumn(FlagsModel.MESSAGE)
        self.delegate = _FlagDelegate(theme, self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(False)
        self.list.setSpacing(2)
        kinetic(self.list.viewport())
        self.delegate.acknowledgeClicked.connect(self.acknowledge)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)

    def sizeHint(self) -> QSize:
        """Room for the summary and two open flags of two lines each: beside the chart at
        1280 x 800 the second flag is seen whole without scrolling."""
        hint = super().sizeHint()
        rows = (row_height(Severity.CRITICAL, 2) + row_height(Severity.WARNING, 2)
                + 4 * self.list.spacing())
        frame = 2 * self.list.frameWidth()
        summary = self.summary.fontMetrics().height() + 2 * self.summary.margin()
        return QSize(hint.width(), summary + self.layout().spacing() + rows + frame)

    def minimumSizeHint(self) -> QSize:
        # The splitter under the chart gives a panel its minimum first: so it is this one.
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())

    def show_view(self, view: SessionView) -> None:
        self.phase = view.phase
        self.delegate.clinician = self.is_clinician()
        # Flags of corrected readings stay listed (closed), with the action once taken.
        self.model.set_flags((*view.flags, *view.superseded_flags))
        ids = {f.id for f in view.flags}
        if ids - self._seen:
            # A new flag: open flags are listed first, so the top is where it is.
            self.list.scrollToTop()
        self._seen |= ids
        open_flags = [f for f in view.flags if f.open]
        if not view.flags and not view.superseded_flags:
            self.summary.setText("No flags")
        elif not open_flags:
            self.summary.setText("Flags: none open")
        else:
            # Every tier is counted, the worst first: an advisory is still open.
            tiers = [f"{count} {tier_style(self.theme, severity).text}"
                     for severity in sorted(Severity, reverse=True)
                     if (count := sum(1 for f in open_flags if f.severity is severity))]
            self.summary.setText(f"Flags: {len(open_flags)} open · " + " · ".join(tiers))

    def acknowledge(self, flag: Flag) -> AcknowledgeDialog:
        """Open the acknowledgement dialog for ``flag`` (window-modal, non-blocking)."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        dialog = AcknowledgeDialog(self.theme, flag, self, phase=self.phase,
                                   clinician=self.is_clinician())
        dialog.chosen.connect(lambda action, note, pause: self.acknowledgeRequested.emit(
            flag, action, note, pause))
        self.dialog = dialog
        dialog.open()
        return dialog
