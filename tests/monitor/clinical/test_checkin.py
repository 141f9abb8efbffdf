"""Tests for monitor.clinical.checkin: weight and temperature, the MRN, names and the escort,
the date of birth whole or in three boxes, and fuzzing of each.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.clinical.checkin import (
    validate_dob,
    validate_dob_parts,
    validate_escort,
    validate_mrn,
    validate_name,
    validate_temperature,
    validate_weight,
)
from monitor.clinical.validation import MEASURES, FieldError
from tests.monitor.clinical.fuzz_inputs import ASCII_WS, FUZZ, any_text, raw_scalar

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("19.9", False),
        ("20", True),
        ("70.5", True),
        ("300", True),
        ("300.1", False),
        ("70.55", False),
    ],
)
def test_weight_range_and_places(text: str, accepted: bool) -> None:
    check = validate_weight(text, confirmed=True)

    assert check.ok is accepted
    assert (check.value is not None) is accepted


def test_weight_is_required_and_unusual_weight_needs_confirmation() -> None:
    empty = validate_weight("")
    assert empty.error is not None
    assert "20 to 300 kg" in empty.error.message

    heavy = validate_weight("260")
    assert heavy.value == Decimal(260)
    assert heavy.needs_confirmation is not None
    assert not heavy.ok
    assert validate_weight("260", confirmed=True).ok
    assert validate_weight(70).value == Decimal(70)
    assert validate_weight(True).error is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "accepted"),
    [("29.9", False), ("30.0", True), ("36.6", True), ("45.0", True), ("45.1", False)],
)
def test_temperature_range(text: str, accepted: bool) -> None:
    assert validate_temperature(text, confirmed=True).ok is accepted


def test_temperature_is_optional() -> None:
    check = validate_temperature(None)

    assert check.ok
    assert check.value is None


@pytest.mark.parametrize("mrn", ["A123", "MRN-0042", "7", "A" * 32])
def test_mrn_accepted(mrn: str) -> None:
    assert validate_mrn(f" {mrn} ").value == mrn


@pytest.mark.parametrize(
    "mrn", ["", None, "A" * 33, "-123", "=1+1", "A 123", "A/123", "Ä123", "１２３", "A\x00"]
)
def test_mrn_refused(mrn: str | None) -> None:
    check = validate_mrn(mrn)

    assert check.value is None
    assert check.error is not None
    assert check.error.field == "mrn"


@pytest.mark.parametrize("name", ["Ann O'Brien-Smith", "José Núñez", "王芳", "J. R. Doe, Jr."])
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert validate_name(name).value == name


def test_name_is_nfc_normalised() -> None:
    assert validate_name("Jose\u0301").value == "Jos\u00e9"


@pytest.mark.parametrize(
    "name", ["", "  ", "=HYPERLINK(1)", "-Ann", "Ann\nSmith", "Ann\tSmith", "R2D2", "A" * 101]
)
def test_bad_names_are_refused(name: str) -> None:
    check = validate_name(name, field="escort", label="Escort name")

    assert check.value is None
    assert check.error is not None
    assert check.error.field == "escort"


@pytest.mark.parametrize(
    "escort", ["Tom Byrne (husband)", "Ann & Joe Lee", "Ann/Joe Lee", "Mary O'Neill, sister"]
)
def test_escort_accepts_ordinary_name_punctuation(escort: str) -> None:
    assert validate_escort(escort).value == escort


@pytest.mark.parametrize("escort", ["(husband) Tom", "=HYPERLINK(1)", "Tom <husband>", "R2D2"])
def test_escort_still_starts_with_a_letter_and_refuses_other_signs(escort: str) -> None:
    check = validate_escort(escort)

    assert check.value is None
    assert check.error is not None
    assert check.error.field == "escort"
    assert "( ) & /" in check.error.message


@pytest.mark.parametrize(
    ("dob", "accepted"),
    [
        ("1980-04-23", True),
        (date(1980, 4, 23), True),
        (TODAY, True),
        (TODAY + timedelta(days=1), False),
        (date(1905, 3, 2), False),  # 121 today
        (date(1906, 3, 2), True),  # 120 today
        (date(1906, 3, 3), True),  # 119 until tomorrow
        ("1980-02-30", False),
        ("23/04/1980", False),
        ("١٩٨٠-04-23", False),
        (datetime(1980, 4, 23, tzinfo=UTC), False),
        ("", False),
    ],
)
def test_date_of_birth(dob: date | str, accepted: bool) -> None:
    check = validate_dob(dob, today=TODAY)

    assert check.ok is accepted
    if not accepted:
        assert check.error is not None
        assert check.error.field == "dob"


@FUZZ
@given(raw=raw_scalar, confirmed=st.booleans())
def test_fuzz_weight_and_temperature_accept_only_ranged_decimals(
    raw: object, confirmed: bool
) -> None:
    for check, spec in (
        (validate_weight(raw, confirmed=confirmed), MEASURES["weight"]),  # type: ignore[arg-type]
        (validate_temperature(raw, confirmed=confirmed), MEASURES["temperature"]),  # type: ignore[arg-type]
    ):
        if check.value is None:
            continue
        assert spec.low <= check.value <= spec.high
        if isinstance(raw, str):
            assert re.fullmatch(f"{ASCII_WS}[0-9]{{1,6}}(\\.[0-9])?{ASCII_WS}", raw)
        else:
            assert type(raw) is int


@FUZZ
@given(text=st.one_of(any_text, st.none()))
def test_fuzz_identity_fields_never_raise_and_accept_only_their_alphabet(
    text: str | None,
) -> None:
    mrn = validate_mrn(text)
    if mrn.value is not None:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", mrn.value)

    name = validate_name(text)
    if name.value is not None:
        assert name.value[0].isalpha()
        assert name.value.isprintable()
        assert len(name.value) <= 100

    dob = validate_dob(text, today=TODAY)
    if dob.value is not None:
        assert text is not None
        assert re.fullmatch(f"{ASCII_WS}[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{ASCII_WS}", text)
        assert dob.value <= TODAY


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        ("1980", "5", "14", date(1980, 5, 14)),
        ("1980", "05", "4", date(1980, 5, 4)),
        (" 1980 ", "12", "31", date(1980, 12, 31)),
        ("2024", "2", "29", date(2024, 2, 29)),
    ],
)
def test_dob_parts_take_one_digit_month_and_day(year: str, month: str, day: str,
                                                expected: date) -> None:
    assert validate_dob_parts(year, month, day, today=TODAY).value == expected


@pytest.mark.parametrize(
    ("year", "month", "day", "message"),
    [
        ("1980", "4", "31", "Date of birth: day 31 does not exist in April"),
        ("1981", "2", "29", "Date of birth: day 29 does not exist in February 1981"),
        ("1980", "13", "1", "Date of birth: month must be 1–12, not “13”"),
        ("1980", "0", "1", "Date of birth: month must be 1–12, not “0”"),
        ("1980", "5", "32", "Date of birth: day must be 1–31, not “32”"),
        ("1980", "5", "00", "Date of birth: day must be 1–31, not “00”"),
        ("80", "5", "14", "Date of birth: year must be 4 digits, e.g. 1980, not “80”"),
        ("1980", "٥", "14", "Date of birth: month must be 1–12, not “٥”"),
        ("1980", "", "14", "Date of birth: enter the month"),
        ("1980", "", "", "Date of birth: enter the month and the day"),
        ("", "", "", "Enter the date of birth"),
    ],
)
def test_dob_parts_refuse_impossible_dates_naming_the_box(year: str, month: str, day: str,
                                                          message: str) -> None:
    check = validate_dob_parts(year, month, day, today=TODAY)
    assert check.value is None
    assert check.error == FieldError("dob", message)


def test_dob_parts_still_refuse_a_future_date() -> None:
    check = validate_dob_parts("2090", "1", "1", today=TODAY)
    assert check.value is None
    assert check.error is not None
    assert "in the future" in check.error.message
