"""The chair screen while the server is away: an entry is said saved on this tablet (in
amber, with how many wait), its flag is shown, and sign-off says it needs the server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.clinical.domain import EventKind, Severity
from monitor.service.reachability import Reachability
from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from tests.support.outage import Outage
from tests.ui.session.entry.forms import enter_value, save
from tests.ui.sessions import host, patient_session
from ui.common.theme import DIM
from ui.session.discharge import NEEDS_SERVER
from ui.session.entry.form import REACHED_SERVER
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screen is also saved there
HELD_ONE = "Saved on this tablet — not yet on the server (1)"
HELD_TWO = "Saved on this tablet — not yet on the server (2)"


@dataclass
class Chair:
    screen: SessionScreen
    presenter: SessionPresenter
    tablet: TabletService
    outage: Outage
    reachability: Reachability


@pytest.fixture
def chair(qtbot, service, clock, nurse, tmp_path) -> Iterator[Chair]:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    tablet = TabletService(service, outbox, clock)
    reachability = Reachability(clock)
    presenter = SessionPresenter(tablet, clock, patient_session(service, nurse), nurse,
                                 reachability=reachability)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    outage = Outage(service.store)
    yield Chair(screen, presenter, tablet, outage, reachability)
    outage.end()
    window.close()
    outbox.close()


def test_a_reading_while_the_server_is_away_is_said_saved_on_this_tablet_with_its_flag(
        qtbot, chair, clock):
    vitals = chair.screen.vitals
    reached = chair.reachability.last_success
    chair.outage.begin()
    clock.advance(timedelta(minutes=5))
    enter_value(qtbot, vitals, "hr", "72")
    enter_value(qtbot, vitals, "spo2", "88")
    with qtbot.assertNotEmitted(chair.presenter.saved):
        save(qtbot, vitals)
    assert vitals.banner_text() == HELD_ONE
    if SHOTS:
        chair.screen.window().grab().save(str(Path(SHOTS) / "held-vitals-1280x800.png"))
    assert vitals._banner.state() == "held"  # amber, not the green of a save on the server
    assert vitals.field("spo2").text() == ""  # kept on the tablet, not left in the form
    assert HELD_ONE in chair.screen.header.notice_text()
    assert chair.presenter.view is not None
    assert chair.presenter.view.on_tablet
    assert any(f.key == "spo2-low" and f.severity is Severity.CRITICAL and f.open
               for f in chair.presenter.view.flags)
    assert "CRITICAL" in chair.screen.flags.summary.text()
    assert chair.presenter.can_undo() is False  # undone through the server, later
    assert chair.reachability.last_success == reached  # a held save is no sign of the server


def test_sign_off_says_it_needs_the_server_while_it_is_away_and_is_back_after_the_drain(
        qtbot, chair, clock, nurse):
    screen = chair.screen
    screen.tabs.setCurrentWidget(screen.discharge)
    sign = screen.discharge.sign_button
    assert sign.text() == "Sign discharge"
    chair.outage.begin()
    clock.advance(timedelta(minutes=5))
    chair.presenter.refresh()
    assert sign.text() == NEEDS_SERVER
    assert not sign.isEnabled()
    assert not chair.screen.discharge.override_button.isEnabled()
    chair.presenter.save_reading({"hr": "72", "spo2": "97"})
    assert chair.tablet.held(chair.presenter.session_id) == 1
    chair.outage.end()
    assert chair.tablet.drain() == 1
    chair.presenter.refresh()
    assert sign.text() == "Sign discharge"
    assert HELD_ONE not in chair.screen.header.notice_text()
    assert chair.presenter.view is not None
    assert chair.presenter.view.held == 0


def test_the_form_says_its_held_entries_reached_the_server_once_none_wait(
        qtbot, chair, clock):
    vitals = chair.screen.vitals
    chair.outage.begin()
    clock.advance(timedelta(minutes=5))
    for hr in ("72", "74"):
        enter_value(qtbot, vitals, "hr", hr)
        save(qtbot, vitals)
    assert vitals.banner_text() == HELD_TWO
    assert HELD_TWO in chair.screen.header.notice_text()
    chair.outage.end()
    assert chair.tablet.drain() == 2
    chair.presenter.refresh()
    assert chair.presenter.view is not None
    assert chair.presenter.view.held == 0
    assert chair.screen.header.notice_text() == ""
    assert vitals.banner_text() == REACHED_SERVER
    assert vitals._banner.state() == "saved"  # green now: the entries are on the server


def test_a_partly_drained_count_is_followed_in_the_form(qtbot, chair, clock):
    vitals = chair.screen.vitals
    chair.outage.begin()
    clock.advance(timedelta(minutes=5))
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    chair.presenter.save_reading({"hr": "74"})
    chair.presenter.refresh()
    assert vitals.banner_text() == HELD_TWO
    chair.screen.show_view(replace(chair.presenter.view, held=1))
    assert vitals.banner_text() == HELD_ONE
    # One refused by the server meanwhile: not said "on the server", the header says why.
    chair.screen.show_view(replace(chair.presenter.view, held=0,
                                   refused_on_server=("HR 74 out of range",)))
    assert vitals.banner_text() == ""
    assert "refused" in chair.screen.header.notice_text()


def test_an_event_is_held_and_a_correction_meanwhile_says_it_waits_for_the_server(
        qtbot, chair, clock):
    presenter = chair.presenter
    chair.outage.begin()
    clock.advance(timedelta(minutes=2))
    with qtbot.waitSignal(presenter.heldOnTablet) as held:
        assert presenter.record_event(EventKind.MEDICATION, detail="ondansetron 4 mg")
    assert held.args == [HELD_ONE]
    with qtbot.waitSignal(presenter.notSaved) as refused:
        assert not presenter.void("reading", uuid.uuid4(), "entered on the wrong chair")
    assert "A correction waits until the 1 entries saved on this tablet reach the server" \
        in refused.args[0]
    assert presenter.view is not None
    assert any(e.detail == "ondansetron 4 mg" for e in presenter.view.record.events)



def _acknowledge_repeated(screen: SessionScreen, flag) -> None:
    """Acknowledge, "Repeated reading", Acknowledge: as the nurse taps it."""
    dialog = screen.flags.acknowledge(flag)
    next(b for b in dialog.choices.buttons()
         if b.property("action") == "Repeated reading").click()
    dialog.ok.click()
    assert not dialog.isVisible()


def _critical(presenter: SessionPresenter):
    assert presenter.view is not None
    return next(f for f in presenter.view.flags if f.open and f.severity is Severity.CRITICAL)


def test_acknowledging_a_critical_flag_while_the_server_is_away_says_it_needs_the_server(
        qtbot, chair, clock):
    presenter, screen = chair.presenter, chair.screen
    clock.advance(timedelta(minutes=2))
    assert presenter.save_reading({"hr": "88", "spo2": "84"})  # on the server
    flag = _critical(presenter)
    chair.outage.begin()
    clock.advance(timedelta(minutes=1))
    with qtbot.assertNotEmitted(presenter.signatureNeeded), \
            qtbot.waitSignal(presenter.notSaved):
        _acknowledge_repeated(screen, flag)
    notice = screen.header.notice_text()
    assert "Acknowledging a critical flag (an e-signature) needs the server" in notice
    assert notice.count("Nothing was recorded") == 1
    assert chair.tablet.held(presenter.session_id) == 0
    assert _critical(presenter).id == flag.id  # still open
    assert "CRITICAL" in screen.flags.summary.text()


def test_acknowledging_a_critical_flag_raised_on_this_tablet_is_said_and_stays_said(
        qtbot, chair, clock):
    """The flag of a reading saved on this tablet during the outage: the refusal is said and
    not replaced at the next tick by the count of entries waiting."""
    presenter, screen = chair.presenter, chair.screen
    chair.outage.begin()
    clock.advance(timedelta(minutes=2))
    assert presenter.save_reading({"hr": "88", "spo2": "84"})  # held on the tablet
    flag = _critical(presenter)
    clock.advance(timedelta(minutes=1))
    with qtbot.assertNotEmitted(presenter.signatureNeeded), \
            qtbot.waitSignal(presenter.notSaved):
        _acknowledge_repeated(screen, flag)
    said = ("Acknowledging a critical flag (an e-signature) waits until the 1 entries saved "
            "on this tablet reach the server. Nothing was recorded")
    assert said in screen.header.notice_text()
    clock.advance(timedelta(seconds=30))
    presenter.retime()  # the tick
    presenter.refresh()  # a read finding the server still away
    assert said in screen.header.notice_text()
    if SHOTS:
        screen.window().grab().save(str(Path(SHOTS) / "ack-needs-server-1280x800.png"))
    assert chair.tablet.held(presenter.session_id) == 1  # the reading alone
    assert presenter.view is not None
    assert not presenter.view.record.acknowledgements
    assert _critical(presenter).id == flag.id
    clock.advance(timedelta(minutes=3))  # the notice goes; the count is said again
    presenter.retime()
    assert screen.header.notice_text() == HELD_ONE
