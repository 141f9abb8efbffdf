"""Rating scales: totals from items, range checks, severity bands, MOAA/S levels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.clinical.scores import (
    CADSS6,
    GAD7,
    MOAAS_LEVELS,
    PHQ9,
    PHQ9_SELF_HARM_ITEM,
    cadss6_total,
    gad7_band,
    gad7_total,
    moaas_description,
    phq9_band,
    phq9_total,
)


def test_cadss6_has_six_items_with_the_product_short_labels() -> None:
    assert CADSS6.items == (
        "time slowed",
        "things unreal/dreamlike",
        "disconnected from body",
        "body changed",
        "spacing out",
        "observer: appears detached",
    )
    assert (CADSS6.item_max, CADSS6.max_total) == (4, 24)


def test_totals_are_the_sum_of_the_items() -> None:
    assert cadss6_total((1, 2, 3, 4, 0, 2)) == 12
    assert cadss6_total((4,) * 6) == 24
    assert phq9_total((3,) * 9) == 27
    assert gad7_total((0, 1, 2, 3, 0, 1, 2)) == 9


@pytest.mark.parametrize(
    ("call", "items", "message"),
    [
        (cadss6_total, (0, 0, 5, 0, 0, 0),
         r"CADSS-6 item 3 \(disconnected from body\): 5 is outside 0–4"),
        (cadss6_total, (0, 0, 0, 0, 0, -1), r"CADSS-6 item 6 .*: -1 is outside 0–4"),
        (cadss6_total, (0, 0, 0, 0, 0), "CADSS-6 has 6 items, got 5"),
        (phq9_total, (0,) * 8 + (4,), r"PHQ-9 item 9 \(thoughts of self-harm\): 4 is outside 0–3"),
        (phq9_total, (0,) * 10, "PHQ-9 has 9 items, got 10"),
        (gad7_total, (0, 0, 0, 0, 0, 0, 4), r"GAD-7 item 7 .*: 4 is outside 0–3"),
        (gad7_total, (0, 0, 0, 0, 0, 0, True), "GAD-7 item 7 .*: expected a whole number"),
    ],
)
def test_out_of_range_items_are_refused_naming_the_item(call: object, items: tuple[int, ...],
                                                        message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call(items)


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"), (20, "severe"),
     (27, "severe")],
)
def test_phq9_bands(total: int, band: str) -> None:
    assert phq9_band(total) == band


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_gad7_bands(total: int, band: str) -> None:
    assert gad7_band(total) == band


@pytest.mark.parametrize(("call", "total"), [(phq9_band, 28), (phq9_band, -1), (gad7_band, 22)])
def test_band_of_impossible_total_is_refused(call: object, total: int) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="is outside"):
        call(total)


def test_cadss6_has_no_severity_bands() -> None:
    with pytest.raises(ValueError, match="defines no severity bands"):
        CADSS6.band(10)


def test_phq9_self_harm_item_is_item_nine() -> None:
    assert PHQ9.items[PHQ9_SELF_HARM_ITEM] == "thoughts of self-harm"
    assert len(PHQ9.items) == 9
    assert len(GAD7.items) == 7


def test_moaas_levels_match_the_product_definitions() -> None:
    assert sorted(MOAAS_LEVELS) == [0, 1, 2, 3, 4, 5]
    assert moaas_description(5) == "responds readily to name in normal tone"
    assert moaas_description(3) == "responds only after name called loudly/repeatedly"
    assert moaas_description(0) == "no response"
    with pytest.raises(ValueError, match="MOAA/S: 6 is outside 0–5"):
        moaas_description(6)


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_every_valid_phq9_total_has_a_band(items: list[int]) -> None:
    total = phq9_total(items)
    assert 0 <= total <= 27
    assert phq9_band(total) in {"minimal", "mild", "moderate", "moderately severe", "severe"}
