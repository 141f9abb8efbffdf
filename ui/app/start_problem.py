"""Why ChairSide cannot start, in the app's own dialog: large type, one large button.

The platform's message box drew its "OK" about 25 px tall in the system's grey, unreadable
at arm's length and hard to hit on a touch screen. Before the main window exists — the
first start without the clinic's server, a database that cannot be opened, a tablet name
that cannot be kept, a monitor feed port taken — :func:`tell_start_problem` says why in a
:class:`~ui.common.ask.ConfirmDialog` styled with the app's theme.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QApplication, QDialog

from ui.common.ask import ConfirmDialog
from ui.common.style import apply_theme
from ui.common.theme import Theme

#: The dialog's width: whole at 800 px wide (portrait), lines short enough to read.
WIDTH = 640

#: What the one button does: ChairSide closes once it is tapped.
CLOSE_TEXT = "Close ChairSide"

#: Shows a dialog and waits: ``QDialog.exec`` in the app, a scripted answer in tests.
Runner = Callable[[QDialog], int]


def start_problem_dialog(theme: Theme, title: str, text: str) -> ConfirmDialog:
    """The dialog saying ``title`` and ``text`` in ``theme``, with one button."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        # Before the main window exists nothing has styled the app yet; the window
        # applies the same theme when it opens.
        apply_theme(app, theme)
    dialog = ConfirmDialog(theme, title, text, action=CLOSE_TEXT, keep="")
    # A window of its own is not given the height its wrapped words need for its width.
    dialog.ensurePolished()
    layout = dialog.layout()
    height = layout.totalHeightForWidth(WIDTH) if layout is not None else 0
    dialog.setMinimumSize(WIDTH, height)
    return dialog


def _exec(dialog: QDialog) -> int:
    return dialog.exec()


def tell_start_problem(theme: Theme, title: str, text: str, *, run: Runner = _exec) -> None:
    """Show why ChairSide cannot start and wait until the nurse closes it."""
    dialog = start_problem_dialog(theme, title, text)
    try:
        run(dialog)
    finally:
        dialog.deleteLater()
