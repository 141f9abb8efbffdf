"""The clinic's protocol: every limit the rules use, loaded from a validated TOML file.

A protocol file holds one line per parameter, an inline table with the value, its unit and
the source of the default (``hr.high_warning_at_or_above = { value = 111, unit = "/min",
source = "NEWS2 band 111–130" }``), so the app can show where every limit comes from. A
*profile* (``extends = "iv_ketamine"``) lists only what differs from its parent.

A bad file is refused with a :class:`ProtocolError` naming the file, the line and the field.
``tomllib`` reports no positions for keys, so this module indexes the file's lines itself.
Per-patient limits (:meth:`Protocol.with_overrides`) go through the same checks.

:func:`load_protocol_text` reads a protocol written out as one self-contained document
(:func:`monitor.storage.protocol_store.resolved_toml`), the form in which each version a session
ran under is kept.
"""

from __future__ import annotations

import math
import re
import tomllib
import typing
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

#: Where the shipped protocols live: ``resources/protocols`` at the repository root.
PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "resources" / "protocols"

#: Where a per-patient override "comes from", in place of a file name.
OVERRIDE_ORIGIN = "per-patient override"

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

#: Pairs that must keep their order, ``(lower, higher, strict, why)``: a warning must come
#: before the critical tier, an advisory before the warning, and a low limit below a high one.
_ORDER: tuple[tuple[str, str, bool, str], ...] = (
    ("baseline_bp.advisory_sbp_at_or_above", "baseline_bp.warning_sbp_at_or_above", True,
     "the advisory tier must come before the warning tier"),
    ("baseline_bp.advisory_dbp_at_or_above", "baseline_bp.warning_dbp_at_or_above", True,
     "the advisory tier must come before the warning tier"),
    ("bp.high_warning_sbp_at_or_above", "bp.high_critical_sbp_at_or_above", True,
     "the warning tier must come before the critical tier"),
    ("bp.high_warning_dbp_at_or_above", "bp.high_critical_dbp_at_or_above", True,
     "the warning tier must come before the critical tier"),
    ("bp.low_critical_sbp_below", "bp.low_warning_sbp_below", True,
     "the warning tier must come before the critical tier"),
    ("bp.low_warning_sbp_below", "bp.high_warning_sbp_at_or_above", True,
     "the low limit must be below the high limit"),
    ("hr.high_warning_at_or_above", "hr.high_critical_at_or_above", True,
     "the warning tier must come before the critical tier"),
    ("hr.low_critical_at_or_below", "hr.low_advisory_at_or_below", True,
     "the advisory tier must come before the critical tier"),
    ("hr.low_advisory_at_or_below", "hr.high_warning_at_or_above", True,
     "the low limit must be below the high limit"),
    ("spo2.low_critical_at_or_below", "spo2.low_warning_at_or_below", True,
     "the warning tier must come before the critical tier"),
    ("rr.low_critical_at_or_below", "rr.low_advisory_at_or_below", True,
     "the advisory tier must come before the critical tier"),
    ("rr.low_advisory_at_or_below", "rr.high_warning_at_or_above", True,
     "the low limit must be below the high limit"),
    ("rr.high_warning_at_or_above", "rr.high_critical_at_or_above", True,
     "the warning tier must come before the critical tier"),
    ("moaas.critical_at_or_below", "moaas.warning_at_or_below", True,
     "the warning tier must come before the critical tier"),
    ("spo2.low_warning_at_or_below", "discharge.spo2_at_or_above", True,
     "discharge must not allow an SpO2 that raises a warning"),
    ("moaas.warning_at_or_below", "discharge.moaas_at_or_above", True,
     "discharge must not allow a MOAA/S level that raises a warning"),
    ("discharge.nausea_at_or_below", "nausea.advisory_at_or_above", True,
     "discharge must not allow a nausea score that raises an advisory"),
    ("intervals.repeat_after_flag_min", "intervals.infusion_reading_every_min", False,
     "a repeat after a flag must not come later than the usual reading"),
    ("intervals.repeat_after_flag_min", "intervals.recovery_reading_every_min", False,
     "a repeat after a flag must not come later than the usual reading"),
    ("dose.mg_per_kg_min", "dose.mg_per_kg_default", False,
     "the default dose must lie in the allowed range"),
    ("dose.mg_per_kg_default", "dose.mg_per_kg_max", False,
     "the default dose must lie in the allowed range"),
    ("dose.minutes_min", "dose.minutes_default", False,
     "the default duration must lie in the allowed range"),
    ("dose.minutes_default", "dose.minutes_max", False,
     "the default duration must lie in the allowed range"),
)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One protocol parameter with its unit and where its value comes from.

    ``origin`` is the file that set it (``"iv_ketamine.toml"``) or
    :data:`OVERRIDE_ORIGIN`; ``line`` is its line in that file, ``None`` for an override.
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


@dataclass(frozen=True, slots=True)
class Protocol:
    """A loaded, validated protocol; sections read as ``protocol.hr.high_warning_at_or_above``."""

    id: str
    name: str
    version: str
    extends: str | None
    #: The file it was loaded from; None for a stored version (:func:`load_protocol_text`).
    path: Path | None
    baseline_bp: BaselineBloodPressure
    bp: BloodPressure
    hr: HeartRate
    spo2: Oxygen
    rr: Respiration
    moaas: Sedation
    cadss6: Dissociation
    nausea: Nausea
    phq9: SelfHarm
    intervals: Intervals
    discharge: Discharge
    dose: Dose
    feed: Feed
    medications: tuple[Medication, ...]
    parameters: tuple[Parameter, ...]
    #: Per-patient overrides applied to the file's values, as ``("section.key", value)``.
    overrides: tuple[tuple[str, int | float], ...] = ()

    def parameter(self, section: str, key: str) -> Parameter:
        """The parameter with its unit, source and line, for the UI to show."""
        for parameter in self.parameters:
            if parameter.section == section and parameter.key == key:
                return parameter
        raise KeyError(f"{section}.{key}")

    def with_overrides(self, overrides: typing.Mapping[str, int | float]) -> Protocol:
        """This protocol with per-patient limits, e.g. ``{"hr.high_warning_at_or_above": 120}``.

        Overrides are checked like the file (type, range, tier order); an error names the
        field. Applying overrides to an overridden protocol adds to the earlier ones.
        """
        by_field = {p.field: p for p in self.parameters}
        applied = dict(self.overrides)
        for name, value in overrides.items():
            if name not in by_field:
                raise ProtocolError(OVERRIDE_ORIGIN, "no such parameter", field=name)
            old = by_field[name]
            kind = _field_types(SECTIONS[old.section])[old.key]
            if kind not in (int, float):
                raise ProtocolError(OVERRIDE_ORIGIN, "cannot be overridden per patient",
                                    field=name)
            checked = _check_number(value, kind, SECTIONS[old.section], old.key,
                                    ProtocolError(OVERRIDE_ORIGIN, "", field=name))
            applied[name] = checked
            # Overriding an override keeps naming the protocol's own default.
            source = (old.source if old.origin == OVERRIDE_ORIGIN
                      else f"per-patient override (protocol default {old.value})")
            by_field[name] = Parameter(old.section, old.key, checked, old.unit, source,
                                       OVERRIDE_ORIGIN, None)
        return _assemble(
            _Header(self.id, self.name, self.version, self.extends, self.path),
            by_field, self.medications, OVERRIDE_ORIGIN, tuple(applied.items()),
        )


def load_protocol(name_or_path: str | Path, directory: Path | None = None) -> Protocol:
    """Load and validate a protocol.

    A bare name (``"iv_ketamine"``, ``"esketamine_rems"``) is looked up in ``directory``
    (default :data:`PROTOCOL_DIR`); anything with a suffix or a path separator is a file.
    """
    return _load(_resolve(name_or_path, directory or PROTOCOL_DIR), ())


def load_protocol_text(text: str, origin: str, *, fill_from: Protocol | None = None) -> Protocol:
    """Load and validate a protocol from its text, as
    :func:`monitor.storage.protocol_store.resolved_toml` writes it.

    ``origin`` names the text in error messages and as each parameter's origin. The text
    must be self-contained (no ``extends``). A parameter this code requires that the text
    lacks (one added to ChairSide after the text was written) is taken from ``fill_from``
    when given, keeping that protocol's origin; otherwise it is refused as missing.
    """
    source = _parse_text(text, None, origin)
    header = _read_header(source)
    if header.extends is not None:
        raise source.error("a stored protocol is written out in full and extends nothing",
                           "protocol", "extends", "protocol.extends")
    return _load_base(source, header, fill_from)


def load_draft(path: Path, directory: Path | None = None) -> Protocol:
    """Load a draft: a file that lists only what it changes of the profile it ``extends``.

    Unlike :func:`load_protocol`, the profile it extends is looked up in ``directory``
    (default :data:`PROTOCOL_DIR`, the files new sessions start with), not next to the
    draft, so a draft can be kept anywhere. A file that extends nothing is a protocol in
    full. Errors name the draft's line and field as for any protocol file.
    """
    path = path.resolve()
    source = _parse(path)
    header = _read_header(source)
    if header.extends is None:
        return _load_base(source, header, None)
    parameters, medications = _read_body(source)
    try:
        parent = load_protocol(header.extends, directory)
    except ProtocolError as exc:
        raise source.error(f"extends {header.extends!r}, which does not load: {exc}",
                           "protocol", "extends", "protocol.extends") from exc
    merged = {p.field: p for p in parent.parameters}
    merged.update({f"{s}.{k}": p for (s, k), p in parameters.items()})
    inherited = parent.medications if medications is None else medications
    return _assemble(header, merged, inherited, source.origin)


def available_profiles(directory: Path | None = None) -> list[tuple[str, str]]:
    """``(id, name)`` of every protocol in ``directory``, base protocols first.

    Every file is fully validated, so a broken file is reported rather than left out.
    """
    loaded = [_load(path, ()) for path in sorted((directory or PROTOCOL_DIR).glob("*.toml"))]
    loaded.sort(key=lambda p: (p.extends is not None, p.name))
    return [(p.id, p.name) for p in loaded]


def accepted_range(field_name: str) -> Range | None:
    """The sanity range of a numeric parameter (``"hr.high_warning_at_or_above"``), else None.

    :class:`KeyError` for a name that is no parameter.
    """
    section, _, key = field_name.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or key not in _field_types(cls):
        raise KeyError(field_name)
    if _field_types(cls)[key] not in (int, float):
        return None
    return _field_range(cls, key)


def choices(field_name: str) -> tuple[str, ...]:
    """The values a parameter that is a choice accepts (empty for a number)."""
    section, _, key = field_name.partition(".")
    kind = _field_types(SECTIONS[section])[key]
    return tuple(m.value for m in kind) if issubclass(kind, StrEnum) else ()


def check_parameter(field_name: str, raw: object, origin: str,
                    line: int | None = None) -> ParameterValue:
    """``raw`` as the value of the parameter ``field_name``, checked for type and range.

    A :class:`ProtocolError` naming ``origin``, ``line`` and the field says what is wrong.
    """
    section, _, key = field_name.partition(".")
    cls = SECTIONS.get(section)
    if cls is None or key not in _field_types(cls):
        raise ProtocolError(origin, "no such parameter", line=line, field=field_name)
    return _check_value(raw, _field_types(cls)[key], cls, key,
                        ProtocolError(origin, "", line=line, field=field_name))


@dataclass(frozen=True, slots=True)
class Revision:
    """What a protocol document changes, as read by :func:`read_revision`.

    ``profile`` is the profile it changes (``extends``, else ``id``); ``full`` whether it
    sets every parameter (a self-contained document) rather than only what differs.
    """

    profile: str
    version: str | None
    name: str | None
    full: bool
    parameters: dict[str, Parameter]
    medications: tuple[Medication, ...] | None


def read_revision(text: str, origin: str) -> Revision:
    """Read a protocol document that changes a profile, each error with its line and field.

    Either a full protocol (no ``extends``: every parameter, validated like a stored
    version) or a partial one whose ``[protocol]`` table names the profile it ``extends``
    and which lists only what it changes (``id``, ``name`` and ``version`` optional).
    """
    source = _parse_text(text, None, origin)
    table = source.data.get("protocol")
    if not isinstance(table, dict):
        raise source.error("missing [protocol] table: name the profile with extends = "
                           '"iv_ketamine" (or id, for a full protocol)', "protocol",
                           field_name="protocol")
    allowed = ("id", "name", "version", "extends")
    for key, value in table.items():
        if key not in allowed:
            raise source.error(f"unknown field (known: {', '.join(allowed)})", "protocol", key,
                               f"protocol.{key}")
        if not isinstance(value, str) or not value.strip():
            raise source.error("expected non-empty text in quotes", "protocol", key,
                               f"protocol.{key}")
    extends = table.get("extends")
    if extends is None:
        full = load_protocol_text(text, origin)
        return Revision(full.id, full.version, full.name, True,
                        {p.field: p for p in full.parameters}, full.medications)
    if "id" in table and table["id"] != extends:
        raise source.error(f"a draft changes the profile it extends ({extends!r}); leave id "
                           "out or make it the same", "protocol", "id", "protocol.id")
    parameters, medications = _read_body(source)
    return Revision(extends, table.get("version"), table.get("name"), False,
                    {f"{s}.{k}": p for (s, k), p in parameters.items()}, medications)


def revised(base: Protocol, changes: typing.Mapping[str, Parameter], *, version: str,
            medications: tuple[Medication, ...] | None, origin: str) -> Protocol:
    """``base`` with ``changes`` (each a :class:`Parameter` whose ``origin`` is ``origin``),
    checked like a file: every value's type and range, and the order of tiers across
    parameters (an order error names the changed parameter, with its line if it has one).
    """
    by_field = {p.field: p for p in base.parameters}
    for name, parameter in changes.items():
        if name not in by_field:
            raise ProtocolError(origin, "no such parameter", line=parameter.line, field=name)
        value = check_parameter(name, parameter.value, origin, parameter.line)
        by_field[name] = Parameter(parameter.section, parameter.key, value, parameter.unit,
                                   parameter.source, origin, parameter.line)
    header = _Header(base.id, base.name, version, None, None)
    return _assemble(header, by_field, base.medications if medications is None else medications,
                     origin)


# --- loading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Header:
    id: str
    name: str
    version: str
    extends: str | None
    path: Path | None


@dataclass(frozen=True, slots=True)
class _SourceFile:
    """A parsed file (or stored text) and where each of its keys sits, for error messages.

    ``origin`` is the file's name, or what names the stored text.
    """

    path: Path | None
    origin: str
    data: dict[str, Any]
    lines: dict[tuple[str, str], int]
    headers: dict[str, int]
    line_count: int

    def line_of(self, table: str, key: str | None = None) -> int:
        if key is not None and (table, key) in self.lines:
            return self.lines[(table, key)]
        return self.headers.get(table, self.line_count)

    def error(self, problem: str, table: str, key: str | None = None,
              field_name: str | None = None) -> ProtocolError:
        return ProtocolError(self.origin, problem, line=self.line_of(table, key),
                             field=field_name)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r'^\s*(?:"([^"]+)"|([A-Za-z0-9_\-]+))\s*=')
_SYNTAX_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


def _index_lines(text: str) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Map ``(table, key)`` and table headers to 1-based line numbers.

    Array-of-tables entries are named ``medications[0]``, ``medications[1]`` … Every
    parameter is one line by the file's convention, so a line-by-line scan suffices.
    """
    lines: dict[tuple[str, str], int] = {}
    headers: dict[str, int] = {}
    array_counts: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _HEADER.match(line):
            table = header.group(2)
            if header.group(1) == "[[":
                index = array_counts.get(table, 0)
                array_counts[table] = index + 1
                table = f"{table}[{index}]"
            headers[table] = number
        elif key := _KEY.match(line):
            lines.setdefault((table, key.group(1) or key.group(2)), number)
    return lines, headers


def _parse(path: Path) -> _SourceFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(path.name, f"cannot read the file ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(path.name, "the file is not UTF-8 text") from exc
    return _parse_text(text, path, path.name)


def _parse_text(text: str, path: Path | None, origin: str) -> _SourceFile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _SYNTAX_POSITION.search(message)
        line: int | None = int(position.group(1)) if position else None
        if line is None and "end of document" in message:
            line = max(1, len(text.splitlines()))
        detail = _SYNTAX_POSITION.sub("", message)
        if position:
            detail += f" (column {position.group(2)})"
        raise ProtocolError(origin, f"TOML syntax error: {detail}", line=line) from exc
    lines, headers = _index_lines(text)
    return _SourceFile(path, origin, data, lines, headers, max(1, len(text.splitlines())))


def _resolve(name_or_path: str | Path, directory: Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or "\\" in text or text.endswith(".toml"):
        return Path(name_or_path)
    path = directory / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.toml"))) or "none"
        raise ProtocolError(f"{text}.toml", f"no protocol named {text!r} in {directory} "
                                            f"(available: {known})")
    return path


def _load(path: Path, chain: tuple[Path, ...]) -> Protocol:
    path = path.resolve()
    source = _parse(path)
    header = _read_header(source)
    if header.extends is None:
        return _load_base(source, header, None)
    parameters, medications = _read_body(source)

    parent_path = (path.parent / f"{header.extends}.toml").resolve()
    if parent_path == path or parent_path in chain:
        raise source.error(f"extends {header.extends!r} loops back to this file", "protocol",
                           "extends", "protocol.extends")
    if not parent_path.is_file():
        raise source.error(f"extends {header.extends!r}, which is not found next to this file",
                           "protocol", "extends", "protocol.extends")
    parent = _load(parent_path, (*chain, path))
    merged = {p.field: p for p in parent.parameters}
    merged.update({f"{s}.{k}": p for (s, k), p in parameters.items()})
    inherited = parent.medications if medications is None else medications
    return _assemble(header, merged, inherited, source.origin)


def _read_body(
    source: _SourceFile,
) -> tuple[dict[tuple[str, str], Parameter], tuple[Medication, ...] | None]:
    """The parameters and medications (None when the file lists none) a file sets itself."""
    sections = {k: v for k, v in source.data.items() if k not in ("protocol", "medications")}
    for name in sections:
        if name not in SECTIONS:
            line = source.headers.get(name) or source.lines.get(("", name), source.line_count)
            raise ProtocolError(source.origin,
                                f"unknown section [{name}] (known: {', '.join(SECTIONS)})",
                                line=line, field=name)
    parameters = _read_parameters(source, sections)
    medications = _read_medications(source) if "medications" in source.data else None
    return parameters, medications


def _load_base(source: _SourceFile, header: _Header, fill_from: Protocol | None) -> Protocol:
    """A protocol that extends nothing: every parameter set here (or taken from ``fill_from``)."""
    parameters, medications = _read_body(source)
    for section, cls in SECTIONS.items():
        for key in _field_types(cls):
            if (section, key) in parameters:
                continue
            if fill_from is None:
                raise source.error("missing parameter", section, field_name=f"{section}.{key}")
            parameters[(section, key)] = fill_from.parameter(section, key)
    merged = {f"{s}.{k}": p for (s, k), p in parameters.items()}
    return _assemble(header, merged, medications or (), source.origin)


def _read_header(source: _SourceFile) -> _Header:
    table = source.data.get("protocol")
    if not isinstance(table, dict):
        raise source.error("missing [protocol] table with id, name and version", "protocol",
                           field_name="protocol")
    allowed = ("id", "name", "version", "extends")
    for key, value in table.items():
        if key not in allowed:
            raise source.error(f"unknown field (known: {', '.join(allowed)})", "protocol", key,
                                f"protocol.{key}")
        if not isinstance(value, str) or not value.strip():
            raise source.error("expected non-empty text in quotes", "protocol", key,
                               f"protocol.{key}")
    for key in ("id", "name", "version"):
        if key not in table:
            raise source.error("missing", "protocol", field_name=f"protocol.{key}")
    return _Header(table["id"], table["name"], table["version"], table.get("extends"),
                   source.path)


def _read_parameters(
    source: _SourceFile, sections: dict[str, Any]
) -> dict[tuple[str, str], Parameter]:
    parameters: dict[tuple[str, str], Parameter] = {}
    for section, table in sections.items():
        cls = SECTIONS[section]
        types = _field_types(cls)
        if not isinstance(table, dict):
            raise source.error("expected a [table] of parameters", "", section, section)
        for key, entry in table.items():
            name = f"{section}.{key}"
            line = source.line_of(section, key)
            if key not in types:
                raise source.error(f"unknown parameter (known in [{section}]: "
                                   f"{', '.join(types)})", section, key, name)
            if not isinstance(entry, dict):
                raise source.error('expected { value = …, unit = "…", source = "…" }',
                                   section, key, name)
            for extra in entry.keys() - {"value", "unit", "source"}:
                raise source.error(f"unexpected {extra!r}: a parameter has only value, unit "
                                   "and source", section, key, name)
            for part in ("value", "unit", "source"):
                if part not in entry:
                    raise source.error(f"missing {part}", section, key, name)
            for part in ("unit", "source"):
                if not isinstance(entry[part], str) or not entry[part].strip():
                    raise source.error(f"{part} must be non-empty text in quotes",
                                       section, key, name)
            value = _check_value(entry["value"], types[key], cls, key,
                                 ProtocolError(source.origin, "", line=line, field=name))
            parameters[(section, key)] = Parameter(section, key, value, entry["unit"],
                                                   entry["source"], source.origin, line)
    return parameters


def _read_medications(source: _SourceFile) -> tuple[Medication, ...]:
    entries = source.data["medications"]
    if not isinstance(entries, list):
        raise source.error("expected [[medications]] entries", "", "medications", "medications")
    medications = []
    for index, entry in enumerate(entries):
        table = f"medications[{index}]"
        if table not in source.headers:
            # Written inline (medications = [{…}]): point at the array's line.
            table = ""
        if not isinstance(entry, dict):
            raise source.error("expected a table with name, dose and route", table,
                               "medications" if not table else None, f"medications[{index}]")
        for key in entry.keys() - {"name", "dose", "route"}:
            raise source.error("unknown field (known: name, dose, route)", table,
                               key if table else "medications", f"medications[{index}].{key}")
        for key in ("name", "dose", "route"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise source.error("expected non-empty text in quotes", table,
                                   key if table else "medications",
                                   f"medications[{index}].{key}")
        medications.append(Medication(entry["name"], entry["dose"], entry["route"]))
    return tuple(medications)


def _field_types(cls: type) -> dict[str, type]:
    """Each field's plain type (``int``, ``float`` or an enum), without its range."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _field_range(cls: type, key: str) -> Range:
    annotated = typing.get_type_hints(cls, include_extras=True)[key]
    return next(arg for arg in typing.get_args(annotated) if isinstance(arg, Range))


def _check_value(raw: object, kind: type, cls: type, key: str,
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
    return _check_number(raw, kind, cls, key, where)


def _check_number(raw: object, kind: type, cls: type, key: str,
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
    accepted = _field_range(cls, key)
    if not accepted.low <= value <= accepted.high:
        raise _restate(where, f"{value} is outside the accepted range "
                              f"{accepted.low:g}–{accepted.high:g}")
    return value


def _restate(where: ProtocolError, problem: str) -> ProtocolError:
    return ProtocolError(where.origin, problem, line=where.line, field=where.field)


def _assemble(header: _Header, by_field: dict[str, Parameter], medications: tuple[Medication, ...],
              latest_origin: str, overrides: tuple[tuple[str, int | float], ...] = ()
              ) -> Protocol:
    """Build the Protocol and check the order of tiers.

    An order error names the parameter set by ``latest_origin`` (the file being loaded or the
    override), since that is the one the person just wrote.
    """
    for lower, higher, strict, why in _ORDER:
        a, b = by_field[lower], by_field[higher]
        low, high = float(a.value), float(b.value)
        if (low < high) if strict else (low <= high):
            continue
        culprit = b if b.origin == latest_origin and a.origin != latest_origin else a
        other = a if culprit is b else b
        relation = "below" if strict else "at most"
        if culprit is b:
            relation = "above" if strict else "at least"
        raise ProtocolError(
            culprit.origin,
            f"{culprit.value} must be {relation} {other.field} ({other.value}): {why}",
            line=culprit.line, field=culprit.field,
        )

    def section(name: str) -> Any:
        cls = SECTIONS[name]
        values: dict[str, Any] = {key: by_field[f"{name}.{key}"].value for key in _field_types(cls)}
        if cls is Discharge:
            values["min_observation_from"] = ObservationAnchor(values["min_observation_from"])
        return cls(**values)

    ordered = tuple(by_field[f"{s}.{k}"] for s, cls in SECTIONS.items() for k in _field_types(cls))
    return Protocol(
        id=header.id, name=header.name, version=header.version, extends=header.extends,
        path=header.path, medications=medications, parameters=ordered, overrides=overrides,
        **{name: section(name) for name in SECTIONS},
    )
