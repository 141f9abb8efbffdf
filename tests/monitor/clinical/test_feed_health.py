"""Feed health: each chair's monitor receiving or silent, one "feed lost" per silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.clinical.feed_health import feed_lost, monitor_state
from monitor.clinical.protocol import load_protocol

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SILENCE = timedelta(minutes=load_protocol("iv_ketamine").feed.silence_advisory_min)


def lost(last, now, active=True):
    return feed_lost("1", last, now, session_start=START, session_active=active,
                     silence=SILENCE)


def test_a_monitor_is_receiving_then_silent_with_minutes_and_seconds():
    assert monitor_state("1", START, START + timedelta(seconds=30)).label == "receiving"
    assert monitor_state("1", START, START + timedelta(minutes=3, seconds=5)).label == (
        "silent 3:05")
    assert monitor_state("1", None, START).label == "no messages"


def test_the_default_silence_is_the_infusion_reading_interval():
    protocol = load_protocol("iv_ketamine")
    assert protocol.feed.silence_advisory_min == protocol.intervals.infusion_reading_every_min
    assert protocol.parameter("feed", "silence_advisory_min").source.startswith(
        "protocol interval")
    assert protocol.feed.auto_accept is False


def test_one_advisory_per_silence_not_one_per_look():
    last = START + timedelta(minutes=5)
    assert lost(last, last + SILENCE) is None
    seen = {lost(last, last + SILENCE + timedelta(seconds=s)).key for s in range(1, 600, 7)}
    assert len(seen) == 1
    again = last + SILENCE + timedelta(minutes=20)  # a message arrived, then silence again
    later = lost(again, again + SILENCE + timedelta(seconds=1))
    assert later.key not in seen
    assert "Monitor feed lost on chair 1" in later.message


def test_no_advisory_without_an_active_session_and_silence_counts_from_its_start():
    assert lost(None, START + SILENCE * 3, active=False) is None
    before = lost(START - timedelta(hours=2), START + SILENCE + timedelta(seconds=1))
    assert before.since == START


def test_each_bound_chair_gets_its_state_and_the_advisory_of_its_silence(service, clock):
    from monitor.clinical.feed_health import chair_feeds  # noqa: PLC0415
    from monitor.feed.filing import FeedFiling  # noqa: PLC0415
    from monitor.feed.interpret import interpret  # noqa: PLC0415
    from tests.monitor.feed.samples import UTC_ZONE  # noqa: PLC0415
    from tests.monitor.feed.test_filing import DEVICE, OTHER, message  # noqa: PLC0415

    admin = service.ensure_staff("Ada Admin", "admin")
    filing = FeedFiling(service)
    filing.bind("1", device=DEVICE, by=admin)
    filing.bind("2", device=OTHER, by=admin)
    raw = message(clock.now(), mrn=None)
    filing.file(interpret(raw, received_at=clock.now(), zone=UTC_ZONE), clock.now())
    start = clock.now()
    clock.advance(SILENCE + timedelta(minutes=1))
    feeds = chair_feeds(filing.last_messages(), {"1": (start, True), "2": (start, True)},
                        clock.now(), silence={"1": SILENCE, "2": SILENCE})
    assert feeds["1"].state.label == "silent 11:00"
    assert feeds["1"].lost is not None
    assert feeds["2"].state.label == "no messages"
    assert feeds["2"].lost.since == start
