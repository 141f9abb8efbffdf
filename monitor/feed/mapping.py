"""From one OBX segment to one vital sign ChairSide can use, or the reason it cannot.

* **Codes.** OBX-3 names the measure with an IEEE 11073 MDC code (``150021^MDC_PRESS_BLD_
  NONINV_SYS^MDC``), sometimes after a LOINC code (``8889-8^…^LN^149530^…^MDC``), sometimes
  with LOINC alone. The numeric MDC code decides; LOINC is used only without one. The
  reference id (``MDC_…``) is checked against the code and a mismatch is noted, not
  trusted: devices mislabel.
* **Units.** MDC unit codes, UCUM or plain text; kPa and °F are converted; a unit not known
  for the measure refuses the value rather than guessing.
* **Validity.** A value is refused when the device says it is not real (OBX-11 ``X``; OBX-8
  ``INV``, ``NAV``, ``DEMO``, ``TEST``, ``BUSY``, ``CAL``), when it is empty, a sentinel
  (8388607, 32767, -999, -1 …) or outside the accepted range of the measure. The ranges are
  :data:`monitor.clinical.validation.MEASURES`, the same the nurse's entry screen enforces.

The result is an :class:`Observation` (a candidate for filing), a :class:`Rejected` or an
:class:`Ignored` value, each carrying where it came from. :func:`dedup_key` and
:class:`RecentObservations` recognise the same reading sent again: monitors repeat the last
NIBP, with its old observation time, in every periodic message.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Protocol

from monitor.clinical.validation import MEASURES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MeasureDef:
    """A measure ChairSide takes from a monitor: its unit, kind of unit and accepted range."""

    name: str
    label: str
    unit: str
    dimension: str  # pressure, rate, fraction, temperature
    low: Decimal
    high: Decimal
    places: int


def _measure(name: str, spec_name: str, label: str, dimension: str) -> MeasureDef:
    spec = MEASURES[spec_name]
    return MeasureDef(
        name, label, spec.unit, dimension, Decimal(spec.low), Decimal(spec.high), spec.places
    )


#: The measures, with the accepted ranges of :data:`monitor.clinical.validation.MEASURES`. The mean
#: pressure lies between diastolic and systolic, so it takes the span of the two; a pulse
#: rate is a heart rate counted at the finger or the cuff.
FEED_MEASURES: MappingProxyType[str, MeasureDef] = MappingProxyType({
    "sbp": _measure("sbp", "sbp", "Systolic BP", "pressure"),
    "dbp": _measure("dbp", "dbp", "Diastolic BP", "pressure"),
    "mean_bp": MeasureDef(
        "mean_bp", "Mean BP", MEASURES["sbp"].unit, "pressure",
        Decimal(MEASURES["dbp"].low), Decimal(MEASURES["sbp"].high), 0,
    ),
    "hr": _measure("hr", "hr", "Heart rate", "rate"),
    "pulse_rate": _measure("pulse_rate", "hr", "Pulse rate", "rate"),
    "spo2": _measure("spo2", "spo2", "SpO2", "fraction"),
    "rr": _measure("rr", "rr", "Respiratory rate", "rate"),
    "temp_c": _measure("temp_c", "temperature", "Temperature", "temperature"),
})


@dataclass(frozen=True, slots=True)
class CodeDef:
    system: str  # "MDC" or "LN"
    code: str
    refid: str  # the MDC reference id, or the LOINC name
    measure: str


_MDC = (
    ("150021", "MDC_PRESS_BLD_NONINV_SYS", "sbp"),
    ("150022", "MDC_PRESS_BLD_NONINV_DIA", "dbp"),
    ("150023", "MDC_PRESS_BLD_NONINV_MEAN", "mean_bp"),
    # Mindray and Comen send NIBP as cuff pressures.
    ("150301", "MDC_PRESS_CUFF_SYS", "sbp"),
    ("150302", "MDC_PRESS_CUFF_DIA", "dbp"),
    ("150303", "MDC_PRESS_CUFF_MEAN", "mean_bp"),
    ("147842", "MDC_ECG_HEART_RATE", "hr"),
    ("149530", "MDC_PULS_OXIM_PULS_RATE", "pulse_rate"),
    ("149546", "MDC_PULS_RATE_NON_INV", "pulse_rate"),
    ("149514", "MDC_PULS_RATE", "pulse_rate"),
    ("150456", "MDC_PULS_OXIM_SAT_O2", "spo2"),
    ("151562", "MDC_RESP_RATE", "rr"),
    ("151578", "MDC_TTHOR_RESP_RATE", "rr"),
    ("151594", "MDC_AWAY_RESP_RATE", "rr"),
    ("150344", "MDC_TEMP", "temp_c"),
    ("150364", "MDC_TEMP_BODY", "temp_c"),
    ("150392", "MDC_TEMP_TYMP", "temp_c"),
    ("188424", "MDC_TEMP_ORAL", "temp_c"),
    ("188496", "MDC_TEMP_AXILLA", "temp_c"),
)
_LOINC = (
    ("8480-6", "Systolic blood pressure", "sbp"),
    ("8462-4", "Diastolic blood pressure", "dbp"),
    ("8478-0", "Mean blood pressure", "mean_bp"),
    ("8867-4", "Heart rate", "hr"),
    ("8889-8", "Heart rate by Pulse oximetry", "pulse_rate"),
    ("59408-5", "Oxygen saturation by Pulse oximetry", "spo2"),
    ("2708-6", "Oxygen saturation in Arterial blood", "spo2"),
    ("9279-1", "Respiratory rate", "rr"),
    ("8310-5", "Body temperature", "temp_c"),
)

MDC_CODES: MappingProxyType[str, CodeDef] = MappingProxyType(
    {code: CodeDef("MDC", code, refid, measure) for code, refid, measure in _MDC}
)
LOINC_CODES: MappingProxyType[str, CodeDef] = MappingProxyType(
    {code: CodeDef("LN", code, name, measure) for code, name, measure in _LOINC}
)
_MDC_BY_REFID = {definition.refid: definition for definition in MDC_CODES.values()}


@dataclass(frozen=True, slots=True)
class UnitDef:
    dimension: str
    to_canonical: str  # "same", "kpa_to_mmhg", "f_to_c"


_UNIT_ALIASES: tuple[tuple[UnitDef, tuple[str, ...]], ...] = (
    (UnitDef("pressure", "same"), ("266016", "MDC_DIM_MMHG", "mm[Hg]", "mmHg", "mm Hg")),
    (UnitDef("pressure", "kpa_to_mmhg"), ("265987", "MDC_DIM_KILO_PASCAL", "kPa")),
    (UnitDef("rate", "same"), (
        "264864", "MDC_DIM_BEAT_PER_MIN", "MDC_DIM_RESP_PER_MIN", "264928", "/min",
        "{beats}/min", "{beat}/min", "{breaths}/min", "{breath}/min", "{Beats}/min",
        "{Breaths}/min", "1/min", "bpm", "rpm", "brpm", "BPM", "min-1",
    )),
    (UnitDef("fraction", "same"), ("262688", "MDC_DIM_PERCENT", "%")),
    (UnitDef("temperature", "same"), ("268192", "MDC_DIM_DEGC", "Cel", "°C", "degC", "C")),
    (UnitDef("temperature", "f_to_c"), (
        "266560", "MDC_DIM_FAHR", "MDC_DIM_DEGF", "[degF]", "°F", "degF", "F",
    )),
)
UNITS: MappingProxyType[str, UnitDef] = MappingProxyType(
    {alias.casefold(): unit for unit, aliases in _UNIT_ALIASES for alias in aliases}
)

#: OBX-11 result statuses that mean the value is not a real measurement (X: could not be
#: obtained; D: delete the earlier value; W: the earlier value was wrong).
NOT_REAL_STATUS = MappingProxyType({
    "X": "the device could not obtain the value (OBX-11 X)",
    "D": "the device withdrew the value (OBX-11 D)",
    "W": "the device marked the value wrong (OBX-11 W)",
})
#: OBX-8 measurement status flags (IEEE 11073 / IHE PCD) that mean the value is not real.
NOT_REAL_FLAGS = MappingProxyType({
    "INV": "invalid",
    "NAV": "not available",
    "DEMO": "demonstration data",
    "TEST": "test data",
    "BUSY": "measurement in progress",
    "CAL": "calibration in progress",
})
#: Values devices send to mean "no value": IEEE 11073 FLOAT NaN (0x7FFFFF), NRes, ±INF and
#: reserved codes, a 16-bit "not set", and two common placeholders.
SENTINELS = frozenset(
    Decimal(value) for value in (8388607, -8388608, 8388606, -8388606, -8388607, 32767, -999, -1)
)
_NUMBER = re.compile(r"[+-]?[0-9]{1,7}(?:\.[0-9]{1,6})?")
_MMHG_PER_KPA = Decimal("7.500617")


@dataclass(frozen=True, slots=True)
class Context:
    """Where the OBX came from: the message, the device and the patient it names."""

    message_id: str
    device_id: str | None
    location: str | None
    mrn: str | None
    received_at: datetime
    skew: timedelta | None


@dataclass(frozen=True, slots=True)
class Observation:
    """A vital sign as the monitor measured it, a candidate for filing.

    ``value`` is in the measure's unit (mmHg, /min, %, °C), rounded to its places;
    ``raw_value``/``raw_unit`` are what the device sent. ``observed_at`` is the device's
    time in UTC, ``received_at`` ChairSide's. ``skew`` is how far the device's clock was
    behind ChairSide's when it sent the message. ``notes`` say what was odd but not fatal.
    """

    device_id: str | None
    location: str | None
    mrn: str | None
    measure: str
    value: Decimal
    unit: str
    observed_at: datetime
    received_at: datetime
    message_id: str
    code: str  # "MDC:150021" or "LN:8480-6"
    refid: str
    skew: timedelta | None
    raw_value: str
    raw_unit: str
    set_id: str = ""
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "filed-candidate"


@dataclass(frozen=True, slots=True)
class Rejected:
    """An OBX for a measure ChairSide takes, whose value it refuses, and why."""

    measure: str
    code: str
    refid: str
    raw_value: str
    raw_unit: str
    reason: str
    message_id: str
    device_id: str | None
    set_id: str = ""
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "rejected"


@dataclass(frozen=True, slots=True)
class Ignored:
    """An OBX that carries nothing ChairSide uses (another measure, text, a waveform)."""

    code: str
    refid: str
    reason: str
    set_id: str = ""

    @property
    def status(self) -> str:
        return "ignored"


Outcome = Observation | Rejected | Ignored


@dataclass(frozen=True, slots=True)
class ObxFields:
    """The OBX fields :func:`map_obx` reads, already split into components."""

    set_id: str
    value_type: str
    identifier: tuple[str, ...]  # OBX-3 components
    value: str
    units: tuple[str, ...]  # OBX-6 components
    flags: tuple[str, ...]  # OBX-8 repetitions
    status: str
    observed_at: datetime | None
    time_notes: tuple[str, ...] = field(default=())


_LOGGED_MISMATCHES: set[tuple[str, str]] = set()


def _log_once(code: str, refid: str, note: str) -> None:
    """Log a REFID mismatch once per pair: a mislabelling device repeats it every second."""
    if (code, refid) in _LOGGED_MISMATCHES or len(_LOGGED_MISMATCHES) >= 1000:
        return
    _LOGGED_MISMATCHES.add((code, refid))
    log.warning("%s", note)


def identify(components: tuple[str, ...]) -> tuple[CodeDef | None, str, str, list[str]]:
    """The code definition OBX-3 names, the code as written, its REFID, and any notes.

    Components come in triplets (identifier, text, system), the alternate after the first.
    An MDC triplet wins over LOINC. A triplet whose system is empty but whose text is an
    MDC reference id is taken as MDC.
    """
    triplets = [
        tuple((*components[i:i + 3], "", "", "")[:3]) for i in range(0, len(components), 3)
    ]
    notes: list[str] = []
    mdc = [t for t in triplets if t[2].upper() == "MDC" or t[1].upper().startswith("MDC_")]
    for code, refid, _ in mdc:
        definition = MDC_CODES.get(code.strip())
        if definition is None:
            continue
        if refid and refid.upper() != definition.refid:
            named = _MDC_BY_REFID.get(refid.upper())
            also = f" ({named.measure})" if named else ""
            notes.append(
                f"REFID {refid}{also} does not match MDC code {code} "
                f"({definition.refid}); the code was used"
            )
            _log_once(code, refid, notes[-1])
        return definition, f"MDC:{definition.code}", refid, notes
    for code, name, system in triplets:
        if system.upper() in {"LN", "LOINC"} and code in LOINC_CODES:
            return LOINC_CODES[code], f"LN:{code}", name, notes
    first = triplets[0] if triplets else ("", "", "")
    system = first[2] or "?"
    return None, f"{system}:{first[0]}", first[1], notes


def _unit(units: tuple[str, ...]) -> tuple[UnitDef | None, str]:
    for alias in (u for u in units if u):
        unit = UNITS.get(alias.strip().casefold())
        if unit is not None:
            return unit, alias
    written = "^".join(u for u in units if u)
    return None, written


def _convert(value: Decimal, unit: UnitDef) -> Decimal:
    if unit.to_canonical == "kpa_to_mmhg":
        return value * _MMHG_PER_KPA
    if unit.to_canonical == "f_to_c":
        return (value - 32) * 5 / 9
    return value


def map_obx(obx: ObxFields, context: Context) -> Outcome | None:
    """One OBX as an observation, a rejection or an ignored row; ``None`` for structure.

    Structure rows (the MDS/VMD/channel hierarchy: empty OBX-2, or OBX-4 like ``1.0.0.0``)
    describe the device, not a value, and yield ``None``.
    """
    if not obx.value_type:
        return None
    definition, code, refid, notes = identify(obx.identifier)
    if definition is None:
        return Ignored(code, refid, "not a measure ChairSide takes", obx.set_id)
    if obx.value_type.upper() in {"NA", "MA"}:
        return Ignored(code, refid, f"waveform value ({obx.value_type})", obx.set_id)
    measure = FEED_MEASURES[definition.measure]
    unit, raw_unit = _unit(obx.units)
    notes = notes + list(obx.time_notes)

    def refuse(reason: str) -> Rejected:
        return Rejected(
            measure.name, code, refid, obx.value, raw_unit, reason, context.message_id,
            context.device_id, obx.set_id, tuple(notes),
        )

    status = obx.status.upper()
    if status in NOT_REAL_STATUS:
        return refuse(NOT_REAL_STATUS[status])
    for flag in obx.flags:
        meaning = NOT_REAL_FLAGS.get(flag.upper())
        if meaning is not None:
            return refuse(f"the device flagged the value {flag.upper()} ({meaning})")
    if not obx.value:
        return refuse("no value (OBX-5 is empty)")
    if not _NUMBER.fullmatch(obx.value):
        return refuse(f"value {obx.value[:20]!r} is not a number")
    try:
        number = Decimal(obx.value)
    except InvalidOperation:
        return refuse(f"value {obx.value[:20]!r} is not a number")
    if number in SENTINELS:
        return refuse(f"value {obx.value} is a placeholder meaning 'no measurement'")
    if unit is None:
        given = f"unit {raw_unit!r}" if raw_unit else "no unit"
        return refuse(f"{given} is not known for {measure.label}; expected {measure.unit}")
    if unit.dimension != measure.dimension:
        return refuse(f"unit {raw_unit!r} is not a unit of {measure.label}")
    exponent = Decimal(1).scaleb(-measure.places)
    value = _convert(number, unit).quantize(exponent, rounding=ROUND_HALF_UP)
    if not measure.low <= value <= measure.high:
        return refuse(
            f"{measure.label} {value} {measure.unit} is outside the accepted range "
            f"{measure.low}–{measure.high} {measure.unit}"
        )
    if obx.observed_at is None:
        return refuse("no observation time (OBX-14, OBR-7 and MSH-7 are all unusable)")
    return Observation(
        context.device_id, context.location, context.mrn, measure.name, value, measure.unit,
        obx.observed_at, context.received_at, context.message_id, code, refid, context.skew,
        obx.value, raw_unit, obx.set_id, tuple(notes),
    )


# --- the same reading sent again --------------------------------------------------------


def dedup_key(observation: Observation) -> str:
    """A stable key: the same device, code, observation time and value is one observation.

    Suitable for a unique column. The value is the device's, as a normalised number, so
    ``120`` and ``120.0`` are the same reading.
    """
    raw = Decimal(observation.raw_value).normalize()
    return "|".join((
        observation.device_id or f"location:{observation.location or ''}",
        observation.code,
        observation.observed_at.isoformat(timespec="milliseconds"),
        f"{raw:f}",
    ))


class SeenKeys(Protocol):
    """Where keys already filed are kept (an in-memory set, or a database lookup)."""

    def __contains__(self, key: object) -> bool: ...

    def add(self, key: str) -> None: ...


class RecentObservations:
    """In-memory de-duplication of the last ``capacity`` observations.

    ``first_time(obs)`` is true once per :func:`dedup_key`; a repeated NIBP (the same value
    and observation time, in the next periodic message) is false. When ``capacity`` keys
    are held, the oldest seen is forgotten; 4 monitors × 8 measures × a day of minutely
    messages fit in the default. A caller that files into a database can pass its own
    ``store`` instead.
    """

    def __init__(self, capacity: int = 50_000, store: SeenKeys | None = None) -> None:
        self.capacity = capacity
        self._store = store
        self._recent: OrderedDict[str, None] = OrderedDict()

    def first_time(self, observation: Observation) -> bool:
        key = dedup_key(observation)
        if self._store is not None:
            if key in self._store:
                return False
            self._store.add(key)
            return True
        if key in self._recent:
            self._recent.move_to_end(key)
            return False
        self._recent[key] = None
        if len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
        return True
