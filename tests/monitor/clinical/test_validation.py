"""Tests for monitor.clinical.validation: ranges, BP pairing, confirmation, items, times,
identities.

The fuzz tests feed every parser arbitrary text (non-ASCII and fullwidth digits, signs,
underscores, exponents, 'nan', huge numbers, inner whitespace) and check two things: nothing
but a ValidationError / FieldError ever comes out, and whatever is accepted is written in
ASCII digits and lies in its accepted range.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.clinical.validation import (
    ITEM_SCALES,
    MAX_TIME_AGE,
    MEASURES,
    READING_MEASURES,
    FieldError,
    ValidationError,
    check_typed_key,
    parse_decimal,
    parse_time,
    parse_whole,
    validate_dob,
    validate_dob_parts,
    validate_escort,
    validate_mrn,
    validate_name,
    validate_reading,
    validate_temperature,
    validate_time,
    validate_weight,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
ASCII_WS = "[ \t\n\r\f\v]*"

# Characters that fool int(), float(), Decimal() or str.isdigit().
TRICKY_CHARS = (
    "0123456789"
    "٠١٢٣٤٥٦٧٨٩"  # Arabic-Indic digits
    "０１２３４５６７８９"  # fullwidth digits
    "𝟎𝟕²¹"  # mathematical and superscript digits
    "+-_.,eE:TZ"
    " \t\n\u00a0\u3000"  # ASCII and non-ASCII spaces
    "nainfx"
)
tricky_text = st.text(alphabet=TRICKY_CHARS, max_size=14)
huge_numbers = st.integers(min_value=0, max_value=10**40).map(str)
any_text = st.one_of(
    st.text(),
    tricky_text,
    huge_numbers,
    st.sampled_from(["nan", "inf", "-inf", "1e3", "+72", "-72", "7_2", "72.0", "9" * 5000]),
)
FUZZ = settings(max_examples=300, deadline=None)


def _with_bp_partner(name: str, value: str | int) -> dict[str, str | int]:
    """A reading carrying ``value`` in ``name``; BP gets a partner that cannot be at fault."""
    if name == "sbp":
        return {"sbp": value, "dbp": 20}
    if name == "dbp":
        return {"sbp": 300, "dbp": value}
    return {name: value}


WHOLE_BOUNDARIES = [
    (name, value, accepted)
    for name in READING_MEASURES
    for value, accepted in (
        (MEASURES[name].low - 1, False),
        (MEASURES[name].low, True),
        (MEASURES[name].high, True),
        (MEASURES[name].high + 1, False),
    )
]


@pytest.mark.parametrize(("name", "value", "accepted"), WHOLE_BOUNDARIES)
def test_each_whole_measure_accepts_exactly_its_range(
    name: str, value: int, accepted: bool
) -> None:
    check = validate_reading(_with_bp_partner(name, str(value)))

    if accepted:
        assert check.errors == []
        assert check.values[name] == value
    else:
        assert [e.field for e in check.errors] == [name]
        assert name not in check.values


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("sbp", 39, False),
        ("sbp", 40, True),
        ("sbp", 300, True),
        ("sbp", 301, False),
        ("dbp", 19, False),
        ("dbp", 20, True),
        ("dbp", 200, True),
        ("dbp", 201, False),
        ("hr", 19, False),
        ("hr", 20, True),
        ("hr", 250, True),
        ("hr", 251, False),
        ("spo2", 49, False),
        ("spo2", 50, True),
        ("spo2", 100, True),
        ("spo2", 101, False),
        ("rr", 3, False),
        ("rr", 4, True),
        ("rr", 60, True),
        ("rr", 61, False),
        ("moaas", 5, True),
        ("moaas", 6, False),
        ("cadss6", 24, True),
        ("cadss6", 25, False),
        ("nausea", 10, True),
        ("nausea", 11, False),
        ("phq9", 27, True),
        ("phq9", 28, False),
        ("gad7", 21, True),
        ("gad7", 22, False),
    ],
)
def test_product_brief_ranges_are_the_table(name: str, value: int, accepted: bool) -> None:
    check = validate_reading(_with_bp_partner(name, str(value)))

    assert (name in check.values) is accepted


def test_refusal_names_the_field_and_the_range() -> None:
    check = validate_reading({"hr": "251"})

    assert check.errors == [
        FieldError("hr", "Heart rate must be a whole number from 20 to 250 /min")
    ]
    assert not check.ok


@pytest.mark.parametrize("text", ["٧٢", "７２", "7_2", "+72", "nan"])
def test_product_examples_are_not_numbers(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_whole(text, field="hr", label="Heart rate")
    assert raised.value.field == "hr"
    assert "Heart rate" in raised.value.message

    check = validate_reading({"hr": text})
    assert check.values == {}
    assert [e.field for e in check.errors] == ["hr"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "-72", "72.0", "1e3", "inf", "7 2", "0x48", "\u00a072", "７2", "𝟕𝟐", "1234567"],
)
def test_parse_whole_refuses_anything_but_ascii_digits(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_whole(text)


def test_parse_whole_ignores_surrounding_ascii_whitespace_only() -> None:
    assert parse_whole(" 72\t\n") == 72
    assert parse_whole("072") == 72
    assert parse_whole("999999") == 999999


@pytest.mark.parametrize(
    ("text", "places", "expected"),
    [("70.5", 1, Decimal("70.5")), ("0.5", 2, Decimal("0.5")), ("70", 1, Decimal(70))],
)
def test_parse_decimal_keeps_the_number_typed(text: str, places: int, expected: Decimal) -> None:
    assert parse_decimal(text, places) == expected


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("70.55", 1),
        ("70.5", 0),
        (".5", 1),
        ("5.", 1),
        ("70,5", 1),
        ("7e1", 1),
        ("-0.5", 2),
        ("NaN", 1),
        ("٧٠.٥", 1),
        ("70 .5", 1),
        ("1234567.5", 1),
    ],
)
def test_parse_decimal_refuses_other_notations(text: str, places: int) -> None:
    with pytest.raises(ValidationError):
        parse_decimal(text, places)


def test_empty_fields_are_absent_not_errors() -> None:
    check = validate_reading(
        {"sbp": "", "dbp": None, "hr": "  ", "cadss6_items": ["", None, "", "", "", ""]}
    )

    assert check.values == {}
    assert check.errors == []
    assert check.ok


def test_int_inputs_are_range_checked_and_bool_is_not_an_int() -> None:
    assert validate_reading({"moaas": 5}).values == {"moaas": 5}
    assert not validate_reading({"moaas": 6}).values
    assert not validate_reading({"moaas": -1}).values
    check = validate_reading({"moaas": True})
    assert check.values == {}
    assert [e.field for e in check.errors] == ["moaas"]


def test_unknown_and_check_in_fields_are_refused_in_a_reading() -> None:
    check = validate_reading({"hr": "72", "heart": "72", "weight": "70"})

    assert check.values == {"hr": 72}
    assert {e.field for e in check.errors} == {"heart", "weight"}


@pytest.mark.parametrize(("sbp", "dbp"), [("120", "120"), ("100", "120")])
def test_diastolic_at_or_above_systolic_is_refused(sbp: str, dbp: str) -> None:
    check = validate_reading({"sbp": sbp, "dbp": dbp})

    assert check.values == {}
    assert [e.field for e in check.errors] == ["dbp"]
    assert "lower than systolic" in check.errors[0].message


@pytest.mark.parametrize(
    ("raw", "missing"), [({"sbp": "120"}, "dbp"), ({"dbp": "80", "sbp": ""}, "sbp")]
)
def test_half_a_blood_pressure_is_refused(raw: dict[str, str], missing: str) -> None:
    check = validate_reading(raw)

    assert check.values == {}
    assert check.errors == [
        FieldError(missing, "Enter both systolic and diastolic BP: they are one reading")
    ]


def test_a_bad_half_drops_the_good_half_of_the_pair() -> None:
    check = validate_reading({"sbp": "120", "dbp": "8O"})

    assert check.values == {}
    assert [e.field for e in check.errors] == ["dbp"]


def test_unusual_systolic_needs_confirmation_then_is_kept() -> None:
    first = validate_reading({"sbp": "230", "dbp": "110"})

    assert first.errors == []
    assert first.needs_confirmation == [
        FieldError(
            "sbp", "Systolic BP 230 mmHg is unusually high (usual 70–220): confirm to keep it"
        )
    ]
    assert not first.ok

    second = validate_reading({"sbp": "230", "dbp": "110"}, confirmed={"sbp"})
    assert second.ok
    assert second.values == {"sbp": 230, "dbp": 110}


def test_unusually_low_value_says_low_and_each_field_is_confirmed_separately() -> None:
    check = validate_reading({"sbp": "60", "dbp": "30", "spo2": "75"}, confirmed=["dbp"])

    assert [e.field for e in check.needs_confirmation] == ["sbp", "spo2"]
    assert all("unusually low" in e.message for e in check.needs_confirmation)


def test_usual_values_need_no_confirmation() -> None:
    check = validate_reading(
        {"sbp": "220", "dbp": "130", "hr": "180", "spo2": "80", "rr": "6", "moaas": "0"}
    )

    assert check.ok


def test_items_give_the_total() -> None:
    check = validate_reading(
        {"cadss6_items": ["1", 2, "3", "4", "0", "0"], "phq9_items": [0] * 8 + [1]}
    )

    assert check.ok
    assert check.values["cadss6_items"] == (1, 2, 3, 4, 0, 0)
    assert check.values["cadss6"] == 10
    assert check.values["phq9_items"] == (0,) * 8 + (1,)
    assert check.values["phq9"] == 1


def test_items_and_total_that_agree_are_kept() -> None:
    check = validate_reading({"gad7_items": [3] * 7, "gad7": "21"})

    assert check.ok
    assert check.values == {"gad7_items": (3,) * 7, "gad7": 21}


def test_items_and_total_that_disagree_are_refused() -> None:
    check = validate_reading({"cadss6_items": [1, 2, 3, 4, 0, 0], "cadss6": "9"})

    assert check.values == {}
    assert check.errors == [
        FieldError("cadss6", "CADSS-6 total 9 does not match the sum of its items (10)")
    ]


@pytest.mark.parametrize(
    ("items", "field_message"),
    [
        ([1, 2, 3, 4, 0], "needs all 6 item scores"),
        ([1, 2, 3, 4, 0, 0, 0], "needs all 6 item scores"),
        ([1, 2, None, 4, 0, 0], "needs all 6 item scores"),
        ("123400", "needs all 6 item scores"),
        ([1, 2, 3, 5, 0, 0], "item 4 must be a whole number from 0 to 4"),
        ([1, 2, 3, "٤", 0, 0], "item 4 must be a whole number from 0 to 4"),
        ([1, 2, 3, True, 0, 0], "item 4 must be a whole number from 0 to 4"),
    ],
)
def test_bad_items_are_refused(items: object, field_message: str) -> None:
    check = validate_reading({"cadss6_items": items})  # type: ignore[dict-item]

    assert check.values == {}
    assert [e.field for e in check.errors] == ["cadss6_items"]
    assert field_message in check.errors[0].message


def test_phq9_and_gad7_items_are_limited_to_three() -> None:
    assert not validate_reading({"phq9_items": [0] * 8 + [4]}).ok
    assert not validate_reading({"gad7_items": [4] + [0] * 6}).ok


def test_item_scales_match_the_totals_they_feed() -> None:
    for scale in ITEM_SCALES.values():
        assert MEASURES[scale.total].high == scale.count * scale.item_high


def test_usual_ranges_lie_inside_accepted_ranges() -> None:
    for spec in MEASURES.values():
        if spec.usual is not None:
            assert spec.low <= spec.usual[0] < spec.usual[1] <= spec.high


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


def test_parse_time_reads_an_offset_and_returns_utc() -> None:
    assert parse_time("2026-03-02T10:10:00+01:00") == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert parse_time("2026-03-02T09:10Z") == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert parse_time("2026-03-02 09:10:00.25-00:30") == datetime(
        2026, 3, 2, 9, 40, 0, 250000, tzinfo=UTC
    )


def test_parse_time_refuses_a_naive_time_asking_for_an_offset() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_time("2026-03-02T09:10:00")

    assert raised.value.field == "time"
    assert "+00:00" in raised.value.message
    assert "Z" in raised.value.message


@pytest.mark.parametrize(
    "text",
    [
        "2026-13-02T09:10:00Z",
        "2026-02-30T09:10:00Z",
        "2026-03-02T25:00:00Z",
        "2026-03-02T09:10:00+24:00",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "２０２６-03-02T09:10:00Z",
        "2026-03-02",
        "yesterday",
        "2026-03-02T09:10:00+0100",
    ],
)
def test_parse_time_refuses_malformed_or_impossible_times(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_time(text)


def test_validate_time_accepts_now_and_the_past_year() -> None:
    assert validate_time(NOW, NOW) is None
    assert validate_time(NOW - MAX_TIME_AGE, NOW) is None
    assert validate_time(NOW.astimezone(timezone(timedelta(hours=-5))), NOW) is None


def test_validate_time_refuses_the_future_without_tolerance() -> None:
    error = validate_time(NOW + timedelta(microseconds=1), NOW, field="taken_at")

    assert error is not None
    assert error.field == "taken_at"
    assert "future" in error.message


def test_validate_time_refuses_absurdly_old_and_naive_times() -> None:
    old = validate_time(NOW - MAX_TIME_AGE - timedelta(seconds=1), NOW)
    assert old is not None
    assert "365 days ago" in old.message

    naive = validate_time(datetime(2026, 3, 2, 8, 0), NOW)  # noqa: DTZ001
    assert naive is not None
    assert "UTC offset" in naive.message


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


# --- fuzzing -----------------------------------------------------------------------------


@FUZZ
@given(text=any_text)
def test_fuzz_parse_whole_accepts_only_short_ascii_digit_strings(text: str) -> None:
    try:
        value = parse_whole(text)
    except ValidationError:
        return
    assert re.fullmatch(f"{ASCII_WS}[0-9]{{1,6}}{ASCII_WS}", text)
    assert value == int(text.strip(" \t\n\r\f\v"))


@FUZZ
@given(text=any_text, places=st.integers(min_value=0, max_value=3))
def test_fuzz_parse_decimal_accepts_only_ascii_decimals(text: str, places: int) -> None:
    try:
        value = parse_decimal(text, places)
    except ValidationError:
        return
    fraction = f"(\\.[0-9]{{1,{places}}})?" if places else ""
    assert re.fullmatch(f"{ASCII_WS}[0-9]{{1,6}}{fraction}{ASCII_WS}", text)
    assert value.is_finite()
    assert value >= 0


@FUZZ
@given(
    text=st.one_of(
        any_text,
        st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?"
            r"(Z|[+-][0-9]{2}:[0-9]{2})?\Z"
        ),
    )
)
def test_fuzz_parse_time_returns_only_aware_utc_from_ascii(text: str) -> None:
    try:
        when = parse_time(text)
    except ValidationError:
        return
    assert when.tzinfo is UTC
    assert text.isascii()
    assert re.search(r"([Zz]|[+-][0-9]{2}:[0-9]{2})[ \t\n\r\f\v]*\Z", text)


raw_scalar = st.one_of(
    st.none(),
    any_text,
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.floats(),
    st.decimals(),
)
reading_keys = st.sampled_from([*READING_MEASURES, *ITEM_SCALES, "weight", "bogus"])
raw_readings = st.dictionaries(
    reading_keys,
    st.one_of(
        raw_scalar,
        st.lists(raw_scalar, max_size=10),
        st.lists(st.integers(0, 4), min_size=6, max_size=9),
    ),
    max_size=8,
)


@FUZZ
@given(raw=raw_readings, confirmed=st.sets(reading_keys))
def test_fuzz_validate_reading_never_raises_nor_accepts_bad_values(
    raw: dict[str, object], confirmed: set[str]
) -> None:
    check = validate_reading(raw, confirmed=confirmed)  # type: ignore[arg-type]

    for name, value in check.values.items():
        if name in ITEM_SCALES:
            scale = ITEM_SCALES[name]
            assert isinstance(value, tuple)
            assert len(value) == scale.count
            assert all(0 <= item <= scale.item_high for item in value)
            assert check.values[scale.total] == sum(value)
            continue
        spec = MEASURES[name]
        assert type(value) is int
        assert spec.low <= value <= spec.high
        given_raw = raw.get(name)
        if given_raw is None or (isinstance(given_raw, str) and not given_raw.strip(" \t\n\r\f\v")):
            # A total left empty is derived from its items, checked above.
            assert any(s.total == name and s.name in check.values for s in ITEM_SCALES.values())
        elif isinstance(given_raw, str):
            assert re.fullmatch(f"{ASCII_WS}[0-9]{{1,6}}{ASCII_WS}", given_raw)
        else:
            assert type(given_raw) is int
    assert ("sbp" in check.values) == ("dbp" in check.values)
    if "sbp" in check.values:
        assert check.values["dbp"] < check.values["sbp"]  # type: ignore[operator]
    if check.ok:
        for name, value in check.values.items():
            usual = MEASURES[name].usual if name in MEASURES else None
            if usual is not None and not usual[0] <= value <= usual[1]:  # type: ignore[operator]
                assert name in confirmed


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


# -- keys typed into the entry screen's number fields -----------------------------------------


@pytest.mark.parametrize(("field", "text", "key"), [
    ("bp", "", "1"), ("bp", "128", "/"), ("bp", "128/8", "2"), ("hr", "13", "0"),
    ("spo2", "9", "7"), ("rr", "", "1"),
])
def test_a_key_that_can_still_make_a_value_is_typed(field, text, key):
    assert check_typed_key(field, text, key) is None


@pytest.mark.parametrize(("field", "text", "key", "words"), [
    ("hr", "130", "/", "Heart rate takes digits 0-9 only"),
    ("hr", "130", "8", "too many digits"),
    ("bp", "128/82", "a", "Blood pressure takes digits 0-9 and one '/'"),
    ("bp", "128/82", "/", "Blood pressure"),
    ("bp", "", "/", "Blood pressure"),
    ("bp", "1284", "0", "too many digits"),
    ("spo2", "", "٧", "SpO2 takes digits 0-9 only"),
    ("rr", "1", ".", "Respiratory rate takes digits 0-9 only"),
])
def test_a_key_that_cannot_make_a_value_is_refused_naming_field_and_range(
    field, text, key, words
):
    refusal = check_typed_key(field, text, key)
    assert refusal is not None
    assert refusal.field == field
    assert words in refusal.message
    assert "was not typed" in refusal.message


@given(st.from_regex(r"[0-9]{0,3}(/[0-9]{0,3})?", fullmatch=True), st.characters())
def test_an_accepted_key_always_leaves_ascii_digits_and_at_most_one_slash(text, key):
    if check_typed_key("bp", text, key) is None:
        assert re.fullmatch(r"[0-9]{1,3}(/[0-9]{0,3})?", text + key)
