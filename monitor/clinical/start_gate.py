"""What the infusion start waits for: a complete baseline, PHQ-9 item 9 and a high baseline
BP seen by a clinician.

The checks, both Qt-free, used by :class:`monitor.service.clinic.ClinicService` when the start is
recorded and by the session screen to say on the start button what it waits for:

* :func:`missing_baseline` names the baseline measures (BP, HR, SpO2, CADSS-6, MOAA/S) not
  recorded before the start. The nurse may start without them, but only once she has
  confirmed that, naming what is missing; the confirmation is kept with the start event.
* :func:`phq9_hold` says what the start waits for while PHQ-9 item 9 (thoughts of self-harm)
  scored above the protocol's limit: a clinician's acknowledgement with a clinical finding
  ("Assessed by clinician", "Safety plan in place"). "Infusion deferred" acknowledges the
  flag and keeps the start held. A clinician may instead start with a written reason (an
  override), which the service records with the start.
* :func:`baseline_bp_hold` does the same for a BP at a warning tier or worse before the start
  (the protocol's "≥ 160/100: clinician review before start"): every such flag waits for a
  clinician's review, "Reviewed — proceed"; "Infusion deferred" keeps the start held.
* :func:`start_hold` is the first of the two holds, the one the start button names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.clinical.domain import Acknowledgement, Flag, Phase, SessionRecord, Severity
from monitor.clinical.phases import baseline_readings
from monitor.clinical.rules import PHQ9_CLEARS_START, PHQ9_DEFERRED, PHQ9_ITEM9_FLAG

#: The baseline the infusion should start from: reading attribute and its name on screen.
BASELINE_MEASURES: tuple[tuple[str, str], ...] = (
    ("sbp", "BP"), ("hr", "HR"), ("spo2", "SpO2"), ("cadss6", "CADSS-6"), ("moaas", "MOAA/S"),
)
#: The confirmation the start needs when the baseline is incomplete.
CONFIRM_BASELINE = "baseline"
#: What the start waits for while PHQ-9 item 9 is not acknowledged by a clinician.
WAITING_PHQ9 = "a clinician's acknowledgement of PHQ-9 item 9"
#: What it waits for once the clinician deferred the infusion.
DEFERRED_PHQ9 = "a clinician: the infusion was deferred (PHQ-9 item 9)"
#: What the start waits for while a high baseline BP is not reviewed by a clinician.
WAITING_BASELINE_BP = "a clinician's review of the baseline BP"
#: What it waits for once the clinician deferred the infusion over the baseline BP.
DEFERRED_BASELINE_BP = "a clinician: the infusion was deferred (baseline BP)"

#: The condition whose flags before the start need a clinician's review.
BP_HIGH_FLAG = "bp-high"
#: What a clinician records on reviewing a high baseline BP. "Infusion deferred"
#: acknowledges the flag and keeps the start held.
BASELINE_BP_REVIEWED = "Reviewed — proceed"
BASELINE_BP_DEFERRED = PHQ9_DEFERRED
BASELINE_BP_CHOICES: tuple[str, ...] = (BASELINE_BP_REVIEWED, BASELINE_BP_DEFERRED)


def missing_baseline(record: SessionRecord) -> tuple[str, ...]:
    """The names of the baseline measures with no value before the start (all readings while
    the infusion has not started), in the order of :data:`BASELINE_MEASURES`."""
    readings = baseline_readings(record)
    return tuple(name for attribute, name in BASELINE_MEASURES
                 if all(getattr(r, attribute) is None for r in readings))


def phq9_hold(flags: Sequence[Flag],
              acknowledgements: Iterable[Acknowledgement]) -> str | None:
    """What the start waits for about PHQ-9 item 9, or None when it may start.

    ``acknowledgements`` are those to count: the service passes only clinicians'. Every
    item-9 flag needs one whose finding clears the start.
    """
    acks = list(acknowledgements)
    for flag in flags:
        if flag.key != PHQ9_ITEM9_FLAG:
            continue
        findings = [set(_choices(a.action)) for a in acks if a.flag_id == flag.id]
        if any(chosen & PHQ9_CLEARS_START for chosen in findings):
            continue
        if any(PHQ9_DEFERRED in chosen for chosen in findings):
            return DEFERRED_PHQ9
        return WAITING_PHQ9
    return None


def needs_baseline_bp_review(flag: Flag, phase: Phase) -> bool:
    """Whether ``flag``, in a session in ``phase``, is a high BP before the start that a
    clinician reviews (with :data:`BASELINE_BP_CHOICES`) before the infusion may start."""
    return (phase is Phase.BASELINE and flag.key == BP_HIGH_FLAG
            and flag.severity >= Severity.WARNING)


def baseline_bp_hold(flags: Sequence[Flag],
                     acknowledgements: Iterable[Acknowledgement]) -> str | None:
    """What the start waits for about a high baseline BP, or None when it may start.

    ``flags`` are those of a session whose infusion has not started; ``acknowledgements``
    those to count (the service passes only clinicians'). Every BP flag at a warning tier
    or worse needs one that says "Reviewed — proceed". A flag closed because a worse one
    took over ("escalated") still needs it: escalation is no review. A flag whose reading
    was voided or amended no longer holds.
    """
    acks = list(acknowledgements)
    waiting: list[set[str]] = []  # each unreviewed flag's findings so far
    for flag in flags:
        if not needs_baseline_bp_review(flag, Phase.BASELINE):
            continue
        if flag.resolved_at is not None and flag.resolution != "escalated":
            continue
        findings = set().union(*(_choices(a.action) for a in acks if a.flag_id == flag.id))
        if BASELINE_BP_REVIEWED not in findings:
            waiting.append(findings)
    if any(BASELINE_BP_DEFERRED in findings for findings in waiting):
        return DEFERRED_BASELINE_BP
    return WAITING_BASELINE_BP if waiting else None


def start_hold(flags: Sequence[Flag],
               acknowledgements: Iterable[Acknowledgement]) -> str | None:
    """What the start waits for from a clinician (PHQ-9 item 9 first, then the baseline BP),
    or None when it may start."""
    acks = list(acknowledgements)
    return phq9_hold(flags, acks) or baseline_bp_hold(flags, acks)


def _choices(action: str) -> list[str]:
    """The choices joined into one stored action text ("Assessed by clinician; Safety …")."""
    return [part.strip() for part in action.split(";") if part.strip()]


def baseline_question(missing: Sequence[str]) -> str:
    """The confirmation asked before starting without a complete baseline."""
    return f"No baseline {_listed(missing)} recorded. Start the infusion without it?"


def _listed(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
