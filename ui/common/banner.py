"""The banner across the top of the window while the clinic's server cannot be reached.

It is shown on every screen, above whatever the nurse is doing, in bold high-contrast type:
"Server unreachable since 10:42 — entries are saved on this tablet until it is back" on a
tablet with an outbox (:mod:`monitor.service.tablet`), "… — entries are not being saved to
the server" where there is none (a desk without one). The window
shows it with the time of the outage's first failure and hides it on the next read that
goes through; the banner itself holds no state beyond its words. A tablet started without
its server says what it shows: "Server unreachable — showing this tablet's copy from 10:40".
It is text, not a control (nothing to tap). It is drawn in the window's :class:`TopStrip`,
a strip of fixed height that is always there: it says which tablet this is and the time
while the server answers, and the banner's words in the warning colours while it does not.
The strip is as tall as the longest banner needs at the window's width (one line in
landscape, two in portrait), whichever it shows, so nothing below it moves under a finger
when an outage begins or ends.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.common.labels import clock_time
from ui.common.theme import TEXT_PX, Theme

#: Before the banner's words: a warning sign, so that it reads as a warning at a glance.
WARNING_SIGN = "\u26a0"


def unreachable_text(since: datetime, *, saved_here: bool = False) -> str:
    """The banner's words for an outage that began at ``since``; ``saved_here``: the
    entries are held on this tablet (its outbox) meanwhile."""
    if saved_here:
        return (f"Server unreachable since {clock_time(since)} — entries are saved on this "
                "tablet until it is back")
    return (f"Server unreachable since {clock_time(since)} — entries are not being saved "
            "to the server")


def copy_text(copy_from: datetime, since: datetime) -> str:
    """The banner's words while the window shows the tablet's copy made at ``copy_from``
    (its date too when it is not from the day of ``since``)."""
    made = clock_time(copy_from)
    if copy_from.astimezone().date() != since.astimezone().date():
        made = f"{copy_from.astimezone():%a %d %b} {made}"
    return (f"Server unreachable — showing this tablet's copy from {made}; "
            "entries are saved on this tablet")


class UnreachableBanner(QLabel):
    """A full-width banner saying since when the server cannot be reached (hidden otherwise)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None, *,
                 saved_here: bool = False) -> None:
        """``saved_here``: this tablet holds the entries while the server is away."""
        super().__init__(parent)
        self.saved_here = saved_here
        self.setObjectName("unreachable-banner")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.set_theme(theme)
        self.hide()

    def set_theme(self, theme: Theme) -> None:
        """Warning colours of ``theme``: its background colour on its warning colour."""
        self.setStyleSheet(
            f"QLabel#unreachable-banner {{ background: {theme.warning}; "
            f"color: {theme.background}; font-size: {TEXT_PX}px; font-weight: bold; "
            f"padding: 3px 16px; }}")

    def show_since(self, since: datetime | None, *, copy_from: datetime | None = None) -> None:
        """Show the banner for an outage begun at ``since`` (the window showing the tablet's
        copy made at ``copy_from``, if given); hide it when None."""
        if since is None:
            self.hide()
            return
        self.setText(copy_text(copy_from, since) if copy_from is not None
                     else unreachable_text(since, saved_here=self.saved_here))
        self.show()

    def longest_texts(self) -> tuple[str, ...]:
        """The longest words the banner may show (the strip's height is made for them)."""
        since = datetime(2026, 9, 30, 23, 58).astimezone()
        copy_from = datetime(2026, 9, 29, 23, 59).astimezone()
        return (unreachable_text(since, saved_here=self.saved_here),
                copy_text(copy_from, since))


class TopStrip(QWidget):
    """The strip across the top of the window: this tablet's name and the time, or the
    banner while the server is unreachable, at one height in both states (the height the
    banner's longest words need at the strip's width)."""

    def __init__(self, theme: Theme, banner: UnreachableBanner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("top-strip")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.banner = banner
        self.line = QLabel()
        self.line.setObjectName("top-strip-line")
        self.line.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        #: The warning sign before the banner's words, shown with them.
        self.sign = QLabel(WARNING_SIGN)
        self.sign.setObjectName("top-strip-sign")
        self.sign.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sign.hide()
        # The sign and the banner cover the line while they show; placed by hand, not by a
        # layout, so that what is hidden never sizes the strip (see :meth:`_place`).
        for child in (self.line, self.sign, banner):
            child.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_theme(theme)
        self._fit(self.width())

    def set_theme(self, theme: Theme) -> None:
        """The line in ``theme``'s quiet colours, the banner in its warning colours."""
        self.setStyleSheet(
            f"QWidget#top-strip {{ background: {theme.background}; }} "
            f"QLabel#top-strip-line {{ color: {theme.text_muted}; font-size: {TEXT_PX}px; "
            f"padding: 3px 16px; }} "
            f"QLabel#top-strip-sign {{ background: {theme.warning}; color: {theme.background}; "
            f"font-size: {TEXT_PX}px; font-weight: bold; padding: 0px 0px 0px 16px; }}")
        self.banner.set_theme(theme)
        self._fit(self.width())

    def set_line(self, text: str) -> None:
        """What the strip says while the server answers (the tablet's name, the time)."""
        self.line.setText(text)

    def show_since(self, since: datetime | None, *, copy_from: datetime | None = None) -> None:
        """The banner for an outage begun at ``since`` (see
        :meth:`UnreachableBanner.show_since`), the line when None; the height stays."""
        self.banner.show_since(since, copy_from=copy_from)
        self.sign.setVisible(since is not None)
        self.line.setVisible(since is None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit(event.size().width())
        self._place()

    def _place(self) -> None:
        """The line across the whole strip; the sign at its left, the banner beside it."""
        width, height = self.width(), self.height()
        sign = self.sign.sizeHint().width()
        self.line.setGeometry(0, 0, width, height)
        self.sign.setGeometry(0, 0, sign, height)
        self.banner.setGeometry(sign, 0, max(width - sign, 1), height)

    def _fit(self, width: int) -> None:
        """Fix the height to what the banner's longest words need at ``width``."""
        self.banner.ensurePolished()
        self.sign.ensurePolished()
        room = max(width - self.sign.sizeHint().width(), 1)
        shown = self.banner.text()
        needed = 0
        for text in self.banner.longest_texts():
            self.banner.setText(text)
            needed = max(needed, self.banner.heightForWidth(room))
        self.banner.setText(shown)
        self.setFixedHeight(max(needed, self.banner.minimumSizeHint().height()))
