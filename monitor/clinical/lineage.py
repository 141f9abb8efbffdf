"""Which entry replaced which, and which were voided: the lineage of a session's entries.

The record is never edited in place (product brief, "Records"): a wrong entry is *voided*
with a reason, or a reading is *amended* — a new reading replaces it, with a reason — and the
old entry stays in the record, superseded. Each correction links two entries at most: the
entry it corrects (its target) and, for an amendment, the reading that replaced it. A reading
amended twice is a line of three readings; an amendment voided later ends its line with no
entry in effect.

:func:`lineage` follows those links once, so that the chart history, the chart and the session
report say the same thing of every entry (:class:`Standing`) and name the same correction for
it. A correction is taken as plain values — the target's id, the action, the replacement's id —
from any object that carries them (:class:`CorrectionLink`); the caller gets its own object back,
with whatever else it holds (reason, who, when).

Pure functions of those values: no database, no Qt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

#: What a correction did: took the entry back, or replaced a reading with corrected values.
VOID = "void"
AMEND = "amend"

#: How a superseded entry is marked, by what superseded it.
CORRECTION_WORDS: Mapping[str, str] = {VOID: "VOIDED", AMEND: "AMENDED"}


class CorrectionLink(Protocol):
    """The links a correction makes: the entry corrected, how, and what replaced it."""

    @property
    def target_id(self) -> uuid.UUID: ...

    @property
    def action(self) -> str: ...

    @property
    def replacement_id(self) -> uuid.UUID | None: ...


class Standing(StrEnum):
    """How an entry stands in the record."""

    #: In effect, as it was first entered.
    ENTERED = "entered"
    #: In effect, and replacing an earlier reading.
    AMENDMENT = "amendment"
    #: Superseded: an amendment replaced it (an amendment amended again is this too).
    AMENDED = "amended"
    #: Superseded: taken back with a reason, nothing in its place.
    VOIDED = "voided"

    @property
    def in_effect(self) -> bool:
        return self in (Standing.ENTERED, Standing.AMENDMENT)


def correction_word(action: str) -> str:
    """"AMENDED" or "VOIDED": how an entry superseded by ``action`` is marked."""
    return CORRECTION_WORDS.get(action, CORRECTION_WORDS[VOID])


C = TypeVar("C", bound=CorrectionLink)


@dataclass(frozen=True)
class Lineage(Generic[C]):
    """A session's corrections, looked up by the entry they superseded and by the entry
    they brought in. Build it with :func:`lineage`."""

    #: Entry id → the correction that superseded it (one at most: the record allows one).
    by_target: Mapping[uuid.UUID, C]
    #: Replacement reading id → the amendment that brought it in.
    by_replacement: Mapping[uuid.UUID, C]

    def correction(self, entry_id: uuid.UUID) -> C | None:
        """The correction that voided or amended ``entry_id``, or ``None`` while it stands."""
        return self.by_target.get(entry_id)

    def amendment(self, entry_id: uuid.UUID) -> C | None:
        """The amendment whose replacement ``entry_id`` is, or ``None`` for an entry as
        first entered."""
        return self.by_replacement.get(entry_id)

    def replacement(self, entry_id: uuid.UUID) -> uuid.UUID | None:
        """The reading that replaced ``entry_id``, or ``None`` when none did."""
        correction = self.by_target.get(entry_id)
        return None if correction is None else correction.replacement_id

    def standing(self, entry_id: uuid.UUID) -> Standing:
        correction = self.by_target.get(entry_id)
        if correction is not None:
            return Standing.AMENDED if correction.action == AMEND else Standing.VOIDED
        if entry_id in self.by_replacement:
            return Standing.AMENDMENT
        return Standing.ENTERED

    def first_entered(self, entry_id: uuid.UUID) -> uuid.UUID:
        """The entry first entered of the line of amendments ``entry_id`` belongs to."""
        seen = {entry_id}
        while (amendment := self.by_replacement.get(entry_id)) is not None:
            entry_id = amendment.target_id
            if entry_id in seen:  # a loop the record forbids; stop rather than spin
                break
            seen.add(entry_id)
        return entry_id

    def line(self, entry_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
        """Every entry of ``entry_id``'s line, first entered first, through each amendment
        to the last (in effect, or voided)."""
        line = [self.first_entered(entry_id)]
        while (after := self.replacement(line[-1])) is not None and after not in line:
            line.append(after)
        return tuple(line)

    def in_effect(self, entry_id: uuid.UUID) -> uuid.UUID | None:
        """The entry that stands for ``entry_id`` now: itself, the last amendment of it, or
        ``None`` when its line ends in a void."""
        last = self.line(entry_id)[-1]
        return last if self.standing(last).in_effect else None


def lineage(corrections: Iterable[C]) -> Lineage[C]:
    """The lineage the ``corrections`` of one session make."""
    by_target: dict[uuid.UUID, C] = {}
    by_replacement: dict[uuid.UUID, C] = {}
    for correction in corrections:
        by_target[correction.target_id] = correction
        if correction.replacement_id is not None:
            by_replacement[correction.replacement_id] = correction
    return Lineage(by_target, by_replacement)
