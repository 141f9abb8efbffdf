"""A session's flags under two protocols, side by side, for the review opened from a what-if.

:func:`flag_differences` (Qt-free) lists every flag either protocol raises, each marked with
the side that raises it; :class:`WhatIfFlagsModel` shows them in the review's "What-if" tab:
the time and measure, then the tier under the version the session ran under and the tier
under the draft, "—" where that side raises none (so the difference shows without relying
on colour); a row only one side raises is drawn bold in that side's colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from monitor.clinical.domain import Measure, Severity
from ui.common.labels import clock_time
from ui.common.style import tier_icon
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import Theme

if TYPE_CHECKING:
    from monitor.service.whatif import ChangedSession

Index = QModelIndex | QPersistentModelIndex

#: The icon beside a tier.
ICON_PX = 24

BOTH, BEFORE_ONLY, AFTER_ONLY = "both", "ran under only", "draft only"


@dataclass(frozen=True, slots=True)
class FlagDifference:
    """One flag of a changed session and the side(s) that raise it."""

    time: datetime
    measure: Measure
    severity: Severity
    before: bool
    after: bool

    @property
    def side(self) -> str:
        if self.before and self.after:
            return BOTH
        return BEFORE_ONLY if self.before else AFTER_ONLY


def flag_differences(changed: ChangedSession) -> list[FlagDifference]:
    """Every flag of a changed session on either side, in time order."""
    before, after = set(changed.before), set(changed.after)
    keys = sorted(before | after, key=lambda f: (f[2], f[0].value, f[1]))
    return [FlagDifference(time, measure, severity, (measure, severity, time) in before,
                           (measure, severity, time) in after)
            for measure, severity, time in keys]


class WhatIfFlagsModel(ReadOnlyTableModel[FlagDifference]):
    """Time, measure, the tier under the version it ran under, under the draft, and which."""

    TIME, MEASURE, BEFORE, AFTER = range(4)
    HEADERS: ClassVar[tuple[str, ...]] = ("Time", "Measure", "Ran under", "Draft")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._icons = {severity: tier_icon(theme, severity, ICON_PX) for severity in Severity}

    def set_differences(self, rows: list[FlagDifference]) -> None:
        self._reset_rows(rows)

    def differences(self) -> list[FlagDifference]:
        return list(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None:
            return None
        column = index.column()
        shown = {self.BEFORE: row.before, self.AFTER: row.after}
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.TIME:
                return clock_time(row.time)
            if column == self.MEASURE:
                return row.measure.value.upper()
            return row.severity.label.capitalize() if shown[column] else "—"
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.side
        if role == Qt.ItemDataRole.DecorationRole and shown.get(column):
            return self._icons[row.severity]
        if role == Qt.ItemDataRole.ForegroundRole and row.side != BOTH:
            return QColor(self.theme.warning if row.side == AFTER_ONLY else self.theme.accent)
        if role == Qt.ItemDataRole.FontRole and row.side != BOTH:
            font = QFont()
            font.setBold(True)
            return font
        return None
