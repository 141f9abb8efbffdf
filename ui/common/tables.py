"""Shared table-model plumbing for the read-only list models (flags, history).

:class:`ReadOnlyTableModel` holds a flat list of rows and answers the parts of
:class:`QAbstractTableModel` that do not depend on what a row is: row and column counts
(none under a valid parent, as for any flat table) and the horizontal header texts from
``HEADERS``. Subclasses set ``HEADERS``, fill ``_rows`` between ``beginResetModel`` and
``endResetModel`` (see :meth:`_reset_rows`) and implement ``data``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

Index = QModelIndex | QPersistentModelIndex

RowT = TypeVar("RowT")


class ReadOnlyTableModel(QAbstractTableModel, Generic[RowT]):
    """A flat, read-only table of ``RowT`` rows with one column per entry of ``HEADERS``.

    Signals: only those of :class:`QAbstractTableModel`; :meth:`_reset_rows` resets the model.
    """

    HEADERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RowT] = []

    def _reset_rows(self, rows: Iterable[RowT]) -> None:
        """Replace every row, as one model reset."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def _row(self, index: Index) -> RowT | None:
        """The row behind ``index``, or None for an invalid or out-of-range index."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt API
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None
