"""Injected clocks: the manual clock of the tests and the demo's accelerated clock."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.clock import AcceleratedClock, ManualClock, ensure_utc


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    before = (clock.now(), clock.monotonic())
    assert (clock.now(), clock.monotonic()) == before
    clock.advance(timedelta(minutes=5))
    assert clock.now() - before[0] == timedelta(minutes=5)
    assert clock.monotonic() - before[1] == 300


def test_a_wall_clock_jump_leaves_monotonic_time_alone():
    clock = ManualClock()
    mono = clock.monotonic()
    clock.set_wall(clock.now() - timedelta(hours=24))
    assert clock.monotonic() == mono


def test_manual_clock_refuses_to_go_back_or_be_naive():
    clock = ManualClock()
    with pytest.raises(ValueError, match="only advances"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_accelerated_clock_runs_factor_times_faster():
    real = ManualClock()
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    demo = AcceleratedClock(start, 40, real=real)
    mono = demo.monotonic()
    real.advance(3)
    assert demo.now() == start + timedelta(minutes=2)
    assert demo.monotonic() - mono == 120


def test_ensure_utc_refuses_naive_times():
    with pytest.raises(ValueError, match="UTC offset"):
        ensure_utc(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
