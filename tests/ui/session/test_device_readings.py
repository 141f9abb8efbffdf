"""The bedside monitor's readings on the session screen: one tap to confirm or discard."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from monitor.feed.filing import FeedFiling
from monitor.feed.interpret import interpret
from tests.monitor.feed.samples import UTC_ZONE
from tests.monitor.feed.test_filing import DEVICE, message
from tests.ui.sessions import patient_session
from ui.common.theme import DIM
from ui.session.device_readings import DeviceReadingsController, DeviceReadingsPanel
from ui.session.presenter import SessionPresenter


def setup(qtbot, service, clock, nurse, nibp=(190, 95)):
    admin = service.ensure_staff("Ada Admin", "admin")
    session_id = patient_session(service, nurse)
    filing = FeedFiling(service)
    filing.bind("Chair 2", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=2))
    raw = message(clock.now(), nibp=nibp, mrn="MRN-100", bed="Chair 2")
    filing.file(interpret(raw, received_at=clock.now(), zone=UTC_ZONE), clock.now())
    presenter = SessionPresenter(service, clock, session_id, nurse)
    panel = DeviceReadingsPanel(DIM)
    qtbot.addWidget(panel)
    controller = DeviceReadingsController(filing, presenter, panel)
    presenter.refresh()
    return filing, presenter, panel, controller, session_id


def test_a_waiting_reading_is_shown_and_one_tap_files_it_with_its_flag(
        qtbot, service, clock, nurse):
    filing, presenter, panel, _controller, session_id = setup(qtbot, service, clock, nurse)
    panel.show()
    assert len(panel.rows) == 1
    assert panel.rows[0].values.text() == "BP 190/95 · HR 72 · SpO2 97 % · RR 14"
    assert panel.rows[0].confirm_button.height() >= 48
    with qtbot.waitSignal(presenter.flagsRaised) as raised:
        qtbot.mouseClick(panel.rows[0].confirm_button, Qt.MouseButton.LeftButton)
    assert "bp-high" in {flag.key for flag in raised.args[0]}
    assert panel.rows == []
    assert "1 from the monitor, not typed" in panel.summary.text()
    assert len(presenter.view.record.readings) == 1
    assert filing.pending(session_id) == []


def test_discard_offers_reasons_and_files_nothing(qtbot, service, clock, nurse):
    filing, presenter, panel, _controller, session_id = setup(qtbot, service, clock, nurse)
    panel.show()
    row = panel.rows[0]
    assert not row.reasons.isVisible()
    qtbot.mouseClick(row.discard_button, Qt.MouseButton.LeftButton)
    assert row.reasons.isVisible()
    with qtbot.waitSignal(presenter.saved):
        qtbot.mouseClick(row.reason_buttons[0], Qt.MouseButton.LeftButton)
    [gone] = filing.device_readings(session_id)
    assert (gone.status, gone.reason) == ("discarded", "artefact")
    assert presenter.view.record.readings == ()
    assert not panel.isVisible()  # nothing waits and nothing was filed from the monitor


def test_a_reading_confirmed_meanwhile_is_refused_with_a_message(qtbot, service, clock, nurse):
    filing, presenter, panel, controller, session_id = setup(qtbot, service, clock, nurse)
    [pending] = filing.pending(session_id)
    filing.confirm(pending.id, by=nurse)  # on another tablet
    with qtbot.waitSignal(presenter.refused) as refused:
        assert controller.confirm(pending.id) is False
    assert "already confirmed" in refused.args[0][0].message
    assert panel.rows == []
