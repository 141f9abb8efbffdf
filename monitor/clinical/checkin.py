"""The values a check-in takes besides the baseline reading, each checked on its own: the
MRN, a person's name (patient, staff, escort), the date of birth, weight and temperature.

Each check returns a :class:`ValueCheck` whose :class:`~monitor.clinical.validation.FieldError`
names the field and what it accepts, following the rules of :mod:`monitor.clinical.validation`:
ASCII digits only for numbers, bad input never raises, and an unusual weight is confirmed.
Names are NFC-normalised and start with a letter, which keeps spreadsheet formulas out of
exported files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from monitor.clinical.validation import (
    ASCII_WHITESPACE,
    MEASURES,
    FieldError,
    MeasureSpec,
    ValidationError,
    is_blank,
    parse_decimal,
)

#: Oldest patient accepted by :func:`validate_dob`.
MAX_AGE_YEARS = 120

MRN_MAX_LENGTH = 32
NAME_MAX_LENGTH = 100

T = TypeVar("T")
RawScalar = str | int | None

_MRN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9-]{{0,{MRN_MAX_LENGTH - 1}}}")
_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
#: Punctuation a person's name may contain besides letters and single spaces.
_NAME_PUNCTUATION = frozenset(" '’-.,")
#: An escort is written down as people write who is collecting the patient:
#: "Tom Byrne (husband)", "Ann & Joe Lee", "Ann/Joe Lee".
_ESCORT_PUNCTUATION = _NAME_PUNCTUATION | frozenset("()&/")


@dataclass(frozen=True, slots=True)
class ValueCheck(Generic[T]):
    """The outcome of checking one check-in value.

    ``value`` is ``None`` when the input was refused or (for optional fields) left empty; a
    value waiting for confirmation is set, and ``ok`` stays false until it is confirmed.
    """

    value: T | None
    error: FieldError | None = None
    needs_confirmation: FieldError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.needs_confirmation is None


def _check_decimal(
    spec: MeasureSpec, raw: RawScalar, *, confirmed: bool, required: bool
) -> ValueCheck[Decimal]:
    if is_blank(raw):
        if required:
            message = f"Enter the {spec.label.lower()}: {spec.accepted}"
            return ValueCheck(None, FieldError(spec.name, message))
        return ValueCheck(None)
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return ValueCheck(None, FieldError(spec.name, spec.refusal))
    if isinstance(raw, int):
        value = Decimal(raw)
    else:
        try:
            value = parse_decimal(raw, spec.places, field=spec.name, label=spec.label)
        except ValidationError:
            return ValueCheck(None, FieldError(spec.name, spec.refusal))
    if not spec.low <= value <= spec.high:
        return ValueCheck(None, FieldError(spec.name, spec.refusal))
    request = None if confirmed else spec.confirmation(value)
    return ValueCheck(value, needs_confirmation=request)


def validate_weight(raw: RawScalar, *, confirmed: bool = False) -> ValueCheck[Decimal]:
    """The patient's weight in kg (required: the dose is computed from it)."""
    return _check_decimal(MEASURES["weight"], raw, confirmed=confirmed, required=True)


def validate_temperature(raw: RawScalar, *, confirmed: bool = False) -> ValueCheck[Decimal]:
    """A body temperature in °C; optional, so an empty entry is ``ok`` with no value."""
    return _check_decimal(MEASURES["temperature"], raw, confirmed=confirmed, required=False)


def validate_mrn(raw: str | None) -> ValueCheck[str]:
    """A medical record number: 1–32 ASCII letters, digits and '-', not starting with '-'."""
    text = raw.strip(ASCII_WHITESPACE) if isinstance(raw, str) else ""
    if not text:
        return ValueCheck(None, FieldError("mrn", "Enter the MRN"))
    if not _MRN.fullmatch(text):
        return ValueCheck(
            None,
            FieldError(
                "mrn",
                f"MRN must be 1 to {MRN_MAX_LENGTH} characters: letters A-Z, digits 0-9 "
                "and '-', starting with a letter or digit",
            ),
        )
    return ValueCheck(text)


def validate_name(raw: str | None, *, field: str = "name", label: str = "Name") -> ValueCheck[str]:
    """A person's name (patient, staff): letters in any script, spaces and ' - . ,

    The name is NFC-normalised so that the same name typed on two keyboards compares equal.
    It must start with a letter, which also keeps spreadsheet formulas (``=…``, ``+…``,
    ``-…``, ``@…``) out of exported files.
    """
    return _validate_person(raw, field, label, _NAME_PUNCTUATION, "' - . ,")


def validate_escort(raw: str | None) -> ValueCheck[str]:
    """The escort's name as the nurse writes it: a name, and also ( ) & / for who they are.

    "Tom Byrne (husband)" and "Ann & Joe Lee" are accepted; like any name it starts with a
    letter, so nothing in it can read as a spreadsheet formula.
    """
    return _validate_person(
        raw, "escort", "Escort name", _ESCORT_PUNCTUATION, "' - . , ( ) & /"
    )


def _validate_person(
    raw: str | None, field: str, label: str, punctuation: frozenset[str], shown: str
) -> ValueCheck[str]:
    text = raw.strip(ASCII_WHITESPACE) if isinstance(raw, str) else ""
    text = unicodedata.normalize("NFC", text)
    if not text:
        return ValueCheck(None, FieldError(field, f"Enter the {label.lower()}"))
    allowed = all(char in punctuation or unicodedata.category(char)[0] in "LM" for char in text)
    if len(text) > NAME_MAX_LENGTH or not allowed or not text[0].isalpha():
        return ValueCheck(
            None,
            FieldError(
                field,
                f"{label} must be 1 to {NAME_MAX_LENGTH} characters: letters, spaces and "
                f"{shown} starting with a letter",
            ),
        )
    return ValueCheck(text)


def validate_dob(raw: date | str | None, *, today: date) -> ValueCheck[date]:
    """A date of birth (``date`` or ``YYYY-MM-DD``), not in the future, age 0–120 years.

    ``today`` is the clinic's local date from the injected clock.
    """
    refusal = FieldError(
        "dob", "Date of birth must be a date written year-month-day, e.g. 1980-04-23"
    )
    if is_blank(raw):
        return ValueCheck(None, FieldError("dob", "Enter the date of birth"))
    # A datetime is a date subclass, but its date depends on a zone: refuse it as ambiguous.
    if isinstance(raw, datetime):
        return ValueCheck(None, refusal)
    if isinstance(raw, date):
        dob = raw
    elif isinstance(raw, str) and (match := _DATE.fullmatch(raw.strip(ASCII_WHITESPACE))):
        try:
            dob = date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            return ValueCheck(None, refusal)
    else:
        return ValueCheck(None, refusal)
    if dob > today:
        return ValueCheck(None, FieldError("dob", f"Date of birth {dob} is in the future"))
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    if age > MAX_AGE_YEARS:
        return ValueCheck(
            None,
            FieldError("dob", f"Date of birth {dob} gives an age over {MAX_AGE_YEARS} years"),
        )
    return ValueCheck(dob)


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")


def validate_dob_parts(year: str, month: str, day: str, *, today: date) -> ValueCheck[date]:
    """A date of birth typed as three boxes: year (4 digits), month (1–12), day (1–31).

    A one-digit month or day is taken as it is ("5" is May); a refusal names the box at
    fault and what it accepts. The date found is then checked as :func:`validate_dob`.
    """
    y, m, d = (part.strip(ASCII_WHITESPACE) for part in (year, month, day))
    if not (y or m or d):
        return ValueCheck(None, FieldError("dob", "Enter the date of birth"))
    missing = [name for name, part in (("year", y), ("month", m), ("day", d)) if not part]
    if missing:
        return ValueCheck(None, FieldError(
            "dob", f"Date of birth: enter the {' and the '.join(missing)}"))
    if not re.fullmatch(r"[0-9]{4}", y):
        return ValueCheck(None, FieldError(
            "dob", f"Date of birth: year must be 4 digits, e.g. 1980, not “{y}”"))
    if not re.fullmatch(r"[0-9]{1,2}", m) or not 1 <= int(m) <= 12:
        return ValueCheck(None, FieldError(
            "dob", f"Date of birth: month must be 1–12, not “{m}”"))
    if not re.fullmatch(r"[0-9]{1,2}", d) or not 1 <= int(d) <= 31:
        return ValueCheck(None, FieldError("dob", f"Date of birth: day must be 1–31, not “{d}”"))
    try:
        dob = date(int(y), int(m), int(d))
    except ValueError:
        month_name = _MONTH_NAMES[int(m) - 1]
        where = f"{month_name} {int(y)}" if int(m) == 2 else month_name
        return ValueCheck(None, FieldError(
            "dob", f"Date of birth: day {int(d)} does not exist in {where}"))
    return validate_dob(dob, today=today)
