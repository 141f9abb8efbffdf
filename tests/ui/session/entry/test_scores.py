"""The score forms: CADSS-6, MOAA/S and comfort, chosen by tapping."""


from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QScroller

from monitor.clinical.scores import MOAAS_LEVELS
from tests.ui.session.entry.forms import save, save_refused, show, tap
from ui.common.theme import DIM
from ui.session.entry import CadssEntry, ComfortEntry, MoaasEntry

# -- CADSS-6, MOAA/S, comfort ----------------------------------------------------------------


def test_cadss_total_runs_as_items_are_scored(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    assert form.total_text().startswith("CADSS-6 total 0 / 24")
    for number, score in zip(range(1, 7), (2, 1, 0, 3, 1, 0), strict=True):
        tap(qtbot, form.item(number).button(score))
    assert form.total_text() == "CADSS-6 total 7 / 24"


def test_cadss_needs_all_six_items(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    for number in range(1, 6):
        tap(qtbot, form.item(number).button(2))
    assert "5 of 6 scored" in form.total_text()
    save_refused(qtbot, form)
    assert "item 6 not scored" in form.message_for("cadss6_items")
    tap(qtbot, form.item(6).button(4))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"cadss6_items": (2, 2, 2, 2, 2, 4)}


def drag(viewport, start, distance):
    """A finger dragged ``distance`` px up from ``start`` over ``viewport``, fed to its
    scroller with explicit timestamps (10 ms apart), so the test does not hang on timing."""
    scroller = QScroller.scroller(viewport)
    at = QPointF(start)
    scroller.handleInput(QScroller.Input.InputPress, at, 0)
    for step in range(1, 11):
        at = QPointF(start.x(), start.y() - distance * step / 10)
        scroller.handleInput(QScroller.Input.InputMove, at, step * 10)
    scroller.handleInput(QScroller.Input.InputRelease, at, 110)


def test_a_finger_dragged_over_the_cadss_items_scrolls_them(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock), size=(640, 420))
    viewport = form._scroll.viewport()
    assert QScroller.hasScroller(viewport)
    bar = form._scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    # The drag starts where a score button is, as a nurse's finger does.
    button = form.item(2).button(2)
    drag(viewport, button.mapTo(viewport, button.rect().center()), 200)
    qtbot.waitUntil(lambda: bar.value() > 0)


def test_a_tap_on_a_cadss_score_still_chooses_it_with_kinetic_scrolling(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock), size=(640, 420))
    tap(qtbot, form.item(1).button(3))
    assert form.item(1).value() == 3


def test_cadss_rows_show_the_short_labels(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    assert form.item_label(1) == "1. Time slowed"
    assert form.item_label(6) == "6. Observer: appears detached"


def test_moaas_choice_is_submitted(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    assert "name called loudly/repeatedly" in form.choice(3).accessibleName().lower()
    tap(qtbot, form.choice(3))
    assert form.choice(3).isChecked()
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"moaas": 3}


def test_moaas_offers_all_six_levels_with_their_definitions(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    for level, definition in MOAAS_LEVELS.items():
        assert form.choice(level).accessibleName().lower() == f"{level}: {definition}".lower()


def test_moaas_must_be_chosen(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    save_refused(qtbot, form)
    assert "MOAA/S" in form.message_for("moaas")


def test_comfort_scores_are_optional_each_but_not_all(qtbot, clock):
    form = show(qtbot, ComfortEntry(DIM, clock))
    save_refused(qtbot, form)
    tap(qtbot, form.row("nausea").button(7))
    tap(qtbot, form.row("pain").button(2))
    tap(qtbot, form.row("pain").button(2))  # a second tap takes the choice back
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"nausea": 7, "anxiety": None, "pain": None}
