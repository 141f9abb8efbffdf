"""What a check-in hands to the service, the medications it asks about, and how its numbers
are written.

No Qt here: :class:`CheckIn` and :class:`NewPatient` are what the check-in screen emits, and
``main`` passes them to the service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from monitor.clinical.dosing import DosePlan

#: The concomitant medications asked about: (key in ``CheckIn.medications``, question, what
#: a "yes" means for the nurse). The first four are the esketamine REMS form's questions;
#: the notes follow the Spravato label (CNS depressants deepen sedation; psychostimulants
#: and MAOIs raise blood pressure) and the product brief (SSRIs/SNRIs: closer BP watch).
MEDICATIONS: tuple[tuple[str, str, str], ...] = (
    ("benzodiazepines", "Benzodiazepines", "may deepen sedation"),
    ("non_benzodiazepine_sedative_hypnotics", "Non-benzodiazepine sedative hypnotics",
     "may deepen sedation"),
    ("psychostimulants", "Psychostimulants", "may raise blood pressure"),
    ("maois", "MAOIs", "may raise blood pressure"),
    ("ssris_snris", "SSRIs / SNRIs", "closer BP watch"),
)


@dataclass(frozen=True)
class NewPatient:
    """A patient not yet on file, as entered at check-in (already validated)."""

    mrn: str
    name: str
    date_of_birth: date


@dataclass(frozen=True)
class CheckIn:
    """Everything the check-in screen gathered, validated, ready for the service.

    ``patient`` is the id of a patient on file or a :class:`NewPatient` to add first.
    ``medications`` maps each key of :data:`MEDICATIONS` to the answer (read-only).
    ``plan`` is the dose plan shown to the nurse when she tapped "Check in".
    """

    chair: str
    patient: uuid.UUID | NewPatient
    profile: str
    weight_kg: float
    mg_per_kg: float
    minutes: int
    bag_volume_ml: float
    plan: DosePlan
    lot_number: str
    medications: Mapping[str, bool]
    escort_name: str
    phq9_items: tuple[int, ...] | None = None
    gad7_items: tuple[int, ...] | None = None


def number_text(value: float, places: int = 3) -> str:
    """``35`` for 35.0, ``0.875``, ``1.313`` for 1.3125: at most ``places`` decimals shown."""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
