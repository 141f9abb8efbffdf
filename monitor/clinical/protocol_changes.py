"""What a protocol draft changes, checked: one value as typed, the changes as a whole, and
the protocol they make of the version a draft was made from.

A draft's changes are kept as JSON: ``{"parameters": {"section.key": {"value": …, "unit":
…, "source": …}}, "medications": [...] or null, "version": "label" or null}``. Every refusal
is a :class:`ProtocolChangeError` whose :class:`~monitor.clinical.validation.FieldError` messages
name
the parameter, its unit and the accepted range.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.clinical.protocol import Protocol, revised
from monitor.clinical.protocol_schema import (
    Medication,
    Parameter,
    ProtocolError,
    accepted_range,
    check_parameter,
    choices,
)
from monitor.clinical.validation import FieldError

#: A reason for a change must say something.
MIN_REASON = 5


class ProtocolChangeError(ValueError):
    """A draft, edit, import or approval was refused; ``errors`` name each field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


def next_label(label: str) -> str:
    """The version label after ``label``: its last number plus one (``1.1`` → ``1.2``)."""
    match = re.search(r"(\d+)(\D*)$", label)
    if match is None:
        return f"{label}.1"[:20]
    number = str(int(match.group(1)) + 1)
    return (label[:match.start(1)] + number + match.group(2))[:20]


def checked_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ProtocolChangeError([FieldError(
            "reason", f"Write why the protocol changes (at least {MIN_REASON} characters)")])
    return text


def field_error(exc: ProtocolError) -> FieldError:
    return FieldError(exc.field or "protocol", str(exc))


def unit_of(field: str, base: Protocol | None) -> str:
    if base is None:
        return ""
    section, _, key = field.partition(".")
    try:
        return base.parameter(section, key).unit
    except KeyError:
        return ""


def checked_value(field: str, raw: object, unit: str) -> Any:
    """``raw`` (a value, or text as typed) checked as the parameter ``field``."""
    label = f"{field} ({unit})" if unit else field
    try:
        accepted = accepted_range(field)
    except KeyError:
        raise ProtocolChangeError([FieldError(field, f"{field}: no such parameter")]) from None
    value = raw
    if isinstance(raw, str) and accepted is not None:
        text = raw.strip().replace(",", ".")
        try:
            value = int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            value = raw
    try:
        return check_parameter(field, value, "draft")
    except ProtocolError as exc:
        if accepted is None:
            problem = f"{exc.problem} (accepted: {', '.join(choices(field))})"
        elif "accepted range" in exc.problem:
            problem = f"{exc.problem} {unit}".rstrip()
        else:
            problem = (f"{exc.problem} (accepted {accepted.low:g}–{accepted.high:g}"
                       f"{' ' + unit if unit else ''})")
        raise ProtocolChangeError([FieldError(field, f"{label}: {problem}")]) from exc


def merged_changes(base: Protocol, earlier: Mapping[str, Any], parameters: Mapping[str, Any],
             medications: Sequence[Mapping[str, str]] | None, version: str | None
             ) -> dict[str, Any]:
    """The draft's changes after applying ``parameters`` etc. to ``earlier`` (validated
    value by value; a parameter set back to the base is no longer a change)."""
    kept: dict[str, Any] = dict(earlier.get("parameters", {}))
    errors: list[FieldError] = []
    for field, given in parameters.items():
        entry = dict(given) if isinstance(given, Mapping) else {"value": given}
        unit = unit_of(field, base)
        try:
            value = checked_value(field, entry.get("value"), str(entry.get("unit") or unit))
        except ProtocolChangeError as exc:
            errors += exc.errors
            continue
        section, _, key = field.partition(".")
        was = base.parameter(section, key)
        previous = kept.get(field, {})
        change = {"value": value,
                  "unit": str(entry.get("unit") or previous.get("unit") or was.unit).strip(),
                  "source": str(entry.get("source") or previous.get("source")
                                or was.source).strip()}
        if (change["value"], change["unit"], change["source"]) == (was.value, was.unit,
                                                                   was.source):
            kept.pop(field, None)
        else:
            kept[field] = change
    if errors:
        raise ProtocolChangeError(errors)
    result: dict[str, Any] = {"parameters": dict(sorted(kept.items())),
                              "medications": earlier.get("medications"),
                              "version": earlier.get("version")}
    if medications is not None:
        result["medications"] = [dict(m) for m in medications]
    if version is not None:
        label = version.strip()
        if not label or len(label) > 20:
            raise ProtocolChangeError([FieldError(
                "protocol.version", "The version label is 1 to 20 characters")])
        result["version"] = label
    return result


def resolve(base: Protocol, draft_id: uuid.UUID, changes: Mapping[str, Any]) -> Protocol:
    """The protocol ``changes`` make of ``base``; refused naming the field at fault."""
    origin = f"draft {str(draft_id)[:8]}"
    parameters = {}
    for field, entry in changes.get("parameters", {}).items():
        section, _, key = field.partition(".")
        parameters[field] = Parameter(section, key, entry["value"], entry["unit"],
                                      entry["source"], origin, None)
    medications = changes.get("medications")
    try:
        return revised(
            base, parameters, version=changes.get("version") or next_label(base.version),
            medications=None if medications is None else tuple(
                Medication(m["name"], m["dose"], m["route"]) for m in medications),
            origin=origin)
    except ProtocolError as exc:
        unit = unit_of(exc.field or "", base)
        where = f"{exc.field} ({unit})" if exc.field and unit else (exc.field or "protocol")
        raise ProtocolChangeError([FieldError(exc.field or "protocol",
                                                f"{where}: {exc.problem}")]) from exc
    except (KeyError, TypeError) as exc:
        raise ProtocolChangeError([FieldError(
            "medications", "each medication needs a name, dose and route")]) from exc


def difference(base: Protocol, before: Mapping[str, Any], after: Mapping[str, Any]
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new value of each parameter (and label, medications) an edit changed."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    was_parameters = before.get("parameters", {})
    now_parameters = after.get("parameters", {})
    for field in sorted(set(was_parameters) | set(now_parameters)):
        section, _, key = field.partition(".")
        default = base.parameter(section, key)
        plain = {"value": default.value, "unit": default.unit, "source": default.source}
        a, b = was_parameters.get(field, plain), now_parameters.get(field, plain)
        if a != b:
            old[field], new[field] = a, b
    for part in ("medications", "version"):
        if before.get(part) != after.get(part):
            old[part], new[part] = before.get(part), after.get(part)
    return old, new


def medication_dict(medication: Medication) -> dict[str, str]:
    return {"name": medication.name, "dose": medication.dose, "route": medication.route}
