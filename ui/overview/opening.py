"""The overview's answer to a tap on a chair while the chair opens: "Opening chair 2…".

Opening a chair reads the chair and its session (in the background with the clinic's
server; a silent server makes that take seconds). :class:`OpeningNotice` lays a band with
those words across the tapped tile at once, so the tap is seen to be answered; the window
ignores further taps on the overview until the chair opens or fails, and then clears it.
It is a label over the tile (a child of it), so the tile's own contents and layout do not
move, and the overview's tick goes on redrawing the tiles beneath it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

from ui.common.theme import TEXT_PX, Theme


def opening_text(chair: str) -> str:
    return f"Opening chair {chair}…"


class OpeningNotice(QObject):
    """The "Opening chair N…" band over one tile at a time (none: :meth:`clear`)."""

    def __init__(self, theme: Theme, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.label: QLabel | None = None
        self.chair: str | None = None

    def show(self, chair: str, tile: QWidget) -> None:
        """Say at once that ``chair`` (its ``tile``) is being opened."""
        self.clear()
        label = QLabel(opening_text(chair), tile)
        label.setObjectName("opening-chair")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet(
            f"QLabel#opening-chair {{ background: {self.theme.accent}; "
            f"color: {self.theme.accent_text}; font-size: {TEXT_PX + 4}px; "
            "font-weight: bold; border-radius: 8px; }")
        # Taps go through to the tile (the window ignores them while the chair opens).
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label, self.chair = label, chair
        self._place(tile)
        tile.installEventFilter(self)
        label.show()
        label.raise_()
        label.repaint()  # seen before a read that waits on this thread

    def clear(self) -> None:
        if self.label is not None:
            tile = self.label.parentWidget()
            if tile is not None:
                tile.removeEventFilter(self)
            self.label.hide()
            self.label.deleteLater()
        self.label, self.chair = None, None

    def text(self) -> str:
        return self.label.text() if self.label is not None else ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self._place(watched)
        return False

    def _place(self, tile: QWidget) -> None:
        """A band across the middle of the tile, the tile's width less its margins."""
        if self.label is None:
            return
        height = max(TEXT_PX * 3, self.label.sizeHint().height())
        self.label.setGeometry(12, max(0, (tile.height() - height) // 2),
                               max(0, tile.width() - 24), height)
