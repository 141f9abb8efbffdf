"""The recovery scores after the infusion: modified Aldrete and adapted PADSS, item by item."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.clinical.domain import Event, EventKind, Reading
from tests.monitor.builders import ev, r
from tests.monitor.clinical.discharge_cases import (
    PROTOCOL,
    RECOVERED,
    assess,
    infusion,
    ready_course,
    record,
)


def items_of(score: Any) -> dict[str, int]:
    return {item.name: item.points for item in score.items}


def test_recovered_patient_scores_full_aldrete_and_padss() -> None:
    assessment = assess(record(*ready_course()), 72)
    assert (assessment.aldrete.total, assessment.aldrete.max_total) == (10, 10)
    assert assessment.aldrete.passing == 9
    assert assessment.aldrete.passed
    assert (assessment.padss.total, assessment.padss.max_total) == (8, 8)
    assert assessment.padss.passing == 7
    assert assessment.padss.passed


def test_aldrete_items_from_what_was_measured() -> None:
    rec = record(*infusion(), r(50, sbp=150, dbp=100, hr=90, spo2=92, rr=10, moaas=4))
    assessment = assess(rec, 55)
    assert items_of(assessment.aldrete) == {
        "activity": 1,  # awake (MOAA/S 4), gait not attested
        "breathing": 1,  # RR 10: advisory band
        "circulation": 1,  # DBP +25 %
        "consciousness": 1,  # MOAA/S 4: arousable by voice
        "SpO2": 1,  # 92 % on room air
    }
    assert assessment.aldrete.total == 5
    assert not assessment.aldrete.passed


@pytest.mark.parametrize(
    ("values", "item", "points"),
    [
        ({"sbp": 120, "dbp": 80}, "circulation", 2),
        ({"sbp": 144, "dbp": 80}, "circulation", 2),
        ({"sbp": 179, "dbp": 80}, "circulation", 1),
        ({"sbp": 180, "dbp": 80}, "circulation", 0),
        ({"moaas": 5}, "consciousness", 2),
        ({"moaas": 3}, "consciousness", 1),
        ({"moaas": 2}, "consciousness", 0),
        ({"spo2": 93}, "SpO2", 2),
        ({"spo2": 91}, "SpO2", 1),
        ({"spo2": 90}, "SpO2", 0),
        ({"spo2": 97, "on_oxygen": True}, "SpO2", 1),
        ({"rr": 8}, "breathing", 0),
        ({"rr": 16}, "breathing", 2),
    ],
)
def test_aldrete_item_bands(values: dict[str, Any], item: str, points: int) -> None:
    rec = record(*infusion(), r(50, **{**RECOVERED, **values}))
    assert items_of(assess(rec, 55).aldrete)[item] == points


def test_aldrete_breathing_without_rr_is_judged_from_room_air_spo2() -> None:
    no_rr = {k: v for k, v in RECOVERED.items() if k != "rr"}
    good = assess(record(*infusion(), r(50, **no_rr)), 55).aldrete
    low = assess(record(*infusion(), r(50, **{**no_rr, "spo2": 93})), 55).aldrete
    assert items_of(good)["breathing"] == 2
    assert items_of(low)["breathing"] == 1
    assert "RR not recorded" in next(i.detail for i in good.items if i.name == "breathing")


@pytest.mark.parametrize(
    ("values", "item", "points"),
    [
        ({"sbp": 144, "dbp": 96, "hr": 84}, "vital signs", 2),
        ({"sbp": 168, "dbp": 80, "hr": 70}, "vital signs", 1),
        ({"sbp": 169, "dbp": 80, "hr": 70}, "vital signs", 0),
        ({"hr": 98}, "vital signs", 1),
        ({"hr": 99}, "vital signs", 0),
        ({"nausea": 3}, "nausea/vomiting", 2),
        ({"nausea": 6}, "nausea/vomiting", 1),
        ({"nausea": 7}, "nausea/vomiting", 0),
        ({"pain": 3}, "pain", 2),
        ({"pain": 6}, "pain", 1),
        ({"pain": 7}, "pain", 0),
    ],
)
def test_padss_item_bands(values: dict[str, Any], item: str, points: int) -> None:
    rec = record(*infusion(), r(50, **{**RECOVERED, **values}))
    assert items_of(assess(rec, 55).padss)[item] == points


def without_pain() -> list[Reading | Event]:
    """:func:`ready_course` with no pain score since the stop."""
    no_pain = {k: v for k, v in RECOVERED.items() if k != "pain"}
    return [*infusion(), r(55, **no_pain), r(70, **no_pain),
            ev(71, EventKind.ORIENTED_STEADY_GAIT)]


def test_missing_pain_score_is_not_assessed_and_leaves_padss_incomplete() -> None:
    padss = assess(record(*without_pain()), 72).padss
    pain = next(i for i in padss.items if i.name == "pain")
    assert (pain.points, pain.assessed) == (0, False)
    assert pain.text == "pain: not assessed — no pain score since infusion stop"
    assert padss.total == 6
    assert padss.not_assessed == ("pain",)
    assert not padss.passed  # 6 < 7, and incomplete whatever the total
    assert padss.summary == "adapted PADSS 6 of 8 — incomplete: pain not assessed"


def test_an_incomplete_score_does_not_pass_even_above_its_threshold() -> None:
    protocol = PROTOCOL.with_overrides({"discharge.padss_passing_at_or_above": 6})
    padss = assess(record(*without_pain()), 72, protocol).padss
    assert padss.total == 6 >= padss.passing
    assert not padss.passed
    assert padss.verdict == "incomplete: pain not assessed"


def test_a_pain_score_from_before_the_stop_does_not_count() -> None:
    padss = assess(record(*infusion(pain=0), r(50, **{**RECOVERED, "pain": None})), 55).padss
    assert "pain" in padss.not_assessed


def test_missing_aldrete_items_are_not_assessed_and_score_nothing() -> None:
    rec = record(*infusion(), r(50, sbp=126, dbp=82, hr=74))  # BP and HR only
    aldrete = assess(rec, 55).aldrete
    assert aldrete.not_assessed == ("activity", "breathing", "consciousness", "SpO2")
    assert items_of(aldrete) == {"activity": 0, "breathing": 0, "circulation": 2,
                                 "consciousness": 0, "SpO2": 0}
    assert aldrete.summary == ("modified Aldrete 2 of 10 — incomplete: activity, breathing, "
                               "consciousness, SpO2 not assessed")
    assert not aldrete.passed


def test_measured_low_values_are_assessed_at_zero_not_missing() -> None:
    rec = record(*infusion(), r(50, **{**RECOVERED, "moaas": 2, "nausea": 8, "pain": 9}))
    assessment = assess(rec, 55)
    assert assessment.aldrete.complete
    assert assessment.padss.complete
    assert items_of(assessment.padss)["pain"] == 0
    assert items_of(assessment.aldrete)["activity"] == 0


def test_padss_ambulation_needs_the_gait_attestation() -> None:
    awake = assess(record(*infusion(), r(50, **RECOVERED)), 55).padss
    walking = assess(record(*ready_course()), 72).padss
    drowsy = assess(record(*infusion(), r(50, **{**RECOVERED, "moaas": 4})), 55).padss
    assert items_of(walking)["ambulation/orientation"] == 2
    assert items_of(awake)["ambulation/orientation"] == 1
    assert items_of(drowsy)["ambulation/orientation"] == 0
    assert [i.name for i in walking.items] == ["vital signs", "ambulation/orientation",
                                              "nausea/vomiting", "pain"]
