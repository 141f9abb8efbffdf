"""The session's chart history as a touch list, with "Void…" and "Amend…".

:class:`HistoryPanel` shows the :class:`~ui.session.history.model.EntriesModel` and opens the
correction dialogs for the selected effective entry. It only emits requests; the session
screen passes them to the presenter, and the next view shows the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.lineage import VOID
from monitor.clinical.permissions import Action, refusal
from ui.common.style import TouchButton
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import kinetic, label
from ui.session.history.amend import AmendDialog
from ui.session.history.dialogs import VoidDialog
from ui.session.history.entries import HistoryEntry
from ui.session.history.model import EntriesModel, EntryDelegate

if TYPE_CHECKING:
    from monitor.service.views import SessionView

ACTION_MIN = QSize(168, 56)


class _EntryList(QListView):
    """A list whose rows are laid out again whenever its width changes.

    Row heights follow the width (values and status wrap), and Qt's own
    ``ResizeMode.Adjust`` re-lays a top-to-bottom list only when its *height* changes, so
    the rows would keep heights measured for another width (after a rotation, or when the
    scroll bar appears) and overlap.

    Signals: only those of :class:`QListView`.
    """

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.doItemsLayout()


class HistoryPanel(QWidget):
    """The session's chart history as a touch list, with "Void…" and "Amend…" for the
    selected entry.

    Only an effective entry can be corrected, and only a reading amended, and only by a
    clinician (``is_clinician``: whether the one signed in now is one; the service refuses
    anyone else); for any other selection or person the buttons are disabled and a line
    under the list says why.

    Signals:
        voidRequested(str, object, str): kind ("reading" | "event"), entry id and reason,
            once the nurse confirms the void dialog.
        amendRequested(object, dict, str, object): reading id, the raw values (text as
            typed, for :func:`~monitor.clinical.validation.validate_reading`), the reason and the
            confirmed fields (``frozenset[str]``), once the nurse confirms the amend dialog.
    """

    voidRequested = Signal(str, object, str)
    amendRequested = Signal(object, dict, str, object)

    def __init__(self, theme: Theme, parent: QWidget | None = None, *,
                 is_clinician: Callable[[], bool]) -> None:
        super().__init__(parent)
        self.theme = theme
        self._is_clinician = is_clinician
        self.model = EntriesModel(theme, self)
        self.dialog: VoidDialog | AmendDialog | None = None

        self.summary = label("No entries yet", "field", wrap=False)
        self.summary.setMinimumHeight(TOUCH_MIN)
        self.summary.setContentsMargins(8, 0, 8, 0)
        self.list = _EntryList()
        self.list.setObjectName("history-list")
        self.list.setModel(self.model)
        self.list.setModelColumn(EntriesModel.VALUES)
        self.delegate = EntryDelegate(theme, self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(False)
        self.list.setSpacing(2)
        kinetic(self.list.viewport())
        self.list.selectionModel().currentChanged.connect(lambda *_: self._update_actions())

        self.hint = label()
        self.hint.setObjectName("history-hint")
        self.hint.setContentsMargins(8, 0, 0, 0)
        self.void_button = TouchButton("Void…", min_size=ACTION_MIN.width(),
                                       min_height=ACTION_MIN.height())
        self.void_button.setObjectName("void")
        self.amend_button = TouchButton("Amend…", min_size=ACTION_MIN.width(),
                                        min_height=ACTION_MIN.height())
        self.amend_button.setObjectName("amend")
        self.void_button.clicked.connect(self.open_void)
        self.amend_button.clicked.connect(self.open_amend)
        actions = QHBoxLayout()
        actions.setSpacing(10)
        actions.addWidget(self.hint, 1)
        actions.addWidget(self.amend_button)
        actions.addWidget(self.void_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        self._update_actions()

    def show_view(self, view: SessionView) -> None:
        """Show ``view``'s entries, keeping the selection and the scroll position (views
        arrive on every save and every tick; the list must not jump under the finger)."""
        selected = self.selected_entry()
        scrolled = self.list.verticalScrollBar().value()
        self.model.set_view(view)
        self.list.doItemsLayout()
        self.list.verticalScrollBar().setValue(scrolled)
        entries = self.model.entries()
        corrected = sum(1 for e in entries if not e.effective)
        if not entries:
            self.summary.setText("No entries yet")
        else:
            noun = "entry" if len(entries) == 1 else "entries"
            extra = f"  ·  {corrected} corrected" if corrected else ""
            self.summary.setText(f"{len(entries)} {noun}, newest first{extra}")
        row = self.model.row_of(selected.kind, selected.id) if selected is not None else None
        if row is not None:
            self._select(row)
        self._update_actions()

    def select_row(self, row: int) -> None:
        """Select row ``row`` and scroll it into view, as a tap on it does."""
        self._select(row)
        self.list.scrollTo(self.model.index(row, EntriesModel.VALUES))

    def _select(self, row: int) -> None:
        self.list.selectionModel().setCurrentIndex(
            self.model.index(row, EntriesModel.VALUES),
            QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_entry(self) -> HistoryEntry | None:
        index = self.list.selectionModel().currentIndex()
        if not index.isValid() or not self.list.selectionModel().isSelected(index):
            return None
        return self.model.entry(index.row())

    def open_void(self) -> VoidDialog | None:
        """Open the void dialog for the selected effective entry (window-modal)."""
        entry = self.selected_entry()
        if entry is None or not entry.effective:
            return None
        dialog = VoidDialog(self.theme, entry, self)
        dialog.voidConfirmed.connect(
            lambda reason: self.voidRequested.emit(entry.kind, entry.id, reason))
        return self._open(dialog)

    def open_amend(self) -> AmendDialog | None:
        """Open the amend dialog for the selected effective reading (window-modal)."""
        entry = self.selected_entry()
        if (entry is None or not entry.effective or entry.reading is None
                or not self._is_clinician()):
            return None
        dialog = AmendDialog(self.theme, entry, self)
        dialog.amendConfirmed.connect(
            lambda raw, reason, confirmed: self.amendRequested.emit(
                entry.id, raw, reason, confirmed))
        return self._open(dialog)

    def _open(self, dialog: VoidDialog | AmendDialog) -> Any:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def _update_actions(self) -> None:
        entry = self.selected_entry()
        can_void = entry is not None and entry.effective
        is_reading = can_void and entry is not None and entry.reading is not None
        clinician = self._is_clinician()
        self.void_button.setEnabled(can_void)
        self.amend_button.setEnabled(is_reading and clinician)
        if entry is None:
            hint = "Tap an entry to correct it."
        elif not entry.effective:
            done = "voided" if entry.action == VOID else "amended"
            hint = f"This entry was {done}; it stays in the record as it was."
        elif entry.reading is None:
            hint = "An event can be voided; it cannot be amended."
        elif not clinician:
            hint = refusal("nurse", Action.AMEND)
        else:
            hint = "The old values stay in the history."
        self.hint.setText(hint)
