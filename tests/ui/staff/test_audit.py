"""The audit trail screen: a checked table model, filters by patient, session, staff, action
and date, readable and touchable at both sizes."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind
from tests.ui.background import settle
from tests.ui.touch import small_touch_targets
from ui.app.main_window import MainWindow
from ui.staff.audit import AuditModel


def click(qtbot, widget):
    """Tap ``widget`` once what the window reads is shown, and wait for what the tap asks."""
    settle(qtbot)
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


@pytest.fixture
def clinician(service):
    return service.ensure_staff("Dr Lee", "clinician", pin="739104")


@pytest.fixture
def record(service, clock, nurse):
    """Two patients' sessions a day apart."""
    sessions = {}
    for mrn, name in (("MRN-004211", "Ada Byrne"), ("MRN-007730", "Ben Okafor")):
        patient = service.add_patient(mrn, by=nurse, name=name, date_of_birth=date(1980, 4, 2),
                                      weight_kg=70)
        session_id = service.start_session(patient.id, by=nurse, chair="1")
        service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72"}, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
        sessions[mrn] = session_id
        clock.advance(timedelta(days=1))
    return sessions


@pytest.fixture
def window(qtbot, service, clock, clinician, record, window_worker):
    shown = MainWindow(service, clock, staff=(clinician, "Dr Lee"), tick_ms=3_600_000,
                       worker=window_worker)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def open_audit(qtbot, window):
    click(qtbot, window.overview.audit_button)
    assert window.stack.currentWidget() is window.audit
    return window.audit


def rows(screen):
    model = screen.model
    return [model.entry(r) for r in range(model.rowCount())]


def test_the_audit_model_passes_the_model_tester(qtbot, qtmodeltester, service, clinician,
                                                 record):
    model = AuditModel()
    model.set_entries(service.audit_entries(by=clinician))
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_a_clinician_opens_the_whole_trail_newest_first(qtbot, window):
    screen = open_audit(qtbot, window)
    entries = rows(screen)
    assert len(entries) > 4
    assert [e.seq for e in entries] == sorted((e.seq for e in entries), reverse=True)
    assert screen.count.text().startswith(f"{len(entries)} entries")


def test_the_filter_by_patient_keeps_only_that_patients_entries(qtbot, window, service):
    screen = open_audit(qtbot, window)
    screen.mrn.setText("MRN-007730")
    click(qtbot, screen.apply_button)
    patient = service.find_patient("MRN-007730")
    assert rows(screen)
    assert {e.patient_id for e in rows(screen)} == {patient.id}


def test_the_filter_by_session_staff_and_action(qtbot, window, record, nurse):
    screen = open_audit(qtbot, window)
    screen.session.setText(str(record["MRN-004211"]))
    screen.staff.setCurrentIndex(screen.staff.findData(nurse))
    click(qtbot, screen.apply_button)
    assert rows(screen)
    assert {e.session_id for e in rows(screen)} == {record["MRN-004211"]}
    assert {e.staff_name for e in rows(screen)} == {"Nora Nurse"}
    action = rows(screen)[0].action
    screen.action.setCurrentIndex(screen.action.findData(action))
    click(qtbot, screen.apply_button)
    assert {e.action for e in rows(screen)} == {action}


def test_the_filter_by_date_keeps_that_day(qtbot, window, service, clock, record):
    screen = open_audit(qtbot, window)
    first_day = (clock.now() - timedelta(days=2)).astimezone().date()
    screen.since.setText(first_day.isoformat())
    screen.until.setText(first_day.isoformat())
    click(qtbot, screen.apply_button)
    assert rows(screen)
    assert {e.at.astimezone().date() for e in rows(screen)} == {first_day}


def test_unreadable_filters_name_the_field(qtbot, window):
    screen = open_audit(qtbot, window)
    screen.since.setText("2.3.2026")
    click(qtbot, screen.apply_button)
    assert screen.message.text().startswith("From: a date as YYYY-MM-DD")
    screen.since.clear()
    screen.session.setText("abc")
    click(qtbot, screen.apply_button)
    assert screen.message.text().startswith("Session:")
    screen.session.clear()
    screen.mrn.setText("MRN-999999")
    click(qtbot, screen.apply_button)
    assert screen.message.text() == "Patient: no patient with MRN MRN-999999"


def test_a_nurse_is_not_offered_the_audit_trail(qtbot, service, clock, nurse):
    shown = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000)
    qtbot.addWidget(shown)
    shown.show()
    assert not shown.overview.audit_button.isVisible()


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_audit_trail_is_readable_and_touchable_at_both_sizes(qtbot, window, size):
    window.resize(*size)
    screen = open_audit(qtbot, window)
    qtbot.waitUntil(lambda: window.width() == size[0])
    assert small_touch_targets(screen) == []
    assert screen.table.verticalHeader().minimumSectionSize() >= 48
    assert screen.table.horizontalHeader().sectionSize(AuditModel.TIME) >= \
        screen.table.fontMetrics().horizontalAdvance("2026-03-02 10:42:00")


def _entry(old, new):
    import uuid  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    from monitor.service.views import AuditEntry  # noqa: PLC0415

    return AuditEntry(seq=1, at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), staff_id=uuid.uuid4(),
                      staff_name="Nora Nurse", action="create", record_kind="event",
                      record_id=uuid.uuid4(), session_id=None, patient_id=None, old=old,
                      new=new)


def test_a_change_reads_as_words_without_empty_values():
    from ui.staff.audit import change_text  # noqa: PLC0415

    assert change_text(_entry(None, {"detail": "", "kind": "escort_present"})) == \
        "kind: escort present"
    assert change_text(_entry({"hr": 140}, {"hr": 104, "note": "typo in HR"})) == \
        "hr: 140 → hr: 104; note: typo in HR"


def test_each_entry_shows_the_tablet_it_was_made_on(qtbot, service, clock, clinician):
    from monitor.service.clinic import ClinicService  # noqa: PLC0415
    from tests.conftest import TEST_SECRET  # noqa: PLC0415

    room2 = ClinicService(service.store, clock, secret=TEST_SECRET, tablet="Room-2")
    patient = room2.add_patient("MRN-004299", by=clinician, weight_kg=70)
    model = AuditModel()
    model.set_entries(room2.audit_entries(by=clinician))
    assert model.headerData(AuditModel.TABLET, Qt.Orientation.Horizontal) == "Tablet"
    (row,) = [r for r in range(model.rowCount()) if model.entry(r).patient_id == patient.id]
    assert model.data(model.index(row, AuditModel.TABLET)) == "Room-2"
    assert "Room-2" not in model.data(model.index(row, AuditModel.CHANGE)), \
        "the tablet has its own column, not the change's"
    others = [r for r in range(model.rowCount()) if not model.entry(r).tablet]
    assert others, "the fixtures' entries were written without a tablet"
    assert model.data(model.index(others[0], AuditModel.TABLET)) == "—"


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_tablet_has_a_column_in_landscape_and_goes_under_the_name_in_portrait(
    qtbot, service, clock, clinician, record, size
):
    from monitor.service.clinic import ClinicService  # noqa: PLC0415
    from tests.conftest import TEST_SECRET  # noqa: PLC0415

    room2 = ClinicService(service.store, clock, secret=TEST_SECRET, tablet="Room-2")
    room2.add_patient("MRN-004299", by=clinician, weight_kg=70)
    shown = MainWindow(room2, clock, staff=(clinician, "Dr Lee"), tick_ms=3_600_000)
    qtbot.addWidget(shown)
    shown.resize(*size)
    shown.show()
    qtbot.waitExposed(shown)
    screen = open_audit(qtbot, shown)
    qtbot.waitUntil(lambda: shown.width() == size[0])
    portrait = size[0] < size[1]
    model, table = screen.model, screen.table
    assert table.isColumnHidden(AuditModel.TABLET) == portrait
    newest = model.data(model.index(0, AuditModel.STAFF))
    assert newest == ("Dr Lee\nRoom-2" if portrait else "Dr Lee")
    if not portrait:
        assert model.data(model.index(0, AuditModel.TABLET)) == "Room-2"
    header = table.horizontalHeader()
    change_left = header.sectionViewportPosition(AuditModel.CHANGE)
    assert change_left + 80 <= table.viewport().width(), "the change keeps room on screen"
    shots = os.environ.get("CHAIRSIDE_TEST_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shown.grab().save(str(Path(shots) / f"audit-tablet-{size[0]}x{size[1]}.png"))


def test_true_and_false_read_as_yes_and_no_and_a_copy_sign_in_in_words():
    from ui.staff.audit import change_text  # noqa: PLC0415

    assert change_text(_entry(None, {"hr": 86, "on_oxygen": False, "spo2": 97})) == \
        "hr: 86; on oxygen: no; spo2: 97"
    assert change_text(_entry(None, {"on_oxygen": True})) == "on oxygen: yes"
    copy = _entry(None, {"on_tablet_copy": True, "entered_at": "2026-03-02T09:04:00+00:00"})
    assert change_text(copy) == "checked on the tablet's copy"


def _signin_from_copy(at, entered_at):
    import uuid  # noqa: PLC0415

    from monitor.service.views import AuditEntry  # noqa: PLC0415

    new = {"on_tablet_copy": True}
    if entered_at is not None:
        new["entered_at"] = entered_at.isoformat()
    return AuditEntry(seq=7, at=at, staff_id=uuid.uuid4(), staff_name="Nora Nurse",
                      action="login", record_kind="staff", record_id=uuid.uuid4(),
                      session_id=None, patient_id=None, old=None, new=new, tablet="Room-1")


def test_a_sign_in_from_the_copy_shows_its_own_time_and_when_it_was_entered():
    from datetime import UTC, datetime  # noqa: PLC0415

    at = datetime(2026, 12, 6, 23, 1, 24, tzinfo=UTC)
    entered = datetime(2026, 12, 6, 23, 5, 36, tzinfo=UTC)
    model = AuditModel()
    model.set_entries([_signin_from_copy(at, entered), _signin_from_copy(at, None),
                       _entry(None, {"hr": 72})])
    own = f"{at.astimezone():%Y-%m-%d %H:%M:%S}"
    assert model.data(model.index(0, AuditModel.TIME)) == \
        f"{own}\n(entered from the\ntablet's copy at {entered.astimezone():%H:%M})"
    # Written before the entered time was kept: still said to be late, without a time.
    assert model.data(model.index(1, AuditModel.TIME)) == \
        f"{own}\n(entered later from\nthe tablet's copy)"
    assert "\n" not in model.data(model.index(2, AuditModel.TIME))
    assert model.data(model.index(0, AuditModel.CHANGE)) == "checked on the tablet's copy"


def _cut_cells(table) -> list[str]:
    """Cells whose text is not whole in their cell: a line wider than the column (for
    text broken by hand) or wrapped text taller than the row."""
    from PySide6.QtCore import QRect  # noqa: PLC0415

    metrics = table.fontMetrics()
    model = table.model()
    cut = []
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        room = table.columnWidth(column) - 6  # the style's text margins
        for row in range(model.rowCount()):
            text = model.index(row, column).data() or ""
            if column == AuditModel.CHANGE:
                need = metrics.boundingRect(QRect(0, 0, room, 10_000),
                                            int(Qt.TextFlag.TextWordWrap), text)
                if need.height() > table.rowHeight(row) or need.width() > room:
                    cut.append(f"{text!r}: needs {need.height()}px, has {table.rowHeight(row)}")
                continue
            lines = text.splitlines() or [""]
            if max(metrics.horizontalAdvance(line) for line in lines) > room:
                cut.append(f"{text!r}: wider than {room}px")
            if len(lines) * metrics.lineSpacing() > table.rowHeight(row):
                cut.append(f"{text!r}: taller than {table.rowHeight(row)}px")
    return cut


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_change_and_time_is_whole_with_nothing_cut(qtbot, qapp, size):
    from datetime import UTC, datetime  # noqa: PLC0415

    from ui.common.style import apply_theme  # noqa: PLC0415
    from ui.common.theme import DIM  # noqa: PLC0415
    from ui.staff.audit import AuditScreen  # noqa: PLC0415

    apply_theme(qapp, DIM)
    screen = AuditScreen(DIM)
    qtbot.addWidget(screen)
    portrait = size[0] < size[1]
    screen.set_orientation(Qt.Orientation.Vertical if portrait else Qt.Orientation.Horizontal)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    at = datetime(2026, 12, 6, 23, 1, 24, tzinfo=UTC)
    long_change = _entry(None, {
        "action": "Repeated reading; Informed clinician", "flag": "spo2-low",
        "message": "SpO2 90 % ≤ 91 %", "on_oxygen": False, "time": at.isoformat(),
        "note": "patient asleep, woken and asked to breathe deeply; reading repeated",
        "reading_id": "3f2a9c1e-7b44-4d2e-9a51-0c6e2b7f8d13"})
    screen.show_entries([_signin_from_copy(at, at.replace(minute=5)), long_change,
                         _entry(None, {"hr": 72})])
    qapp.processEvents()
    change = screen.model.data(screen.model.index(1, AuditModel.CHANGE))
    assert "…" not in change
    assert f"time: {at.astimezone():%Y-%m-%d %H:%M:%S}" in change
    assert change.replace("\u200b", "").endswith("3f2a9c1e-7b44-4d2e-9a51-0c6e2b7f8d13")
    assert _cut_cells(screen.table) == []
    assert screen.table.horizontalScrollBar().maximum() == 0, "no column off screen"
    shots = os.environ.get("CHAIRSIDE_TEST_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        screen.grab().save(str(Path(shots) / f"audit-whole-{size[0]}x{size[1]}.png"))
