"""The latest-value rail: each measure's most recent value in large type, its age, its flag.

Beside the chart on the session screen (a column in landscape, a band of tiles above the
chart in portrait). For each measure it shows the last recorded value, how long ago it was
taken ("3 min ago", relative to the view's moment, not the wall clock, so a replayed view
reads as it did then) and, when an open flag concerns that measure, the worst such flag's
tier as icon + word + colour. The rail decides nothing: values come from the record and the
tiers from ``view.flags``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QWidget

from monitor.clinical.domain import Measure, Reading, Severity
from monitor.clinical.wording import MEASURE_NAMES
from monitor.service.board import ValueBadge, value_badge
from ui.common.labels import ago, bp_text, clock_time
from ui.common.style import tier_icon
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme, tier_style

if TYPE_CHECKING:
    from monitor.service.views import SessionView

ICON_PX = 28
#: Tiles per row when the rail lies across the top of a portrait screen.
HORIZONTAL_COLUMNS = 3


@dataclass(frozen=True)
class _Shown:
    """One measure of the rail: how to read its value from a reading, and its unit."""

    measure: Measure
    unit: str
    value: Callable[[Reading], str | None]
    #: Shown only once the session has recorded it (RR is optional).
    optional: bool = False


def _number(name: str) -> Callable[[Reading], str | None]:
    def read(reading: Reading) -> str | None:
        value = getattr(reading, name)
        return None if value is None else str(value)
    return read


SHOWN: tuple[_Shown, ...] = (
    _Shown(Measure.BP, "mmHg", bp_text),
    _Shown(Measure.HR, "/min", _number("hr")),
    _Shown(Measure.SPO2, "%", _number("spo2")),
    _Shown(Measure.RR, "/min", _number("rr"), optional=True),
    _Shown(Measure.CADSS6, "of 24", _number("cadss6")),
    _Shown(Measure.MOAAS, "of 5", _number("moaas")),
)


class ValueTile(QFrame):
    """One measure on the rail: name, age, value, unit and flag tier."""

    def __init__(self, theme: Theme, shown: _Shown, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.shown = shown
        self.setProperty("role", "card")
        self.name = QLabel(MEASURE_NAMES[shown.measure])
        self.name.setProperty("role", "field")
        self.age = QLabel()
        self.age.setProperty("role", "muted")
        self.age.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value = QLabel("–")
        self.value.setProperty("role", "value")
        self.unit = QLabel(shown.unit)
        self.unit.setProperty("role", "muted")
        self.unit.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.flag_icon = QLabel()
        self.flag_icon.setFixedSize(ICON_PX, ICON_PX)
        self.flag_word = QLabel()

        grid = QGridLayout(self)
        # Tight above and below: a landscape screen of 800 px has no height to spare.
        grid.setContentsMargins(12, 4, 12, 4)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.age, 0, 1)
        grid.addLayout(self._row(self.value, self.unit), 1, 0, 1, 2)
        # The flag row keeps its height when empty, so a tile does not jump when a flag
        # appears or is acknowledged.
        self.flag_icon.setMinimumHeight(ICON_PX + 4)
        grid.addLayout(self._row(self.flag_icon, self.flag_word), 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        # Never shorter than its contents: a set minimum height (48 px) overrode the
        # layout's, and under a tall header the tiles were squeezed until the values were
        # cut in half. The chart below gives way instead.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.show_value(None, None)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), TOUCH_MIN))

    @staticmethod
    def _row(first: QLabel, second: QLabel) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(first, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(second, 0, Qt.AlignmentFlag.AlignBottom)
        row.addStretch(1)
        return row

    def show_value(self, value: str | None, age: str | None,
                   badge: ValueBadge | None = None) -> None:
        """Show a value and its badge (:func:`monitor.service.board.value_badge`): the value's own
        tier, open or acknowledged, or an earlier reading's open flag with its time, when
        the value keeps its plain colour (a normal 130/82 must not look critical because
        228/118 at 09:50 still is open)."""
        self.value.setText(value if value is not None else "–")
        self.age.setText(age or "no reading")
        if badge is None:
            self.flag_icon.clear()
            self.flag_word.clear()
            self.flag_word.setMinimumHeight(0)
            self.value.setStyleSheet("")
            self.setStyleSheet("")
            return
        # On short lines: "CRITICAL · acknowledged" is wider than a tile five to a row, and
        # was cut to "CRITICAL · acknowledg".
        word = badge.stacked
        self._show_tier(badge.severity, word, colour_value=badge.value_tier is not None,
                        value_tier=badge.value_tier)

    def _show_tier(self, severity: Severity, word: str, *, colour_value: bool,
                   value_tier: Severity | None = None) -> None:
        style = tier_style(self.theme, severity)
        self.flag_icon.setPixmap(tier_icon(self.theme, severity, ICON_PX).pixmap(ICON_PX))
        self.flag_word.setText(word)
        # The tier colour changes with the data, so it is set here rather than through a
        # property of the app style sheet; the icon and the word carry the tier as well.
        self.flag_word.setStyleSheet(f"color: {style.colour}; font-weight: bold;"
                                     f"font-size: {TEXT_PX}px;")
        # Room for every line of the word ("CRITICAL" over "acknowledged"): the tile grows
        # rather than cut the second line when the header above it is tall.
        lines = word.count("\n") + 1
        self.flag_word.ensurePolished()
        self.flag_word.setMinimumHeight(lines * self.flag_word.fontMetrics().lineSpacing())
        value_colour = tier_style(self.theme, value_tier or severity).colour
        self.value.setStyleSheet(f"color: {value_colour};" if colour_value else "")
        width = 4 if severity is Severity.CRITICAL else 3
        self.setStyleSheet(f"ValueTile {{ border: {width}px solid {style.colour}; }}")


class ValueRail(QWidget):
    """The latest value of each measure, with its age and flag tier.

    Signals: none. Call :meth:`show_view` with each new view; :meth:`set_orientation`
    switches between a column (landscape) and rows of tiles (portrait).
    """

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.tiles = {shown.measure: ValueTile(theme, shown, self) for shown in SHOWN}
        #: Measures with a tile on the rail: all but the optional ones until recorded.
        self._present = {shown.measure for shown in SHOWN if not shown.optional}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)
        self._orientation = Qt.Orientation.Vertical
        self._columns = HORIZONTAL_COLUMNS
        self._place()

    def orientation(self) -> Qt.Orientation:
        return self._orientation

    def set_orientation(self, orientation: Qt.Orientation, columns: int | None = None) -> None:
        """Vertical: one column beside the chart. Horizontal: rows of ``columns`` tiles
        (default :data:`HORIZONTAL_COLUMNS`) above it."""
        columns = columns or HORIZONTAL_COLUMNS
        if orientation == self._orientation and columns == self._columns:
            return
        self._orientation = orientation
        self._columns = columns
        self._place()

    def _place(self) -> None:
        for measure, tile in self.tiles.items():
            self._grid.removeWidget(tile)
            tile.setVisible(measure in self._present)
        visible = [tile for measure, tile in self.tiles.items() if measure in self._present]
        columns = 1 if self._orientation == Qt.Orientation.Vertical else self._columns
        for index, tile in enumerate(visible):
            self._grid.addWidget(tile, index // columns, index % columns)
        for row in range(self._grid.rowCount()):
            self._grid.setRowStretch(row, 0)
        # In a column the tiles sit at the top and the space left over stays below them.
        self._grid.setRowStretch(self._grid.rowCount(), 1 if columns == 1 else 0)

    def show_view(self, view: SessionView) -> None:
        placement_changed = False
        latest_of = self._latest_values(view.record.readings)
        for shown in SHOWN:
            tile = self.tiles[shown.measure]
            latest = latest_of[shown.measure]
            if shown.optional and (latest is not None) != (shown.measure in self._present):
                self._present ^= {shown.measure}
                placement_changed = True
            reading, value = latest if latest is not None else (None, None)
            badge = value_badge(shown.measure, reading, view.flags,
                                view.current_levels.get(shown.measure))
            tile.show_value(value, _age(reading.time, view.at) if reading else None, badge)
        if placement_changed:
            self._place()


    def _latest_values(
        self, readings: Sequence[Reading]
    ) -> dict[Measure, tuple[Reading, str] | None]:
        """Each tile's latest reading and value. Kept from view to view while readings only
        follow the others, so a save in a long session looks at the new reading alone."""
        readings = sorted(readings, key=lambda r: r.time)
        kept = getattr(self, "_latest_kept", None)
        seen = 0
        latest: dict[Measure, tuple[Reading, str] | None] = {s.measure: None for s in SHOWN}
        if kept is not None:
            before, known = kept
            if (len(before) <= len(readings)
                    and all(map(operator.is_, readings[:len(before)], before))):
                seen, latest = len(before), dict(known)
        for reading in readings[seen:]:
            for shown in SHOWN:
                value = shown.value(reading)
                if value is not None:
                    latest[shown.measure] = (reading, value)
        self._latest_kept = (readings, latest)
        return latest


def _age(when: datetime, at: datetime) -> str:
    return f"{clock_time(when)} · {ago(when, at)}"
