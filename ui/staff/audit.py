"""The audit trail on screen, for clinicians and administrators.

Every change to the record, sign-in, lock, export and refusal is in the audit trail
(:mod:`monitor.storage.audit`), with the tablet it was made on. :class:`AuditScreen` lists
its entries newest first in a :class:`AuditModel` table and filters them by patient (MRN),
session, staff member, action and date. The screen only reads the filter the user typed
into an :class:`AuditFilter` (naming the field at fault when a date or session id cannot be
read); the window asks :meth:`monitor.service.clinic.ClinicService.audit_entries` and hands
the entries back. Until they come the count says "Loading…" (:meth:`show_loading`); the
filters keep what was typed whatever the answer.

Each change is shown whole, wrapped in its row, in words ("on oxygen: no", "checked on the
tablet's copy"). The list is in the trail's order (its sequence): a sign-in checked on the
tablet's copy during an outage reaches the trail later than it happened, so its time cell
says when it was entered ("(entered from the tablet's copy at 23:05)").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.service.views import ENTERED_AT, ON_TABLET_COPY
from ui.common.style import TouchButton
from ui.common.tables import Index, ReadOnlyTableModel
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import heading, kinetic, label

if TYPE_CHECKING:
    from monitor.service.auth import StaffInfo
    from monitor.service.views import AuditEntry

ALL = "All"


@dataclass(frozen=True)
class AuditFilter:
    """What the user asked to see; empty fields filter nothing."""

    mrn: str = ""
    session_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _values(values: Any) -> Any:
    if isinstance(values, str):
        try:
            return json.loads(values)
        except ValueError:
            return values
    return values


def _values_text(values: Any) -> str:
    values = _values(values)
    if values is None:
        return ""
    if isinstance(values, dict):
        # Empty values say nothing; stored names (escort_present) read as words; the
        # entered time of a sign-in from the tablet's copy is in the Time column.
        parts = []
        for key, value in values.items():
            if value in (None, "", [], {}) or key == ENTERED_AT:
                continue
            if key == ON_TABLET_COPY:
                parts.append("checked on the tablet's copy" if value is True
                             else f"{_words(key)}: {_words(value)}")
                continue
            parts.append(f"{_words(key)}: {_words(value)}")
        return "; ".join(parts)
    return str(values)


def _words(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    text = str(value)
    if isinstance(value, str) and _ISO_TIME.fullmatch(text):
        return f"{datetime.fromisoformat(text).astimezone():%Y-%m-%d %H:%M:%S}"
    return text.replace("_", " ") if isinstance(value, str) and " " not in text else text


#: A stored time ("2026-12-06T23:01:24+00:00"), shown as the tablet's local time.
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
#: Words longer than this (an id) get places to break, so a narrow column wraps them.
LONG_WORD = 16
_BREAK = "\u200b"


def breakable(text: str) -> str:
    """``text`` with a zero-width break every :data:`LONG_WORD` characters inside longer
    words: the cell wraps them instead of cutting them at its edge."""
    def split(word: re.Match[str]) -> str:
        token = word.group(0)
        return _BREAK.join(token[i:i + LONG_WORD] for i in range(0, len(token), LONG_WORD))
    return re.sub(rf"\S{{{LONG_WORD + 1},}}", split, text)


def entered_text(entry: AuditEntry) -> str:
    """"(entered from the tablet's copy at 23:05)" (on two lines) for a sign-in checked on
    the copy while the server was away: the trail lists by sequence, so it sits among the
    entries made when it reached the server, not at its own time. "" for any other entry."""
    new = _values(entry.new)
    if not isinstance(new, dict) or new.get(ON_TABLET_COPY) is not True:
        return ""
    try:
        entered = datetime.fromisoformat(str(new[ENTERED_AT]))
    except (KeyError, ValueError):
        return "(entered later from\nthe tablet's copy)"
    return f"(entered from the\ntablet's copy at {entered.astimezone():%H:%M})"


def change_text(entry: AuditEntry) -> str:
    """``sbp: 150 → sbp: 140``: the old values, an arrow, the new ones (what there is)."""
    old, new = _values_text(entry.old), _values_text(entry.new)
    if old and new:
        return f"{old} → {new}"
    return new or old


def parse_day(text: str, field: str) -> tuple[date | None, str | None]:
    """A ``YYYY-MM-DD`` date, or an error naming ``field``; empty text is no date."""
    text = text.strip()
    if not text:
        return None, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, f"{field}: a date as YYYY-MM-DD, e.g. 2026-03-02"


def local_midnight(day: date) -> datetime:
    """The start of ``day`` on the tablet's clock, as an aware time."""
    return datetime.combine(day, time()).astimezone()


class AuditModel(ReadOnlyTableModel["AuditEntry"]):
    """Audit entries, one per row: time, staff, the tablet, action, record and the change.

    Signals: only those of :class:`QAbstractTableModel`.
    """

    HEADERS: ClassVar[tuple[str, ...]] = ("Time", "Staff", "Tablet", "Action", "Record",
                                          "Change")
    TIME, STAFF, TABLET, ACTION, RECORD, CHANGE = range(6)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The tablet on a second line of the staff cell (portrait: its column is hidden).
        self.tablet_under_staff = False

    def set_entries(self, entries: Sequence[AuditEntry]) -> None:
        self._reset_rows(entries)

    def set_tablet_under_staff(self, under: bool) -> None:
        if under != self.tablet_under_staff:
            self.beginResetModel()
            self.tablet_under_staff = under
            self.endResetModel()

    def entry(self, row: int) -> AuditEntry:
        return self._rows[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        entry = self._row(index)
        if entry is None or not 0 <= index.column() < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole and index.column() == self.CHANGE:
            return breakable(self._text(entry, index.column()))
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(entry, index.column())
        return None

    def _text(self, entry: AuditEntry, column: int) -> str:
        if column == self.TIME:
            entered = entered_text(entry)
            at = f"{entry.at.astimezone():%Y-%m-%d %H:%M:%S}"
            return f"{at}\n{entered}" if entered else at
        if column == self.STAFF:
            if self.tablet_under_staff and entry.tablet:
                return f"{entry.staff_name or '—'}\n{entry.tablet}"
            return entry.staff_name or "—"
        if column == self.TABLET:
            # None for the command line and for entries from before tablets had names.
            return entry.tablet or "—"
        if column == self.ACTION:
            return str(entry.action).replace("_", " ")
        if column == self.RECORD:
            if entry.record_id is None:
                return entry.record_kind or ""
            return f"{entry.record_kind} {str(entry.record_id)[:8]}".strip()
        return change_text(entry)


def _combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setMinimumHeight(TOUCH_MIN)
    combo.setMinimumWidth(160)
    return combo


class AuditScreen(QWidget):
    """Filters over a table of audit entries.

    Signals:
        filterRequested(object): an :class:`AuditFilter` to apply (the caller loads entries
            and calls :meth:`show_entries`).
        back(): leave the audit trail.
    """

    filterRequested = Signal(object)
    back = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.model = AuditModel(self)

        self.back_button = TouchButton("Back")
        self.back_button.setObjectName("audit-back")
        self.back_button.clicked.connect(self.back)
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(heading("Audit trail"), 1)

        self.mrn = self._field("audit-mrn", "Patient MRN")
        self.session = self._field("audit-session", "Session id")
        self.since = self._field("audit-since", "From YYYY-MM-DD")
        self.until = self._field("audit-until", "To YYYY-MM-DD")
        self.staff = _combo("audit-staff")
        self.action = _combo("audit-action")
        self.staff.addItem(ALL, None)
        self.action.addItem(ALL, None)
        self.apply_button = TouchButton("Show")
        self.apply_button.setObjectName("audit-apply")
        self.apply_button.setProperty("primary", True)
        self.apply_button.clicked.connect(self.apply)
        self.clear_button = TouchButton("Clear filters")
        self.clear_button.setObjectName("audit-clear")
        self.clear_button.clicked.connect(self.clear_filters)
        self.filters = QGridLayout()
        self.filters.setHorizontalSpacing(10)
        self.filters.setVerticalSpacing(6)
        self._filter_widgets: list[tuple[str, QWidget]] = [
            ("Patient", self.mrn), ("Session", self.session), ("Staff", self.staff),
            ("Action", self.action), ("From", self.since), ("To", self.until),
        ]
        self._captions = {text: label(text, "field") for text, _widget in self._filter_widgets}
        self._columns = 0
        self.set_orientation(Qt.Orientation.Horizontal)

        self.message = label("", "error")
        self.message.setObjectName("audit-message")
        self.count = label("", "muted")
        self.count.setObjectName("audit-count")
        #: What the count said for the entries shown (back after a failed read).
        self._count_text = ""
        self.table = QTableView()
        self.table.setObjectName("audit-table")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # The change wraps in its column, whole (nothing cut with "…"); rows grow to it.
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setMinimumSectionSize(TOUCH_MIN)
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(AuditModel.CHANGE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumHeight(TOUCH_MIN)
        kinetic(self.table.viewport())

        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 14)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addLayout(self.filters)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.message.hide()

    # -- public API ------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Filters in three columns in landscape, two in portrait; in portrait the tablet
        goes under the staff member's name, leaving the change its room."""
        portrait = orientation == Qt.Orientation.Vertical
        self.model.set_tablet_under_staff(portrait)
        table = getattr(self, "table", None)  # None while the screen is being built
        if table is not None:
            table.setColumnHidden(AuditModel.TABLET, portrait)
        columns = 2 if portrait else 3
        if columns == self._columns:
            return
        self._columns = columns
        while self.filters.count():
            self.filters.takeAt(0)
        for index, (text, widget) in enumerate(self._filter_widgets):
            row, column = divmod(index, columns)
            self.filters.addWidget(self._captions[text], row, 2 * column)
            self.filters.addWidget(widget, row, 2 * column + 1)
        for column in range(6):
            self.filters.setColumnStretch(column, 1 if column % 2 else 0)

    def set_staff(self, staff: Sequence[StaffInfo]) -> None:
        """The staff members the filter offers (disabled ones too: their entries remain)."""
        current = self.staff.currentData()
        self.staff.clear()
        self.staff.addItem(ALL, None)
        for person in staff:
            self.staff.addItem(person.name, person.id)
        self.staff.setCurrentIndex(max(0, self.staff.findData(current)))

    def set_actions(self, actions: Sequence[str]) -> None:
        """The action names the filter offers."""
        current = self.action.currentData()
        self.action.clear()
        self.action.addItem(ALL, None)
        for action in sorted(set(actions)):
            self.action.addItem(action.replace("_", " "), action)
        self.action.setCurrentIndex(max(0, self.action.findData(current)))

    def show_entries(self, entries: Sequence[AuditEntry], *, limit: int | None = None) -> None:
        self.model.set_entries(entries)
        more = " (the newest; narrow the filter for older ones)" \
            if limit is not None and len(entries) >= limit else ""
        self._count_text = f"{len(entries)} entries{more}"
        self.count.setText(self._count_text)
        self.show_error("")

    def show_loading(self) -> None:
        """Entries are being read: the count says so (the rows shown stay until then)."""
        self.count.setText("Loading…")

    def show_error(self, text: str) -> None:
        """Why the filter shows nothing new; the count is the entries' shown again."""
        self.count.setText(self._count_text)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def current_filter(self) -> AuditFilter | None:
        """The filter as typed, or None after showing which field cannot be read."""
        session_id = None
        if self.session.text().strip():
            try:
                session_id = uuid.UUID(self.session.text().strip())
            except ValueError:
                self.show_error("Session: the session id in full (32 hexadecimal digits)")
                return None
        since, problem = parse_day(self.since.text(), "From")
        until, problem_to = parse_day(self.until.text(), "To")
        problem = problem or problem_to
        if problem is None and since and until and until < since:
            problem = "To: on or after the From date"
        if problem is not None:
            self.show_error(problem)
            return None
        return AuditFilter(
            mrn=self.mrn.text().strip(),
            session_id=session_id,
            staff_id=self.staff.currentData(),
            action=self.action.currentData(),
            since=local_midnight(since) if since else None,
            until=local_midnight(until + timedelta(days=1)) if until else None,
        )

    def apply(self) -> None:
        chosen = self.current_filter()
        if chosen is not None:
            self.show_error("")
            self.filterRequested.emit(chosen)

    def clear_filters(self) -> None:
        for field in (self.mrn, self.session, self.since, self.until):
            field.clear()
        self.staff.setCurrentIndex(0)
        self.action.setCurrentIndex(0)
        self.apply()

    def _field(self, name: str, placeholder: str) -> QLineEdit:
        field = QLineEdit()
        field.setObjectName(name)
        field.setPlaceholderText(placeholder)
        field.setMinimumHeight(TOUCH_MIN)
        field.returnPressed.connect(self.apply)
        return field
