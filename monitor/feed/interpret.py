"""One message from a monitor, start to end: parse, classify, map every OBX, acknowledge.

:func:`interpret` is pure (bytes, receive time, clinic zone → :class:`Interpretation`);
:class:`FeedHandler` wraps it as the :class:`monitor.feed.mllp.MllpServer` handler and
builds the acknowledgement. Filing observations into sessions plugs in after it.

Who sent it: the device is identified by its EUI-64, taken from the most specific place
that has one: OBX-18 (the equipment that made the observation), then OBR-3, then MSH-3 or
MSH-4 (a central station or gateway sends for many beds), then the first OBX-18 of the
message (some devices name themselves only once). The bed's location is PV1-3; a patient's
MRN may be in PID-3.

Time: each observation takes OBX-14, else OBR-7, else MSH-7. ``skew`` compares MSH-7 (when
the device sent the message) with the receive time: a device clock more than
:data:`SKEW_LIMIT` off is noted on every observation. An old OBX-14 is not skew: monitors
repeat the last NIBP with its own time.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hl7.containers import Segment

from monitor.clock import Clock
from monitor.feed import hl7msg
from monitor.feed.hl7msg import MessageError, ParsedMessage
from monitor.feed.hl7msg import field as get
from monitor.feed.mapping import (
    Context,
    Ignored,
    Observation,
    ObxFields,
    Outcome,
    Rejected,
    map_obx,
)
from monitor.feed.mllp import HandlerResult

SKEW_LIMIT = timedelta(minutes=2)
_EUI64 = re.compile(r"[0-9A-Fa-f]{16}")


@dataclass(frozen=True, slots=True)
class Interpretation:
    """What ChairSide made of one message.

    ``kind``: ``observations`` (an ORU^R01 with numerics; see ``outcomes``), ``ignored``
    (well-formed, nothing ChairSide uses; ``reason`` says why) or ``error`` (unusable input;
    answered AE). ``structure_rows`` counts the device-hierarchy OBX rows skipped.
    """

    kind: str
    message_id: str
    reason: str = ""
    message_type: str = ""
    charset: str = ""
    device_id: str | None = None
    location: str | None = None
    mrn: str | None = None
    skew: timedelta | None = None
    outcomes: tuple[Outcome, ...] = ()
    structure_rows: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def ack_code(self) -> str:
        return "AE" if self.kind == "error" else "AA"

    @property
    def observations(self) -> list[Observation]:
        return [o for o in self.outcomes if isinstance(o, Observation)]

    @property
    def rejected(self) -> list[Rejected]:
        return [o for o in self.outcomes if isinstance(o, Rejected)]

    @property
    def ignored(self) -> list[Ignored]:
        return [o for o in self.outcomes if isinstance(o, Ignored)]


def eui64(text: str) -> str | None:
    """``text`` as an upper-case 16-digit EUI-64 if it is one (``-`` and ``:`` allowed)."""
    compact = text.replace("-", "").replace(":", "").strip()
    return compact.upper() if _EUI64.fullmatch(compact) else None


def _eui_from_hd(segment: Segment | None, number: int) -> str | None:
    """EUI-64 from an HD field (namespace^universal id^EUI-64)."""
    if get(segment, number, 3).upper() == "EUI-64":
        return eui64(get(segment, number, 2))
    return None


def _eui_from_ei(segment: Segment | None, number: int) -> str | None:
    """EUI-64 from an EI field (entity id^namespace^universal id^EUI-64), any repetition.

    Some devices put the bare EUI-64 in the entity id (``080019FFFE0B4020^B40_GE``).
    """
    for repeat in range(1, max(hl7msg.repeats(segment, number), 1) + 1):
        if get(segment, number, 4, repeat).upper() == "EUI-64":
            found = eui64(get(segment, number, 3, repeat))
            if found:
                return found
        found = eui64(get(segment, number, 1, repeat))
        if found:
            return found
    return None


def _location(parsed: ParsedMessage) -> str | None:
    pv1 = parsed.first("PV1")
    parts = [get(pv1, 3, component) for component in range(1, 5)]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts) or None


def _mrn(parsed: ParsedMessage) -> str | None:
    pid = parsed.first("PID")
    count = hl7msg.repeats(pid, 3)
    for repeat in range(1, count + 1):
        if get(pid, 3, 5, repeat).upper() == "MR" and get(pid, 3, 1, repeat):
            return get(pid, 3, 1, repeat)
    return get(pid, 3, 1) or None


def _device_time(
    text: str, zone: ZoneInfo, name: str, notes: list[str]
) -> datetime | None:
    if not text:
        return None
    parsed = hl7msg.parse_dtm(text, zone)
    if parsed is None:
        notes.append(f"{name} {text[:30]!r} is not a usable time")
        return None
    if parsed.zone_assumed:
        notes.append(f"{name} has no UTC offset: read in {zone.key}")
    return parsed.utc


def interpret(raw: bytes, *, received_at: datetime, zone: ZoneInfo) -> Interpretation:
    """What ``raw`` (one message, unframed) means to ChairSide. Never raises."""
    try:
        parsed = hl7msg.parse(raw)
    except MessageError as exc:
        return Interpretation("error", exc.message_id, exc.reason)
    return interpret_parsed(parsed, received_at=received_at, zone=zone)


def interpret_parsed(
    parsed: ParsedMessage, *, received_at: datetime, zone: ZoneInfo,
    classification: hl7msg.Classification | None = None,
) -> Interpretation:
    """:func:`interpret` for a message already parsed (and classified, if given)."""
    try:
        parsed.message  # noqa: B018 - the whole message parsed (the MSH was, for the ACK)
    except MessageError as exc:
        return Interpretation("error", exc.message_id, exc.reason)
    classification = classification or hl7msg.classify(parsed)
    base = Interpretation(
        "ignored", parsed.message_id, classification.reason, parsed.message_type,
        parsed.charset,
    )
    if classification.kind != "observations":
        return base
    msh, obr = parsed.msh, parsed.first("OBR")
    notes: list[str] = []
    sent_at = _device_time(get(msh, 7), zone, "MSH-7", notes)
    batch_time = _device_time(get(obr, 7), zone, "OBR-7", notes)
    reference = sent_at or batch_time
    skew = received_at - reference if reference is not None else None
    if skew is not None and abs(skew) > SKEW_LIMIT:
        direction = "behind" if skew > timedelta(0) else "ahead of"
        notes.append(
            f"the device clock is {_duration(abs(skew))} {direction} ChairSide's "
            "(over 2 minutes): check the monitor's time and time zone"
        )
        hours = round(skew / timedelta(hours=1))
        if 0 < abs(hours) <= 14 and abs(skew - timedelta(hours=hours)) <= SKEW_LIMIT:
            notes.append(
                f"a skew of {hours:+d} h looks like a wrong UTC offset or time zone "
                "on the monitor (or --zone)"
            )
    message_device = (
        _eui_from_ei(obr, 3)
        or _eui_from_hd(msh, 3)
        or _eui_from_hd(msh, 4)
        or next(filter(None, (_eui_from_ei(obx, 18) for obx in parsed.segments("OBX"))), None)
    )
    location, mrn = _location(parsed), _mrn(parsed)
    outcomes: list[Outcome] = []
    structure = 0
    for obx in parsed.segments("OBX"):
        time_notes: list[str] = []
        observed = _device_time(get(obx, 14), zone, "OBX-14", time_notes)
        observed = observed or batch_time or sent_at
        fields = ObxFields(
            set_id=get(obx, 1),
            value_type=get(obx, 2).upper(),
            identifier=tuple(get(obx, 3, c) for c in range(1, 7)),
            value=get(obx, 5),
            units=tuple(get(obx, 6, c) for c in range(1, 4)),
            flags=tuple(get(obx, 8, 1, r) for r in range(1, hl7msg.repeats(obx, 8) + 1)),
            status=get(obx, 11),
            observed_at=observed,
            time_notes=tuple(time_notes),
        )
        device = _eui_from_ei(obx, 18) or message_device
        context = Context(parsed.message_id, device, location, mrn, received_at, skew)
        outcome = map_obx(fields, context)
        if outcome is None:
            structure += 1
        else:
            outcomes.append(outcome)
    return Interpretation(
        "observations", parsed.message_id, "", parsed.message_type, parsed.charset,
        message_device, location, mrn, skew, tuple(outcomes), structure, tuple(notes),
    )


def _duration(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    return f"{hours} h {rest // 60:02d} min {rest % 60:02d} s"


@dataclass(frozen=True, slots=True)
class Received:
    """A message with observations, acknowledged, whose OBX rows are still to be mapped
    (:meth:`interpretation`): the receiver maps them after the ACK, off the event loop."""

    parsed: ParsedMessage
    classification: hl7msg.Classification
    received_at: datetime
    zone: ZoneInfo

    @property
    def message_id(self) -> str:
        return self.parsed.message_id

    def interpretation(self) -> Interpretation:
        return interpret_parsed(self.parsed, received_at=self.received_at, zone=self.zone,
                                classification=self.classification)


class FeedHandler:
    """The MLLP server's handler: interpret each message and acknowledge it.

    ``AA`` for every well-formed message (ignored ones included), ``AE`` only for unusable
    input. Each acknowledgement gets its own control id (``CS`` + a counter). The ACK needs
    only the parse and the message's type (:meth:`acknowledge`); mapping each observation
    may follow it (:class:`Received`).
    """

    def __init__(self, clock: Clock, zone: ZoneInfo) -> None:
        self.clock = clock
        self.zone = zone
        self._ids = itertools.count(1)

    def control_id(self) -> str:
        return f"CS{next(self._ids)}"

    def __call__(self, payload: bytes, peer: str) -> HandlerResult:
        """The ACK and the whole :class:`Interpretation` of the message."""
        result = self.acknowledge(payload, peer)
        if isinstance(result.outcome, Received):
            return HandlerResult(result.ack, result.outcome.interpretation())
        return result

    def acknowledge(self, payload: bytes, peer: str) -> HandlerResult:
        """The ACK, from the parse and the message's type alone. The outcome is the
        :class:`Interpretation` of an error or an ignored message, or for a message with
        observations a :class:`Received` to map after the ACK is sent."""
        now = self.clock.now()
        try:
            parsed = hl7msg.parse(payload)
        except MessageError as exc:
            error = Interpretation("error", exc.message_id, exc.reason)
            ack = hl7msg.reject(payload, exc.reason, now=now, control_id=self.control_id())
            return HandlerResult(ack, error)
        classification = hl7msg.classify(parsed)
        ack = hl7msg.build_ack(
            "AA", now=now, control_id=self.control_id(), request=parsed,
            text=classification.reason,
        )
        if classification.kind == "observations":
            return HandlerResult(ack, Received(parsed, classification, now, self.zone))
        return HandlerResult(ack, interpret_parsed(parsed, received_at=now, zone=self.zone,
                                                   classification=classification))

    def reject(self, head: bytes, reason: str) -> bytes:
        """The server's AE for a frame it could not hand over (too large, a failure)."""
        return hl7msg.reject(head, reason, now=self.clock.now(), control_id=self.control_id())
