"""The discharge sign-off as a record: what was signed, and what it closes.

A signed discharge (the nurse's sign-off or a clinician's override) closes the session to new
entries at the chair; a clinician may still add an entry after it, with a reason, and such an
entry is marked as made after sign-off wherever it is shown. The discharge criteria and
scores the signer saw are stored with the signing event (:func:`assessment_data`), and the
record shows them as they stood then (:func:`signed_assessment`), never re-assessed with
what was entered later.

Pure functions of the record: no database, no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.clinical.domain import (
    Criterion,
    DischargeAssessment,
    Event,
    EventKind,
    Reading,
    Score,
    ScoreItem,
    SessionRecord,
    clock_time,
)

#: Events that sign the discharge off, and so close the session.
CLOSING_EVENTS = frozenset({EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE})

#: A reason for an entry after sign-off must say something (characters, after trimming).
MIN_AFTER_SIGNOFF_REASON = 5

#: How the reason is kept with the entry (its note, or an event's detail).
AFTER_SIGNOFF_PREFIX = "Entered after sign-off: "


@dataclass(frozen=True)
class SignOff:
    """The discharge sign-off that closed the session."""

    time: datetime
    by: str
    override: bool

    @property
    def words(self) -> str:
        """"discharge signed 12:21 by Ana Ruiz" (or "discharged by clinician override …")."""
        what = "discharged by clinician override" if self.override else "discharge signed"
        return f"{what} {clock_time(self.time)} by {self.by or 'name not recorded'}"

    def closed_text(self) -> str:
        """Why the chair no longer takes entries, in the words the entry panel shows."""
        return (f"Session closed: {self.words}. Nothing more is entered at the chair; a "
                "clinician can add a late entry with a reason, shown as after sign-off.")


def closing_event(record: SessionRecord) -> Event | None:
    """The (first) event that signed the discharge off, if any."""
    return next((e for e in record.events if e.kind in CLOSING_EVENTS), None)


def sign_off(record: SessionRecord) -> SignOff | None:
    event = closing_event(record)
    if event is None:
        return None
    return SignOff(time=event.recorded_at or event.time, by=event.by,
                   override=event.kind is EventKind.DISCHARGE_OVERRIDE)


def after_signoff(entry: Reading | Event, signed: SignOff | None) -> bool:
    """Whether ``entry`` was entered after the discharge was signed (a signing event itself
    is not)."""
    if signed is None or entry.recorded_at is None:
        return False
    if isinstance(entry, Event) and entry.kind in CLOSING_EVENTS:
        return False
    return entry.recorded_at > signed.time


def after_signoff_note(reason: str, note: str = "") -> str:
    """The note (or event detail) an entry after sign-off carries: the reason first."""
    text = f"{AFTER_SIGNOFF_PREFIX}{reason.strip()}"
    return f"{text} · {note.strip()}" if note.strip() else text


def entered_by(record: SessionRecord, when: datetime) -> SessionRecord:
    """The record as staff could see it at ``when``: entries entered later are left out."""
    def seen(entry: Reading | Event) -> bool:
        return entry.time <= when and (entry.recorded_at is None or entry.recorded_at <= when)

    return SessionRecord(
        session_id=record.session_id,
        readings=tuple(r for r in record.readings if seen(r)),
        events=tuple(e for e in record.events if seen(e)),
        acknowledgements=tuple(a for a in record.acknowledgements if a.time <= when),
    )


# -- the assessment stored with the signing event ------------------------------------------


def assessment_data(assessment: DischargeAssessment, at: datetime) -> dict[str, Any]:
    """``assessment`` as JSON-ready data, to be stored with the signing event."""
    return {
        "assessed_at": at.isoformat(),
        "ready": assessment.ready,
        "criteria": [{"id": c.id, "met": c.met, "detail": c.detail}
                     for c in assessment.criteria],
        "would_have_been_ready_at": (assessment.would_have_been_ready_at.isoformat()
                                     if assessment.would_have_been_ready_at else None),
        "aldrete": _score_data(assessment.aldrete),
        "padss": _score_data(assessment.padss),
    }


def assessment_from(data: Mapping[str, Any]) -> tuple[DischargeAssessment, datetime] | None:
    """The assessment stored by :func:`assessment_data` and when it was made; None if the
    event holds none (signed before the assessment was kept)."""
    stored = data.get("assessment")
    if not isinstance(stored, Mapping):
        return None
    ready_at = stored.get("would_have_been_ready_at")
    assessment = DischargeAssessment(
        ready=bool(stored["ready"]),
        criteria=tuple(Criterion(id=c["id"], met=bool(c["met"]), detail=c["detail"])
                       for c in stored["criteria"]),
        would_have_been_ready_at=datetime.fromisoformat(ready_at) if ready_at else None,
        aldrete=_score_from(stored["aldrete"]),
        padss=_score_from(stored["padss"]),
    )
    return assessment, datetime.fromisoformat(stored["assessed_at"])


def _score_data(score: Score) -> dict[str, Any]:
    return {"name": score.name, "total": score.total, "max_total": score.max_total,
            "passing": score.passing,
            "items": [{"name": i.name, "points": i.points, "max_points": i.max_points,
                       "detail": i.detail, "assessed": i.assessed} for i in score.items]}


def _score_from(data: Mapping[str, Any]) -> Score:
    items: Sequence[Mapping[str, Any]] = data.get("items", ())
    return Score(name=data["name"], total=int(data["total"]), max_total=int(data["max_total"]),
                 passing=int(data["passing"]),
                 items=tuple(ScoreItem(name=i["name"], points=int(i["points"]),
                                       max_points=int(i["max_points"]), detail=i["detail"],
                                       assessed=bool(i.get("assessed", True)))
                             for i in items))
