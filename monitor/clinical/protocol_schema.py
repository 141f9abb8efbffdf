"""The protocol's schema: its sections, each parameter's type and sanity range, and the check
every value passes, whether it comes from a file, a per-patient override or a draft.

A :class:`ProtocolError` names where a value came from, its line and the field at fault.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Annotated

ParameterValue = int | float | str


class ProtocolError(ValueError):
    """A protocol file or override that cannot be used; the message says where and why."""

    def __init__(
        self, origin: str, problem: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.origin = origin
        self.line = line
        self.field = field
        self.problem = problem
        where = [origin]
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {problem}")


class ObservationAnchor(StrEnum):
    """The event the minimum observation time is counted from."""

    INFUSION_STOP = "infusion_stop"
    INFUSION_START = "infusion_start"


@dataclass(frozen=True, slots=True)
class Range:
    """The sanity range a numeric parameter must lie in, whatever the clinic chooses."""

    low: float
    high: float


# Parameter types: the Python type and its sanity range (the accepted input ranges of
# PRODUCT.md for vital signs, the scale's range for scores).
Sbp = Annotated[int, Range(40, 300)]
Dbp = Annotated[int, Range(20, 200)]
PulseRate = Annotated[int, Range(20, 250)]
Saturation = Annotated[int, Range(50, 100)]
BreathRate = Annotated[int, Range(4, 60)]
MoaasLevel = Annotated[int, Range(0, 5)]
Minutes = Annotated[int, Range(1, 480)]
Percent = Annotated[int, Range(1, 100)]


@dataclass(frozen=True, slots=True)
class BaselineBloodPressure:
    """Tiers that apply only to readings taken before the infusion starts."""

    advisory_sbp_at_or_above: Sbp
    advisory_dbp_at_or_above: Dbp
    warning_sbp_at_or_above: Sbp
    warning_dbp_at_or_above: Dbp


@dataclass(frozen=True, slots=True)
class BloodPressure:
    high_warning_sbp_at_or_above: Sbp
    high_warning_dbp_at_or_above: Dbp
    repeat_window_min: Annotated[int, Range(1, 60)]
    high_critical_sbp_at_or_above: Sbp
    high_critical_dbp_at_or_above: Dbp
    rise_advisory_percent_at_or_above: Annotated[int, Range(1, 200)]
    low_warning_sbp_below: Sbp
    low_critical_sbp_below: Sbp


@dataclass(frozen=True, slots=True)
class HeartRate:
    """NEWS2 bands: the band's points set the tier (1 advisory, 2 warning, 3 critical)."""

    high_warning_at_or_above: PulseRate
    high_critical_at_or_above: PulseRate
    low_advisory_at_or_below: PulseRate
    low_critical_at_or_below: PulseRate


@dataclass(frozen=True, slots=True)
class Oxygen:
    low_warning_at_or_below: Saturation
    low_critical_at_or_below: Saturation


@dataclass(frozen=True, slots=True)
class Respiration:
    """NEWS2 bands: the band's points set the tier (1 advisory, 2 warning, 3 critical)."""

    low_advisory_at_or_below: BreathRate
    low_critical_at_or_below: BreathRate
    high_warning_at_or_above: BreathRate
    high_critical_at_or_above: BreathRate


@dataclass(frozen=True, slots=True)
class Sedation:
    warning_at_or_below: MoaasLevel
    critical_at_or_below: MoaasLevel


@dataclass(frozen=True, slots=True)
class Dissociation:
    advisory_at_or_above: Annotated[int, Range(0, 24)]


@dataclass(frozen=True, slots=True)
class Nausea:
    advisory_at_or_above: Annotated[int, Range(0, 10)]


@dataclass(frozen=True, slots=True)
class SelfHarm:
    item9_warning_above: Annotated[int, Range(0, 2)]


@dataclass(frozen=True, slots=True)
class Intervals:
    infusion_reading_every_min: Minutes
    recovery_reading_every_min: Minutes
    #: The next reading while the latest BP, HR or SpO2 meets a warning or critical tier.
    repeat_after_flag_min: Minutes
    overdue_grace_min: Annotated[int, Range(0, 60)]


@dataclass(frozen=True, slots=True)
class Feed:
    """The bedside-monitor feed: whether device readings need a nurse's confirmation, and
    how long a silent monitor is tolerated during a session."""

    auto_accept: bool
    silence_advisory_min: Minutes


@dataclass(frozen=True, slots=True)
class Discharge:
    min_observation_min: Annotated[int, Range(0, 720)]
    min_observation_from: ObservationAnchor
    vitals_within_percent_of_baseline: Percent
    spo2_at_or_above: Saturation
    moaas_at_or_above: MoaasLevel
    cadss6_above_baseline_at_most: Annotated[int, Range(0, 24)]
    nausea_at_or_below: Annotated[int, Range(0, 10)]
    aldrete_passing_at_or_above: Annotated[int, Range(0, 10)]
    padss_passing_at_or_above: Annotated[int, Range(0, 8)]


@dataclass(frozen=True, slots=True)
class Dose:
    mg_per_kg_default: Annotated[float, Range(0.01, 5.0)]
    mg_per_kg_min: Annotated[float, Range(0.01, 5.0)]
    mg_per_kg_max: Annotated[float, Range(0.01, 5.0)]
    minutes_default: Minutes
    minutes_min: Minutes
    minutes_max: Minutes
    bag_volume_ml_default: Annotated[float, Range(1.0, 1000.0)]


#: Section name in the file → the dataclass holding it (also the Protocol attribute name).
SECTIONS: dict[str, type] = {
    "baseline_bp": BaselineBloodPressure,
    "bp": BloodPressure,
    "hr": HeartRate,
    "spo2": Oxygen,
    "rr": Respiration,
    "moaas": Sedation,
    "cadss6": Dissociation,
    "nausea": Nausea,
    "phq9": SelfHarm,
    "intervals": Intervals,
    "discharge": Discharge,
    "dose": Dose,
    "feed": Feed,
}


@dataclass(frozen=True, slots=True)
class Parameter:
    """One protocol parameter with its unit and where its value comes from.

    ``origin`` is the file that set it (``"iv_ketamine.toml"``) or
    :data:`monitor.clinical.protocol.OVERRIDE_ORIGIN`; ``line`` is its line in that file,
    ``None`` for an override.
    """

    section: str
    key: str
    value: ParameterValue
    unit: str
    source: str
    origin: str
    line: int | None

    @property
    def field(self) -> str:
        return f"{self.section}.{self.key}"


@dataclass(frozen=True, slots=True)
class Medication:
    """An entry of the "medication given" pick list."""

    name: str
    dose: str
    route: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.dose} {self.route}"


def accepted_range(field_name: str) -> Range | None:
    """The sanity range of a numeric parameter (``"hr.high_warning_at_or_above"``), else None.

    :class:`KeyError` for a name that is no parameter.
    """
    section, _, key = field_name.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or key not in field_types(cls):
        raise KeyError(field_name)
    if field_types(cls)[key] not in (int, float):
        return None
    return field_range(cls, key)


def choices(field_name: str) -> tuple[str, ...]:
    """The values a parameter that is a choice accepts (empty for a number)."""
    section, _, key = field_name.partition(".")
    kind = field_types(SECTIONS[section])[key]
    return tuple(m.value for m in kind) if issubclass(kind, StrEnum) else ()


def check_parameter(field_name: str, raw: object, origin: str,
                    line: int | None = None) -> ParameterValue:
    """``raw`` as the value of the parameter ``field_name``, checked for type and range.

    A :class:`ProtocolError` naming ``origin``, ``line`` and the field says what is wrong.
    """
    section, _, key = field_name.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or key not in field_types(cls):
        raise ProtocolError(origin, "no such parameter", line=line, field=field_name)
    return check_value(raw, field_types(cls)[key], cls, key,
                        ProtocolError(origin, "", line=line, field=field_name))


def field_types(cls: type) -> dict[str, type]:
    """Each field's plain type (``int``, ``float`` or an enum), without its range."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def field_range(cls: type, key: str) -> Range:
    """The sanity range of the numeric field ``key`` of section ``cls``."""
    annotated = typing.get_type_hints(cls, include_extras=True)[key]
    return next(arg for arg in typing.get_args(annotated) if isinstance(arg, Range))


def check_value(raw: object, kind: type, cls: type, key: str,
                 where: ProtocolError) -> ParameterValue:
    """``raw`` converted to the parameter's type; ``where`` locates any error."""
    if kind is bool:
        if not isinstance(raw, bool):
            raise _restate(where, f"expected true or false, got {raw!r}")
        return raw
    if issubclass(kind, StrEnum):
        choices = [member.value for member in kind]
        if raw not in choices:
            raise _restate(where, f"expected one of {', '.join(repr(c) for c in choices)}, "
                                  f"got {raw!r}")
        return str(raw)
    return check_number(raw, kind, cls, key, where)


def check_number(raw: object, kind: type, cls: type, key: str,
                  where: ProtocolError) -> int | float:
    """A number of the declared kind inside the field's sanity range; ``where`` locates errors."""
    value: int | float
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise _restate(where, f"expected a whole number, got {raw!r}")
        value = raw
    else:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise _restate(where, f"expected a number, got {raw!r}")
        if not math.isfinite(raw):
            raise _restate(where, f"expected a finite number, got {raw!r}")
        value = float(raw)
    accepted = field_range(cls, key)
    if not accepted.low <= value <= accepted.high:
        raise _restate(where, f"{value} is outside the accepted range "
                              f"{accepted.low:g}–{accepted.high:g}")
    return value


def _restate(where: ProtocolError, problem: str) -> ProtocolError:
    return ProtocolError(where.origin, problem, line=where.line, field=where.field)
