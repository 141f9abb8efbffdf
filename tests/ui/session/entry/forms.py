"""Helpers for the entry form tests: show a form, tap, type on its keypad, save.

Numbers are typed by clicking keypad buttons (ASCII only, never key events: non-ASCII key
events abort Qt). Time comes from a ManualClock; nothing waits on the wall clock.
"""


from PySide6.QtCore import Qt

from monitor.clinical.protocol import Medication
from ui.common.style import apply_theme
from ui.common.theme import DIM

LEFT = Qt.MouseButton.LeftButton
MEDICATIONS = (
    Medication("Ondansetron", "4 mg", "IV"),
    Medication("Labetalol", "10 mg", "IV"),
    Medication("Midazolam", "1 mg", "IV"),
)


def show(qtbot, form, theme=DIM, size=(640, 720)):
    qtbot.addWidget(form)
    apply_theme(form, theme)
    form.resize(*size)
    form.show()
    qtbot.waitExposed(form)
    return form


def tap(qtbot, widget):
    qtbot.mouseClick(widget, LEFT)


def type_keys(qtbot, form, keys):
    for key in keys:
        tap(qtbot, form.keypad.button(key))


def enter_value(qtbot, form, field, text):
    """Tap the field, clear whatever it opened on, type ``text``."""
    tap(qtbot, form.field(field))
    tap(qtbot, form.keypad.button("clear"))
    type_keys(qtbot, form, text)


def save(qtbot, form):
    """Tap Save and return (raw, when, confirmed) from the ``submitted`` signal."""
    with qtbot.waitSignal(form.submitted) as blocker:
        tap(qtbot, form.save_button())
    return blocker.args


def save_refused(qtbot, form):
    with qtbot.assertNotEmitted(form.submitted):
        tap(qtbot, form.save_button())
