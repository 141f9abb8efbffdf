"""The tables of a session read back: its readings, everything done on its record with who
did it, and its discharge record in words.

Qt models over a :class:`~monitor.service.clinic.SessionView` as it stood at one moment, and
the read-only touch table that shows them (:class:`ui.review.session.SessionReviewScreen`).
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QWidget,
)

from monitor.clinical.domain import EventKind, Reading
from monitor.clinical.wording import EVENT_NAMES, criterion_name
from ui.common.labels import bp_text, clock_time
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import TEXT_PX, Theme
from ui.common.widgets import kinetic
from ui.session.history.entries import history_entries, reading_values

if TYPE_CHECKING:
    from monitor.service.views import SessionView

ROW_PX = 48
#: The tier icon before a flag's tier word (ui.session.flags draws it this size).
FLAG_ICON_PX = 32
#: Room either side of a cell's text.
CELL_PAD_PX = 12
#: The readings and flags tables': many columns beside the chart.
NARROW_PAD_PX = 6

Index = QModelIndex | QPersistentModelIndex


def other_values(reading: Reading) -> str:
    """"Nausea 2 · PHQ-9 15 · note: …": what a reading holds beyond the vitals and the
    CADSS-6 and MOAA/S columns."""
    named = (("Nausea", reading.nausea), ("Anxiety", reading.anxiety), ("Pain", reading.pain),
             ("PHQ-9", reading.phq9), ("GAD-7", reading.gad7))
    parts = [f"{name} {value}" for name, value in named if value is not None]
    if reading.note:
        parts.append(f"note: {reading.note}")
    return " · ".join(parts)


@dataclass(frozen=True)
class _ReadingRow:
    reading: Reading
    effective: bool
    status: str


class ReadingsModel(ReadOnlyTableModel[_ReadingRow]):
    """Every reading of the view, oldest first, voided and amended ones included (struck
    through, with the correction in words in the status column).

    Signals: only those of :class:`QAbstractTableModel`; :meth:`set_view` resets the model.
    """

    TIME, BP, HR, SPO2, RR, CADSS6, MOAAS, OTHER, BY, STATUS = range(10)
    HEADERS: ClassVar[tuple[str, ...]] = (
        "Time", "BP", "HR", "SpO2", "RR", "CADSS-6", "MOAA/S", "Other", "Entered by",
        "Status")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme

    def set_view(self, view: SessionView) -> None:
        rows = [_ReadingRow(e.reading, e.effective, e.status)
                for e in history_entries(view) if e.reading is not None]
        rows.sort(key=lambda r: (r.reading.time, not r.effective))
        self._reset_rows(rows)

    def readings(self) -> list[tuple[Reading, bool]]:
        """``(reading, effective)`` of every row, in order."""
        return [(r.reading, r.effective) for r in self._rows]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.FontRole and not row.effective:
            font = QFont()
            font.setPixelSize(TEXT_PX)
            font.setStrikeOut(column != self.STATUS)
            font.setBold(column == self.STATUS)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            muted = not row.effective and column != self.STATUS
            return QColor(self.theme.text_muted if muted else self.theme.text)
        return None

    def _text(self, row: _ReadingRow, column: int) -> str:
        r = row.reading
        if column == self.TIME:
            # "(late)" on a line of its own, so the column stays narrow enough for every
            # value column to be on screen.
            late = "\n(late)" if r.is_late_entry else ""
            return clock_time(r.time) + late
        if column == self.BY:
            return r.by
        if column == self.STATUS:
            return row.status
        if column == self.OTHER:
            return other_values(r)
        value: object = {
            self.BP: bp_text(r), self.HR: r.hr, self.SPO2: r.spo2, self.RR: r.rr,
            self.CADSS6: r.cadss6, self.MOAAS: r.moaas,
        }[column]
        if value is None:
            return ""
        if column == self.SPO2 and r.on_oxygen:
            return f"{value}\non O2"
        return str(value)


@dataclass(frozen=True)
class Activity:
    """One thing done on the record: when it was done, by whom, and what."""

    time: datetime
    who: str
    what: str


def activities(view: SessionView) -> list[Activity]:
    """Everything done on the record up to the view's moment, oldest first: each entry at
    the time it was entered, each acknowledgement, correction and signature."""
    done: list[Activity] = []
    for reading in (*view.record.readings, *view.superseded_readings):
        when = reading.recorded_at or reading.time
        late = f" (describes {clock_time(reading.time)})" if reading.is_late_entry else ""
        done.append(Activity(when, reading.by, f"Reading {reading_values(reading)}{late}"
                             f"{_kept(view, reading.id)}"))
    for event in (*view.record.events, *view.superseded_events):
        when = event.recorded_at or event.time
        detail = f": {event.detail}" if event.detail else ""
        done.append(Activity(when, event.by, f"{EVENT_NAMES.get(event.kind, event.kind)}"
                             f"{detail}{_kept(view, event.id)}"))
    messages = {f.id: f.message for f in (*view.flags, *view.superseded_flags)}
    for ack in view.record.acknowledgements:
        note = f" — {ack.note}" if ack.note else ""
        flag = messages.get(ack.flag_id, "a flag")
        done.append(Activity(ack.time, ack.by, f"Acknowledged {flag}: {ack.action}{note}"))
    for correction in view.corrections:
        word = "Voided" if correction.action == "void" else "Amended"
        done.append(Activity(correction.time, correction.by,
                             f"{word} {correction.target_kind}: {correction.reason}"))
    for signature in view.signatures:
        state = "" if signature.valid else " — SUPERSEDED (the record changed after signing)"
        done.append(Activity(signature.signed_at,
                             f"{signature.signer_name} ({signature.signer_role})",
                             f"Signed: {signature.meaning}{state}"))
    done.sort(key=lambda a: a.time)
    return done


def _kept(view: SessionView, entry_id: uuid.UUID) -> str:
    """" (kept on tablet Room-1, reached the server 23:02)" for an entry a tablet kept
    through an outage (listed at the time it was entered there), else ""."""
    receipt = view.reached_server.get(entry_id)
    if receipt is None:
        return ""
    tablet = f"tablet {receipt.tablet}" if receipt.tablet else "a tablet"
    return f" (kept on {tablet}, reached the server {clock_time(receipt.at)})"


class ActivityModel(ReadOnlyTableModel[Activity]):
    """Who did what on the record, oldest first.

    Signals: only those of :class:`QAbstractTableModel`; :meth:`set_view` resets the model.
    """

    TIME, WHO, WHAT = range(3)
    HEADERS: ClassVar[tuple[str, ...]] = ("Time", "Who", "What")

    def set_view(self, view: SessionView) -> None:
        self._reset_rows(activities(view))

    def activities(self) -> list[Activity]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None or role not in (Qt.ItemDataRole.DisplayRole,
                                       Qt.ItemDataRole.ToolTipRole):
            return None
        return (clock_time(row.time), row.who, row.what)[index.column()]


def touch_table(model: ReadOnlyTableModel[Any], name: str,
           widest: dict[int, str] | None = None, *, icon_column: int | None = None,
           pad: int = CELL_PAD_PX) -> QTableView:
    """A read-only touch table over ``model``. Column widths are set once from the header
    and the ``widest`` text expected in each column (measuring every row's contents on each
    change would cost more than the rest of opening a session), ``pad`` either side; the
    last one stretches. Text broken by hand ("23:00\\n(late)") is measured by its lines."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(ROW_PX)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setMinimumSectionSize(48)
    font = QFont()
    font.setPixelSize(TEXT_PX)
    metrics = QFontMetrics(font)
    for column, title in enumerate(model.HEADERS):
        sample = (widest or {}).get(column, title)
        width = max(metrics.horizontalAdvance(line)
                    for line in (*title.splitlines(), *sample.splitlines()))
        width += FLAG_ICON_PX + 8 if column == icon_column else 0
        header.resizeSection(column, width + 2 * pad)
    table.setWordWrap(False)
    kinetic(table.viewport())
    return table


#: Where a wrapped cell may break a line: spaces, and after a slash ("loudly/repeatedly").
_WORDS = re.compile(r"\s+|(?<=/)")


class ShareTheRest(QObject):
    """Gives each of the ``floors`` columns (their text wraps) the width of its longest
    word (or its floor word), so a wrapped word ("acknowledged") is never cut, and shares
    what the other columns leave beyond that between them, whenever ``table`` is resized
    (call :meth:`share` when the rows change)."""

    def __init__(self, table: QTableView, floors: dict[int, str], *,
                 pad: int = CELL_PAD_PX) -> None:
        super().__init__(table)
        self.table = table
        self.floors = floors
        self.pad = pad
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        for column in floors:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        table.viewport().installEventFilter(self)
        self.share()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.Polish):
            self.share()
        return False

    def share(self) -> None:
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c not in self.floors and not header.isSectionHidden(c))
        metrics = self.table.fontMetrics()  # the themed font, once the table is polished
        model = self.table.model()
        floors = {}
        for column, word in self.floors.items():
            # The longest word shown in the column (a few rows: flags) or the floor word.
            words = [word] + [part for row in range(model.rowCount())
                              for part in _WORDS.split(str(model.index(row, column).data()))]
            floors[column] = max(metrics.horizontalAdvance(w) for w in words) + 2 * self.pad
        spare = max(0, self.table.viewport().width() - others - sum(floors.values()))
        each = spare // max(1, len(floors))
        for column, floor in floors.items():
            header.resizeSection(column, floor + each)
        # A hidden column can keep its place after a resize here: hide it again.
        for column in range(header.count()):
            if header.isSectionHidden(column):
                header.setSectionHidden(column, False)
                header.setSectionHidden(column, True)
        # Rows grow to the wrapped text at the new widths.
        self.table.resizeRowsToContents()


def discharge_html(view: SessionView, theme: Theme) -> str:
    """The discharge record in words: each criterion met or not and why, the scores, the
    sign-off or override, and the signatures. Everything from the record is escaped (a
    reason is free text)."""
    t = theme
    d = view.discharge
    lines = [f"<h3>{'Ready for discharge' if d.ready else 'Not ready for discharge'}"
             f" (as of {clock_time(view.at)})</h3>"]
    for c in d.criteria:
        mark = "✔ met" if c.met else "✘ NOT met"
        colour = t.ok if c.met else t.critical
        lines.append(f'<p><b style="color:{colour}">{mark}</b> — '
                     f"<b>{_esc(criterion_name(c.id, view.protocol))}</b>: {_esc(c.detail)}</p>")
    for score in (d.aldrete, d.padss):
        passed = "passes" if score.passed else "does not pass"
        if not score.complete:
            passed = f"does not pass, {score.verdict}"
        lines.append(f"<p><b>{_esc(score.name)}</b> {score.total} of {score.max_total} "
                     f"({_esc(passed)}; {score.passing} needed)</p>")
    if d.would_have_been_ready_at is not None:
        lines.append(f"<p>Would have been ready (without the minimum stay) at "
                     f"{clock_time(d.would_have_been_ready_at)}</p>")
    closing = [e for e in view.record.events
               if e.kind in (EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE)]
    for event in closing:
        by = f" by {_esc(event.by)}" if event.by else ""
        if event.kind is EventKind.DISCHARGE_OVERRIDE:
            lines.append(f"<p><b>Clinician override</b> {clock_time(event.time)}{by}. "
                         f"Reason: {_esc(event.detail)}</p>")
        else:
            lines.append(f"<p><b>Discharge signed</b> {clock_time(event.time)}{by}. "
                         f"{_esc(event.detail)}</p>")
    if not closing:
        lines.append("<p><b>Not discharged</b> at this moment.</p>")
    signatures = view.signatures
    if signatures:
        lines.append("<h3>Signatures</h3>")
    for s in signatures:
        state = ("valid" if s.valid
                 else f'<b style="color:{t.warning}">SUPERSEDED</b>: the record changed '
                 "after signing")
        lines.append(f"<p><b>{_esc(s.meaning)}</b> — {_esc(s.signer_name)} "
                     f"({_esc(s.signer_role)}), {clock_time(s.signed_at)}; {state}</p>")
    return "".join(lines)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
