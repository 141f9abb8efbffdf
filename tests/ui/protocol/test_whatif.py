"""The what-if in the app: a draft tried on the demo clinic's sessions in the background, with
progress and Cancel; the figures are the command line's; a changed session opens in the
review with both versions' flags. And withdrawing a draft from the protocol screen."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from monitor.cli.main import main
from monitor.clock import ManualClock
from monitor.demo import data as demo
from monitor.service.auth import KEY_FILE_ENV
from monitor.service.clinic import ClinicService
from monitor.service.whatif import what_if
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.ui.conftest import settle
from tests.ui.touch import small_touch_targets
from ui.protocol.whatif import WhatIfController, WhatIfScreen
from ui.protocol.whatif_rows import comparison_rows
from ui.review.whatif_flags import AFTER_ONLY, flag_differences

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SBP = "bp.high_warning_sbp_at_or_above"
SINCE, UNTIL = "2025-01-01", "2026-03-02"


@pytest.fixture(autouse=True)
def _same_secret() -> None:
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())


@pytest.fixture
def clinic(tmp_path, monkeypatch):
    """150 demo sessions; an admin's draft lowering the SBP warning limit to 150."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    store = open_store(url)
    demo.generate(store, sessions=150, seed=7, clock_now=NOW)
    service = ClinicService(store, ManualClock(NOW), secret=TEST_SECRET)
    admin = service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Lower SBP band",
                                           parameters={SBP: 150})
    # In this process: the test machine's cores are shared.
    monkeypatch.setattr("ui.app.protocol_flows.ProtocolFlows.whatif_workers", lambda self: 1)
    yield service, url, admin, clinician, draft
    store.close()


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


def _window(qtbot, service, staff, size=(1280, 800), worker=None):
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only these tests need it

    shown = MainWindow(service, service.clock, staff=staff, tick_ms=3_600_000, worker=worker)
    qtbot.addWidget(shown)
    shown.resize(*size)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def _protocol(qtbot, window):
    """The protocol screen, from the admin's staff screen or the clinician's overview."""
    admin = window.staff_admin
    click(qtbot, admin.protocol_button if admin is not None and admin.isVisible()
          else window.protocol_button)
    return window.protocol_screen


def _open_whatif(qtbot, window, draft):
    _protocol(qtbot, window)
    protocol = window.protocol_screen
    click(qtbot, protocol.findChild(type(protocol.approve_button), f"protocol-draft-{draft}"))
    click(qtbot, protocol.whatif_button)
    screen = window.whatif_screen
    assert window.stack.currentWidget() is screen
    return screen


def _run(qtbot, window, screen):
    screen.since.setText(SINCE)
    screen.until.setText(UNTIL)
    with qtbot.waitSignal(window._whatif_controller.finished, timeout=60_000):
        click(qtbot, screen.run_button)
    return screen.result


def test_the_what_if_runs_in_the_background_to_100_percent_and_matches_the_command_line(
        qtbot, clinic, capsys, monkeypatch):
    service, url, _, clinician, draft = clinic
    window = _window(qtbot, service, (clinician, "Cleo Clinician"))
    screen = _open_whatif(qtbot, window, draft)
    # The last 30 days unless changed.
    assert (screen.since.text(), screen.until.text()) == ("2026-01-31", "2026-03-02")
    assert small_touch_targets(screen) == []

    result = _run(qtbot, window, screen)
    assert result is not None
    assert not result.cancelled
    assert screen.bar.value() == screen.bar.maximum() == result.total > 0
    assert screen.run_button.isEnabled()
    assert not screen.cancel_button.isEnabled()

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["protocol", "what-if", "--draft", str(draft), "--since", SINCE, "--until",
                 UNTIL, "--workers", "1", "--json", "--db", url], clock=service.clock) == 0
    cli = json.loads(capsys.readouterr().out)
    assert result.to_json() == cli
    # What the table shows is the command line's figures.
    shown = [[screen.comparison.index(r, c).data() for c in range(4)]
             for r in range(screen.comparison.rowCount())]
    assert shown == [[row.what, row.before, row.after, row.change]
                     for row in comparison_rows(cli)]
    warning = next(r for r in shown if r[0] == "Warning")
    assert warning[1:3] == [str(cli["flags_before"]["warning"]),
                            str(cli["flags_after"]["warning"])]
    assert screen.changed.rowCount() == len(cli["changed_sessions"]) > 0


def test_cancel_stops_the_run_and_the_screen_stays_usable(qtbot, clinic):
    service, _, _, _, draft = clinic
    protocol = service.protocols.resolved(draft)
    gate = threading.Event()

    def replay(since, until, progress, cancel):
        def held(done, total):
            progress(done, total)
            gate.wait(30)  # the run is under way until the test lets it go on

        return what_if(service.store, protocol, since=since, until=until, progress=held,
                       cancel=cancel, chunk_sessions=20)

    screen = WhatIfScreen(service_theme())
    qtbot.addWidget(screen)
    controller = WhatIfController(screen, NOW.date)
    controller.open(draft, replay, "What-if", "")
    screen.show()
    screen.since.setText(SINCE)
    screen.until.setText(UNTIL)
    click(qtbot, screen.run_button)
    qtbot.waitUntil(lambda: screen.bar.value() == 20)
    # The GUI thread is free while the replay waits: the screen answers.
    assert controller.running
    assert not screen.run_button.isEnabled()
    assert screen.status.text().startswith("Replaying: 20 of ")
    click(qtbot, screen.cancel_button)
    assert screen.status.text().startswith("Cancelling")
    with qtbot.waitSignal(controller.finished, timeout=30_000) as finished:
        gate.set()
    cancelled = finished.args[0]
    assert cancelled.cancelled
    assert cancelled.sessions < cancelled.total
    assert screen.status.text().startswith(f"Cancelled after {cancelled.sessions} of ")
    assert screen.run_button.isEnabled()

    # Usable again: the whole period now runs to the end.
    with qtbot.waitSignal(controller.finished, timeout=60_000) as finished:
        click(qtbot, screen.run_button)
    assert not finished.args[0].cancelled
    assert screen.bar.value() == screen.bar.maximum() == finished.args[0].total


def test_a_changed_session_opens_in_the_review_with_both_versions_flags(qtbot, clinic,
                                                                        db_worker):
    service, _, _, clinician, draft = clinic
    window = _window(qtbot, service, (clinician, "Cleo Clinician"), worker=db_worker)
    screen = _open_whatif(qtbot, window, draft)
    result = _run(qtbot, window, screen)
    changed = result.changed[0]
    screen.changed_table.selectRow(0)
    click(qtbot, screen.open_button)

    review = window.session_review
    assert window.stack.currentWidget() is review
    assert review.session_id == changed.session_id
    assert review.whatif_panel.isVisible()
    rows = review.whatif_flags.differences()
    assert rows == flag_differences(changed)
    assert {(r.measure, r.severity, r.time) for r in rows if r.before} == set(changed.before)
    assert {(r.measure, r.severity, r.time) for r in rows if r.after} == set(changed.after)
    # A lower warning limit raises flags the session never had: marked "draft only".
    draft_only = [r for r in rows if r.side == AFTER_ONLY]
    assert draft_only
    row = rows.index(draft_only[0])
    model = review.whatif_flags
    assert model.index(row, model.BEFORE).data() == "—"
    assert model.index(row, model.AFTER).data() == draft_only[0].severity.label.capitalize()
    assert model.index(row, model.TIME).data(Qt.ItemDataRole.ToolTipRole) == "draft only"
    assert "Ran under" in review.whatif_legend.text()
    assert "Lower SBP band" in review.whatif_legend.text()

    assert review.back_button.text() == "Back to what-if"
    click(qtbot, review.back_button)  # back to the what-if, its figures kept
    assert window.stack.currentWidget() is screen
    assert screen.result is result
    # Opened from the list, the same session shows no what-if.
    window.show_session_review(changed.session_id)
    settle(qtbot)
    assert not review.whatif_panel.isVisible()
    assert review.back_button.text() == "Back to list"


def test_an_admin_runs_the_what_if_but_opens_no_chart_and_a_nurse_has_no_what_if(
        qtbot, clinic):
    service, _, admin, _, draft = clinic
    window = _window(qtbot, service, (admin, "Ada Admin"), size=(800, 1280))
    screen = _open_whatif(qtbot, window, draft)
    _run(qtbot, window, screen)
    screen.changed_table.selectRow(0)
    assert not screen.open_button.isEnabled()
    assert screen.open_button.text() == "Open in review (clinicians)"

    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    reader = _window(qtbot, service, (nurse, "Nora Nurse"))
    click(qtbot, reader.protocol_button)
    protocol = reader.protocol_screen
    click(qtbot, protocol.findChild(type(protocol.approve_button), f"protocol-draft-{draft}"))
    assert not protocol.whatif_button.isVisible()
    assert not protocol.withdraw_button.isVisible()


def test_an_admin_withdraws_a_draft_with_a_reason(qtbot, clinic, db_worker):
    service, _, admin, _, draft = clinic
    window = _window(qtbot, service, (admin, "Ada Admin"), worker=db_worker)
    protocol = _protocol(qtbot, window)
    click(qtbot, protocol.findChild(type(protocol.approve_button), f"protocol-draft-{draft}"))
    click(qtbot, protocol.withdraw_button)
    dialog = window._protocol_controller.withdraw_dialog
    assert dialog is not None
    assert not dialog.act.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.text, "Superseded by the review")
    click(qtbot, dialog.act)
    assert service.protocols.draft(draft).state == "withdrawn"
    assert protocol.message.text().startswith("Draft withdrawn")
    click(qtbot, protocol.findChild(type(protocol.approve_button), f"protocol-draft-{draft}"))
    assert not protocol.withdraw_button.isVisible()
    assert not protocol.save_button.isVisible()
    (entry,) = service.audit_entries(by=admin, action="protocol_draft_withdraw")
    assert entry.new["reason"] == "Superseded by the review"


def service_theme():
    from ui.common.theme import DIM  # noqa: PLC0415

    return DIM


def test_the_what_if_of_a_draft_with_unsaved_values_asks_to_save_first(qtbot, clinic,
                                                                       db_worker):
    service, _, admin, _, draft = clinic
    window = _window(qtbot, service, (admin, "Ada Admin"), worker=db_worker)
    protocol = _protocol(qtbot, window)
    click(qtbot, protocol.findChild(type(protocol.approve_button), f"protocol-draft-{draft}"))
    protocol.fields[SBP].clear()
    qtbot.keyClicks(protocol.fields[SBP], "155")
    click(qtbot, protocol.whatif_button)
    assert window.stack.currentWidget() is protocol
    assert protocol.message.text().startswith("Save the draft first")
    click(qtbot, protocol.save_button)
    click(qtbot, protocol.whatif_button)
    assert window.stack.currentWidget() is window.whatif_screen
