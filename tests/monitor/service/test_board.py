"""The chair overview's tiles: what each shows is derived from the session as it stands."""

from datetime import date, timedelta

import pytest

from monitor.clinical.domain import EventKind, Measure, Phase, Severity, clock_time
from monitor.service.board import format_elapsed, initials, tile_for

MIN = timedelta(minutes=1)


@pytest.fixture
def running(service, nurse, clock):
    patient = service.add_patient("MRN004211", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="3")
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    clock.advance(2 * MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return session_id


def test_a_free_chair_has_an_empty_tile():
    tile = tile_for("1", None)
    assert tile.empty
    assert tile.phase_text == "empty"


def test_an_infusing_chair_shows_initials_mrn_tail_phase_and_latest_values(
    service, running, clock
):
    clock.advance(12 * MIN + timedelta(seconds=5))
    tile = tile_for("3", service.load(running))
    assert (tile.initials, tile.mrn_tail) == ("AB", "4211")
    assert tile.phase is Phase.INFUSING
    assert tile.phase_text == "infusing 12:05 min elapsed"
    assert (tile.bp, tile.hr, tile.spo2) == ((128, 78), 72, 98)


def test_the_countdown_turns_overdue(service, running, clock):
    clock.advance(9 * MIN)
    assert tile_for("3", service.load(running)).due_in == MIN
    clock.advance(3 * MIN)
    tile = tile_for("3", service.load(running))
    assert tile.overdue
    assert tile.due_in == -2 * MIN


def test_a_warning_bp_brings_the_countdown_forward_until_a_normal_repeat(
    service, nurse, running, clock
):
    clock.advance(10 * MIN)
    service.record_reading(running, {"sbp": "186", "dbp": "96", "hr": "80", "spo2": "97"},
                           by=nurse)
    clock.advance(MIN)
    tile = tile_for("3", service.load(running))
    assert tile.due_in == 4 * MIN  # 5 min after the warning, not 10
    assert (tile.repeat_for, tile.repeat_text) == ((Measure.BP,), "BP")
    clock.advance(6 * MIN + timedelta(seconds=30))  # the repeat is 2.5 min late
    view = service.load(running)
    tile = tile_for("3", view)
    assert tile.overdue
    assert tile.due_in == -(2 * MIN + timedelta(seconds=30))
    # The overdue advisory follows the same due time (past its 2-min grace).
    assert [f.measure for f in view.open_flags if f.measure is Measure.OVERDUE] == [
        Measure.OVERDUE]
    service.record_reading(running, {"sbp": "150", "dbp": "90", "hr": "80", "spo2": "97"},
                           by=nurse)
    tile = tile_for("3", service.load(running))
    assert (tile.due_in, tile.repeat_for) == (10 * MIN, ())


def test_the_worst_open_flag_is_shown(service, nurse, running, clock):
    clock.advance(10 * MIN)
    service.record_reading(running, {"sbp": "130", "dbp": "80", "hr": "112", "spo2": "90"},
                           by=nurse)
    tile = tile_for("3", service.load(running))
    assert tile.worst_flag.severity is Severity.CRITICAL
    assert tile.open_flag_count == 2


def test_active_sessions_finds_the_latest_session_per_chair(service, nurse, running, clock):
    assert service.active_sessions(["1", "2", "3", "4"]) == {"3": running}
    clock.advance(timedelta(hours=13))
    assert service.active_sessions(["1", "2", "3", "4"]) == {}


def test_search_patients_by_name_or_mrn(service, nurse, running):
    assert [p.mrn for p in service.search_patients("byr")] == ["MRN004211"]
    assert [p.mrn for p in service.search_patients("4211")] == ["MRN004211"]
    assert service.search_patients("zzz") == []


def test_helpers():
    assert initials("mary-jane o'neil") == "MJO"
    assert initials(None) == "?"
    assert format_elapsed(timedelta(minutes=75, seconds=3)) == "75:03 min"


def test_an_elapsed_time_cannot_be_read_as_hours_and_minutes():
    assert format_elapsed(timedelta(minutes=1, seconds=5)) == "1:05 min"
    assert format_elapsed(timedelta(seconds=9)) == "0:09 min"


def _acknowledged_critical_bp(service, nurse, running, clock):
    """A rise advisory left open at 10 min, then 188/114 twice: critical, acknowledged."""
    from tests.conftest import TEST_PIN  # noqa: PLC0415 - only these tests sign

    clock.advance(10 * MIN)
    service.record_reading(running, {"sbp": "170", "dbp": "96"}, by=nurse)
    clock.advance(4 * MIN)
    service.record_reading(running, {"sbp": "188", "dbp": "114"}, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(running, {"sbp": "188", "dbp": "114"}, by=nurse)
    view = service.load(running)
    (critical,) = [f for f in view.open_flags if f.severity is Severity.CRITICAL]
    service.acknowledge(running, critical, action="Clinician informed", by=nurse, pin=TEST_PIN)
    return service.load(running)


def test_an_acknowledged_critical_bp_keeps_its_tier_on_the_tile(service, nurse, running, clock):
    view = _acknowledged_critical_bp(service, nurse, running, clock)
    assert [f.severity for f in view.open_flags] == [Severity.ADVISORY]
    tile = tile_for("3", view)
    assert tile.bp == (188, 114)
    badge = tile.badges["bp"]
    assert (badge.severity, badge.text, badge.on_value, badge.value_tier) == (
        Severity.CRITICAL, "CRITICAL · acknowledged", True, Severity.CRITICAL)
    assert tile.standing is Severity.CRITICAL
    assert tile.standing_text == "BP still critical · acknowledged"


def test_a_value_still_critical_under_an_open_critical_flag_is_not_called_acknowledged(
    service, nurse, running, clock
):
    clock.advance(10 * MIN)
    service.record_reading(running, {"spo2": "87"}, by=nurse)
    clock.advance(2 * MIN)
    service.record_reading(running, {"spo2": "87"}, by=nurse)
    view = service.load(running)
    (critical,) = [f for f in view.open_flags if f.severity is Severity.CRITICAL]
    latest = max((r for r in view.record.readings if r.spo2 is not None), key=lambda r: r.time)
    assert critical.reading_id != latest.id
    badge = tile_for("3", view).badges["spo2"]
    assert "acknowledged" not in badge.text
    assert (badge.severity, badge.value_tier) == (Severity.CRITICAL, Severity.CRITICAL)
    assert badge.text == f"CRITICAL · {clock_time(critical.time)}"


def test_an_earlier_readings_open_flag_says_when_and_leaves_a_normal_value_plain(
    service, nurse, running, clock
):
    clock.advance(10 * MIN)
    service.record_reading(running, {"sbp": "130", "dbp": "80", "hr": "112"}, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(running, {"sbp": "130", "dbp": "80", "hr": "80"}, by=nurse)
    badge = tile_for("3", service.load(running)).badges["hr"]
    assert badge.text.startswith("WARNING · ")
    assert (badge.on_value, badge.value_tier) == (False, None)


def test_a_warning_after_an_acknowledged_critical_is_called_covered_not_acknowledged(
        service, nurse, running, clock):
    from tests.conftest import TEST_PIN  # noqa: PLC0415 - only these tests sign

    clock.advance(10 * MIN)
    service.record_reading(running, {"spo2": "90"}, by=nurse)
    (critical,) = service.load(running).open_flags
    clock.advance(MIN)
    service.acknowledge(running, critical, action="Oxygen given", by=nurse, pin=TEST_PIN)
    acknowledged_at = clock_time(clock.now())
    clock.advance(4 * MIN)
    saved = service.record_reading(running, {"spo2": "92"}, by=nurse)
    assert saved.new_flags == ()  # eased within the episode: no warning flag, none acknowledged
    tile = tile_for("3", service.load(running))
    badge = tile.badges["spo2"]
    assert (badge.severity, badge.on_value, badge.value_tier) == (
        Severity.WARNING, True, Severity.WARNING)
    assert badge.text == f"WARNING · covered by the critical acknowledged {acknowledged_at}"
    assert badge.stacked == f"WARNING\ncovered by the\nacknowledged\ncritical {acknowledged_at}"
    assert tile.standing is Severity.WARNING
    assert tile.standing_text == f"SpO2 warning · critical acknowledged {acknowledged_at}"
    assert tile.standing_word == "WARNING"
    assert "still" not in tile.standing_text


def test_a_value_in_the_acknowledged_tier_itself_is_called_acknowledged(
        service, nurse, running, clock):
    view = _acknowledged_critical_bp(service, nurse, running, clock)
    tile = tile_for("3", view)
    assert tile.badges["bp"].stacked == "CRITICAL\nacknowledged"
    assert tile.standing_word == "CRITICAL · acknowledged"
