"""The chair-side entry forms: vitals, CADSS-6, MOAA/S, comfort scores and events.

Every form is built for a nurse holding a tablet in one hand in a dim room: large fields and
buttons, numbers typed on the built-in :class:`~ui.common.keypad.NumericKeypad`, scores chosen by
tapping. Each form:

* gives what was entered with ``raw()`` (text as typed for keypad fields, ints for scores)
  and, on Save, checks it with :func:`monitor.clinical.validation.validate_reading` before it emits
  anything: a refusal is shown with the field's name and accepted range, and the field is
  outlined; an unusual value waits for a "Confirm <value>" tap;
* keeps every control where it is while the nurse works: messages, the save state and
  "Confirm" buttons share one feedback strip of fixed height above Save (it scrolls when
  several show), and a late entry is said in the time row, so nothing that appears or goes
  moves a field, a key or Save under a finger;
* emits ``submitted(raw, when, confirmed)`` and never touches storage itself. The caller
  saves and then reports back with ``show_saving()``, ``show_saved(text)``,
  ``show_not_saved(message)`` or ``show_errors(...)``. "Saved" appears only when the
  caller says so; "NOT saved" keeps every value on screen with a Retry button that emits
  the very same submission again (same values, same time, same confirmations);
* carries an :class:`~ui.session.entry.entry_time.EntryTime`: the entry describes "now"
  unless the nurse steps it back for a late entry, and it can never describe the future.
"""

from ui.session.entry.entry_time import EntryTime
from ui.session.entry.events import ADVERSE_EVENTS, EventEntry
from ui.session.entry.form import EntryForm
from ui.session.entry.scores import CadssEntry, ComfortEntry, MoaasEntry
from ui.session.entry.vitals import VitalsEntry

__all__ = [
    "ADVERSE_EVENTS",
    "CadssEntry",
    "ComfortEntry",
    "EntryForm",
    "EntryTime",
    "EventEntry",
    "MoaasEntry",
    "VitalsEntry",
]
