"""Small widgets and helpers shared by the screens and dialogs.

:class:`FieldMessage` is the feedback line under a form field (check-in, reading entry,
amend dialog): a refusal, an unusual value waiting for its "Confirm <value>" tap, or a
note, each with its icon. :class:`KeypadField` is a value field the built-in keypad writes.
:func:`label` and :func:`heading` make the text labels every screen shows.
:func:`kinetic` lets a finger flick a scrolling viewport.
:func:`restyle` re-polishes a widget after a style-sheet property changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QScroller,
    QScrollerProperties,
    QSizePolicy,
    QWidget,
)

from monitor.clinical.domain import Severity
from ui.common.style import KEY_MIN, TouchButton, icon, tier_icon
from ui.common.theme import TEXT_PX, Theme

#: Size of a field message's icon.
MESSAGE_ICON_PX = 28
#: A screen's title: bigger than any role of the app sheet.
HEADING_PX = TEXT_PX + 10


def label(text: str = "", role: str | None = None, *, wrap: bool = True) -> QLabel:
    """A text label styled by the app sheet's ``role`` ("field", "muted", "error", …).

    It wraps by default, so a long sentence never widens its column; ``wrap=False`` for a
    value or a name that must stay on one line.
    """
    shown = QLabel(text)
    if role is not None:
        shown.setProperty("role", role)
    shown.setWordWrap(wrap)
    return shown


def icon_beside(word: QLabel, icon_px: int, *, spacing: int = 4) -> tuple[QWidget, QLabel]:
    """``word`` with an icon of ``icon_px`` before it, as one widget (a tier is icon + word
    + colour); returns the widget and the icon's label, whose pixmap the caller sets."""
    row = QWidget()
    icon_label = QLabel()
    icon_label.setFixedSize(icon_px, icon_px)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(spacing)
    layout.addWidget(icon_label, 0, Qt.AlignmentFlag.AlignTop)
    layout.addWidget(word, 1)
    return row, icon_label


def heading(text: str, *, px: int = HEADING_PX) -> QLabel:
    """A bold title of ``px`` pixels, set on the label itself: no role of the app sheet is
    that big."""
    shown = QLabel(text)
    shown.setWordWrap(True)
    shown.setStyleSheet(f"QLabel {{ font-size: {px}px; font-weight: bold; }}")
    return shown


def kinetic(viewport: QWidget) -> None:
    """Let a finger flick ``viewport``'s contents (QScroller), with taps passed on at once.

    By default QScroller holds a press back for 0.25 s to see whether a flick starts, and
    then re-sends it to whatever widget is under the finger at that screen position. Passed on
    at once, a tap is felt immediately and reaches its button even where the screen position
    cannot be looked up (the offscreen platform's screen is smaller than a tablet's); a flick
    that starts on a button still cancels that button's press.
    """
    QScroller.grabGesture(viewport, QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    scroller = QScroller.scroller(viewport)
    properties = scroller.scrollerProperties()
    properties.setScrollMetric(QScrollerProperties.ScrollMetric.MousePressEventDelay, 0)
    scroller.setScrollerProperties(properties)


def restyle(widget: QWidget, **properties: object) -> None:
    """Set style-sheet properties and re-polish, so the sheet sees the new values."""
    for name, value in properties.items():
        widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class FittedLabel(QLabel):
    """A wrapped label that keeps its whole text within ``max_height``: a text that would
    need more lines is drawn in a smaller font (down to ``min_px``), never cut off.

    The style sheet's font size is the starting point; only a text too long for the room
    is made smaller.
    """

    def __init__(self, max_height: int, *, min_px: int = 13,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._max_height = max_height
        self._min_px = min_px
        self.setMaximumHeight(max_height)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.width()
        if width <= 0 or not self.text():
            return
        if self.styleSheet():
            self.setStyleSheet("")  # back to the style sheet's size to measure from
        self.ensurePolished()
        font = QFont(self.font())
        start = font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 4 / 3)
        px = start  # a font already below the smallest size is kept as it is
        for px in range(start, self._min_px - 1, -1):
            font.setPixelSize(px)
            needed = QFontMetrics(font).boundingRect(
                QRect(0, 0, width, 10 * self._max_height),
                int(Qt.TextFlag.TextWordWrap), self.text()).height()
            if needed <= self._max_height:
                break
        if px != start:
            self.setStyleSheet(f"font-size: {px}px;")


class FieldMessage(QWidget):
    """Feedback under one field: icon + text, and a "Confirm <value>" button for an unusual
    value. Hidden until something is shown; :meth:`text` is "" while hidden.

    ``confirm`` is the button to use (the caller sets its object name and focus policy); by
    default a plain "Confirm" :class:`TouchButton`. ``marked``, if given, is the field
    outlined (style-sheet property ``problem``) while a refusal shows. The button goes
    under the text, not beside it, so a narrow column keeps its words. With
    ``text_height`` the words never take more height than that: a long text is drawn
    smaller (:class:`FittedLabel`), whole.

    Signals:
        confirmClicked(): the nurse tapped "Confirm <value>".
    """

    confirmClicked = Signal()

    def __init__(
        self,
        theme: Theme,
        confirm: QPushButton | None = None,
        *,
        marked: QWidget | None = None,
        margins: tuple[int, int, int, int] = (0, 0, 0, 0),
        expand_text: bool = True,
        text_height: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.theme = theme
        #: The widget outlined while this message shows a refusal.
        self.marked = marked
        #: Fields (as in ``FieldError.field``) the visible "Confirm" button would confirm.
        self.pending: tuple[str, ...] = ()
        self._icon = QLabel()
        self._icon.setFixedSize(MESSAGE_ICON_PX, MESSAGE_ICON_PX)
        self._text: QLabel = (QLabel() if text_height is None
                              else FittedLabel(text_height))
        self._text.setWordWrap(True)
        if expand_text:
            self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._confirm = confirm if confirm is not None else TouchButton("Confirm")
        self._confirm.setProperty("confirm", True)
        self._confirm.clicked.connect(self.confirmClicked)
        layout = QGridLayout(self)
        layout.setContentsMargins(*margins)
        layout.setHorizontalSpacing(6)
        layout.addWidget(self._icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._text, 0, 1)
        layout.addWidget(self._confirm, 1, 1, Qt.AlignmentFlag.AlignLeft)
        layout.setColumnStretch(1, 1)
        self.hide()

    def text(self) -> str:
        return "" if self.isHidden() else self._text.text()

    def confirm_button(self) -> QPushButton:
        return self._confirm

    def is_error(self) -> bool:
        """Whether a refusal shows (its field outlined)."""
        return not self.isHidden() and self._text.property("role") == "error"

    def show_error(self, text: str) -> None:
        """A refusal: critical icon, the field outlined, no "Confirm"."""
        self._show(text, "error", tier_icon(self.theme, Severity.CRITICAL, MESSAGE_ICON_PX))
        self._mark_field(problem=True)

    def show_confirm(self, text: str, value_text: str, fields: Iterable[str] = (), *,
                     button_text: str | None = None) -> None:
        """An unusual value: warning icon and "Confirm ``value_text``" (or ``button_text``)
        for ``fields``."""
        self._show(text, "confirm", tier_icon(self.theme, Severity.WARNING, MESSAGE_ICON_PX))
        self.pending = tuple(fields)
        self._confirm.setText(button_text or f"Confirm {value_text}")
        self._confirm.show()
        self._mark_field(problem=False)

    def show_note(self, text: str) -> None:
        """A muted note with the "ok" icon (e.g. that a value was confirmed)."""
        self._show(text, "muted", icon(self.theme, "ok", MESSAGE_ICON_PX))
        self._mark_field(problem=False)

    def clear(self) -> None:
        self.hide()
        self.pending = ()
        self._mark_field(problem=False)

    def _show(self, text: str, role: str, shown: QIcon) -> None:
        self.pending = ()
        self._confirm.hide()
        self._icon.setPixmap(shown.pixmap(MESSAGE_ICON_PX, MESSAGE_ICON_PX))
        self._text.setText(text)
        restyle(self._text, role=role)
        self.show()

    def _mark_field(self, *, problem: bool) -> None:
        if self.marked is not None and bool(self.marked.property("problem")) != problem:
            restyle(self.marked, problem=problem)


class KeypadField(QLineEdit):
    """A read-only value field: the built-in keypad writes it, a tap makes it the target.

    Read-only so that the operating system's keyboard never pops up over the keypad.
    ``widest`` is the widest value it must show whole ("300/200"); ``frame`` the padding and
    border beside the text; ``max_width`` keeps right-aligned numbers near their label.

    Signals:
        tapped(): the field was touched.
    """

    tapped = Signal()

    def __init__(self, name: str, widest: str, *, frame: int,
                 max_width: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._widest = widest
        self._frame = frame
        self.setObjectName(name)
        self.setReadOnly(True)
        self.setProperty("value", True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if max_width is not None:
            self.setMaximumWidth(max_width)

    def minimumSizeHint(self) -> QSize:
        # Wide enough for the widest value in the font the style sheet gave the field, so
        # "300/200" is never cut to "00/200".
        width = self.fontMetrics().horizontalAdvance(self._widest) + self._frame
        return super().minimumSizeHint().expandedTo(QSize(width, KEY_MIN))

    def sizeHint(self) -> QSize:
        return super().sizeHint().expandedTo(self.minimumSizeHint())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # Not passed on: a read-only line edit would start a text selection instead.
        event.accept()
        self.tapped.emit()


class VerticalScroll(QScrollArea):
    """Scrolls up and down only, and never gets narrower than what it holds (plus its
    scroll bar), so a neighbour such as the keypad cannot squeeze a field's value. A finger
    dragged anywhere over it scrolls it (kinetically), also when it starts on a button; a
    tap still reaches the button at once."""

    def __init__(self, body: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(body)
        kinetic(self.viewport())

    def minimumSizeHint(self) -> QSize:
        held = self.widget()
        body = held.minimumSizeHint() if held is not None else QSize(0, 0)
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(body.width() + bar, super().minimumSizeHint().height())
