"""The first start on a tablet: which tablet is this?

In clinic mode several tablets share one database, and each needs a name of its own: the
session header and the window frame show it, every audit entry records it, the server lists
it (``application_name``), and a colleague beaten to an acknowledgement is told it. The name
is kept on the tablet (:mod:`monitor.storage.settings`); :func:`tablet_name_at_start` takes it
from ``--tablet``, ``$CHAIRSIDE_TABLET`` or the kept settings, and only when there is none
asks once in a :class:`TabletNameDialog`, the host name offered, and keeps the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from monitor.storage.settings import (
    MAX_TABLET_NAME,
    MIN_TABLET_NAME,
    choose_tablet_name,
    default_tablet_name,
    keep_tablet_name,
    tablet_name_problem,
)
from ui.common.ask import BUTTON_MIN_WIDTH, HEADLINE_PX, ConfirmDialog
from ui.common.style import PRIMARY_MIN, TouchButton, apply_theme
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme

log = logging.getLogger(__name__)

#: Shows a dialog and waits: ``QDialog.exec`` in the app, a scripted answer in tests.
Runner = Callable[[QDialog], int]


class _Sentences(QLabel):
    """Wrapped text that is never given fewer lines than it needs at its width (a dialog's
    layout may otherwise cut its last line off)."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        needed = self.heightForWidth(self.width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)


class TabletNameDialog(QDialog):
    """Asks for this tablet's name; ``accepted`` with a valid one, ``rejected`` to close
    ChairSide instead.

    Signals: those of :class:`QDialog`.
    """

    def __init__(self, theme: Theme, default: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Name this tablet")
        self.setModal(True)
        # Shown before the window exists: the dialog takes the theme itself.
        apply_theme(self, theme)
        headline = QLabel("Name this tablet")
        headline.setStyleSheet(f"QLabel {{ font-size: {HEADLINE_PX}px; font-weight: bold; }}")
        self.explanation = explanation = _Sentences(
            "Each tablet at the clinic has a name of its own, such as Room-2. It is shown on "
            "the session screen, recorded with every entry made here, and told to a colleague "
            "whose entry this tablet made first. It is asked once and kept on this tablet.")
        explanation.setWordWrap(True)
        caption = QLabel(f"Tablet name ({MIN_TABLET_NAME}–{MAX_TABLET_NAME} characters)")
        caption.setProperty("role", "field")
        self.field = QLineEdit(default)
        self.field.setObjectName("tablet-name")
        self.field.setMinimumHeight(TOUCH_MIN)
        self.field.setStyleSheet(f"QLineEdit {{ font-size: {TEXT_PX + 4}px; }}")
        self.field.selectAll()
        self.field.returnPressed.connect(self.accept)
        self.field.textChanged.connect(lambda _text: self.show_problem(""))
        self.message = QLabel("")
        self.message.setObjectName("tablet-name-message")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        # Room for a refusal is kept: showing one squeezes nothing.
        policy = self.message.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.message.setSizePolicy(policy)
        self.message.hide()
        self.close_button = TouchButton("Close ChairSide", min_size=BUTTON_MIN_WIDTH,
                                        min_height=PRIMARY_MIN)
        self.close_button.setObjectName("tablet-name-close")
        self.close_button.clicked.connect(self.reject)
        self.use_button = TouchButton("Use this name", min_size=BUTTON_MIN_WIDTH,
                                      min_height=PRIMARY_MIN)
        self.use_button.setObjectName("tablet-name-use")
        self.use_button.setProperty("primary", True)
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.setSpacing(16)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(headline)
        layout.addWidget(explanation)
        layout.addWidget(caption)
        layout.addWidget(self.field)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(min(600, 2 * BUTTON_MIN_WIDTH + 160))

    def name(self) -> str:
        """The name as typed, without surrounding spaces."""
        return self.field.text().strip()

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def accept(self) -> None:
        problem = tablet_name_problem(self.field.text())
        if problem is not None:
            self.show_problem(problem)
            self.field.setFocus()
            return
        super().accept()


def _exec(dialog: QDialog) -> int:
    return dialog.exec()


def ask_tablet_name(theme: Theme, *, default: str | None = None, run: Runner = _exec,
                    parent: QWidget | None = None) -> str | None:
    """Ask for the tablet's name (``default``: the host name); None when ChairSide is to
    close instead."""
    dialog = TabletNameDialog(theme, default_tablet_name() if default is None else default,
                              parent)
    try:
        if run(dialog) != QDialog.DialogCode.Accepted:
            return None
        return dialog.name()
    finally:
        dialog.deleteLater()


def tablet_name_at_start(settings: Path, theme: Theme, *, given: str | None = None,
                         environ: Mapping[str, str] | None = None,
                         run: Runner = _exec) -> str | None:
    """This tablet's name for the run: ``given`` (``--tablet``, kept), else
    ``$CHAIRSIDE_TABLET``, else the kept one, else asked once and kept. None when asked and
    told to close instead.

    A given or environment name that is not a tablet name raises :class:`ValueError`
    naming where it came from. A name that cannot be kept (a read-only folder) is used
    for this run, and the nurse is told it will be asked again.
    """
    name = choose_tablet_name(settings, given=given, environ=environ)
    if name is not None:
        return name
    name = ask_tablet_name(theme, run=run)
    if name is None:
        return None
    try:
        keep_tablet_name(settings, name)
    except OSError as exc:
        log.warning("cannot keep the tablet's name in %s (%s)", settings, exc)
        notice = ConfirmDialog(
            theme, "Tablet name not kept",
            f"This tablet is called {name} until ChairSide closes, but the name could not "
            f"be kept in {settings} ({exc.strerror or exc}); it will be asked again at the "
            "next start.", action="OK", keep="")
        try:
            run(notice)
        finally:
            notice.deleteLater()
    return name
