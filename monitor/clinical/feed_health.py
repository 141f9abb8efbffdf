"""Is each chair's monitor still sending? Pure rules the board, the tiles and the flags use.

* :func:`monitor_state`: ``receiving`` (a message within :data:`RECEIVING_WITHIN`),
  ``silent`` with how long (``silent 3:05``), or ``never`` (bound, nothing received yet).
* :func:`chair_feeds`: both, for every bound chair at once.
* :func:`feed_lost`: during an active session, a monitor silent longer than the protocol's
  ``[feed] silence_advisory_min`` gives one advisory "monitor feed lost". The advisory is
  named by the chair and the moment the silence began (:attr:`FeedLost.key`), so it is the
  same advisory however often it is asked for during one silence, and a new one only after
  a message has arrived and the monitor has gone silent again.
* :func:`feed_lost_flags`: that advisory as a flag of the session (key ``feed-lost``), its
  id the silence's, so it is raised once per silence and an acknowledgement holds for it.
  Like every flag it stays until a staff member acknowledges it: when the monitor sends
  again, the feed notes the silence in the record (:func:`resumed_note`, a note event), and
  the advisory of that silence stays open, saying when the feed resumed.

The session's view carries its chair's monitor as last loaded (:class:`MonitorLink`); the
feed announces a monitor that keeps sending often enough (see :mod:`monitor.feed.filing`)
for a receiving monitor never to look silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from monitor.clinical.domain import (
    Acknowledgement,
    Event,
    EventKind,
    Flag,
    Measure,
    Phase,
    SessionRecord,
    Severity,
    clock_time,
    flag_id,
)
from monitor.clinical.phases import session_phase
from monitor.clinical.protocol import Protocol

#: The key of the "monitor feed lost" advisory.
FEED_LOST = "feed-lost"

#: A monitor that sent within this long is receiving (monitors send about once a second
#: to once a minute).
RECEIVING_WITHIN = timedelta(seconds=90)
#: A monitor that keeps sending is announced to the tablets this often (the feed's "receive
#: monitor" audit entry): well within :data:`RECEIVING_WITHIN`, so that a tablet's view of a
#: receiving monitor never reads silent, and a silence is timed from the last message
#: within this much.
ANNOUNCE_EVERY = timedelta(seconds=30)


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

    def resumed_message(self) -> str:
        """The advisory's words once the monitor sent again, ``silent_for`` after ``since``."""
        return (f"Monitor feed lost on chair {self.chair}: no message for "
                f"{_clock_text(self.silent_for)} (m:ss); feed resumed at "
                f"{clock_time(self.since + self.silent_for)}")


#: The key of a note event's data naming a silence of the monitor that raised the advisory.
RESUMED_DATA = "feed_lost"


def resumed_note(lost: FeedLost) -> tuple[str, dict[str, str]]:
    """The detail and data of the note the feed stores in the session when its monitor
    sends again after ``lost`` (the silence up to the message that ended it)."""
    resumed = lost.since + lost.silent_for
    return (f"Monitor feed resumed at {clock_time(resumed)} after {_clock_text(lost.silent_for)}"
            f" (m:ss) without a message on chair {lost.chair}",
            {RESUMED_DATA: lost.chair, "since": lost.since.isoformat(),
             "resumed_at": resumed.isoformat()})


def _resumed(event: Event) -> FeedLost | None:
    """The silence a note of :func:`resumed_note` names, or None for any other event."""
    data = event.data
    if event.kind is not EventKind.NOTE or RESUMED_DATA not in data:
        return None
    since = datetime.fromisoformat(str(data["since"]))
    resumed = datetime.fromisoformat(str(data["resumed_at"]))
    return FeedLost(str(data[RESUMED_DATA]), since, resumed - since)


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


@dataclass(frozen=True, slots=True)
class MonitorLink:
    """The monitor bound to a session's chair, as last loaded: its feed key (EUI-64, or
    ``location:`` and its location) and its last message (None: it never sent)."""

    device: str
    last_message_at: datetime | None


def feed_lost_flags(session_id: UUID, chair: str, monitor: MonitorLink | None,
                    record: SessionRecord, protocol: Protocol, *, at: datetime,
                    session_start: datetime) -> list[Flag]:
    """The "monitor feed lost" advisories of the session at ``at``: one per silence of the
    chair's bound monitor longer than the protocol's ``[feed] silence_advisory_min`` during
    the session (before its discharge). Its id is that of the chair and the moment the
    silence began. The silence going on now comes from ``monitor``; those that ended come
    from the record's notes (:func:`resumed_note`) and stay until acknowledged, saying
    when the feed resumed.
    """
    silence = timedelta(minutes=protocol.feed.silence_advisory_min)
    acks: dict[UUID, Acknowledgement] = {a.flag_id: a for a in record.acknowledgements
                                         if a.time <= at}

    def flag(lost: FeedLost, message: str) -> Flag:
        fid = flag_id(session_id, FEED_LOST, Severity.ADVISORY, lost.since.isoformat())
        return Flag(id=fid, key=FEED_LOST, measure=Measure.FEED, severity=Severity.ADVISORY,
                    time=lost.since + silence, message=message, acknowledgement=acks.get(fid))

    flags = [flag(lost, lost.resumed_message())
             for lost in (_resumed(e) for e in record.events if e.time <= at)
             if lost is not None and lost.since + silence <= at]
    if monitor is None:
        return flags
    active = session_phase(record, at) is not Phase.DISCHARGED
    lost = feed_lost(chair, monitor.last_message_at, at, session_start=session_start,
                     session_active=active, silence=silence)
    if lost is not None and all(f.id != flag(lost, "").id for f in flags):
        flags.append(flag(lost, lost.message))
    return flags
