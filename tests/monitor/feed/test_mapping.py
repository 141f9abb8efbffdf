"""Vendors' messages to vital signs: codes, units, validity, device identity, repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from monitor.clinical.validation import MEASURES
from monitor.feed.interpret import Interpretation, interpret
from monitor.feed.mapping import (
    FEED_MEASURES,
    Observation,
    RecentObservations,
    dedup_key,
)

from .samples import PARIS, RECEIVED, UTC_ZONE, load, one


def read(name: str, zone=UTC_ZONE, received_at: datetime = RECEIVED) -> Interpretation:
    return interpret(one(name), received_at=received_at, zone=zone)


def values(result: Interpretation) -> dict[str, Decimal]:
    return {o.measure: o.value for o in result.observations}


def test_ge_carescape_periodic_message():
    result = read("ge_carescape")
    assert values(result) == {
        "hr": 80, "sbp": 128, "dbp": 78, "mean_bp": 95, "spo2": 98, "pulse_rate": 79,
        "rr": 14, "temp_c": Decimal("36.8"),
    }
    assert result.structure_rows == 5  # MDS, VMD and channel rows describe the device
    assert {i.code for i in result.ignored} == {"MDC:148066", "MDC:150033"}
    hr = result.observations[0]
    assert hr.device_id == "080019FFFE0B4020"  # OBX-18 names the bedside device
    assert result.device_id == "080019FFFE134535"  # OBR-3: the sender
    assert (hr.location, hr.mrn) == ("INFUSION^^CHAIR3", "HED12")
    assert hr.observed_at == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert hr.received_at == RECEIVED
    assert hr.unit == "/min"
    assert result.observations[1].observed_at == datetime(2026, 3, 2, 9, 4, tzinfo=UTC)


def test_philips_dual_coded_loinc_first_is_matched_on_the_mdc_code():
    result = read("philips_picix")
    assert values(result) == {
        "hr": 72, "pulse_rate": 73, "spo2": 97, "sbp": 131, "dbp": 84, "mean_bp": 100, "rr": 16,
    }
    codes = {o.measure: o.code for o in result.observations}
    assert codes["pulse_rate"] == "MDC:149530"
    assert result.mrn == "MRN-0042"  # the MR repetition of PID-3, not the PI one
    assert result.location == "KETAMINE^^BED2^CLINIC"
    assert {o.device_id for o in result.observations} == {"0009FBFFFE01A2B3"}
    hr = result.observations[0]
    assert hr.observed_at == datetime(2026, 3, 2, 9, 10, 0, 123400, tzinfo=UTC)


def test_mindray_cuff_codes_are_nibp_and_the_17_digit_time_is_read():
    result = read("mindray_cuff", zone=PARIS)
    assert values(result) == {
        "sbp": 142, "dbp": 88, "mean_bp": 106, "pulse_rate": 76, "spo2": 96, "rr": 18,
    }
    sbp = result.observations[0]
    assert sbp.code == "MDC:150301"
    assert sbp.observed_at == datetime(2026, 3, 2, 8, 5, 12, tzinfo=UTC)
    assert "OBX-14 has no UTC offset: read in Europe/Paris" in sbp.notes
    # The device names itself only in the first OBX-18: every observation carries it.
    assert {o.device_id for o in result.observations} == {"7CFAFFFE00112233"}


def test_comen_kpa_and_fahrenheit_are_converted():
    result = read("comen_latin1", zone=PARIS)
    assert values(result) == {
        "sbp": 124, "dbp": 77, "mean_bp": 92, "temp_c": Decimal("37.0"), "pulse_rate": 81,
    }
    sbp = result.observations[0]
    assert (sbp.raw_value, sbp.raw_unit) == ("16.5", "265987")
    assert sbp.unit == "mmHg"
    assert result.location == "Salle 2^^Fauteuil 4"


def test_nist_pcd01_sample():
    result = read("nist_pcd01")
    assert values(result) == {"sbp": 120, "dbp": 80, "mean_bp": 100, "pulse_rate": 60}
    assert result.device_id == "ACDE48234567ABCD"
    assert result.mrn == "789567"  # no MR repetition: the first identifier


@pytest.mark.parametrize(
    ("set_id", "reason"),
    [
        ("1", "could not obtain the value (OBX-11 X)"),
        ("2", "flagged the value INV"),
        ("3", "flagged the value NAV"),
        ("4", "flagged the value DEMO"),
        ("5", "flagged the value TEST"),
        ("6", "flagged the value BUSY"),
        ("7", "flagged the value CAL"),
        ("8", "no value (OBX-5 is empty)"),
        ("9", "value 8388607 is a placeholder"),
        ("10", "value 32767 is a placeholder"),
        ("11", "value -999 is a placeholder"),
        ("12", "value -1 is a placeholder"),
        ("13", "Heart rate 300 /min is outside the accepted range 20–250 /min"),
        ("14", "is not known for SpO2; expected %"),
        ("15", "value '--' is not a number"),
        ("16", "unit '262688' is not a unit of Systolic BP"),
    ],
)
def test_values_that_are_not_real_are_rejected_with_the_reason(set_id, reason):
    rejected = {r.set_id: r for r in read("not_real").rejected}
    assert reason in rejected[set_id].reason


def test_a_refid_that_contradicts_the_code_is_noted_and_the_code_wins():
    (mislabelled, loinc_only) = read("not_real").observations
    assert (mislabelled.measure, mislabelled.value) == ("spo2", 99)
    assert "REFID MDC_PULS_OXIM_PULS_RATE (pulse_rate) does not match MDC code 150456" in (
        mislabelled.notes[0])
    assert (loinc_only.measure, loinc_only.code) == ("spo2", "LN:2708-6")


def test_accepted_ranges_are_those_of_the_entry_screen():
    assert FEED_MEASURES["sbp"].high == MEASURES["sbp"].high
    assert FEED_MEASURES["pulse_rate"].low == MEASURES["hr"].low
    assert FEED_MEASURES["temp_c"].high == MEASURES["temperature"].high
    assert FEED_MEASURES["mean_bp"].low == MEASURES["dbp"].low


@pytest.mark.parametrize(
    ("value", "unit", "measure", "expected"),
    [
        ("98.6", "[degF]", "temp_c", Decimal("37.0")),
        ("37.04", "Cel", "temp_c", Decimal("37.0")),
        ("16.0", "kPa", "sbp", Decimal("120")),
        ("97.6", "%", "spo2", Decimal("98")),
        ("72", "{beats}/min", "hr", Decimal("72")),
    ],
)
def test_units_by_ucum_or_text(value, unit, measure, expected):
    code = {"temp_c": "150344^MDC_TEMP", "sbp": "150021^MDC_PRESS_BLD_NONINV_SYS",
            "spo2": "150456^MDC_PULS_OXIM_SAT_O2", "hr": "147842^MDC_ECG_HEART_RATE"}[measure]
    message = one("nist_pcd01").split(b"\rOBX")[0] + (
        f"\rOBX|1|NM|{code}^MDC|1.1.1.1|{value}|{unit}^{unit}^UCUM|||||R".encode()
    )
    (observation,) = interpret(message, received_at=RECEIVED, zone=UTC_ZONE).observations
    assert (observation.measure, observation.value) == (measure, expected)


def test_an_observation_without_any_time_is_rejected():
    message = (b"MSH|^~\\&|A||||||ORU^R01|T1|P|2.6\r"
               b"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|262688^MDC_DIM_PERCENT^MDC|||||R")
    (rejected,) = interpret(message, received_at=RECEIVED, zone=UTC_ZONE).rejected
    assert "no observation time" in rejected.reason


def test_a_repeated_nibp_is_one_observation():
    first, second = (interpret(m, received_at=RECEIVED, zone=UTC_ZONE)
                     for m in load("repeated_nibp"))
    seen = RecentObservations()
    new_first = [o.measure for o in first.observations if seen.first_time(o)]
    new_second = [o.measure for o in second.observations if seen.first_time(o)]
    assert new_first == ["hr", "sbp", "dbp"]
    assert new_second == ["hr"]  # SBP 128 and DBP 78 (sent as 78.0) again, 26 min old


def test_dedup_key_is_device_code_time_and_value():
    (obs,) = [o for o in read("nist_pcd01").observations if o.measure == "sbp"]
    assert dedup_key(obs) == "ACDE48234567ABCD|MDC:150021|2026-03-02T09:00:30.000+00:00|120"


def test_a_caller_backed_store_decides_what_was_seen():
    store: set[str] = set()
    (obs,) = [o for o in read("nist_pcd01").observations if o.measure == "sbp"]
    assert RecentObservations(store=store).first_time(obs)
    assert not RecentObservations(store=store).first_time(obs)  # a new process, same store


def test_in_memory_dedup_forgets_the_oldest_beyond_its_capacity():
    observations = [o for o in read("ge_carescape").observations if isinstance(o, Observation)]
    seen = RecentObservations(capacity=2)
    assert all(seen.first_time(o) for o in observations)
    assert seen.first_time(observations[0])  # forgotten
    assert not seen.first_time(observations[0])


def test_skew_is_kept_on_each_observation():
    late = RECEIVED + timedelta(minutes=3)
    (obs, *_) = read("ge_carescape", received_at=late).observations
    assert obs.skew == timedelta(minutes=3, seconds=30)
