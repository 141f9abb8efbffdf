"""HL7 v2 messages from a bedside monitor: decode, parse, classify, acknowledge.

Parsing is python-hl7's (``hl7.parse``); what happens before and around it is ours:

* **Decoding** follows MSH-18 (``UNICODE UTF-8``, ``8859/1``, ``ASCII``, …). An unknown
  character set is read as Latin-1, which maps every byte to a character, so decoding never
  fails and never hangs; an undeclared one is tried as UTF-8 first.
* **Segment endings** are normalised: HL7 ends segments with ``\\r``, real traffic also has
  ``\\r\\n`` and ``\\n``.
* **Classification** decides what a well-formed message is to ChairSide. Only ORU^R01 with
  numeric observations carries vital signs; alarms (ORU^R40), waveform-only ORU^R01,
  patient administration (ADT), queries (QBP/QRY) and any other type are *ignored*, with
  the reason, and still acknowledged AA: a negative acknowledgement would make the monitor
  resend or drop the connection, and lose what it measures meanwhile. Only input that is not
  an HL7 message at all gets AE.
* **Acknowledgements** are original mode (``MSA|AA|<MSH-10>``), sent back on the same
  connection, with the sender and receiver of MSH swapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as field_of
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import hl7
from hl7.containers import Message, Segment

#: MSH-18 values and the codec each means (upper-cased, spaces as written in HL7 table 0211).
CHARSETS: dict[str, str] = {
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/5": "iso8859-5",
    "8859/7": "iso8859-7",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
}

#: OBX-2 value types that carry a waveform, not a number ChairSide can use.
WAVEFORM_TYPES = frozenset({"NA", "MA"})

#: The longest reason put into an acknowledgement's MSA-3.
ACK_TEXT_MAX = 80

_STANDARD_SEPARATORS = "|^~\\&"


class MessageError(Exception):
    """The input is not a usable HL7 message; ``reason`` says why, for the AE."""

    def __init__(self, reason: str, message_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_id = message_id


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A decoded message, its MSH parsed, and the header fields every later step needs.

    The acknowledgement needs only the MSH (:attr:`msh`) and the message's type; the whole
    message is parsed into segments when first asked for (:attr:`message`), which the
    receiver does after the ACK: splitting every OBX into components is most of the work.
    Once the MSH parsed, the rest cannot fail (python-hl7 plans the split from the MSH).
    """

    header: Message
    text: str
    charset: str
    message_id: str
    message_type: str  # "ORU^R01"
    version: str
    _whole: list[Message] = field_of(default_factory=list, compare=False, repr=False)

    @property
    def message(self) -> Message:
        """The whole message, parsed once (raises :class:`MessageError` if it cannot be)."""
        if not self._whole:
            try:
                self._whole.append(hl7.parse(self.text))
            except (hl7.ParseException, IndexError, KeyError, ValueError, TypeError,
                    AssertionError) as exc:
                raise MessageError(f"not an HL7 v2 message ({type(exc).__name__})",
                                   self.message_id) from exc
        return self._whole[0]

    def segments(self, name: str) -> list[Segment]:
        return [segment for segment in self.message if str(segment[0]) == name]

    def first(self, name: str) -> Segment | None:
        found = self.segments(name)
        return found[0] if found else None

    @property
    def msh(self) -> Segment:
        return self.header.segment("MSH")

    def value_types(self) -> list[str]:
        """OBX-2 (value type) of each OBX, from the text, without parsing the message."""
        fs, cs, rs = self.text[3], self.text[4], self.text[5]
        types = []
        for line in self.text.split("\r"):
            if line[:3] == "OBX" and (len(line) == 3 or line[3] == fs):
                parts = line.split(fs, 3)
                value = parts[2] if len(parts) > 2 else ""
                types.append(value.split(rs, 1)[0].split(cs, 1)[0].strip())
        return types


@dataclass(frozen=True, slots=True)
class Classification:
    """What a parsed message is to ChairSide: ``observations`` or ``ignored`` (with why)."""

    kind: str
    reason: str = ""


def field(segment: Segment | None, number: int, component: int = 1, repeat: int = 1) -> str:
    """One component of one field of ``segment``, unescaped; ``""`` where absent.

    Never raises on a short or odd segment (vendors truncate trailing fields). Walks
    python-hl7's tree itself: the library's own ``extract_field`` logs through a deprecated
    logging call on a malformed escape sequence, and does more work than needed here.
    """
    if segment is None:
        return ""
    try:
        node: object = segment(number)
    except IndexError:
        return ""
    for index in (repeat, component):
        if isinstance(node, str):
            return _unescape(segment, node).strip() if index == 1 else ""
        assert isinstance(node, list)
        if index > len(node):
            return ""
        node = node[index - 1]
    while not isinstance(node, str):
        assert isinstance(node, list)
        if not node:
            return ""
        node = node[0]
    return _unescape(segment, node).strip()


def _unescape(segment: Segment, text: str) -> str:
    """HL7 escape sequences for the separators (``\\F\\`` …) replaced; others kept as sent."""
    escape = getattr(segment, "esc", "\\") or "\\"
    separators = getattr(segment, "separators", "\r|~^&")
    if escape not in text or len(separators) < 5:
        return text
    table = {"F": separators[1], "R": separators[2], "S": separators[3], "T": separators[4],
             "E": escape}
    pattern = re.escape(escape) + "([FRSTE])" + re.escape(escape)
    return re.sub(pattern, lambda match: table[match[1]], text)


def repeats(segment: Segment | None, number: int) -> int:
    """How many repetitions field ``number`` of ``segment`` has (0 when absent or empty)."""
    if segment is None or number >= len(segment):
        return 0
    value = segment(number)
    if not str(value):
        return 0
    return len(value) if isinstance(value, hl7.Field) else 1


# --- decoding and parsing ---------------------------------------------------------------


def _header_field(raw: bytes, number: int) -> str:
    """Field ``number`` of the MSH segment read straight from the bytes (before decoding)."""
    start = raw.find(b"MSH")
    if start < 0 or len(raw) < start + 4:
        return ""
    separator = raw[start + 3:start + 4]
    header = re.split(rb"[\r\n]", raw[start:], maxsplit=1)[0]
    parts = header.split(separator)
    # MSH-1 is the separator itself, so MSH-n is parts[n - 1].
    if number - 1 < len(parts):
        return parts[number - 1].decode("latin-1").strip()
    return ""


def decode(raw: bytes) -> tuple[str, str]:
    """``raw`` decoded by its MSH-18; returns the text and the codec used.

    Undeclared: UTF-8 if the bytes are valid UTF-8, else Latin-1. Declared but unknown:
    Latin-1. Declared and known, but the bytes do not match: decoded with replacement
    characters (the message is kept, a broken character does not reject it).
    """
    declared = _header_field(raw, 18).split("~")[0].split("^")[0].strip().upper()
    codec = CHARSETS.get(declared)
    if not declared:
        try:
            return raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return raw.decode("latin-1"), "latin-1"
    if codec is None:
        return raw.decode("latin-1"), "latin-1"
    return raw.decode(codec, errors="replace"), codec


def normalise(text: str) -> str:
    """Segments separated by ``\\r`` alone, without empty segments or a leading BOM."""
    text = text.lstrip("\ufeff")
    lines = re.split(r"\r\n|\n|\r", text)
    return "\r".join(line for line in lines if line.strip())


def _elide_waveforms(text: str) -> str:
    """``text`` with the samples of waveform OBX rows (OBX-2 NA or MA) left out.

    A waveform message carries hundreds of thousands of samples that ChairSide does not
    use; splitting each into a component would delay the acknowledgement by seconds.
    """
    separator = text[3]
    lines = text.split("\r")
    for index, line in enumerate(lines):
        if not line.startswith("OBX") or len(line) < 512:
            continue
        parts = line.split(separator, 6)
        if len(parts) > 5 and parts[2].strip().upper() in WAVEFORM_TYPES:
            parts[5] = "elided"
            lines[index] = separator.join(parts)
    return "\r".join(lines)


def parse(raw: bytes) -> ParsedMessage:
    """Decode, normalise and parse one message. Raises :class:`MessageError`."""
    message_id = _header_field(raw, 10)
    if not raw.strip():
        raise MessageError("empty message")
    text, codec = decode(raw)
    text = normalise(text)
    if not text.startswith("MSH"):
        raise MessageError("the message does not start with an MSH segment", message_id)
    separators = text[3:8]
    if (
        len(separators) < 5
        or len(set(separators)) != 5
        or any(char.isalnum() or char in "\r\n " for char in separators)
    ):
        raise MessageError("MSH-1/MSH-2 do not give five distinct separators", message_id)
    text = _elide_waveforms(text)
    try:
        header = hl7.parse(text.split("\r", 1)[0])
        msh = header.segment("MSH")
    except (
        hl7.ParseException, IndexError, KeyError, ValueError, TypeError, AssertionError
    ) as exc:
        raise MessageError(f"not an HL7 v2 message ({type(exc).__name__})", message_id) from exc
    message_id = field(msh, 10) or message_id
    kind = field(msh, 9, 1).upper()
    event = field(msh, 9, 2).upper()
    if not kind:
        raise MessageError("MSH-9 (message type) is empty", message_id)
    message_type = f"{kind}^{event}" if event else kind
    return ParsedMessage(header, text, codec, message_id, message_type, field(msh, 12))


def classify(parsed: ParsedMessage) -> Classification:
    """Whether ``parsed`` carries vital signs ChairSide takes, or why it is ignored."""
    kind, _, event = parsed.message_type.partition("^")
    if kind == "ORU" and event == "R40":
        return Classification("ignored", "alarm report (ORU^R40): alarms stay on the monitor")
    if kind == "ORU" and event == "R01":
        values = [kind for kind in parsed.value_types() if kind]
        if not values:
            return Classification("ignored", "ORU^R01 without observations")
        if all(kind.upper() in WAVEFORM_TYPES for kind in values):
            return Classification("ignored", "waveform-only ORU^R01: ChairSide takes numerics")
        return Classification("observations")
    reasons = {
        "ADT": "patient administration (ADT) message: patients are checked in in ChairSide",
        "QBP": "query (QBP): ChairSide answers no queries",
        "QRY": "query (QRY): ChairSide answers no queries",
        "ACK": "acknowledgement sent to ChairSide: nothing to do",
    }
    reason = reasons.get(kind, f"message type {parsed.message_type} is not used by ChairSide")
    return Classification("ignored", reason)


# --- acknowledgements -------------------------------------------------------------------


def _escape(text: str) -> str:
    """``text`` safe inside one HL7 field (standard separators, escape sequences)."""
    replacements = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
    return "".join(replacements.get(char, char) for char in text if char >= " ")


def _hl7_time(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+0000"


def build_ack(
    code: str,
    *,
    now: datetime,
    control_id: str,
    request: ParsedMessage | None = None,
    message_id: str = "",
    text: str = "",
) -> bytes:
    """An original-mode acknowledgement (``MSA|<code>|<MSH-10>``), encoded for the sender.

    With the parsed ``request``, MSH-3/4 and MSH-5/6 are swapped, the trigger event, version
    and character set are echoed. Without it (unparseable input), a plain header is built
    and ``message_id`` (recovered from the raw bytes, if any) is echoed.
    """
    codec = "utf-8"
    sender = receiver = ("", "")
    event, version, charset = "", "2.6", ""
    if request is not None:
        msh = request.msh
        raw = [str(msh(n)) if n < len(msh) else "" for n in range(3, 7)]
        receiver, sender = (raw[0], raw[1]), (raw[2], raw[3])
        message_id = request.message_id
        event = field(msh, 9, 2)
        version = field(msh, 12) or version
        charset = field(msh, 18)
        codec = request.charset
        if request.text[3:8] != _STANDARD_SEPARATORS:
            # Raw fields use the sender's separators; give only their first components.
            receiver = (field(msh, 3), field(msh, 4))
            sender = (field(msh, 5), field(msh, 6))
    sender = (sender[0] or "ChairSide", sender[1])
    message_type = f"ACK^{_escape(event)}^ACK" if event else "ACK"
    header = [
        sender[0], sender[1], receiver[0], receiver[1], _hl7_time(now), "", message_type,
        _escape(control_id), "P", _escape(version), "", "", "NE", "NE", "", _escape(charset),
    ]
    while not header[-1]:
        header.pop()
    msa = ["MSA", code, _escape(message_id)]
    if text:
        msa.append(_escape(text)[:ACK_TEXT_MAX])
    ack = "MSH|^~\\&|" + "|".join(header)
    return (ack + "\r" + "|".join(msa) + "\r").encode(codec, errors="replace")


def ack_code(ack: bytes) -> str:
    """MSA-1 of an acknowledgement (``AA``, ``AE``, ``AR``), or ``""`` if it has none."""
    for line in re.split(rb"[\r\n]+", ack):
        if line.startswith(b"MSA"):
            parts = line.split(b"|")
            return parts[1].decode("latin-1") if len(parts) > 1 else ""
    return ""


def reject(head: bytes, reason: str, *, now: datetime, control_id: str) -> bytes:
    """An AE for input that could not be used, echoing its MSH-10 if it can be found."""
    return build_ack(
        "AE", now=now, control_id=control_id, message_id=_header_field(head, 10)[:64],
        text=reason,
    )


# --- times ------------------------------------------------------------------------------

_DTM = re.compile(
    r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})(?P<hour>[0-9]{2})"
    r"(?P<minute>[0-9]{2})(?P<second>[0-9]{2})?"
    r"(?:\.(?P<fraction>[0-9]{1,4})|(?P<digits>[0-9]{1,4}))?"
    r"(?P<offset>[+-][0-9]{4})?"
)


@dataclass(frozen=True, slots=True)
class DeviceTime:
    """A time as the device wrote it, read into UTC; ``zone_assumed`` if it had no offset."""

    utc: datetime
    text: str
    zone_assumed: bool


def parse_dtm(text: str, zone: ZoneInfo) -> DeviceTime | None:
    """An HL7 DTM (at least to the minute) as UTC; ``None`` if it is not one.

    Fractions of 1–4 digits after a point, or written straight after the seconds (the
    17-digit form ``YYYYMMDDHHMMSSfff``). Without an offset, the time is read in ``zone``,
    the clinic's time zone.
    """
    match = _DTM.fullmatch(text.strip())
    if match is None:
        return None
    parts = match.groupdict()
    fraction = parts["fraction"] or parts["digits"] or "0"
    try:
        local = datetime(
            int(parts["year"]), int(parts["month"]), int(parts["day"]), int(parts["hour"]),
            int(parts["minute"]), int(parts["second"] or 0), int(fraction.ljust(6, "0")),
            tzinfo=zone,
        )
        if parts["offset"]:
            sign = -1 if parts["offset"][0] == "-" else 1
            hours, minutes = int(parts["offset"][1:3]), int(parts["offset"][3:5])
            offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
            return DeviceTime(local.replace(tzinfo=offset).astimezone(UTC), text, False)
        return DeviceTime(local.astimezone(UTC), text, True)
    except (ValueError, OverflowError):
        return None


def split_messages(data: bytes) -> list[bytes]:
    """The messages in a file: each starts at a line beginning ``MSH``; any line endings.

    MLLP start and end blocks, if the file was captured framed, are dropped.
    """
    data = data.replace(b"\x0b", b"\n").replace(b"\x1c", b"\n")
    starts = [m.start(1) for m in re.finditer(rb"(?:^|[\r\n])(MSH)", data)]
    messages = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        chunk = data[start:end].strip(b"\r\n")
        if chunk:
            messages.append(chunk)
    return messages
