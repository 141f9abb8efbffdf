"""How the patient is after the infusion stopped: the facts discharge reads from a record,
and the two published recovery scores, the modified Aldrete score and the adapted PADSS.

Values count only if measured after the infusion stopped (strictly after: a reading taken as
the pump is stopped belongs to the infusion). An item nothing was measured for is *not
assessed*: no points, and its score stays incomplete until it is measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.clinical.domain import EventKind, Reading, Score, ScoreItem, SessionRecord
from monitor.clinical.phases import baseline, infusion_started_at, infusion_stopped_at
from monitor.clinical.protocol import Protocol
from monitor.clinical.scores import MOAAS_LEVELS

# Item bands of the published scores (Aldrete & Kroulik 1970, modified Aldrete 1995; Chung's
# PADSS 1995). They define the scores, so they are not clinic settings.
_ALDRETE_BP_FULL_PERCENT = 20  # circulation 2: BP within ±20 % of baseline
_ALDRETE_BP_PARTIAL_PERCENT = 50  # circulation 1: 20–49 %; 0: ≥ 50 %
_ALDRETE_SPO2_ROOM_AIR_ABOVE = 92  # SpO2 2: > 92 % on room air
_ALDRETE_SPO2_ANY_ABOVE = 90  # SpO2 1: > 90 % (with oxygen); 0: below
_PADSS_VITALS_FULL_PERCENT = 20  # vital signs 2: within 20 % of baseline
_PADSS_VITALS_PARTIAL_PERCENT = 40  # vital signs 1: 20–40 %; 0: > 40 %
_PAIN_MILD_AT_OR_BELOW = 3  # pain 0–10: ≤ 3 mild, 4–6 moderate, ≥ 7 severe
_PAIN_MODERATE_AT_OR_BELOW = 6


@dataclass(frozen=True, slots=True)
class Facts:
    """What the criteria and scores read from a record."""

    start: datetime | None
    stop: datetime | None
    baseline: Reading | None
    recovery: tuple[Reading, ...]
    gait_at: datetime | None
    escort_at: datetime | None

    @classmethod
    def of(cls, record: SessionRecord) -> Facts:
        """The facts of ``record`` as it stands."""
        stop = infusion_stopped_at(record)
        # Strictly after the stop: a reading taken as the pump is stopped shows the patient at
        # the end of the infusion, not recovering.
        recovery = tuple(sorted((r for r in record.readings if stop is not None and r.time > stop),
                                key=lambda r: r.time))
        gait = [e.time for e in record.events if e.kind is EventKind.ORIENTED_STEADY_GAIT
                and stop is not None and e.time > stop]
        escort = [e.time for e in record.events if e.kind is EventKind.ESCORT_PRESENT]
        return cls(infusion_started_at(record), stop, baseline(record), recovery,
                   min(gait, default=None), min(escort, default=None))

    def last(self, measure: str) -> Reading | None:
        """The last recovery reading that has ``measure``."""
        return next((r for r in reversed(self.recovery) if getattr(r, measure) is not None), None)

    def as_of(self, when: datetime) -> Facts:
        """The facts of the record as it stood at ``when``, a moment after the stop.

        Once the infusion has stopped for good its start, its stop and the baseline (all
        readings before the start) are settled; only what was entered after the stop grows.
        The baseline only falls away when it is the stand-in first reading, taken after
        ``when``.
        """
        return Facts(
            start=self.start,
            stop=self.stop,
            baseline=_by(self.baseline, when),
            recovery=tuple(r for r in self.recovery if r.time <= when),
            gait_at=self.gait_at if self.gait_at is not None and self.gait_at <= when else None,
            escort_at=(self.escort_at if self.escort_at is not None and self.escort_at <= when
                       else None),
        )


def _by(reading: Reading | None, when: datetime) -> Reading | None:
    return reading if reading is not None and reading.time <= when else None


def modified_aldrete(facts: Facts, protocol: Protocol) -> Score:
    """The modified Aldrete score (0–10) from what was measured after the infusion stopped.

    An item nothing was measured for is *not assessed*: 0 points, and the score is
    incomplete (it does not pass) until it is measured.

    - activity: 2 when oriented ×3 and steady gait are attested (the patient moves all
      extremities and walks); 1 when awake enough to move on command (MOAA/S ≥ 4) but gait is
      not attested yet; 0 when less awake; not assessed with neither gait nor MOAA/S.
    - breathing: from the last RR — 2 when no RR limit is reached, 1 in the low advisory
      or high warning band, 0 in the critical band. RR is optional: without one, 2 when
      the last SpO2 on room air meets the discharge limit (breathing adequately), 1 when
      it does not; not assessed with neither.
    - circulation: the larger deviation of SBP and DBP from baseline — 2 within ±20 %,
      1 from 20 % to 49 %, 0 at 50 % or more; not assessed without a BP since the stop and
      at baseline.
    - consciousness: from MOAA/S — 2 fully awake (5), 1 arousable by voice (3–4),
      0 responding only to touch or pain, or not at all (0–2); not assessed without one.
    - SpO2: 2 above 92 % on room air, 1 above 90 % (or on oxygen), 0 otherwise; not
      assessed without one.
    """
    items = (
        _aldrete_activity(facts),
        _aldrete_breathing(facts, protocol),
        _aldrete_circulation(facts),
        _aldrete_consciousness(facts),
        _aldrete_spo2(facts),
    )
    return Score("modified Aldrete", sum(i.points for i in items), 10,
                 protocol.discharge.aldrete_passing_at_or_above, items)


def adapted_padss(facts: Facts, protocol: Protocol) -> Score:
    """The Post-Anesthetic Discharge Scoring System adapted to an infusion (0–8).

    Bleeding and fluids/voiding do not apply, so four of the six items remain. An item
    nothing was measured for is *not assessed*: 0 points, and the score is incomplete (it
    does not pass) until it is measured — a missing pain score is not "no pain".

    - vital signs: the largest deviation of SBP, DBP and HR from baseline — 2 within 20 %,
      1 from 20 % to 40 %, 0 beyond 40 %; not assessed without BP and HR since the stop
      and at baseline.
    - ambulation/orientation: 2 when oriented ×3 and steady gait are attested, 1 when fully
      awake (MOAA/S 5) but not attested yet, 0 when less awake; not assessed with neither.
    - nausea/vomiting: from the last nausea score — 2 at or below the discharge limit
      (minimal), 1 below the nausea advisory limit (moderate), 0 at or above it (severe);
      not assessed without one.
    - pain: from the last pain score — 2 at 0–3, 1 at 4–6, 0 at 7–10; not assessed
      without one.
    """
    items = (
        _padss_vitals(facts),
        _padss_ambulation(facts),
        _padss_nausea(facts, protocol),
        _padss_pain(facts),
    )
    return Score("adapted PADSS", sum(i.points for i in items), 8,
                 protocol.discharge.padss_passing_at_or_above, items)


def _aldrete_activity(facts: Facts) -> ScoreItem:
    last = facts.last("moaas")
    if facts.gait_at is not None:
        return ScoreItem("activity", 2, 2, "steady gait attested")
    if last is None or last.moaas is None:
        return _not_assessed("activity", "gait not attested and no MOAA/S since infusion stop")
    if last.moaas >= 4:
        return ScoreItem("activity", 1, 2, f"MOAA/S {last.moaas}, gait not attested yet")
    return ScoreItem("activity", 0, 2, f"gait not attested and not awake (MOAA/S {last.moaas})")


def _aldrete_breathing(facts: Facts, protocol: Protocol) -> ScoreItem:
    rr = protocol.rr
    last = facts.last("rr")
    if last is not None and last.rr is not None:
        value = last.rr
        if value <= rr.low_critical_at_or_below or value >= rr.high_critical_at_or_above:
            return ScoreItem("breathing", 0, 2, f"RR {value} in the critical band")
        if value >= rr.high_warning_at_or_above:
            return ScoreItem("breathing", 1, 2, f"RR {value} in the warning band")
        if value <= rr.low_advisory_at_or_below:
            return ScoreItem("breathing", 1, 2, f"RR {value} in the advisory band")
        return ScoreItem("breathing", 2, 2, f"RR {value}")
    spo2 = facts.last("spo2")
    if spo2 is None or spo2.spo2 is None:
        return _not_assessed("breathing", "no RR or SpO2 since infusion stop")
    if not spo2.on_oxygen and spo2.spo2 >= protocol.discharge.spo2_at_or_above:
        return ScoreItem("breathing", 2, 2, f"RR not recorded; SpO2 {spo2.spo2} % on room air")
    return ScoreItem("breathing", 1, 2, f"RR not recorded; SpO2 {spo2.spo2} %"
                                        f"{' on oxygen' if spo2.on_oxygen else ''}")


def _aldrete_circulation(facts: Facts) -> ScoreItem:
    last, base = facts.last("sbp"), facts.baseline
    if last is None or base is None or base.sbp is None:
        return _not_assessed("circulation", "no BP since infusion stop or no baseline BP")
    value, reference, deviation = worst_bp_deviation(last, base)
    detail = f"BP {bp_text(last)} is {deviation:.0f} % off baseline {bp_text(base)}"
    if within(value, reference, _ALDRETE_BP_FULL_PERCENT):
        return ScoreItem("circulation", 2, 2, detail)
    if abs(value - reference) * 100 < _ALDRETE_BP_PARTIAL_PERCENT * reference:
        return ScoreItem("circulation", 1, 2, detail)
    return ScoreItem("circulation", 0, 2, detail)


def _aldrete_consciousness(facts: Facts) -> ScoreItem:
    last = facts.last("moaas")
    if last is None or last.moaas is None:
        return _not_assessed("consciousness", "no MOAA/S since infusion stop")
    detail = f"MOAA/S {last.moaas} ({MOAAS_LEVELS.get(last.moaas, '')})"
    points = 2 if last.moaas >= 5 else 1 if last.moaas >= 3 else 0
    return ScoreItem("consciousness", points, 2, detail)


def _aldrete_spo2(facts: Facts) -> ScoreItem:
    last = facts.last("spo2")
    if last is None or last.spo2 is None:
        return _not_assessed("SpO2", "no SpO2 since infusion stop")
    air = "on oxygen" if last.on_oxygen else "on room air"
    detail = f"SpO2 {last.spo2} % {air}"
    if not last.on_oxygen and last.spo2 > _ALDRETE_SPO2_ROOM_AIR_ABOVE:
        return ScoreItem("SpO2", 2, 2, detail)
    if last.spo2 > _ALDRETE_SPO2_ANY_ABOVE:
        return ScoreItem("SpO2", 1, 2, detail)
    return ScoreItem("SpO2", 0, 2, detail)


def _padss_vitals(facts: Facts) -> ScoreItem:
    base = facts.baseline
    bp, hr = facts.last("sbp"), facts.last("hr")
    if base is None or base.sbp is None or base.hr is None or bp is None or hr is None:
        return _not_assessed("vital signs", "BP and HR since infusion stop and at baseline "
                                            "are needed")
    assert hr.hr is not None
    bp_value, bp_base, _ = worst_bp_deviation(bp, base)
    pairs = ((bp_value, bp_base), (hr.hr, base.hr))
    detail = f"BP {bp_text(bp)}, HR {hr.hr} vs baseline {bp_text(base)}, HR {base.hr}"
    if all(within(v, b, _PADSS_VITALS_FULL_PERCENT) for v, b in pairs):
        return ScoreItem("vital signs", 2, 2, f"{detail}: within 20 %")
    if all(within(v, b, _PADSS_VITALS_PARTIAL_PERCENT) for v, b in pairs):
        return ScoreItem("vital signs", 1, 2, f"{detail}: within 20–40 %")
    return ScoreItem("vital signs", 0, 2, f"{detail}: more than 40 % off")


def _padss_ambulation(facts: Facts) -> ScoreItem:
    last = facts.last("moaas")
    if facts.gait_at is not None:
        return ScoreItem("ambulation/orientation", 2, 2, "oriented ×3 and steady gait attested")
    if last is None or last.moaas is None:
        return _not_assessed("ambulation/orientation",
                             "gait not attested and no MOAA/S since infusion stop")
    if last.moaas >= 5:
        return ScoreItem("ambulation/orientation", 1, 2, "awake (MOAA/S 5), gait not attested")
    return ScoreItem("ambulation/orientation", 0, 2,
                     f"gait not attested, not fully awake (MOAA/S {last.moaas})")


def _padss_nausea(facts: Facts, protocol: Protocol) -> ScoreItem:
    last = facts.last("nausea")
    if last is None or last.nausea is None:
        return _not_assessed("nausea/vomiting", "no nausea score since infusion stop")
    detail = f"nausea {last.nausea}/10"
    if last.nausea <= protocol.discharge.nausea_at_or_below:
        return ScoreItem("nausea/vomiting", 2, 2, f"{detail} (minimal)")
    if last.nausea < protocol.nausea.advisory_at_or_above:
        return ScoreItem("nausea/vomiting", 1, 2, f"{detail} (moderate)")
    return ScoreItem("nausea/vomiting", 0, 2, f"{detail} (severe)")


def _padss_pain(facts: Facts) -> ScoreItem:
    last = facts.last("pain")
    if last is None or last.pain is None:
        return _not_assessed("pain", "no pain score since infusion stop")
    detail = f"pain {last.pain}/10"
    if last.pain <= _PAIN_MILD_AT_OR_BELOW:
        return ScoreItem("pain", 2, 2, detail)
    if last.pain <= _PAIN_MODERATE_AT_OR_BELOW:
        return ScoreItem("pain", 1, 2, detail)
    return ScoreItem("pain", 0, 2, detail)


def _not_assessed(name: str, why: str) -> ScoreItem:
    """An item nothing was measured for: no points, and the score stays incomplete."""
    return ScoreItem(name, 0, 2, why, assessed=False)


def within(value: int, reference: int, percent: int) -> bool:
    """``value`` within ± ``percent`` of ``reference``, in exact integer arithmetic."""
    return abs(value - reference) * 100 <= percent * reference


def worst_bp_deviation(reading: Reading, base: Reading) -> tuple[int, int, float]:
    """(value, baseline value, % deviation) of whichever of SBP and DBP is further off."""
    pairs = [(v, b) for v, b in ((reading.sbp, base.sbp), (reading.dbp, base.dbp))
             if v is not None and b is not None and b > 0]
    value, reference = max(pairs, key=lambda p: abs(p[0] - p[1]) / p[1])
    return value, reference, abs(value - reference) * 100 / reference


def bp_text(reading: Reading) -> str:
    """The reading's BP as the nurse writes it, "128/82"."""
    dbp = "–" if reading.dbp is None else str(reading.dbp)
    return f"{reading.sbp}/{dbp}"
