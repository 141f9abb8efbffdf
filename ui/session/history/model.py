"""The chart history as a table and the way its rows are painted.

:class:`EntriesModel` holds a session's :class:`~ui.session.history.entries.HistoryEntry` rows,
newest first; :class:`EntryDelegate` paints each as one large touch row, a superseded one
muted, struck through and tagged "VOID" or "AMENDED".
"""

from __future__ import annotations

import operator
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from monitor.clinical.lineage import VOID
from ui.common.labels import clock_time
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import SMALL_PX, TEXT_PX, Theme
from ui.session.history.entries import HistoryEntry, Made, history_entries

if TYPE_CHECKING:
    from monitor.service.views import SessionView

#: The history entry behind a row, for the panel and the delegate.
EntryRole = Qt.ItemDataRole.UserRole + 1

#: Row layout: padding, the head line (time and what), the values line, status lines.
ROW_PAD = 8
HEAD_PX = TEXT_PX + 8
VALUES_PX = TEXT_PX + 2
VALUES_LINE_PX = VALUES_PX + 8
STATUS_LINE_PX = TEXT_PX + 6
#: No row is shorter than this, so that every row is an easy target for a fingertip.
ROW_MIN_PX = 56
#: Padding beside the word of the tag ("VOID", "AMENDED") before a superseded row's head.
TAG_PAD_X = 8

_Index = QModelIndex | QPersistentModelIndex


def _column(index: _Index, column: int) -> QModelIndex:
    """The cell in ``column`` of ``index``'s row (a persistent index has no
    ``siblingAtColumn``)."""
    return index.model().index(index.row(), column, index.parent())


class EntriesModel(ReadOnlyTableModel[HistoryEntry]):
    """The session's readings and events as a table, newest first, corrections included.

    A superseded row says so in its status ("VOID — reason (by, 10:45)", "AMENDED → new
    values — reason (by, 10:45)") and is drawn muted with its time, what and values struck
    through; the status itself is not struck, so the reason stays readable.

    Signals: only those of :class:`QAbstractTableModel`; :meth:`set_view` resets the model.
    """

    TIME, WHAT, VALUES, STATUS = range(4)
    HEADERS: ClassVar[tuple[str, ...]] = ("Time", "What", "Values", "Status")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._made: Made = {}

    def set_view(self, view: SessionView) -> None:
        """Show ``view``'s entries: new ones at the top are inserted, rows already shown
        stay (a long session's history is not rebuilt on every save); else a reset."""
        entries = history_entries(view, self._made)
        old = self._rows
        added = len(entries) - len(old)
        if old and added >= 0 and all(map(operator.is_, entries[added:], old)):
            if added:
                self.beginInsertRows(QModelIndex(), 0, added - 1)
                self._rows = entries
                self.endInsertRows()
            return
        self._reset_rows(entries)

    def entries(self) -> list[HistoryEntry]:
        return list(self._rows)

    def entry(self, row: int) -> HistoryEntry:
        return self._rows[row]

    def entry_at(self, row: int) -> tuple[str, uuid.UUID, bool]:
        """``(kind, id, is_effective)`` of row ``row``; kind is "reading" or "event"."""
        entry = self._rows[row]
        return entry.kind, entry.id, entry.effective

    def row_of(self, kind: str, entry_id: uuid.UUID) -> int | None:
        for row, entry in enumerate(self._rows):
            if entry.kind == kind and entry.id == entry_id:
                return row
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self._row(index)
        if entry is None:
            return None
        column = index.column()
        if role == EntryRole:
            return entry
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(entry, column)
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setPixelSize(TEXT_PX)
            if column == self.STATUS:
                font.setBold(not entry.effective)
            else:
                font.setStrikeOut(not entry.effective)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            muted = not entry.effective and column != self.STATUS
            return QColor(self.theme.text_muted if muted else self.theme.text)
        return None

    def _text(self, entry: HistoryEntry, column: int) -> str:
        if column == self.TIME:
            return clock_time(entry.time) if entry.time is not None else "—"
        if column == self.WHAT:
            return entry.what
        if column == self.VALUES:
            return entry.values
        return entry.status


def _wrapped(
    metrics: QFontMetrics, text: str, width: int, lines: int, separator: str = " "
) -> list[str]:
    """``text`` broken at ``separator`` into at most ``lines`` lines of ``width`` px, the
    last one elided if the text is longer still. Values break at " · ", so that "BP" never
    ends a line with its "128/78" on the next."""
    parts = [part for part in text.split(separator) if part]
    out: list[str] = []
    while parts and len(out) < lines - 1:
        line = parts.pop(0)
        if metrics.horizontalAdvance(line) > width:
            parts.insert(0, line)
            break
        while parts and metrics.horizontalAdvance(f"{line}{separator}{parts[0]}") <= width:
            line = f"{line}{separator}{parts.pop(0)}"
        out.append(line)
    if parts:
        out.append(metrics.elidedText(separator.join(parts), Qt.TextElideMode.ElideRight, width))
    return out


class EntryDelegate(QStyledItemDelegate):
    """Paints an entry as one large row: time and what, the values, and any status.

    A superseded row is flat (no raised fill), muted and struck through, with a "VOID" or
    "AMENDED" tag before its time and its status below in full-contrast bold: it reads as
    corrected without relying on colour. Row heights follow the list's width, so a status
    that needs two lines gets them.

    Signals: none.
    """

    #: Lines the values and a status may take before they are elided (the tooltip has
    #: them whole).
    VALUES_LINES = 2
    STATUS_LINES = 3

    def __init__(self, theme: Theme, view: QListView) -> None:
        super().__init__(view)
        self.theme = theme
        self._view = view

    @staticmethod
    def _entry(index: _Index) -> HistoryEntry:
        entry = index.data(EntryRole)
        assert isinstance(entry, HistoryEntry)
        return entry

    @staticmethod
    def _values_font(index: _Index, entry: HistoryEntry) -> QFont:
        # The model's font says whether the row is struck through.
        font = _column(index, EntriesModel.VALUES).data(Qt.ItemDataRole.FontRole)
        assert isinstance(font, QFont)
        font.setPixelSize(VALUES_PX)
        font.setBold(entry.effective)
        return font

    def _status_font(self, entry: HistoryEntry) -> QFont:
        font = QFont(self._view.font())
        font.setPixelSize(TEXT_PX if not entry.effective else SMALL_PX)
        font.setBold(not entry.effective)
        return font

    def _text_width(self, row_width: int) -> int:
        return max(row_width - 2 * ROW_PAD - 12, 40)

    def _values_lines(self, index: _Index, entry: HistoryEntry, width: int) -> list[str]:
        metrics = QFontMetrics(self._values_font(index, entry))
        return _wrapped(metrics, entry.values, self._text_width(width), self.VALUES_LINES,
                        " · ")

    def _status_lines(self, entry: HistoryEntry, width: int) -> list[str]:
        metrics = QFontMetrics(self._status_font(entry))
        return _wrapped(metrics, entry.status, self._text_width(width), self.STATUS_LINES)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        entry = self._entry(index)
        width = self._view.viewport().width()
        height = (2 * ROW_PAD + HEAD_PX
                  + len(self._values_lines(index, entry, width)) * VALUES_LINE_PX
                  + len(self._status_lines(entry, width)) * STATUS_LINE_PX)
        # Two px of the row are the gap drawn between rows.
        return QSize(width, max(height + 4, ROW_MIN_PX))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        t = self.theme
        entry = self._entry(index)
        row = option.rect.adjusted(0, 2, 0, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(t.border), 1))
        painter.setBrush(QColor(t.surface_raised if entry.effective else t.surface))
        painter.drawRoundedRect(row.adjusted(0, 0, -1, -1), 6, 6)
        if option.state & QStyle.StateFlag.State_Selected:
            # A thick outline, not a fill: the selection must not hide the strike-through.
            painter.setPen(QPen(QColor(t.accent), 4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(row.adjusted(2, 2, -3, -3), 6, 6)

        left = row.left() + ROW_PAD + 6
        width = self._text_width(row.width())
        top = row.top() + ROW_PAD
        text_colour = QColor(t.text if entry.effective else t.text_muted)
        head_font = _column(index, EntriesModel.WHAT).data(Qt.ItemDataRole.FontRole)
        assert isinstance(head_font, QFont)
        head_font.setBold(True)

        head_left = left
        if not entry.effective:
            head_left = self._paint_tag(painter, entry, left, top)
        painter.setFont(head_font)
        painter.setPen(text_colour)
        head = f"{clock_time(entry.time)}   {entry.what}" if entry.time else entry.what
        head = painter.fontMetrics().elidedText(head, Qt.TextElideMode.ElideRight,
                                                max(left + width - head_left, 10))
        painter.drawText(QRect(head_left, top, max(left + width - head_left, 10), HEAD_PX),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, head)

        painter.setFont(self._values_font(index, entry))
        values_top = top + HEAD_PX
        values = self._values_lines(index, entry, row.width())
        for number, line in enumerate(values):
            painter.drawText(QRect(left, values_top + number * VALUES_LINE_PX, width,
                                   VALUES_LINE_PX),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)

        painter.setFont(self._status_font(entry))
        painter.setPen(QColor(t.text if not entry.effective else t.text_muted))
        status_top = values_top + len(values) * VALUES_LINE_PX
        for number, line in enumerate(self._status_lines(entry, row.width())):
            painter.drawText(QRect(left, status_top + number * STATUS_LINE_PX, width,
                                   STATUS_LINE_PX),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
        painter.restore()

    def _paint_tag(self, painter: QPainter, entry: HistoryEntry, left: int, top: int) -> int:
        """Draw the "VOID" / "AMENDED" tag at ``left``; return where the head text starts."""
        t = self.theme
        font = QFont(self._view.font())
        font.setPixelSize(SMALL_PX)
        font.setBold(True)
        painter.setFont(font)
        word = "VOID" if entry.action == VOID else "AMENDED"
        rect = QRect(left, top + 2, painter.fontMetrics().horizontalAdvance(word)
                     + 2 * TAG_PAD_X, HEAD_PX - 4)
        painter.setPen(QPen(QColor(t.text), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 4, 4)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, word)
        return rect.right() + 10
