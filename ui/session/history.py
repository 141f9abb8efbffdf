"""Chart history: every reading and event of a session, its corrections, and the way to make one.

The record is never edited in place (product brief, "Records"): a wrong entry is *voided*
with a reason, or a reading is *amended* (a new reading replaces it, with a reason), and the
old entry stays in the history, marked as such, with who corrected it and when.

:class:`EntriesModel` is a table over a :class:`~monitor.service.views.SessionView`: effective and
superseded entries, newest first, each with a status in words ("VOID — …", "AMENDED → …").
:class:`HistoryPanel` shows it as a touch list and offers "Void…" and "Amend…" for the
selected effective entry. :class:`VoidDialog` asks for the reason; :class:`AmendDialog` asks
for the corrected values (typed on the built-in keypad and checked with
:func:`monitor.clinical.validation.validate_reading`) and the reason. The panel only emits requests;
the session screen passes them to the presenter, and the next view shows the outcome.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Event, Reading
from monitor.clinical.validation import FieldError, validate_reading
from monitor.clinical.wording import EVENT_NAMES
from ui.common.keypad import NumericKeypad
from ui.common.labels import bp_text, clock_time, short_name
from ui.common.style import PRIMARY_MIN, TouchButton, palette
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import SMALL_PX, TEXT_PX, TOUCH_MIN, Theme
from ui.common.widgets import FieldMessage, KeypadField, VerticalScroll, kinetic, restyle

if TYPE_CHECKING:
    from monitor.service.views import CorrectionInfo, SessionView

#: Why an entry is corrected. "Other" needs a note saying why.
VOID_REASONS: tuple[str, ...] = (
    "Entered in error",
    "Wrong patient",
    "Duplicate entry",
    "Equipment artefact",
    "Other",
)
#: An amendment keeps the entry and corrects its values, so a wrong patient or a duplicate
#: is not a reason for it (those entries are voided).
AMEND_REASONS: tuple[str, ...] = tuple(
    r for r in VOID_REASONS if r not in {"Wrong patient", "Duplicate entry"}
)
OTHER_REASON = "Other"
NOTE_MAX_LENGTH = 300


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
ACTION_MIN = QSize(168, 56)
CHOICE_MIN_PX = 64
#: The amend dialog's reason buttons give up a little height to the fields above them: the
#: dialog must fit under 700 px with the keypad.
COMPACT_CHOICE_MIN_PX = 56
#: Dialogs must fit a 1280 × 800 landscape screen with room for the window frame and the
#: system bar, and the 800 px width of a portrait one.
DIALOG_MAX = QSize(780, 700)
#: Measures of a reading the amend dialog edits: (field, label, unit or range).
AMEND_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bp", "BP", "mmHg"),
    ("hr", "HR", "/min"),
    ("spo2", "SpO2", "%"),
    ("rr", "RR", "/min"),
    ("cadss6", "CADSS-6", "total 0–24"),
    ("moaas", "MOAA/S", "0–5"),
    ("nausea", "Nausea", "0–10"),
    ("anxiety", "Anxiety", "0–10"),
    ("pain", "Pain", "0–10"),
)
#: Keypad length limits: "300/200" for BP, three digits for the rest, also where the range
#: is shorter, so that a slip ("12" for MOAA/S) is refused with the range, not cut to "1".
BP_MAX_LENGTH = 7
VALUE_MAX_LENGTH = 3
#: Validator fields that belong to each amend field (BP is one entry for two measures).
_FIELD_OF = {"sbp": "bp", "dbp": "bp", "cadss6_items": "cadss6"}
#: Measures an amendment passes on unchanged: the dialog does not edit them, and the
#: replacement reading holds only what the amendment gives it.
_CARRIED = (("phq9_items", "phq9"), ("gad7_items", "gad7"))

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history: a reading or an event, effective or superseded.

    ``time`` is the time the entry describes; ``None`` for a voided event the view carries
    no details of (``sort_time`` is then the time of the void).
    """

    kind: str  # "reading" | "event"
    id: uuid.UUID
    time: datetime | None
    sort_time: datetime
    what: str
    values: str
    effective: bool
    status: str
    reading: Reading | None = None
    action: str = ""  # "void" | "amend" | "" (effective)

    def summary(self) -> str:
        """"10:32 · Vitals — BP 128/78 · HR 72", as the dialogs name the entry."""
        when = clock_time(self.time) if self.time is not None else "time not shown"
        values = f" — {self.values}" if self.values else ""
        return f"{when} · {self.what}{values}"


def reason_text(choice: str, note: str) -> str:
    """The reason stored with a correction: the choice, and the note after a colon."""
    note = note.strip()
    if not note:
        return choice
    return f"{choice}: {note}"


def reading_what(reading: Reading) -> str:
    """What a reading holds, as the entry tabs name it: "Vitals", "CADSS-6", "Comfort" …"""
    parts = []
    if reading.has_vitals:
        parts.append("Vitals")
    if reading.cadss6 is not None:
        parts.append("CADSS-6")
    if reading.moaas is not None:
        parts.append("MOAA/S")
    if any(v is not None for v in (reading.nausea, reading.anxiety, reading.pain)):
        parts.append("Comfort")
    if reading.phq9 is not None or reading.gad7 is not None:
        parts.append("Mood scores")
    return " + ".join(parts) or "Reading"


def reading_values(reading: Reading) -> str:
    """"BP 128/78 · HR 72 · SpO2 98": the measures a reading holds, in the chart's order."""
    parts = []
    bp = bp_text(reading)
    if bp is not None:
        parts.append(f"BP {bp}")
    named = (
        ("HR", reading.hr), ("SpO2", reading.spo2), ("RR", reading.rr),
        ("CADSS-6", reading.cadss6), ("MOAA/S", reading.moaas), ("Nausea", reading.nausea),
        ("Anxiety", reading.anxiety), ("Pain", reading.pain), ("PHQ-9", reading.phq9),
        ("GAD-7", reading.gad7),
    )
    for name, value in named:
        if value is None:
            continue
        text = f"{name} {value}"
        if name == "SpO2" and reading.on_oxygen:
            text += " on O2"
        parts.append(text)
    if reading.note:
        parts.append(f"note: {reading.note}")
    return " · ".join(parts)


def _after_signoff(view: SessionView, entry: Reading | Event) -> str:
    """"AFTER SIGN-OFF, entered 12:40 by Dr Lee" for an entry added after the discharge
    was signed (its reason is in its note), else ""."""
    if not view.after_signoff(entry) or entry.recorded_at is None:
        return ""
    by = f" by {short_name(entry.by)}" if entry.by else ""
    return f"AFTER SIGN-OFF, entered {clock_time(entry.recorded_at)}{by}"


def _by_when(correction: CorrectionInfo) -> str:
    by = f"{short_name(correction.by)}, " if correction.by else ""
    return f"({by}{clock_time(correction.time)})"


#: Entries made before, by kind and id, with the reading or event each was made of.
_Made = dict[tuple[str, uuid.UUID], tuple[object, "HistoryEntry"]]


def history_entries(view: SessionView, made: _Made | None = None) -> list[HistoryEntry]:
    """Every reading and event of ``view``, effective and superseded, newest first.

    At the same time, the effective entry comes first, so an amendment sits above the
    reading it replaced. ``made`` keeps the plain entries (neither corrected nor an
    amendment) from call to call: a reading or event that is the same object as before
    is not formatted again, which keeps a save in a long session cheap.
    """
    if made is not None:
        return _with_plain_entries_kept(view, made)
    corrections = {c.target_id: c for c in view.corrections}
    replaced_by = {c.replacement_id: c for c in view.corrections if c.replacement_id}
    readings = {r.id: r for r in (*view.record.readings, *view.superseded_readings)}
    entries: list[HistoryEntry] = []
    for reading in readings.values():
        correction = corrections.get(reading.id)
        if correction is None:
            amended = replaced_by.get(reading.id)
            status = (f"amendment of an earlier entry {_by_when(amended)}" if amended
                      else _after_signoff(view, reading))
            action = ""
        elif correction.action == "amend":
            replacement = readings.get(correction.replacement_id) if (
                correction.replacement_id is not None) else None
            new = reading_values(replacement) if replacement is not None else "new values"
            status = f"AMENDED → {new} — {correction.reason} {_by_when(correction)}"
            action = "amend"
        else:
            status = f"VOID — {correction.reason} {_by_when(correction)}"
            action = "void"
        entries.append(HistoryEntry(
            "reading", reading.id, reading.time, reading.time, reading_what(reading),
            reading_values(reading), correction is None, status, reading, action,
        ))
    for event in view.record.events:
        entries.append(HistoryEntry(
            "event", event.id, event.time, event.time, EVENT_NAMES.get(event.kind, event.kind),
            event.detail, effective=True, status=_after_signoff(view, event),
        ))
    for event in view.superseded_events:
        correction = corrections.get(event.id)
        status = f"VOID — {correction.reason} {_by_when(correction)}" if correction else "VOID"
        entries.append(HistoryEntry(
            "event", event.id, event.time, event.time, EVENT_NAMES.get(event.kind, event.kind),
            event.detail, effective=False, status=status, action="void",
        ))
    entries.sort(key=lambda e: (e.sort_time, e.effective), reverse=True)
    return entries


def _with_plain_entries_kept(view: SessionView, made: _Made) -> list[HistoryEntry]:
    if (view.corrections or view.superseded_readings or view.superseded_events
            or view.sign_off is not None):
        made.clear()
        return history_entries(view)
    entries: list[HistoryEntry] = []
    for kind, items in (("reading", view.record.readings), ("event", view.record.events)):
        for item in items:
            kept = made.get((kind, item.id))
            if kept is None or kept[0] is not item:
                entry = (HistoryEntry("reading", item.id, item.time, item.time,
                                      reading_what(item), reading_values(item), True, "",
                                      item, "")
                         if isinstance(item, Reading) else
                         HistoryEntry("event", item.id, item.time, item.time,
                                      EVENT_NAMES.get(item.kind, item.kind), item.detail,
                                      effective=True, status=""))
                made[kind, item.id] = kept = (item, entry)
            entries.append(kept[1])
    entries.sort(key=lambda e: (e.sort_time, e.effective), reverse=True)
    return entries


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
        self._made: _Made = {}

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


class _EntryDelegate(QStyledItemDelegate):
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
        font = index.siblingAtColumn(EntriesModel.VALUES).data(Qt.ItemDataRole.FontRole)
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
        head_font = index.siblingAtColumn(EntriesModel.WHAT).data(Qt.ItemDataRole.FontRole)
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
        word = "VOID" if entry.action == "void" else "AMENDED"
        rect = QRect(left, top + 2, painter.fontMetrics().horizontalAdvance(word)
                     + 2 * TAG_PAD_X, HEAD_PX - 4)
        painter.setPen(QPen(QColor(t.text), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 4, 4)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, word)
        return rect.right() + 10


def _label(text: str = "", role: str | None = None, *, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if role is not None:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    return label


class _EntryList(QListView):
    """A list whose rows are laid out again whenever its width changes.

    Row heights follow the width (values and status wrap), and Qt's own
    ``ResizeMode.Adjust`` re-lays a top-to-bottom list only when its *height* changes, so
    the rows would keep heights measured for another width (after a rotation, or when the
    scroll bar appears) and overlap.

    Signals: only those of :class:`QListView`.
    """

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.doItemsLayout()


class HistoryPanel(QWidget):
    """The session's chart history as a touch list, with "Void…" and "Amend…" for the
    selected entry.

    Only an effective entry can be corrected, and only a reading amended; for any other
    selection the buttons are disabled and a line under the list says why.

    Signals:
        voidRequested(str, object, str): kind ("reading" | "event"), entry id and reason,
            once the nurse confirms the void dialog.
        amendRequested(object, dict, str, object): reading id, the raw values (text as
            typed, for :func:`~monitor.clinical.validation.validate_reading`), the reason and the
            confirmed fields (``frozenset[str]``), once the nurse confirms the amend dialog.
    """

    voidRequested = Signal(str, object, str)
    amendRequested = Signal(object, dict, str, object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.model = EntriesModel(theme, self)
        self.dialog: VoidDialog | AmendDialog | None = None

        self.summary = _label("No entries yet", "field")
        self.summary.setMinimumHeight(TOUCH_MIN)
        self.summary.setContentsMargins(8, 0, 8, 0)
        self.list = _EntryList()
        self.list.setObjectName("history-list")
        self.list.setModel(self.model)
        self.list.setModelColumn(EntriesModel.VALUES)
        self.delegate = _EntryDelegate(theme, self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(False)
        self.list.setSpacing(2)
        kinetic(self.list.viewport())
        self.list.selectionModel().currentChanged.connect(lambda *_: self._update_actions())

        self.hint = _label(wrap=True)
        self.hint.setObjectName("history-hint")
        self.hint.setContentsMargins(8, 0, 0, 0)
        self.void_button = TouchButton("Void…", min_size=ACTION_MIN.width(),
                                       min_height=ACTION_MIN.height())
        self.void_button.setObjectName("void")
        self.amend_button = TouchButton("Amend…", min_size=ACTION_MIN.width(),
                                        min_height=ACTION_MIN.height())
        self.amend_button.setObjectName("amend")
        self.void_button.clicked.connect(self.open_void)
        self.amend_button.clicked.connect(self.open_amend)
        actions = QHBoxLayout()
        actions.setSpacing(10)
        actions.addWidget(self.hint, 1)
        actions.addWidget(self.amend_button)
        actions.addWidget(self.void_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        self._update_actions()

    def show_view(self, view: SessionView) -> None:
        """Show ``view``'s entries, keeping the selection and the scroll position (views
        arrive on every save and every tick; the list must not jump under the finger)."""
        selected = self.selected_entry()
        scrolled = self.list.verticalScrollBar().value()
        self.model.set_view(view)
        self.list.doItemsLayout()
        self.list.verticalScrollBar().setValue(scrolled)
        entries = self.model.entries()
        corrected = sum(1 for e in entries if not e.effective)
        if not entries:
            self.summary.setText("No entries yet")
        else:
            noun = "entry" if len(entries) == 1 else "entries"
            extra = f"  ·  {corrected} corrected" if corrected else ""
            self.summary.setText(f"{len(entries)} {noun}, newest first{extra}")
        row = self.model.row_of(selected.kind, selected.id) if selected is not None else None
        if row is not None:
            self._select(row)
        self._update_actions()

    def select_row(self, row: int) -> None:
        """Select row ``row`` and scroll it into view, as a tap on it does."""
        self._select(row)
        self.list.scrollTo(self.model.index(row, EntriesModel.VALUES))

    def _select(self, row: int) -> None:
        self.list.selectionModel().setCurrentIndex(
            self.model.index(row, EntriesModel.VALUES),
            QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_entry(self) -> HistoryEntry | None:
        index = self.list.selectionModel().currentIndex()
        if not index.isValid() or not self.list.selectionModel().isSelected(index):
            return None
        return self.model.entry(index.row())

    def open_void(self) -> VoidDialog | None:
        """Open the void dialog for the selected effective entry (window-modal)."""
        entry = self.selected_entry()
        if entry is None or not entry.effective:
            return None
        dialog = VoidDialog(self.theme, entry, self)
        dialog.voidConfirmed.connect(
            lambda reason: self.voidRequested.emit(entry.kind, entry.id, reason))
        return self._open(dialog)

    def open_amend(self) -> AmendDialog | None:
        """Open the amend dialog for the selected effective reading (window-modal)."""
        entry = self.selected_entry()
        if entry is None or not entry.effective or entry.reading is None:
            return None
        dialog = AmendDialog(self.theme, entry, self)
        dialog.amendConfirmed.connect(
            lambda raw, reason, confirmed: self.amendRequested.emit(
                entry.id, raw, reason, confirmed))
        return self._open(dialog)

    def _open(self, dialog: VoidDialog | AmendDialog) -> Any:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def _update_actions(self) -> None:
        entry = self.selected_entry()
        can_void = entry is not None and entry.effective
        can_amend = can_void and entry is not None and entry.reading is not None
        self.void_button.setEnabled(can_void)
        self.amend_button.setEnabled(can_amend)
        if entry is None:
            hint = "Tap an entry to correct it."
        elif not entry.effective:
            done = "voided" if entry.action == "void" else "amended"
            hint = f"This entry was {done}; it stays in the record as it was."
        elif entry.reading is None:
            hint = "An event can be voided; it cannot be amended."
        else:
            hint = "The old values stay in the history."
        self.hint.setText(hint)


class _ReasonPicker(QWidget):
    """Large reason choices in two columns, and a note ("Other" needs it).

    Signals:
        changed(): the choice or the note changed.
    """

    changed = Signal()

    def __init__(
        self, reasons: Sequence[str], *, min_height: int = CHOICE_MIN_PX,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        self._buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for number, reason in enumerate(reasons):
            button = TouchButton(reason, min_height=min_height)
            button.setObjectName(f"reason-{number}")
            button.setCheckable(True)
            button.setProperty("choice", True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            # No keyboard focus: a focus frame on the first choice reads as "already chosen".
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.choices.addButton(button, number)
            self._buttons[reason] = button
            grid.addWidget(button, number // 2, number % 2)
        self.choices.buttonToggled.connect(lambda *_: self._changed())
        self.note = QLineEdit()
        self.note.setObjectName("reason-note")
        self.note.setMaxLength(NOTE_MAX_LENGTH)
        self.note.setMinimumHeight(TOUCH_MIN)
        self.note.textChanged.connect(lambda _text: self._changed())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(_label("Reason (required)", "field"))
        layout.addLayout(grid)
        layout.addWidget(self.note)
        self._changed()

    def button(self, reason: str) -> QPushButton:
        return self._buttons[reason]

    def choice(self) -> str:
        button = self.choices.checkedButton()
        return button.text() if button is not None else ""

    def complete(self) -> bool:
        choice = self.choice()
        return bool(choice) and (choice != OTHER_REASON or bool(self.note.text().strip()))

    def reason(self) -> str:
        """The reason to store ("" until complete)."""
        return reason_text(self.choice(), self.note.text()) if self.complete() else ""

    def _changed(self) -> None:
        required = self.choice() == OTHER_REASON
        self.note.setPlaceholderText(
            "Note: say why (required for Other)" if required else "Note (optional)")
        self.changed.emit()


def _dialog_frame(dialog: QDialog, theme: Theme, title: str, entry: HistoryEntry) -> None:
    dialog.setWindowTitle(title)
    dialog.setAccessibleDescription(entry.summary())
    dialog.setMaximumSize(DIALOG_MAX)
    # A dialog is a window of its own: the theme's palette is set here so that it is dark in
    # the dim theme even when only the session window was themed.
    dialog.setPalette(palette(theme))
    dialog.setAutoFillBackground(True)


def _footer(ok_text: str) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    cancel = TouchButton("Cancel", min_size=TOUCH_MIN * 3, min_height=PRIMARY_MIN)
    cancel.setObjectName("cancel")
    ok = TouchButton(ok_text, min_size=TOUCH_MIN * 4, min_height=PRIMARY_MIN)
    ok.setObjectName("ok")
    ok.setProperty("primary", True)
    ok.setDefault(True)
    row = QHBoxLayout()
    row.setSpacing(12)
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, cancel, ok


def _entry_card(entry: HistoryEntry) -> QFrame:
    """The entry being corrected, as the list shows it, in a card above the question."""
    card = QFrame()
    card.setProperty("banner", "entry")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(12, 8, 12, 8)
    layout.setSpacing(2)
    when = clock_time(entry.time) if entry.time is not None else ""
    layout.addWidget(_label(f"{when}   {entry.what}".strip(), "field", wrap=True))
    if entry.values:
        # A measure and its value stay on one line ("CADSS-6 1", never "CADSS-6" / "1").
        parts = [p.replace(" ", "\u00a0") if len(p) <= 20 else p
                 for p in entry.values.split(" · ")]
        layout.addWidget(_label(" · ".join(parts), wrap=True))
    return card


class VoidDialog(QDialog):
    """Asks why an entry is voided: one reason from large choices, and a note.

    The entry is not deleted: it stays in the history, marked void with the reason.

    Signals:
        voidConfirmed(str): the reason (the choice, then ": note" when a note was given),
            when the nurse taps "Void entry". It stays disabled until a reason is chosen,
            and for "Other" until the note says why.
    """

    voidConfirmed = Signal(str)

    def __init__(self, theme: Theme, entry: HistoryEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.entry = entry
        _dialog_frame(self, theme, "Void entry", entry)
        question = _label(f"Void this {entry.kind}?", "total")
        explain = _label("It stays in the chart history, struck through, with your reason.",
                         "muted", wrap=True)
        self.reasons = _ReasonPicker(VOID_REASONS)
        self.reasons.changed.connect(self._update)
        footer, self.cancel, self.ok = _footer("Void entry")
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(10)
        layout.addWidget(question)
        layout.addWidget(_entry_card(entry))
        layout.addWidget(explain)
        layout.addWidget(self.reasons)
        layout.addStretch(1)
        layout.addLayout(footer)
        self._update()

    def reason(self) -> str:
        return self.reasons.reason()

    def _update(self) -> None:
        self.ok.setEnabled(self.reasons.complete())

    def accept(self) -> None:
        if not self.reasons.complete():
            return
        self.voidConfirmed.emit(self.reason())
        super().accept()


def _field_message(theme: Theme) -> FieldMessage:
    """A refusal or a "confirm this unusual value" request under one amend field; its
    "Confirm" button takes no focus, so the keypad stays on the field being typed."""
    confirm = TouchButton("Confirm")
    confirm.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return FieldMessage(theme, confirm, margins=(0, 0, 0, 4))


class _VerticalScroll(VerticalScroll):
    """As tall as its fields want, up to the dialog's largest size."""

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint().expandedTo(
            QSize(0, min(self.widget().sizeHint().height(), DIALOG_MAX.height())))


@dataclass
class _AmendRow:
    key: str
    edit: KeypadField
    message: FieldMessage
    max_length: int
    original: str


class AmendDialog(QDialog):
    """Corrects a reading's values: the measures it holds, prefilled, typed on the keypad.

    Tapping a field points the keypad at it with its value selected, so the first digit
    typed replaces it. Clearing a field removes that measure from the corrected reading.
    On "Save amendment" the values are checked with
    :func:`~monitor.clinical.validation.validate_reading`: a refusal shows under its field, naming
    the field and its range; an unusual value waits for a "Confirm <value>" tap. A reason
    is required ("Other" with a note). Measures the dialog does not edit (PHQ-9, GAD-7) and
    unchanged CADSS-6 item scores are passed on as they were.

    Signals:
        amendConfirmed(dict, str, object): the raw values, the reason and the confirmed
            fields (``frozenset[str]``), once the values pass the checks.
    """

    amendConfirmed = Signal(dict, str, object)

    def __init__(self, theme: Theme, entry: HistoryEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if entry.reading is None:
            raise ValueError("only a reading can be amended")
        self.theme = theme
        self.entry = entry
        self.reading = entry.reading
        _dialog_frame(self, theme, "Amend reading", entry)
        #: validator field -> the raw value the nurse confirmed; a changed value needs a new
        #: confirmation.
        self._confirmed: dict[str, str] = {}
        self._rows: list[_AmendRow] = []
        self._active: _AmendRow | None = None

        self.keypad = NumericKeypad(theme)
        self.keypad.valueChanged.connect(self._typed)
        self.keypad.submitted.connect(self._next_field)
        self.keypad.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for key, name, unit in AMEND_FIELDS:
            original = self._original(key)
            if original is None:
                continue
            edit = KeypadField(f"amend-{key}", "300/200" if key == "bp" else "250", frame=40)
            edit.setAccessibleName(name)
            edit.setText(original)
            max_length = BP_MAX_LENGTH if key == "bp" else VALUE_MAX_LENGTH
            row = _AmendRow(key, edit, _field_message(theme), max_length, original)
            row.message.confirmClicked.connect(lambda r=row: self._confirm(r))
            edit.tapped.connect(lambda r=row: self._activate(r))
            names = QVBoxLayout()
            names.setSpacing(0)
            names.addWidget(_label(name, "field"))
            names.addWidget(_label(f"{unit}\nwas {original}", "muted"))
            names.addStretch(1)
            line = 2 * len(self._rows)
            grid.addLayout(names, line, 0)
            grid.addWidget(edit, line, 1)
            grid.addWidget(row.message, line + 1, 0, 1, 2)
            self._rows.append(row)
        grid.setColumnStretch(1, 1)
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 8, 0)
        fields_layout.addLayout(grid)
        if self.reading.cadss6_items is not None:
            fields_layout.addWidget(_label(
                "CADSS-6 item scores are kept only while the total stays "
                f"{self.reading.cadss6}.", "muted", wrap=True))
        fields_layout.addStretch(1)
        self._scroll = _VerticalScroll(fields)

        self.reasons = _ReasonPicker(AMEND_REASONS, min_height=COMPACT_CHOICE_MIN_PX)
        self.reasons.changed.connect(self._update)
        self.general = _field_message(theme)
        footer, self.cancel, self.ok = _footer("Save amendment")
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)

        when = clock_time(entry.time) if entry.time is not None else ""
        title = _label(f"Amend reading of {when}", "total")
        explain = _label(f"{entry.what} · the values as entered stay in the history",
                         "muted", wrap=True)
        editing = QHBoxLayout()
        editing.setSpacing(12)
        editing.addWidget(self._scroll, 1)
        editing.addWidget(self.keypad)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(explain)
        layout.addLayout(editing, 1)
        layout.addWidget(self.reasons)
        layout.addWidget(self.general)
        layout.addLayout(footer)
        # A value kept as it was was confirmed when it was first saved (the service asked
        # then); only a changed unusual value needs a new "Confirm" tap.
        self._confirmed = {
            field: value for field, value in self.raw().items()
            if isinstance(value, str) and value
        }
        if self._rows:
            self._activate(self._rows[0])
        self._update()

    def sizeHint(self) -> QSize:
        # As wide as a portrait screen allows: the wider the fields, the fewer lines a
        # message under one of them takes.
        return super().sizeHint().expandedTo(QSize(DIALOG_MAX.width(), 0)).boundedTo(DIALOG_MAX)

    # -- state for the caller and tests ----------------------------------------------------

    def field(self, key: str) -> QLineEdit:
        """The value field ``bp``, ``hr``, ``spo2``, ``rr``, ``cadss6``, ``moaas`` …"""
        return self._row(key).edit

    def fields(self) -> list[str]:
        return [row.key for row in self._rows]

    def message_for(self, key: str) -> str:
        """The visible message under field ``key`` ("" when none)."""
        return self._row(key).message.text()

    def general_message(self) -> str:
        return self.general.text()

    def confirm_button(self, key: str) -> QPushButton:
        return self._row(key).message.confirm_button()

    def activate(self, key: str) -> None:
        """Point the keypad at field ``key``, as a tap on it does."""
        self._activate(self._row(key))

    def raw(self) -> dict[str, Any]:
        """The corrected reading as typed: text for the edited measures (BP split at its
        "/"), the unedited measures passed on as they were."""
        raw: dict[str, Any] = {}
        for row in self._rows:
            text = row.edit.text()
            if row.key == "bp":
                sbp, _slash, dbp = text.partition("/")
                raw["sbp"], raw["dbp"] = sbp, dbp
            else:
                raw[row.key] = text
        reading = self.reading
        if reading.cadss6_items is not None and raw.get("cadss6") == str(reading.cadss6):
            raw["cadss6_items"] = reading.cadss6_items
        for items, total in _CARRIED:
            if getattr(reading, items) is not None:
                raw[items] = getattr(reading, items)
            elif getattr(reading, total) is not None:
                raw[total] = getattr(reading, total)
        return raw

    def reason(self) -> str:
        return self.reasons.reason()

    # -- checks ------------------------------------------------------------------------------

    def accept(self) -> None:
        """Check the values; emit ``amendConfirmed`` and close if they pass."""
        if not self.reasons.complete():
            return
        for row in self._rows:
            row.message.clear()
            restyle(row.edit, problem=False)
        self.general.clear()
        if all(row.edit.text() == row.original for row in self._rows):
            self.general.show_error("Nothing changed: correct a value, or Cancel.")
            return
        raw = self.raw()
        confirmed = self._confirmed_fields(raw)
        check = validate_reading(raw, confirmed=confirmed)
        if check.errors or check.needs_confirmation:
            self._show_problems(check.errors, check.needs_confirmation)
            return
        if not check.values:
            self.general.show_error("Enter at least one value. To take back the whole "
                                    "entry, void it instead.")
            return
        # Only confirmations that were needed go on: the service is told about the unusual
        # values, not about every value left as it was.
        needed = {request.field for request in validate_reading(raw).needs_confirmation}
        self.amendConfirmed.emit(raw, self.reason(), confirmed & needed)
        super().accept()

    def _show_problems(
        self, errors: Sequence[FieldError], requests: Sequence[FieldError]
    ) -> None:
        refused: dict[str, list[str]] = {}
        for error in errors:
            refused.setdefault(_FIELD_OF.get(error.field, error.field), []).append(error.message)
        for key, texts in refused.items():
            target = self._find(key)
            if target is None:
                self.general.show_error("\n".join(texts))
                continue
            target.message.show_error("\n".join(dict.fromkeys(texts)))
            restyle(target.edit, problem=True)
        asks: dict[str, list[FieldError]] = {}
        for request in requests:
            key = _FIELD_OF.get(request.field, request.field)
            if key not in refused:
                asks.setdefault(key, []).append(request)
        for key, fields in asks.items():
            target = self._find(key)
            if target is not None:
                target.message.show_confirm("\n".join(f.message for f in fields),
                                            target.edit.text(), [f.field for f in fields])
        shown = [row.message for row in self._rows if not row.message.isHidden()]
        if shown:
            self._scroll.ensureWidgetVisible(shown[0])

    def _confirm(self, row: _AmendRow) -> None:
        raw = self.raw()
        for field in row.message.pending:
            self._confirmed[field] = str(raw.get(field))
        row.message.show_note(f"{row.edit.text()} confirmed: tap Save amendment to keep it")

    def _confirmed_fields(self, raw: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            field for field, value in self._confirmed.items() if str(raw.get(field)) == value
        )

    # -- typing ------------------------------------------------------------------------------

    def _original(self, key: str) -> str | None:
        if key == "bp":
            reading = self.reading
            if reading.sbp is None or reading.dbp is None:
                return None
            return f"{reading.sbp}/{reading.dbp}"
        value = getattr(self.reading, key)
        return None if value is None else str(value)

    def _row(self, key: str) -> _AmendRow:
        row = self._find(key)
        if row is None:
            raise KeyError(f"this reading has no {key} to amend")
        return row

    def _find(self, key: str) -> _AmendRow | None:
        return next((row for row in self._rows if row.key == key), None)

    def _activate(self, row: _AmendRow) -> None:
        if self._active is not None:
            restyle(self._active.edit, active=False)
        self._active = row
        restyle(row.edit, active=True)
        self.keypad.set_target(row.edit, slash=row.key == "bp", max_length=row.max_length)
        self.keypad.set_text(row.edit.text(), replace_on_type=True)
        self._scroll.ensureWidgetVisible(row.edit)

    def _typed(self, _text: str) -> None:
        row = self._active
        if row is None:
            return
        # The value changed: its message and any confirmation of the old value go.
        row.message.clear()
        restyle(row.edit, problem=False)
        self.general.clear()

    def _next_field(self, _text: str) -> None:
        if self._active is None:
            return
        index = self._rows.index(self._active)
        if index + 1 < len(self._rows):
            self._activate(self._rows[index + 1])

    def _update(self) -> None:
        self.ok.setEnabled(self.reasons.complete())

