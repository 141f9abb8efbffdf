"""Validation of what a person or a CSV file hands to ChairSide.

The nurse's entry screen, the check-in screen and the CSV import all pass raw input through
this module (and the check-in values, MRN, names, date of birth and weight, through
:mod:`monitor.clinical.checkin`, which follows it), so a value is refused (or held for
confirmation) the same way wherever it comes from. Three rules run through it:

* **Only ASCII digits are numbers.** ``int()``, ``float()`` and ``str.isdigit`` accept
  ``'٧٢'``, ``'７２'``, ``'7_2'``, ``'+72'``, ``' 72'``, ``'1e3'`` or ``'nan'``; here every number
  is matched against an explicit ``[0-9]`` pattern first and only then converted.
* **Bad input never raises past this module's public checks.** ``validate_*`` return
  :class:`FieldError` values whose message names the field and the accepted range, ready to
  show. Only the ``parse_*`` helpers raise, and only :class:`ValidationError`.
* **Possible but unusual is not silent.** A value inside the accepted range but outside the
  usual range (SBP 230 mmHg) is returned in ``needs_confirmation`` until the caller passes the
  field in ``confirmed``; only then is the check ``ok``.

The accepted ranges come from the product brief ("What is measured"); the usual ranges are
listed, with their reasons, next to :data:`MEASURES`.

Decimal quantities (weight, temperature, mg/kg) are returned as :class:`decimal.Decimal`:
the value typed is kept exactly (70.5 kg stays 70.5, not 70.4999…), and dose arithmetic
downstream can round once, deliberately.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType

from monitor.clock import ensure_utc

#: Whitespace that may surround a typed value (a CSV cell, a pasted number). Only ASCII:
#: ``str.strip()`` would also remove no-break and ideographic spaces.
ASCII_WHITESPACE = " \t\n\r\f\v"

#: Whole numbers longer than this are refused before conversion: no measure needs more,
#: and a 4,300-digit string must not reach ``int()``.
MAX_WHOLE_DIGITS = 6

#: Late entries may describe the past, but not further back than this.
MAX_TIME_AGE = timedelta(days=365)

#: How far ahead of "now" a time may be. Zero: every tablet takes "now" from the same
#: injected clock, and a reading of the future is a typing error, not clock skew.
FUTURE_TOLERANCE = timedelta(0)

Number = int | Decimal


class ValidationError(Exception):
    """A value refused by a ``parse_*`` helper; ``message`` is ready to show the user."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def as_field_error(self) -> FieldError:
        return FieldError(self.field, self.message)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One refusal or one request for confirmation, tied to the field the user must fix."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """What a measure is and which values it takes.

    ``low``–``high`` is the accepted range: anything outside is refused. ``usual`` is the
    range inside which a value is kept without a question; ``None`` means every accepted
    value is usual (the bounded scores). ``places`` is 0 for whole numbers, otherwise the
    most decimal places a value may be typed with.
    """

    name: str
    label: str
    unit: str
    low: Number
    high: Number
    usual: tuple[Number, Number] | None = None
    places: int = 0

    @property
    def accepted(self) -> str:
        """The accepted values in words: "a whole number from 20 to 250 /min"."""
        unit = f" {self.unit}" if self.unit else ""
        if self.places == 0:
            return f"a whole number from {self.low} to {self.high}{unit}"
        decimals = "decimal place" if self.places == 1 else "decimal places"
        return (
            f"a number from {self.low} to {self.high}{unit}, with at most {self.places} {decimals}"
        )

    @property
    def refusal(self) -> str:
        """The message shown for any value this measure does not accept."""
        return f"{self.label} must be {self.accepted}"

    def confirmation(self, value: Number) -> FieldError | None:
        """A request to confirm ``value`` if it lies outside the usual range, else ``None``."""
        if self.usual is None:
            return None
        usual_low, usual_high = self.usual
        if usual_low <= value <= usual_high:
            return None
        direction = "high" if value > usual_high else "low"
        unit = f" {self.unit}" if self.unit else ""
        return FieldError(
            self.name,
            f"{self.label} {value}{unit} is unusually {direction} "
            f"(usual {usual_low}–{usual_high}): confirm to keep it",
        )


# Usual ranges: a value outside them is possible in a ketamine chair but rare enough that a
# slipped key is the likelier cause, so the nurse is asked once to confirm it.
# - SBP 70–220 mmHg: below 70 is profound hypotension; ketamine's pressor peak in hypertensive
#   patients can pass 200 (a critical flag), but beyond 220 a typo (e.g. 23 → 230) is likelier.
# - DBP 35–130 mmHg: the same reasoning at the diastolic scale.
# - HR 35–180 /min: beyond the NEWS2 extreme bands (≤ 40, ≥ 131) with a margin.
# - SpO2 80–100 %: below 80 on a pulse oximeter is rare in a sedated-but-breathing patient
#   and often probe artefact; confirming makes the nurse look at the patient.
# - RR 6–40 /min: NEWS2 scores ≤ 8 and ≥ 25 as its worst band; 6 and 40 leave room.
# - Weight 30–250 kg: adult patients; the dose scales with weight, so an extra zero matters.
# - Temperature 35.0–40.0 °C: hypothermia below 35 and hyperpyrexia above 40 are rare here.
# The scores (CADSS-6, MOAA/S, comfort, PHQ-9, GAD-7) are bounded scales: every value in them
# is usual.
MEASURES: Mapping[str, MeasureSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            MeasureSpec("sbp", "Systolic BP", "mmHg", 40, 300, usual=(70, 220)),
            MeasureSpec("dbp", "Diastolic BP", "mmHg", 20, 200, usual=(35, 130)),
            MeasureSpec("hr", "Heart rate", "/min", 20, 250, usual=(35, 180)),
            MeasureSpec("spo2", "SpO2", "%", 50, 100, usual=(80, 100)),
            MeasureSpec("rr", "Respiratory rate", "/min", 4, 60, usual=(6, 40)),
            MeasureSpec("cadss6", "CADSS-6 total", "", 0, 24),
            MeasureSpec("moaas", "MOAA/S", "", 0, 5),
            MeasureSpec("nausea", "Nausea", "", 0, 10),
            MeasureSpec("anxiety", "Anxiety", "", 0, 10),
            MeasureSpec("pain", "Pain", "", 0, 10),
            MeasureSpec("phq9", "PHQ-9 total", "", 0, 27),
            MeasureSpec("gad7", "GAD-7 total", "", 0, 21),
            MeasureSpec(
                "weight",
                "Weight",
                "kg",
                Decimal(20),
                Decimal(300),
                usual=(Decimal(30), Decimal(250)),
                places=1,
            ),
            MeasureSpec(
                "temperature",
                "Temperature",
                "°C",
                Decimal("30.0"),
                Decimal("45.0"),
                usual=(Decimal("35.0"), Decimal("40.0")),
                places=1,
            ),
        )
    }
)


@dataclass(frozen=True, slots=True)
class ItemScale:
    """A questionnaire entered item by item; its items add up to the ``total`` measure."""

    name: str
    total: str
    label: str
    count: int
    item_high: int


ITEM_SCALES: Mapping[str, ItemScale] = MappingProxyType(
    {
        scale.name: scale
        for scale in (
            ItemScale("cadss6_items", "cadss6", "CADSS-6", count=6, item_high=4),
            ItemScale("phq9_items", "phq9", "PHQ-9", count=9, item_high=3),
            ItemScale("gad7_items", "gad7", "GAD-7", count=7, item_high=3),
        )
    }
)

#: The whole-number measures a reading may carry (weight and temperature are check-in data).
READING_MEASURES: tuple[str, ...] = tuple(
    name for name, spec in MEASURES.items() if spec.places == 0
)

RawValue = str | int | Sequence[str | int | None] | None


@dataclass(frozen=True, slots=True)
class ReadingCheck:
    """The outcome of :func:`validate_reading`.

    ``values`` holds every field that was given and is acceptable, including those still in
    ``needs_confirmation``: save them only when ``ok``.
    """

    values: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    needs_confirmation: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.needs_confirmation


_WHOLE = re.compile(r"[0-9]+")
_LOCAL_TIME = (
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
)
_NAIVE_TIME = re.compile(_LOCAL_TIME)
_OFFSET_TIME = re.compile(
    _LOCAL_TIME + r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_h>[0-9]{2}):(?P<off_m>[0-9]{2}))"
)
def parse_whole(text: str, *, field: str = "value", label: str = "Value") -> int:
    """Parse a whole number written with ASCII digits only.

    Surrounding ASCII whitespace is ignored; anything else that is not ``0``–``9`` (signs,
    ``_``, exponents, ``nan``, non-ASCII digits) is refused, as is a number longer than
    :data:`MAX_WHOLE_DIGITS` digits. Raises :class:`ValidationError`.
    """
    if not isinstance(text, str):
        raise ValidationError(field, f"{label} must be typed as text")
    digits = text.strip(ASCII_WHITESPACE)
    if not digits:
        raise ValidationError(field, f"{label} is empty: enter a whole number")
    if len(digits) > MAX_WHOLE_DIGITS or not _WHOLE.fullmatch(digits):
        raise ValidationError(
            field,
            f"{label} must be a whole number of at most {MAX_WHOLE_DIGITS} digits 0-9",
        )
    return int(digits)


def parse_decimal(text: str, places: int, *, field: str = "value", label: str = "Value") -> Decimal:
    """Parse a non-negative decimal number such as ``70.5`` or ``0.5``, ASCII digits only.

    At most ``places`` digits may follow the point (``70.50`` is refused when ``places`` is
    1: the number typed is the number kept). The whole part is limited to
    :data:`MAX_WHOLE_DIGITS` digits; ``.5``, ``5.``, ``70,5`` and exponents are refused.
    Raises :class:`ValidationError`.
    """
    if not isinstance(text, str):
        raise ValidationError(field, f"{label} must be typed as text")
    number = text.strip(ASCII_WHITESPACE)
    if not number:
        raise ValidationError(field, f"{label} is empty: enter a number")
    fraction = rf"(?:\.[0-9]{{1,{places}}})?" if places > 0 else ""
    if not re.fullmatch(rf"[0-9]{{1,{MAX_WHOLE_DIGITS}}}{fraction}", number):
        decimals = "decimal place" if places == 1 else "decimal places"
        raise ValidationError(
            field,
            f"{label} must be a number written with digits 0-9 and at most "
            f"{places} {decimals} after a point",
        )
    return Decimal(number)


def is_blank(raw: object) -> bool:
    """Whether ``raw`` was left empty: ``None``, or text of ASCII whitespace only."""
    return raw is None or (isinstance(raw, str) and not raw.strip(ASCII_WHITESPACE))


def _whole_in_range(spec: MeasureSpec, raw: object) -> int:
    """``raw`` (text or an int from a button) as an accepted value of ``spec``."""
    # bool is an int subclass; True is not a heart rate.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValidationError(spec.name, spec.refusal)
    if isinstance(raw, str):
        try:
            value = parse_whole(raw, field=spec.name, label=spec.label)
        except ValidationError as exc:
            raise ValidationError(spec.name, spec.refusal) from exc
    else:
        value = raw
    if not spec.low <= value <= spec.high:
        raise ValidationError(spec.name, spec.refusal)
    return value


def validate_reading(
    raw: Mapping[str, RawValue], *, confirmed: Collection[str] = ()
) -> ReadingCheck:
    """Check one reading as entered (or imported) and say what must be fixed or confirmed.

    ``raw`` maps field names (:data:`READING_MEASURES` and :data:`ITEM_SCALES`) to text or
    ints; item fields take a sequence of such values. Empty or ``None`` fields are absent.
    Systolic and diastolic BP come as a pair, diastolic below systolic. Items give their
    total; a total given beside its items must equal their sum. ``confirmed`` names the
    fields whose unusual values the user has confirmed.
    """
    values: dict[str, int | tuple[int, ...]] = {}
    errors: list[FieldError] = []
    for name in READING_MEASURES:
        given = raw.get(name)
        if is_blank(given):
            continue
        try:
            values[name] = _whole_in_range(MEASURES[name], given)
        except ValidationError as exc:
            errors.append(exc.as_field_error())
    _check_bp(raw, values, errors)
    for scale in ITEM_SCALES.values():
        _check_items(scale, raw, values, errors)
    errors.extend(
        FieldError(str(name), f"{name!r} is not a measure of a reading")
        for name in raw
        if name not in MEASURES and name not in ITEM_SCALES
    )
    errors.extend(
        FieldError(str(name), f"{MEASURES[name].label} is recorded at check-in, not in a reading")
        for name in raw
        if name in MEASURES and name not in READING_MEASURES and not is_blank(raw[name])
    )
    needs_confirmation = [
        request
        for name, value in values.items()
        if name in MEASURES and name not in confirmed and isinstance(value, int)
        if (request := MEASURES[name].confirmation(value)) is not None
    ]
    return ReadingCheck(values, errors, needs_confirmation)


#: The keypad field of the entry screen that holds a blood pressure ("128/82").
BP_FIELD = "bp"


def check_typed_key(field: str, text: str, key: str) -> FieldError | None:
    """Whether ``key`` may be typed after ``text`` in the entry field ``field``; a refusal.

    ``field`` is :data:`BP_FIELD` or a whole-number measure of a reading. A number field
    takes ASCII digits only, and no more digits than its highest accepted value has; the
    blood pressure field also takes one "/" between systolic and diastolic. A key refused
    here is not typed and nothing typed before it is cut: the message names the field, the
    key and what the field accepts, so that "130/80" typed into heart rate is never kept as
    130.
    """
    if field == BP_FIELD:
        sbp, dbp = MEASURES["sbp"], MEASURES["dbp"]
        label = "Blood pressure"
        accepted = (f"digits 0-9 and one '/' between systolic ({sbp.low}-{sbp.high}) and "
                    f"diastolic ({dbp.low}-{dbp.high}), e.g. 128/82")
        limits: tuple[int, ...] = (len(str(sbp.high)), len(str(dbp.high)))
    else:
        spec = MEASURES[field]
        label = spec.label
        accepted = f"digits 0-9 only: {spec.accepted}"
        limits = (len(str(spec.high)),)
    shown = key if key.isprintable() and not key.isspace() else "that key"
    refusal = FieldError(field, f"{label} takes {accepted}; “{shown}” was not typed")
    candidate = text + key
    if not re.fullmatch(r"[0-9]", key) and not (key == "/" and len(limits) == 2):
        return refusal
    parts = candidate.split("/")
    if len(parts) > len(limits) or (len(parts) == 2 and not parts[0]):
        return refusal
    if any(len(part) > limit for part, limit in zip(parts, limits, strict=False)):
        return FieldError(field, f"{label} takes {accepted}; “{shown}” was not typed: "
                                 f"“{candidate}” has too many digits")
    return None


def _check_bp(
    raw: Mapping[str, RawValue],
    values: dict[str, int | tuple[int, ...]],
    errors: list[FieldError],
) -> None:
    """Keep BP only as a whole pair with diastolic below systolic."""
    sbp_given, dbp_given = not is_blank(raw.get("sbp")), not is_blank(raw.get("dbp"))
    if sbp_given != dbp_given:
        missing = "dbp" if sbp_given else "sbp"
        errors.append(
            FieldError(missing, "Enter both systolic and diastolic BP: they are one reading")
        )
    sbp, dbp = values.get("sbp"), values.get("dbp")
    if isinstance(sbp, int) and isinstance(dbp, int) and dbp >= sbp:
        errors.append(
            FieldError(
                "dbp",
                f"Diastolic BP ({dbp} mmHg) must be lower than systolic BP ({sbp} mmHg)",
            )
        )
        sbp = dbp = None
    if sbp is None or dbp is None:
        # Half a blood pressure is not a reading: the error for the other half stands.
        values.pop("sbp", None)
        values.pop("dbp", None)


def _check_items(
    scale: ItemScale,
    raw: Mapping[str, RawValue],
    values: dict[str, int | tuple[int, ...]],
    errors: list[FieldError],
) -> None:
    """Check ``scale``'s items and derive (or cross-check) its total."""
    items = raw.get(scale.name)
    refusal = (
        f"{scale.label} needs all {scale.count} item scores, "
        f"each a whole number from 0 to {scale.item_high}"
    )
    # A string is a sequence too: '012340' must not be read as six items.
    if items is None or isinstance(items, int | str | bytes | bytearray):
        if not is_blank(items):
            errors.append(FieldError(scale.name, refusal))
        return
    if not isinstance(items, Sequence):
        errors.append(FieldError(scale.name, refusal))
        return
    if all(is_blank(item) for item in items):
        return
    if len(items) != scale.count or any(is_blank(item) for item in items):
        errors.append(FieldError(scale.name, refusal))
        return
    item_spec = MeasureSpec(scale.name, scale.label, "", 0, scale.item_high)
    scores: list[int] = []
    for number, item in enumerate(items, start=1):
        try:
            scores.append(_whole_in_range(item_spec, item))
        except ValidationError:
            errors.append(
                FieldError(
                    scale.name,
                    f"{scale.label} item {number} must be a whole number "
                    f"from 0 to {scale.item_high}",
                )
            )
    if len(scores) != scale.count:
        return
    total = sum(scores)
    given = values.get(scale.total)
    if given is not None and given != total:
        errors.append(
            FieldError(
                scale.total,
                f"{MEASURES[scale.total].label} {given} does not match "
                f"the sum of its items ({total})",
            )
        )
        del values[scale.total]
        return
    if given is None and not is_blank(raw.get(scale.total)):
        return  # the total typed was refused; its error stands and is not papered over
    values[scale.name] = tuple(scores)
    values[scale.total] = total


def validate_time(
    when: datetime,
    now: datetime,
    *,
    field: str = "time",
    label: str = "Time",
    max_age: timedelta = MAX_TIME_AGE,
) -> FieldError | None:
    """Refuse a time without a UTC offset, in the future, or more than ``max_age`` ago.

    ``now`` comes from the injected clock and must be aware: a naive ``now`` is a
    programming error and raises ``ValueError``. No tolerance is given for the future
    (:data:`FUTURE_TOLERANCE`).
    """
    now = ensure_utc(now)
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        return FieldError(field, f"{label} must carry a UTC offset such as +00:00 or Z")
    when = when.astimezone(UTC)
    if when > now + FUTURE_TOLERANCE:
        return FieldError(field, f"{label} {when:%Y-%m-%d %H:%M:%S} UTC is in the future")
    if when < now - max_age:
        return FieldError(
            field,
            f"{label} {when:%Y-%m-%d %H:%M:%S} UTC is more than {max_age.days} days ago",
        )
    return None


def validate_after_check_in(
    when: datetime, check_in: datetime, *, field: str = "time", label: str = "Time"
) -> FieldError | None:
    """Refuse a time before the session's check-in: a late entry describes the session.

    Both times must be aware. Entry times are chosen to the minute, so the check-in's own
    minute counts as during the session.
    """
    when, check_in = ensure_utc(when), ensure_utc(check_in)
    if when < check_in.replace(second=0, microsecond=0):
        return FieldError(
            field,
            f"{label} {when:%Y-%m-%d %H:%M} UTC is before the check-in at "
            f"{check_in:%H:%M} UTC; an entry can describe only a time during the session",
        )
    return None


def parse_time(text: str, *, field: str = "time", label: str = "Time") -> datetime:
    """Parse an ISO 8601 time with an explicit offset, e.g. ``2026-03-02T09:10:00+01:00``.

    Returns the time in UTC. A time without an offset is refused: a CSV written on another
    machine must not be read in this machine's zone. Raises :class:`ValidationError`.
    """
    if not isinstance(text, str):
        raise ValidationError(field, f"{label} must be typed as text")
    stripped = text.strip(ASCII_WHITESPACE)
    match = _OFFSET_TIME.fullmatch(stripped)
    if match is None:
        if _NAIVE_TIME.fullmatch(stripped):
            raise ValidationError(
                field,
                f"{label} must carry a UTC offset such as +00:00 or Z "
                "(e.g. 2026-03-02T09:10:00+00:00)",
            )
        raise ValidationError(
            field, f"{label} must be an ISO 8601 time such as 2026-03-02T09:10:00+00:00"
        )
    parts = match.groupdict()
    try:
        if parts["utc"]:
            zone = UTC
        else:
            offset = timedelta(hours=int(parts["off_h"]), minutes=int(parts["off_m"]))
            zone = timezone(-offset if parts["sign"] == "-" else offset)
        microseconds = int((parts["fraction"] or "0").ljust(6, "0"))
        local = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or "0"),
            microseconds,
            tzinfo=zone,
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        # Well-formed but impossible: month 13, 25 o'clock, offset +24:00, year 0.
        raise ValidationError(field, f"{label} {stripped!r} is not a real time") from exc
