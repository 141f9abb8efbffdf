"""Session-record builders shared by the rule and discharge tests: times as minutes after
``T0``, readings and events with fresh ids, acknowledgements, and a record of them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from monitor.clinical.domain import Acknowledgement, Event, EventKind, Flag, Reading, SessionRecord

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SESSION = UUID(int=7)
_ids = itertools.count(1)


def t(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def r(minute: float, **values: Any) -> Reading:
    return Reading(id=UUID(int=next(_ids)), time=t(minute), **values)


def ev(minute: float, kind: EventKind) -> Event:
    return Event(id=UUID(int=next(_ids)), time=t(minute), kind=kind)


def ack(flag: Flag, minute: float) -> Acknowledgement:
    return Acknowledgement(flag_id=flag.id, time=t(minute), action="checked", by="nurse")


def record(*items: Reading | Event | Acknowledgement,
           session_id: UUID = SESSION) -> SessionRecord:
    by_time = sorted(items, key=lambda i: i.time)
    return SessionRecord(
        session_id=session_id,
        readings=tuple(i for i in by_time if isinstance(i, Reading)),
        events=tuple(i for i in by_time if isinstance(i, Event)),
        acknowledgements=tuple(i for i in by_time if isinstance(i, Acknowledgement)),
    )
