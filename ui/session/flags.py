"""The flags list: what needs attention, what was done about it, and the acknowledgement.

:class:`FlagsModel` is a table over ``view.flags`` (tier, time, measure, message, status),
open flags first and the worst tier first among them. :class:`FlagsPanel` shows it as a list
of large rows; an open critical row is tinted and barred in its tier colour so that it
dominates the list, and every open row has its own "Acknowledge" button. The button opens
:class:`~ui.session.acknowledge.AcknowledgeDialog`, where the nurse picks every action taken
(and may add a note). The panel then emits ``acknowledgeRequested`` and saves nothing itself;
the session screen passes the request to the service. When a new flag is raised the list goes
back to the top, where open flags are.
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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Flag, Phase, Severity
from monitor.clinical.wording import MEASURE_NAMES
from ui.common.labels import clock_time, short_name
from ui.common.style import tier_icon
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import SMALL_PX, TEXT_PX, Theme, tier_style
from ui.common.widgets import kinetic
from ui.session.acknowledge import (
    CLINICIAN_ONLY_BUTTON,
    ICON_PX,
    AcknowledgeDialog,
    clinician_only,
)

if TYPE_CHECKING:
    from uuid import UUID

    from monitor.service.views import SessionView

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
BUTTON_SIZE = QSize(160, 56)

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
            return flag.shown_message
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
            lines = len(_wrap(QFontMetrics(font), flag.shown_message, self._text_width(row, flag)))
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
        lines = _wrap(painter.fontMetrics(), flag.shown_message, width)
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
        layout = self.layout()
        spacing = layout.spacing() if layout is not None else 0
        return QSize(hint.width(), summary + spacing + rows + frame)

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
