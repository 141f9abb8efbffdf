"""What every entry form shares: the save states the caller drives, touch sizes, controls
that keep their place, and the feedback strip that shows one whole message."""

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from monitor.clinical.domain import EventKind
from monitor.clinical.validation import FieldError
from tests.ui.geometry import control_places, moved
from tests.ui.session.entry.forms import MEDICATIONS, enter_value, save, save_refused, show, tap
from ui.common.theme import DIM, LIGHT, TOUCH_MIN
from ui.session.entry import CadssEntry, ComfortEntry, EventEntry, MoaasEntry, VitalsEntry
from ui.session.entry.feedback import FeedbackMessage

# -- save state --------------------------------------------------------------------------------


def test_saved_appears_only_after_show_saved(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    assert "Saved" not in vitals.banner_text()
    vitals.show_saving()
    assert vitals.banner_text() == "Saving…"
    assert not vitals.save_button().isEnabled()
    vitals.show_saved("Saved 10:42")
    assert vitals.banner_text() == "Saved 10:42"
    assert vitals.save_button().isEnabled()


def test_clear_after_success_empties_the_form_but_keeps_the_saved_note(qtbot, vitals):
    enter_value(qtbot, vitals, "bp", "128/82")
    save(qtbot, vitals)
    vitals.show_saved("Saved 10:42")
    vitals.clear()
    assert vitals.field("bp").text() == ""
    assert vitals.banner_text() == "Saved 10:42"
    enter_value(qtbot, vitals, "hr", "70")  # the next entry begins
    assert vitals.banner_text() == ""


def test_a_refused_save_after_a_saved_one_takes_the_saved_note_away(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.show_saved("Saved 10:42")
    vitals.clear()
    tap(qtbot, vitals.save_button())  # nothing entered this time
    assert "Enter at least one vital sign" in vitals.message_for("vitals")
    assert vitals.banner_text() == ""


def test_not_saved_keeps_the_values_and_retry_sends_them_again(qtbot, vitals, clock):
    enter_value(qtbot, vitals, "bp", "230/90")
    save_refused(qtbot, vitals)
    tap(qtbot, vitals.confirm_button("sbp"))
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-5"))
    enter_value(qtbot, vitals, "hr", "72")
    first = save(qtbot, vitals)
    vitals.show_saving()
    vitals.show_not_saved("the database could not be written")
    assert vitals.banner_text() == "NOT saved: the database could not be written"
    assert vitals.field("bp").text() == "230/90"
    assert vitals.field("hr").text() == "72"
    retry = vitals.retry_button()
    assert retry.isVisible()
    clock.advance(timedelta(minutes=2))
    with qtbot.waitSignal(vitals.submitted) as blocker:
        tap(qtbot, retry)
    assert blocker.args == first
    assert "sbp" in blocker.args[2]


def test_retry_goes_once_the_values_change(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.show_not_saved("server unreachable")
    enter_value(qtbot, vitals, "hr", "74")
    assert not vitals.retry_button().isVisible()
    assert vitals.banner_text().startswith("NOT saved")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["hr"] == "74"


@pytest.mark.parametrize(
    "make", [
        lambda clock: CadssEntry(DIM, clock),
        lambda clock: MoaasEntry(DIM, clock),
        lambda clock: ComfortEntry(DIM, clock),
        lambda clock: EventEntry(DIM, clock, MEDICATIONS),
    ],
    ids=["cadss", "moaas", "comfort", "event"],
)
def test_every_form_has_the_same_save_states(qtbot, clock, make):
    form = show(qtbot, make(clock))
    form.show_not_saved("disk full")
    assert form.banner_text() == "NOT saved: disk full"
    assert not form.retry_button().isVisible()  # nothing was submitted yet
    form.show_saved("Saved 09:00")
    assert form.banner_text() == "Saved 09:00"


# -- sizes -------------------------------------------------------------------------------------


def fill_with_problems(qtbot, form):
    """Put a form in its busiest state: messages, confirm buttons, late entry, Retry."""
    tap(qtbot, form.findChild(QAbstractButton, "time-back-5"))
    if isinstance(form, VitalsEntry):
        enter_value(qtbot, form, "bp", "230/90")
        enter_value(qtbot, form, "hr", "300")
        save_refused(qtbot, form)
    elif isinstance(form, EventEntry):
        tap(qtbot, form.kind().button(EventKind.MEDICATION.value))
        tap(qtbot, form.medication_button(0))
        save(qtbot, form)
        form.show_not_saved("disk full")
    else:
        save_refused(qtbot, form)


FORMS = {
    "vitals": VitalsEntry,
    "cadss": CadssEntry,
    "moaas": MoaasEntry,
    "comfort": ComfortEntry,
    "event": lambda theme, clock: EventEntry(theme, clock, MEDICATIONS),
}
SIZES = {
    "landscape-screen": (1280, 800),
    "portrait-screen": (800, 1280),
    "landscape-panel": (640, 720),
    "portrait-panel": (800, 640),
}


@pytest.mark.parametrize("busy", [False, True], ids=["fresh", "busy"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
@pytest.mark.parametrize("name", FORMS)
def test_every_touch_target_is_at_least_48_px(qtbot, clock, name, theme, size, busy):
    form = show(qtbot, FORMS[name](theme, clock), theme, size)
    if busy:
        fill_with_problems(qtbot, form)
    qtbot.waitUntil(lambda: form.save_button().height() >= TOUCH_MIN)
    targets = [
        w for w in [*form.findChildren(QAbstractButton), *form.findChildren(QLineEdit)]
        if w.isVisible()
    ]
    assert targets
    small = [
        f"{w.objectName() or w.text()!r} {w.width()}x{w.height()}"
        for w in targets
        if w.width() < TOUCH_MIN or w.height() < TOUCH_MIN
    ]
    assert not small, small
    assert form.minimumSizeHint().width() <= size[0]  # nothing cut off at the side


@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
def test_vital_values_are_at_least_24_px(qtbot, clock, theme):
    form = show(qtbot, VitalsEntry(theme, clock), theme)
    for key in ("bp", "hr", "spo2", "rr"):
        assert form.field(key).font().pixelSize() >= 24, key


# -- controls keep their place ------------------------------------------------------------------

#: The entry panel as a 1280 × 800 and an 800 × 1280 session screen give it room.
PANELS = {"landscape": (700, 520), "portrait": (788, 470)}


@pytest.fixture(params=PANELS.values(), ids=PANELS.keys())
def panel(qtbot, clock, request, last_reading):
    form = show(qtbot, VitalsEntry(DIM, clock), DIM, request.param)
    form.set_last(last_reading)
    return form


def assert_nothing_moves(form, change):
    before, minimum = control_places(form), form.minimumSizeHint()
    change()
    after = control_places(form)
    assert moved(before, after) == []
    # A form that needs more height would take it from the screen around it (the tiles);
    # a wider minimum is harmless while it fits the panel.
    assert form.minimumSizeHint().height() == minimum.height()
    assert form.minimumSizeHint().width() <= form.width()


def test_a_late_entry_step_moves_no_control(qtbot, panel):
    tap(qtbot, panel.field("bp"))
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.findChild(QAbstractButton,
                                                                     "time-back-15")))
    assert panel.time.is_late()
    assert "late entry for" in panel.save_button().text()
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.findChild(QAbstractButton, "time-now")))
    assert panel.save_button().text() == "Save vitals"


def test_a_refused_key_moves_no_control(qtbot, panel):
    tap(qtbot, panel.field("hr"))
    assert_nothing_moves(panel, lambda: qtbot.keyClicks(panel.keypad, "1x"))
    assert "Heart rate" in panel.message_for("hr")
    assert_nothing_moves(panel, lambda: qtbot.keyClick(panel.keypad, Qt.Key.Key_Backspace))
    assert panel.message_for("hr") == ""


def test_messages_appearing_and_clearing_on_save_move_no_control(qtbot, panel):
    enter_value(qtbot, panel, "hr", "300")
    enter_value(qtbot, panel, "bp", "230/90")
    assert_nothing_moves(panel, lambda: save_refused(qtbot, panel))
    assert "Heart rate" in panel.message_for("hr")
    assert panel.confirm_button("sbp").isVisible()
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.confirm_button("sbp")))
    assert_nothing_moves(panel, lambda: enter_value(qtbot, panel, "hr", "72"))
    assert panel.message_for("hr") == ""


def test_the_save_states_move_no_control(qtbot, panel):
    enter_value(qtbot, panel, "hr", "72")
    assert_nothing_moves(panel, lambda: save(qtbot, panel))
    assert_nothing_moves(panel, panel.show_saving)
    assert_nothing_moves(panel, lambda: panel.show_not_saved("the database is not reachable"))
    assert_nothing_moves(panel, lambda: panel.show_saved("Saved 09:00"))
    assert_nothing_moves(panel, lambda: enter_value(qtbot, panel, "spo2", "97"))


@pytest.mark.parametrize("name", ["cadss", "moaas", "comfort", "event"])
def test_refusals_in_the_score_and_event_forms_move_no_control(qtbot, clock, name):
    form = show(qtbot, FORMS[name](DIM, clock), DIM, PANELS["landscape"])
    assert_nothing_moves(form, lambda: save_refused(qtbot, form))
    assert form.findChildren(FeedbackMessage)  # the refusals showed in the strip
    assert any(m.text() for m in form.findChildren(FeedbackMessage))


def test_the_strip_shows_a_refusal_before_a_question(qtbot, panel):
    enter_value(qtbot, panel, "bp", "230/90")
    enter_value(qtbot, panel, "hr", "300")
    save_refused(qtbot, panel)
    strip = panel.findChild(QWidget, "feedback").parentWidget()  # the strip's viewport
    hr = next(m for m in panel.findChildren(FeedbackMessage) if "hr" in m.fields)
    top = hr.mapTo(strip, QPoint(0, 0)).y()
    assert 0 <= top < strip.height()


# -- the feedback strip shows one whole message -----------------------------------------------


def strip_viewport(form):
    return form.findChild(QWidget, "feedback").parentWidget()


def wholly_in_strip(form, widget):
    viewport = strip_viewport(form)
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return (widget.isVisible() and top_left.y() >= 0
            and top_left.y() + widget.height() <= viewport.height())


def text_fits(label):
    """Whether the label's whole text shows in the height it was given."""
    needed = label.fontMetrics().boundingRect(
        0, 0, label.width(), 10_000, int(Qt.TextFlag.TextWordWrap), label.text()).height()
    return needed <= label.height()


def test_the_same_as_last_question_shows_whole_with_its_button(qtbot, panel):
    tap(qtbot, panel.field("bp"))  # opens on the last reading's 128/82, copied
    save_refused(qtbot, panel)
    button = panel.confirm_button("same:bp")
    assert button.text() == "Same as last: 128/82"
    assert button.height() >= TOUCH_MIN
    assert wholly_in_strip(panel, button)
    message = next(m for m in panel.findChildren(FeedbackMessage) if "sbp" in m.fields)
    assert wholly_in_strip(panel, message)
    assert text_fits(next(label for label in message.findChildren(QLabel) if label.text()))


def test_a_refusal_from_the_service_shows_whole_and_names_no_unmarked_fields(qtbot, panel):
    tap(qtbot, panel.findChild(QAbstractButton, "time-back-15"))
    enter_value(qtbot, panel, "hr", "72")
    save(qtbot, panel)
    late = ("Time 2026-03-02 13:55 UTC is before the check-in at 14:00 UTC; an entry can "
            "describe only a time during the session")
    assert_nothing_moves(panel, lambda: panel.show_errors([FieldError("time", late)]))
    assert panel.banner_text() == f"NOT saved: {late}"
    assert "marked" not in panel.banner_text()
    banner = panel.findChild(QWidget, "save-banner")
    assert wholly_in_strip(panel, banner)
    assert text_fits(banner.findChild(QLabel, "save-state"))
    shown = [m for m in panel.findChildren(FeedbackMessage) if m.isVisible()]
    assert shown == []  # one message in the strip, not two sharing its height
