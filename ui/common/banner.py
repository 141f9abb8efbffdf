"""The banner across the top of the window while the clinic's server cannot be reached.

It is shown on every screen, above whatever the nurse is doing, in bold high-contrast type:
"Server unreachable since 10:42 — entries are saved on this tablet until it is back" on a
tablet with an outbox (:mod:`monitor.service.tablet`), "… — entries are not being saved to
the server" where there is none (a desk without one). The window
shows it with the time of the outage's first failure and hides it on the next read that
goes through; the banner itself holds no state beyond its words. A tablet started without
its server says what it shows: "Server unreachable — showing this tablet's copy from 10:40".
It is one line of text, not a control (nothing to tap), so it takes little height: while it
shows, the window's status line is hidden and the banner takes its room, and the chair
screen's values keep theirs.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ui.common.labels import clock_time
from ui.common.theme import TEXT_PX, Theme


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
