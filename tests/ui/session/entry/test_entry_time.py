"""The entry time: now by default, stepped back for a late entry, never in the future."""

from datetime import timedelta

from PySide6.QtWidgets import QAbstractButton

from tests.ui.session.entry.forms import enter_value, save, tap
from ui.common.labels import clock_time
from ui.common.theme import DIM, LIGHT
from ui.session.entry import EntryTime

# -- entry time --------------------------------------------------------------------------------


def test_an_entry_describes_now_by_default(qtbot, vitals, clock):
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when == clock.now()
    assert not vitals.time.is_late()


def test_late_entry_steps_back_from_the_current_minute(qtbot, vitals, clock):
    clock.advance(timedelta(minutes=41, seconds=37))
    entered = clock.now()
    vitals.time.refresh()
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-5"))
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-1"))
    described = entered.replace(second=0) - timedelta(minutes=6)
    assert vitals.time.when() == described
    assert vitals.time.late_text() == (
        f"late entry: describes {clock_time(described)}, entered {clock_time(entered)}"
    )
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when == described


def test_a_late_time_stays_put_while_the_clock_moves(qtbot, clock):
    time = EntryTime(LIGHT, clock)
    qtbot.addWidget(time)
    time.step_back(15)
    described = time.when()
    clock.advance(timedelta(minutes=3))
    time.refresh()
    assert time.when() == described
    assert time.is_late()


def test_now_resets_a_late_entry(qtbot, vitals, clock):
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-15"))
    assert vitals.time.is_late()
    tap(qtbot, vitals.findChild(QAbstractButton, "time-now"))
    assert vitals.time.when() == clock.now()
    assert not vitals.time.is_late()
    assert vitals.time.late_text() == ""


def test_entry_time_is_never_later_than_now(qtbot, clock):
    time = EntryTime(DIM, clock)
    qtbot.addWidget(time)
    time.set_time(clock.now() + timedelta(minutes=10))
    assert time.when() == clock.now()
    time.step_back(1)
    clock.set_wall(clock.now() - timedelta(minutes=5))  # the wall clock is set back
    time.refresh()
    assert time.when() <= clock.now()
    assert not time.is_late()


def test_submitted_time_is_never_in_the_future(qtbot, vitals, clock):
    vitals.time.set_time(clock.now() + timedelta(hours=1))
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when <= clock.now()
