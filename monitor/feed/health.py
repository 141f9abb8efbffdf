"""Is each chair's monitor still sending? Pure functions the board and the tiles can show.

* :func:`monitor_state`: ``receiving`` (a message within :data:`RECEIVING_WITHIN`),
  ``silent`` with how long (``silent 3:05``), or ``never`` (bound, nothing received yet).
* :func:`chair_feeds`: both, for every bound chair at once.
* :func:`feed_lost`: during an active session, a monitor silent longer than the protocol's
  ``[feed] silence_advisory_min`` gives one advisory "monitor feed lost". The advisory is
  named by the chair and the moment the silence began (:attr:`FeedLost.key`), so it is the
  same advisory however often it is asked for during one silence, and a new one only after
  a message has arrived and the monitor has gone silent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

#: A monitor that sent within this long is receiving (monitors send about once a second
#: to once a minute).
RECEIVING_WITHIN = timedelta(seconds=90)


def _clock_text(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True, slots=True)
class MonitorState:
    chair: str
    state: str  # receiving, silent, never
    last_message_at: datetime | None
    silent_for: timedelta | None

    @property
    def label(self) -> str:
        """``receiving``, ``silent 3:05`` (m:ss since the last message) or ``no messages``."""
        if self.state == "receiving":
            return "receiving"
        if self.state == "never" or self.silent_for is None:
            return "no messages"
        return f"silent {_clock_text(self.silent_for)}"


def monitor_state(chair: str, last_message_at: datetime | None, now: datetime) -> MonitorState:
    if last_message_at is None:
        return MonitorState(chair, "never", None, None)
    silent_for = now - last_message_at
    state = "receiving" if silent_for <= RECEIVING_WITHIN else "silent"
    return MonitorState(chair, state, last_message_at, silent_for)


@dataclass(frozen=True, slots=True)
class FeedLost:
    """The advisory for one silence of one chair's monitor."""

    chair: str
    #: When the silence began: the last message, or the session's start if later.
    since: datetime
    silent_for: timedelta

    @property
    def key(self) -> str:
        return f"feed-lost|{self.chair}|{self.since.isoformat()}"

    @property
    def message(self) -> str:
        return (f"Monitor feed lost on chair {self.chair}: no message for "
                f"{_clock_text(self.silent_for)} (m:ss); take readings by hand")


def feed_lost(chair: str, last_message_at: datetime | None, now: datetime, *,
              session_start: datetime | None, session_active: bool,
              silence: timedelta) -> FeedLost | None:
    """The "monitor feed lost" advisory, or None while the feed is fine or no session runs.

    Before any message of this session, the silence counts from the session's start.
    """
    if not session_active or session_start is None or now < session_start:
        return None
    since = session_start if last_message_at is None else max(last_message_at, session_start)
    silent_for = now - since
    if silent_for <= silence:
        return None
    return FeedLost(chair, since, silent_for)


@dataclass(frozen=True, slots=True)
class ChairFeed:
    """One bound chair's monitor: its state and, during a long silence, the advisory."""

    state: MonitorState
    lost: FeedLost | None


def chair_feeds(last_messages: Mapping[str, datetime | None],
                sessions: Mapping[str, tuple[datetime, bool]], now: datetime, *,
                silence: Mapping[str, timedelta]) -> dict[str, ChairFeed]:
    """Every bound chair's feed (``last_messages``: :meth:`FeedFiling.last_messages`),
    with ``sessions`` giving each chair's session start and whether it is active, and
    ``silence`` each chair's protocol ``[feed] silence_advisory_min``."""
    feeds = {}
    for chair, last in sorted(last_messages.items()):
        start, active = sessions.get(chair, (None, False))
        lost = None
        if chair in silence:
            lost = feed_lost(chair, last, now, session_start=start, session_active=active,
                             silence=silence[chair])
        feeds[chair] = ChairFeed(monitor_state(chair, last, now), lost)
    return feeds
