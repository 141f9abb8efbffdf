"""What the flag-rule tests share: the protocol, normal values, start and stop events, and
the flags a record raises at a minute."""

from __future__ import annotations

from typing import Any

from monitor.clinical.domain import Event, EventKind, Flag, SessionRecord, Severity
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import evaluate_flags
from tests.monitor.builders import ev, r, record, t

PROTOCOL = load_protocol("iv_ketamine")
NORMAL: dict[str, Any] = {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 97, "rr": 14, "cadss6": 0,
                          "moaas": 5, "nausea": 0}


def start(minute: float = 0) -> Event:
    return ev(minute, EventKind.INFUSION_START)


def stop(minute: float) -> Event:
    return ev(minute, EventKind.INFUSION_STOP)


def flags_at(rec: SessionRecord, minute: float, key: str | None = None,
             protocol: Any = PROTOCOL) -> list[Flag]:
    return [f for f in evaluate_flags(rec, protocol, t(minute)) if key is None or f.key == key]


def tiers(flags: list[Flag]) -> list[tuple[str, Severity]]:
    return [(f.key, f.severity) for f in sorted(flags, key=lambda f: f.time)]


def during_infusion(key: str, protocol: Any = PROTOCOL, **values: Any) -> list[Severity]:
    """Tiers of ``key`` raised by one infusion reading with ``values`` after a normal baseline."""
    rec = record(r(-5, **NORMAL), start(0), r(5, **values))
    return [f.severity for f in flags_at(rec, 5, key, protocol)]


def at_baseline(key: str, **values: Any) -> list[Severity]:
    rec = record(r(0, **values))
    return [f.severity for f in flags_at(rec, 0, key)]


W, C, A = Severity.WARNING, Severity.CRITICAL, Severity.ADVISORY
