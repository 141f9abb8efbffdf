"""Tests for monitor.clinical.validation: ranges, BP pairing, confirmation, items, times, and
the keys typed into the entry screen.

The fuzz tests feed every parser arbitrary text (non-ASCII and fullwidth digits, signs,
underscores, exponents, 'nan', huge numbers, inner whitespace) and check two things: nothing
but a ValidationError / FieldError ever comes out, and whatever is accepted is written in
ASCII digits and lies in its accepted range.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
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
    validate_reading,
    validate_time,
)
from tests.monitor.clinical.fuzz_inputs import ASCII_WS, FUZZ, any_text, raw_scalar

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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
