"""A label of a fixed number of lines: longer text is elided, and whole in its tooltip.

For status lines whose text varies (the session header's notice): a word-wrapped label grows
with its text and moves everything below it; this one keeps its height.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def fit_lines(metrics: QFontMetrics, text: str, width: int, lines: int) -> list[str]:
    """``text`` wrapped at words into at most ``lines`` lines of ``width``, the last elided."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        rest = " ".join([out[-1], *words])
        out[-1] = metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)
    elif out and metrics.horizontalAdvance(out[-1]) > width:
        out[-1] = metrics.elidedText(out[-1], Qt.TextElideMode.ElideRight, width)
    return out


class ElidedLabel(QLabel):
    """Shows ``lines`` lines at most, always as tall as that; ``text()`` stays whole and the
    tooltip has it when it does not fit."""

    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = lines
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _height(self) -> int:
        margins = self.contentsMargins()
        return self.lines * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._height())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
        self.setFixedHeight(self._height())  # the style sheet may have changed the font

    def clear(self) -> None:
        super().clear()
        self.setToolTip("")

    def paintEvent(self, event: QPaintEvent) -> None:
        rect = self.contentsRect()
        metrics = self.fontMetrics()
        painter = QPainter(self)
        step = metrics.lineSpacing()
        for number, line in enumerate(fit_lines(metrics, self.text(), rect.width(), self.lines)):
            self.style().drawItemText(
                painter, QRect(rect.left(), rect.top() + number * step, rect.width(), step),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.palette(), self.isEnabled(), line, QPalette.ColorRole.WindowText)
        painter.end()
