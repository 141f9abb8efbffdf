"""Saved or NOT saved, said truthfully after the link dropped around COMMIT.

A save that lost the server during its COMMIT (:class:`OutcomeUnknownError`) may or may
not be stored. Every entry carries an id the tablet made before the first attempt, so the
server can be asked: stored, it is Saved; not stored, it is NOT saved and nothing was
recorded; the server still out of reach, it is not known — and retrying under the same id
cannot store it twice. Nothing here says "Nothing was recorded" unless the server said so.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from monitor.storage.store import StorageError

#: What the nurse is told when the server has no record of the entry.
NOT_STORED = ("NOT saved: the connection was lost while saving and the database has no "
              "record of it.")
#: What the nurse is told while the server still cannot be asked.
UNKNOWN = ("Not known whether saved: the connection was lost while saving. Retry when the "
           "database is back; retrying will not record it twice.")


class Verdict(enum.Enum):
    SAVED = "saved"
    NOT_SAVED = "not saved"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Settled:
    """The answer about one entry: the verdict and the words for the nurse ("" if Saved)."""

    verdict: Verdict
    message: str


def settle(stored: Callable[[str, uuid.UUID], bool], kind: str,
           record_id: uuid.UUID) -> Settled:
    """Ask ``stored`` (:meth:`monitor.service.loading.Loading.stored`) whether the entry
    ``record_id`` of ``kind`` is on the server, after its save's outcome was unknown."""
    try:
        if stored(kind, record_id):
            return Settled(Verdict.SAVED, "")
    except StorageError:
        return Settled(Verdict.UNKNOWN, UNKNOWN)
    return Settled(Verdict.NOT_SAVED, NOT_STORED)
