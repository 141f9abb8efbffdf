"""Which entry replaced which, and which were voided, from the corrections alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.clinical.domain import Reading
from monitor.clinical.lineage import (
    AMEND,
    VOID,
    Standing,
    correction_word,
    lineage,
)
from monitor.clinical.signing import SignOff, after_signoff

T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Correction:
    """A correction as the record keeps it: the links, and who, when and why."""

    target_id: uuid.UUID
    action: str
    replacement_id: uuid.UUID | None
    reason: str = "Entered in error"
    by: str = "Nora Nurse"


def ids(count: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(count)]


def test_an_entry_nobody_corrected_stands_as_entered():
    (reading,) = ids(1)
    lines = lineage([])
    assert lines.standing(reading) is Standing.ENTERED
    assert lines.correction(reading) is None
    assert lines.amendment(reading) is None
    assert lines.line(reading) == (reading,)
    assert lines.in_effect(reading) == reading


def test_a_voided_reading_is_superseded_with_nothing_in_its_place():
    voided, other = ids(2)
    void = Correction(voided, VOID, None, reason="Equipment artefact")
    lines = lineage([void])
    assert lines.standing(voided) is Standing.VOIDED
    assert not lines.standing(voided).in_effect
    assert lines.correction(voided) is void
    assert lines.replacement(voided) is None
    assert lines.in_effect(voided) is None
    assert lines.standing(other) is Standing.ENTERED
    assert correction_word(void.action) == "VOIDED"


def test_a_reading_amended_twice_is_one_line_of_three_readings():
    first, second, third = ids(3)
    once = Correction(first, AMEND, second, reason="Equipment artefact")
    again = Correction(second, AMEND, third, reason="Other: cuff re-sited")
    lines = lineage([again, once])  # in any order
    assert [lines.standing(r) for r in (first, second, third)] == [
        Standing.AMENDED, Standing.AMENDED, Standing.AMENDMENT]
    assert lines.correction(first) is once
    assert lines.correction(second) is again
    # The middle reading both replaced one and was replaced.
    assert lines.amendment(second) is once
    assert lines.amendment(third) is again
    assert lines.replacement(first) == second
    for reading in (first, second, third):
        assert lines.first_entered(reading) == first
        assert lines.line(reading) == (first, second, third)
        assert lines.in_effect(reading) == third
    assert correction_word(once.action) == "AMENDED"


def test_an_amendment_voided_later_ends_its_line_with_nothing_in_effect():
    entered, amendment = ids(2)
    amend = Correction(entered, AMEND, amendment)
    void = Correction(amendment, VOID, None, reason="Wrong patient")
    lines = lineage([amend, void])
    assert lines.standing(entered) is Standing.AMENDED
    assert lines.standing(amendment) is Standing.VOIDED
    assert lines.amendment(amendment) is amend
    assert lines.correction(amendment) is void
    assert lines.line(entered) == (entered, amendment)
    assert lines.in_effect(entered) is None


def test_an_entry_after_sign_off_is_corrected_like_any_other():
    signed = SignOff(time=T0 + 60 * MIN, by="Ana Ruiz", override=False)
    before, late, late_fix = ids(3)
    readings = {
        before: Reading(before, T0 + 30 * MIN, hr=72, recorded_at=T0 + 30 * MIN),
        late: Reading(late, T0 + 55 * MIN, hr=140, recorded_at=T0 + 70 * MIN),
        late_fix: Reading(late_fix, T0 + 55 * MIN, hr=104, recorded_at=T0 + 72 * MIN),
    }
    lines = lineage([Correction(late, AMEND, late_fix, by="Dr Lee")])
    assert [after_signoff(readings[r], signed) for r in (before, late, late_fix)] == [
        False, True, True]
    assert lines.standing(late) is Standing.AMENDED
    assert lines.standing(late_fix) is Standing.AMENDMENT
    assert lines.standing(before) is Standing.ENTERED
    assert lines.in_effect(late) == late_fix
    fix = lines.amendment(late_fix)
    assert fix is not None
    assert fix.by == "Dr Lee"
