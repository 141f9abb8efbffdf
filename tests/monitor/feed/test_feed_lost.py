"""Feed health in the core: the bound monitor's state on the chair's tile and the "monitor
feed lost" advisory, from the session's loaded view, timed by the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.clinical.domain import EventKind, Measure, Severity, clock_time
from monitor.clinical.feed_health import ANNOUNCE_EVERY, FEED_LOST
from monitor.clinical.protocol import load_protocol
from monitor.feed.filing import FEED_IDENTITY, FeedFiling
from monitor.service.board import tile_for
from monitor.service.live_view import MovingView

from .test_filing import DEVICE, MRN, file_at, message

SILENCE = timedelta(minutes=load_protocol("iv_ketamine").feed.silence_advisory_min)
SECOND = timedelta(seconds=1)


@pytest.fixture
def admin(service):
    return service.ensure_staff("Ada Admin", "admin")


@pytest.fixture
def filing(service):
    return FeedFiling(service)


@pytest.fixture
def session_id(service, nurse):
    patient = service.add_patient(MRN, by=nurse, name="Jane Doe")
    return service.start_session(patient.id, by=nurse, chair="1", weight_kg=70.0)


def feed_lost(view):
    return [f for f in view.flags if f.key == FEED_LOST]


def test_a_silent_monitor_raises_one_advisory_per_silence_on_the_loaded_view(
        service, filing, admin, nurse, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=2))
    file_at(filing, clock, message(clock.now()))
    view = service.load(session_id)
    assert view.info.monitor is not None
    assert view.info.monitor.device == DEVICE
    assert feed_lost(view) == []
    tile = tile_for("1", view)
    assert (tile.monitor_text, tile.monitor_silent) == ("Monitor receiving", False)

    clock.advance(SILENCE)
    assert feed_lost(service.load(session_id)) == []  # silent exactly the interval: not yet
    clock.advance(SECOND)
    view = service.load(session_id)
    [flag] = feed_lost(view)
    assert (flag.severity, flag.measure, flag.open) == (Severity.ADVISORY, Measure.FEED, True)
    assert "Monitor feed lost on chair 1" in flag.message
    tile = tile_for("1", view)
    assert tile.monitor_text == "Monitor silent 10:01"
    assert tile.monitor_silent
    assert tile.worst_flag == flag

    # The tick moves the loaded view on without the database: the same one advisory.
    moving = MovingView(view)
    for minutes in (1, 5, 30):
        later = moving.at(clock.now() + timedelta(minutes=minutes))
        assert [f.id for f in feed_lost(later)] == [flag.id]
    assert tile_for("1", moving.at(clock.now() + timedelta(minutes=5))).monitor_text == (
        "Monitor silent 15:01")

    # Acknowledged, it stays acknowledged for the rest of that silence.
    service.acknowledge(session_id, flag, action="Monitor cable checked", by=nurse)
    clock.advance(timedelta(minutes=3))
    [acknowledged] = feed_lost(service.load(session_id))
    assert acknowledged.id == flag.id
    assert acknowledged.acknowledged

    # The monitor sends again: the acknowledged advisory stays as it was; a new silence
    # raises a new one.
    file_at(filing, clock, message(clock.now(), control="2"))
    view = service.load(session_id)
    assert [(f.id, f.open) for f in feed_lost(view)] == [(flag.id, False)]
    assert tile_for("1", view).monitor_text == "Monitor receiving"
    clock.advance(SILENCE + SECOND)
    flags = feed_lost(service.load(session_id))
    [again] = [f for f in flags if f.open]
    assert again.id != flag.id
    assert len(flags) == 2


def test_an_unacknowledged_advisory_stays_open_when_the_monitor_resumes(
        service, filing, admin, nurse, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    file_at(filing, clock, message(clock.now()))
    clock.advance(SILENCE + timedelta(minutes=2))
    [flag] = feed_lost(service.load(session_id))

    resumed_at = clock.now()
    file_at(filing, clock, message(resumed_at, control="2"))
    clock.advance(timedelta(minutes=1))
    view = service.load(session_id)
    [kept] = feed_lost(view)
    assert (kept.id, kept.open, kept.severity) == (flag.id, True, Severity.ADVISORY)
    assert kept.time == flag.time
    assert f"feed resumed at {clock_time(resumed_at)}" in kept.message
    assert "no message for 12:00" in kept.message
    assert kept in view.open_flags
    tile = tile_for("1", view)
    assert tile.open_flag_count == len(view.open_flags)
    assert (tile.monitor_text, tile.monitor_silent) == ("Monitor receiving", False)
    # An advisory blocks nothing: the discharge criterion on flags is met.
    [criterion] = [c for c in view.discharge.criteria if c.id == "flags_acknowledged"]
    assert criterion.met
    # The silence is noted in the record, by the feed, and in the audit trail.
    [note] = [e for e in view.record.events if e.kind is EventKind.NOTE]
    assert note.detail.startswith(f"Monitor feed resumed at {clock_time(resumed_at)}")
    assert note.by == FEED_IDENTITY

    # It stays open however long the monitor keeps sending, on every tablet's load.
    for n in range(3, 6):
        clock.advance(timedelta(minutes=1))
        file_at(filing, clock, message(clock.now(), control=str(n)))
    assert [(f.id, f.open) for f in feed_lost(service.load(session_id))] == [(flag.id, True)]

    service.acknowledge(session_id, kept, action="Readings taken by hand meanwhile", by=nurse)
    [done] = feed_lost(service.load(session_id))
    assert (done.id, done.acknowledged, done.open) == (flag.id, True, False)


def test_a_bound_monitor_that_never_sent_counts_from_the_session_start(
        service, filing, admin, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    view = service.load(session_id)
    assert tile_for("1", view).monitor_text == "Monitor: no messages"
    clock.advance(SILENCE + SECOND)
    [flag] = feed_lost(service.load(session_id))
    assert flag.time == service.session_info(session_id).time + SILENCE


def test_no_advisory_without_a_bound_monitor_or_after_discharge(
        service, filing, admin, nurse, session_id, clock):
    clock.advance(SILENCE * 2)
    view = service.load(session_id)
    assert view.info.monitor is None
    assert feed_lost(view) == []
    assert tile_for("1", view).monitor_text == ""
    filing.bind("1", device=DEVICE, by=admin)
    assert len(feed_lost(service.load(session_id))) == 1
    filing.unbind(device=DEVICE, by=admin)
    assert feed_lost(service.load(session_id)) == []


def test_a_sending_monitor_is_announced_to_the_tablets_at_a_bounded_pace(
        service, filing, admin, session_id, clock):
    from monitor.storage.changes.kinds import ChangeKind, kind_of  # noqa: PLC0415

    filing.bind("1", device=DEVICE, by=admin)
    seconds = int(2 * ANNOUNCE_EVERY.total_seconds()) + 10
    for n in range(seconds):
        file_at(filing, clock, message(clock.now(), control=str(n)))
        clock.advance(SECOND)
    entries = service.audit_entries(by=admin, action="receive", session_id=session_id)
    announced = [e for e in entries if e.record_kind == "monitor"]
    assert len(announced) == 3  # at 0, 30 and 60 s: not one per message
    assert kind_of("receive", "monitor") is ChangeKind.MONITOR
    # Each announcement makes the tablets load the session, with the last message time.
    assert service.load(session_id).info.monitor.last_message_at == clock.now() - SECOND


def test_a_discharged_session_has_no_advisory(service, filing, admin, nurse, session_id,
                                              clock, monkeypatch):
    from monitor.clinical import feed_health  # noqa: PLC0415
    from monitor.clinical.domain import Phase  # noqa: PLC0415

    filing.bind("1", device=DEVICE, by=admin)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(SILENCE + SECOND)
    view = service.load(session_id)
    assert len(feed_lost(view)) == 1
    monkeypatch.setattr(feed_health, "session_phase", lambda record, at: Phase.DISCHARGED)
    assert feed_lost(service.load(session_id, clock.now() + SECOND)) == []


def test_a_monitor_bound_mid_session_leaves_no_advisory_once_it_sends(
        service, filing, admin, session_id, clock):
    # Bound long after the session began: silent since the start, but not since it was bound.
    clock.advance(SILENCE * 2)
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    file_at(filing, clock, message(clock.now()))
    view = service.load(session_id)
    assert feed_lost(view) == []
    assert [e for e in view.record.events if e.kind is EventKind.NOTE] == []
