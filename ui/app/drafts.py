"""The window's side of drafts: noticing input, and taking drafts from and back to screens.

:class:`DraftInput` is an application event filter whose ``edited`` signal says (to the
:class:`monitor.storage.drafts.DraftKeeper`) whenever the nurse taps or types (the keeper writes
once the typing pauses). :func:`session_drafts` and :func:`restore_session` take a session
screen's entry forms' typed state out and put a kept draft back; the check-in screen has
its own ``draft_state`` and ``restore_draft``. What is kept, and where, is the keeper's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Signal

from ui.common.labels import clock_time

if TYPE_CHECKING:
    from monitor.storage.drafts import Draft
    from ui.session.screen import SessionScreen

#: Input that may change what a form holds: a tap or a key let go.
_EDITS = frozenset({QEvent.Type.MouseButtonRelease, QEvent.Type.KeyRelease,
                    QEvent.Type.TouchEnd})

#: The entry forms whose typed state is kept, by the name stored in the draft.
FORM_NAMES = ("vitals", "cadss", "moaas", "comfort")
#: Each form in words, for the question asked before closing.
FORM_WORDS = {"vitals": "vitals", "cadss": "CADSS-6", "moaas": "MOAA/S",
              "comfort": "comfort scores"}


class DraftInput(QObject):
    """Watches every tap or key let go anywhere in the application; never consumes an event.

    Signals:
        edited(): the nurse tapped or typed.
    """

    edited = Signal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _EDITS:
            self.edited.emit()
        return False


def session_drafts(screen: SessionScreen) -> dict[str, dict[str, Any]]:
    """Each entry form's typed state (``{}`` for an empty form)."""
    return {name: getattr(screen, name).draft_state() for name in FORM_NAMES}


def restore_session(screen: SessionScreen, draft: Draft) -> None:
    """Put ``draft`` back into the session screen's forms, the first restored one in view."""
    typed = clock_time(draft.saved_at) if draft.saved_at is not None else ""
    first = None
    for name in FORM_NAMES:
        state: Mapping[str, Any] = draft.forms.get(name) or {}
        if state:
            form = getattr(screen, name)
            form.restore_draft(state, typed)
            first = first or form
    if first is not None:
        screen.tabs.setCurrentWidget(first)


def unsaved_forms(screen: SessionScreen) -> list[str]:
    """The session screen's forms holding typed entries, in words (the event form, whose
    entries are not kept as drafts, only as "an entry" when nothing else is typed)."""
    names = [FORM_WORDS[name] for name in FORM_NAMES if getattr(screen, name).draft_state()]
    if not names and screen.has_unsaved_entry():
        names = ["an entry"]
    return names
