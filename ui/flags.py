"""The flags list: what needs attention, what was done about it, and the acknowledgement.

:class:`FlagsModel` is a table over ``view.flags`` (tier, time, measure, message, status),
open flags first and the worst tier first among them. :class:`FlagsPanel` shows it as a list
of large rows; an open critical row is tinted and barred in its tier colour so that it
dominates the list, and every open row has its own "Acknowledge" button. The button opens
:class:`AcknowledgeDialog`, where the nurse picks the action taken (and may add a note); the
panel then emits ``acknowledgeRequested`` and saves nothing itself; the session screen
passes the request to the service.
"""

from __future__ import annotations

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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
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

from monitor.domain import Flag, Severity
from ui.labels import MEASURE_NAMES, clock_time, short_name
from ui.style import tier_icon
from ui.tables import ReadOnlyTableModel
from ui.theme import SMALL_PX, TEXT_PX, TOUCH_MIN, Theme, tier_style
from ui.widgets import kinetic

if TYPE_CHECKING:
    from monitor.service import SessionView

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

#: The flag behind a row, for the panel and the delegate.
FlagRole = Qt.ItemDataRole.UserRole + 1

#: Row heights: a header line and two lines of message (three lines when closed, with the
#: status); a critical row is taller so that it stands out even in a long list.
ROW_PX = {Severity.CRITICAL: 112, Severity.WARNING: 100, Severity.ADVISORY: 100}
CLOSED_ROW_PX = 124
#: Width of the tier bar at the left of an open row: wider for a worse tier.
BAR_PX = {Severity.CRITICAL: 12, Severity.WARNING: 8, Severity.ADVISORY: 5}
#: Tint of an open row's background (alpha of the tier colour).
TINT_ALPHA = {Severity.CRITICAL: 70, Severity.WARNING: 30, Severity.ADVISORY: 0}
ICON_PX = 32
BUTTON_SIZE = QSize(160, 56)
CHOICE_MIN_PX = 64

_Index = QModelIndex | QPersistentModelIndex


def flag_status(flag: Flag) -> str:
    """"open", "acknowledged 10:44 by N. Nurse: Repeated reading — Dr Kim aware", or what
    resolved it: "reading taken 10:32" (overdue), "escalated 10:29" (a worse flag of the
    same condition took over), "reading amended 10:50"."""
    ack = flag.acknowledgement
    if ack is not None:
        by = f" by {short_name(ack.by)}" if ack.by else ""
        note = f" — {ack.note}" if ack.note else ""
        return f"acknowledged {clock_time(ack.time)}{by}: {ack.action}{note}"
    if flag.resolved_at is not None:
        return f"{flag.resolution or 'resolved'} {clock_time(flag.resolved_at)}"
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

    @staticmethod
    def _flag(index: _Index) -> Flag:
        flag = index.data(FlagRole)
        assert isinstance(flag, Flag)
        return flag

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        flag = self._flag(index)
        height = ROW_PX[flag.severity] if flag.open else CLOSED_ROW_PX
        return QSize(option.rect.width(), height)

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
        lines = _two_lines(painter.fontMetrics(), flag.message, width)
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

    def _paint_button(self, painter: QPainter, rect: QRect, flag: Flag) -> None:
        t = self.theme
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


def _two_lines(metrics: QFontMetrics, text: str, width: int) -> list[str]:
    """``text`` wrapped at word boundaries into at most two lines of ``width`` px, the second
    elided if the message is longer still."""
    words = text.split()
    first = ""
    while words and metrics.horizontalAdvance(f"{first} {words[0]}".strip()) <= width:
        first = f"{first} {words.pop(0)}".strip()
    if not first:
        return [metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)]
    if not words:
        return [first]
    return [first, metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width)]


class AcknowledgeDialog(QDialog):
    """Asks what was done about a flag: one action from large choices, and a note.

    Signals: ``chosen(str, str)`` — the action and the note (stripped) — when the nurse
    confirms. "Acknowledge" stays disabled until an action is chosen, and for "Other" until
    the note says what was done.
    """

    chosen = Signal(str, str)

    def __init__(self, theme: Theme, flag: Flag, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.flag = flag
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

        prompt = QLabel("What was done?")
        prompt.setProperty("role", "field")
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        grid = QGridLayout()
        grid.setSpacing(10)
        for number, action in enumerate(ACKNOWLEDGE_ACTIONS):
            button = QPushButton(action)
            button.setCheckable(True)
            button.setProperty("choice", "true")
            button.setMinimumHeight(CHOICE_MIN_PX)
            # No keyboard focus: a focus frame on the first choice reads as "already chosen".
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.choices.addButton(button, number)
            grid.addWidget(button, number // 2, number % 2)
        self.choices.buttonToggled.connect(self._update)

        self.cancel = QPushButton("Cancel")
        self.ok = QPushButton("Acknowledge")
        self.ok.setProperty("primary", "true")
        self.ok.setDefault(True)
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)
        for button in (self.cancel, self.ok):
            button.setMinimumSize(TOUCH_MIN * 3, TOUCH_MIN + 8)

        self.note = QLineEdit()
        self.note.setPlaceholderText("Note (optional; required for Other)")
        self.note.setMinimumHeight(TOUCH_MIN)
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
        layout.addWidget(prompt)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self._update()
        # Open with the focus on Cancel, not the note: a focused text field would bring up
        # the on-screen keyboard over the choices.
        self.cancel.setFocus()

    def action(self) -> str:
        """The chosen action, or "" when none is chosen yet."""
        button = self.choices.checkedButton()
        return button.text() if button is not None else ""

    def note_text(self) -> str:
        return self.note.text().strip()

    def _update(self) -> None:
        action = self.action()
        complete = bool(action) and (action != OTHER_ACTION or bool(self.note_text()))
        self.ok.setEnabled(complete)

    def accept(self) -> None:
        if not self.ok.isEnabled():
            return
        self.chosen.emit(self.action(), self.note_text())
        super().accept()


class FlagsPanel(QWidget):
    """The session's flags as a touch list, with an "Acknowledge" button per open flag.

    Signals: ``acknowledgeRequested(Flag, str, str)`` — the flag, the action taken and the
    note — once the nurse confirms the acknowledgement dialog. The panel stores nothing;
    the flag stays open here until a new view says it was acknowledged.
    """

    acknowledgeRequested = Signal(object, str, str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.model = FlagsModel(theme, self)
        self.dialog: AcknowledgeDialog | None = None

        self.summary = QLabel("No flags")
        self.summary.setProperty("role", "field")
        self.summary.setMinimumHeight(TOUCH_MIN)
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

    def show_view(self, view: SessionView) -> None:
        # Flags of corrected readings stay listed (closed), with the action once taken.
        self.model.set_flags((*view.flags, *view.superseded_flags))
        open_flags = [f for f in view.flags if f.open]
        if not view.flags:
            self.summary.setText("No flags")
        elif not open_flags:
            self.summary.setText("Flags: none open")
        else:
            worst = max(open_flags, key=lambda f: f.severity)
            counts = sum(1 for f in open_flags if f.severity is worst.severity)
            word = tier_style(self.theme, worst.severity).text
            self.summary.setText(f"Flags: {len(open_flags)} open  ·  {counts} {word}")

    def acknowledge(self, flag: Flag) -> AcknowledgeDialog:
        """Open the acknowledgement dialog for ``flag`` (window-modal, non-blocking)."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        dialog = AcknowledgeDialog(self.theme, flag, self)
        dialog.chosen.connect(
            lambda action, note: self.acknowledgeRequested.emit(flag, action, note))
        self.dialog = dialog
        dialog.open()
        return dialog
