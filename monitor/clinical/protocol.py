"""The clinic's protocol: every limit the rules use, loaded from a validated TOML file.

A protocol file holds one line per parameter, an inline table with the value, its unit and
the source of the default (``hr.high_warning_at_or_above = { value = 111, unit = "/min",
source = "NEWS2 band 111–130" }``), so the app can show where every limit comes from. A
*profile* (``extends = "iv_ketamine"``) lists only what differs from its parent.

A bad file is refused with a :class:`ProtocolError` naming the file, the line and the field
(:mod:`monitor.clinical.protocol_file` reads the file, :mod:`monitor.clinical.protocol_schema`
checks each value). Per-patient limits (:meth:`Protocol.with_overrides`) go through the same
checks, and so does the order of tiers across parameters, checked here.

:func:`load_protocol_text` reads a protocol written out as one self-contained document
(:func:`monitor.storage.protocol_store.resolved_toml`), the form in which each version a session
ran under is kept.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.clinical.protocol_file import (
    Header,
    SourceFile,
    parse_file,
    parse_text,
    protocol_table,
    read_body,
    read_header,
    resolve,
)
from monitor.clinical.protocol_schema import (
    SECTIONS,
    BaselineBloodPressure,
    BloodPressure,
    Discharge,
    Dissociation,
    Dose,
    Feed,
    HeartRate,
    Intervals,
    Medication,
    Nausea,
    ObservationAnchor,
    Oxygen,
    Parameter,
    ParameterValue,
    ProtocolError,
    Respiration,
    Sedation,
    SelfHarm,
    check_number,
    check_parameter,
    field_types,
)

__all__ = [
    "OVERRIDE_ORIGIN",
    "PROTOCOL_DIR",
    "SECTIONS",
    "Medication",
    "ParameterValue",
    "Protocol",
    "ProtocolError",
    "Revision",
    "available_profiles",
    "load_draft",
    "load_protocol",
    "load_protocol_text",
    "read_revision",
    "revised",
]

#: Where the shipped protocols live: ``resources/protocols`` at the repository root.
PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "resources" / "protocols"

#: Where a per-patient override "comes from", in place of a file name.
OVERRIDE_ORIGIN = "per-patient override"


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
            kind = field_types(SECTIONS[old.section])[old.key]
            if kind not in (int, float):
                raise ProtocolError(OVERRIDE_ORIGIN, "cannot be overridden per patient",
                                    field=name)
            checked = check_number(value, kind, SECTIONS[old.section], old.key,
                                    ProtocolError(OVERRIDE_ORIGIN, "", field=name))
            applied[name] = checked
            # Overriding an override keeps naming the protocol's own default.
            source = (old.source if old.origin == OVERRIDE_ORIGIN
                      else f"per-patient override (protocol default {old.value})")
            by_field[name] = Parameter(old.section, old.key, checked, old.unit, source,
                                       OVERRIDE_ORIGIN, None)
        return _assemble(
            Header(self.id, self.name, self.version, self.extends, self.path),
            by_field, self.medications, OVERRIDE_ORIGIN, tuple(applied.items()),
        )


def load_protocol(name_or_path: str | Path, directory: Path | None = None) -> Protocol:
    """Load and validate a protocol.

    A bare name (``"iv_ketamine"``, ``"esketamine_rems"``) is looked up in ``directory``
    (default :data:`PROTOCOL_DIR`); anything with a suffix or a path separator is a file.
    """
    return _load(resolve(name_or_path, directory or PROTOCOL_DIR), ())


def load_protocol_text(text: str, origin: str, *, fill_from: Protocol | None = None) -> Protocol:
    """Load and validate a protocol from its text, as
    :func:`monitor.storage.protocol_store.resolved_toml` writes it.

    ``origin`` names the text in error messages and as each parameter's origin. The text
    must be self-contained (no ``extends``). A parameter this code requires that the text
    lacks (one added to ChairSide after the text was written) is taken from ``fill_from``
    when given, keeping that protocol's origin; otherwise it is refused as missing.
    """
    source = parse_text(text, None, origin)
    header = read_header(source)
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
    source = parse_file(path)
    header = read_header(source)
    if header.extends is None:
        return _load_base(source, header, None)
    parameters, medications = read_body(source)
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
    source = parse_text(text, None, origin)
    table = protocol_table(source, "missing [protocol] table: name the profile with extends = "
                                   '"iv_ketamine" (or id, for a full protocol)')
    extends = table.get("extends")
    if extends is None:
        full = load_protocol_text(text, origin)
        return Revision(full.id, full.version, full.name, True,
                        {p.field: p for p in full.parameters}, full.medications)
    if "id" in table and table["id"] != extends:
        raise source.error(f"a draft changes the profile it extends ({extends!r}); leave id "
                           "out or make it the same", "protocol", "id", "protocol.id")
    parameters, medications = read_body(source)
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
    header = Header(base.id, base.name, version, None, None)
    return _assemble(header, by_field, base.medications if medications is None else medications,
                     origin)


def _load(path: Path, chain: tuple[Path, ...]) -> Protocol:
    path = path.resolve()
    source = parse_file(path)
    header = read_header(source)
    if header.extends is None:
        return _load_base(source, header, None)
    parameters, medications = read_body(source)

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


def _load_base(source: SourceFile, header: Header, fill_from: Protocol | None) -> Protocol:
    """A protocol that extends nothing: every parameter set here (or taken from ``fill_from``)."""
    parameters, medications = read_body(source)
    for section, cls in SECTIONS.items():
        for key in field_types(cls):
            if (section, key) in parameters:
                continue
            if fill_from is None:
                raise source.error("missing parameter", section, field_name=f"{section}.{key}")
            parameters[(section, key)] = fill_from.parameter(section, key)
    merged = {f"{s}.{k}": p for (s, k), p in parameters.items()}
    return _assemble(header, merged, medications or (), source.origin)


def _assemble(header: Header, by_field: dict[str, Parameter], medications: tuple[Medication, ...],
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
        values: dict[str, Any] = {key: by_field[f"{name}.{key}"].value for key in field_types(cls)}
        if cls is Discharge:
            values["min_observation_from"] = ObservationAnchor(values["min_observation_from"])
        return cls(**values)

    ordered = tuple(by_field[f"{s}.{k}"] for s, cls in SECTIONS.items() for k in field_types(cls))
    return Protocol(
        id=header.id, name=header.name, version=header.version, extends=header.extends,
        path=header.path, medications=medications, parameters=ordered, overrides=overrides,
        **{name: section(name) for name in SECTIONS},
    )
