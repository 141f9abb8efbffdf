"""Corrections asked at one chair: an entry voided, a reading amended, each with a reason.

Nothing is deleted or overwritten: the service records the correction beside the entry it
replaces. A correction that closes an open critical flag is an e-signature, asked for first
(:class:`~ui.session.signing.Signing`); each correction keeps its id until it is saved or
refused, so a retry records it once, and is said "Voided" or "Amended" only once committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from ui.common.signature import AMEND_CRITICAL_MEANING, VOID_CRITICAL_MEANING
from ui.session.link import Answer, Finished, SessionLink
from ui.session.signing import Signing


class Corrections:
    """Voids and amendments of one session's entries, through its ``link``; the
    signatures they need through ``signing``."""

    def __init__(self, link: SessionLink, signing: Signing) -> None:
        self.link = link
        self.signing = signing

    def void(self, target_kind: str, target_id: uuid.UUID, reason: str,
             pin: str | None = None, *, finished: Finished | None = None) -> bool:
        """Void an entry; when that closes an open critical flag, the void is an
        e-signature and asks for it (:attr:`signatureNeeded`) first."""
        link = self.link
        cid = link._entry_id("correction", target_kind, target_id, reason)
        answer = Answer(finished)
        session_id, by = link.session_id, link.staff_id

        def done(result: uuid.UUID | None) -> None:
            if result is None and not link._stored_after_all:
                answer(False)
                return
            if link._last is not None and link._last.id == target_id:
                link._last = None
                link.undoAvailable.emit("")
            link._done(f"Voided {target_kind}")
            answer(True)

        def sign() -> None:
            self.signing.ask(
                "Void reading behind a critical flag",
                VOID_CRITICAL_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.void(target_kind, target_id, reason, p, finished=fin))
            answer(False)

        link._attempt(lambda: link.service.void(
            session_id, target_kind, target_id, reason=reason, by=by,
            pin=pin, correction_id=cid,
        ), done, signature=sign if pin is None else None, entry=("correction", cid))
        return answer.value

    def amend_reading(
        self,
        target_id: uuid.UUID,
        raw: Mapping[str, Any],
        reason: str,
        confirmed: Collection[str] = (),
        pin: str | None = None,
        *,
        finished: Finished | None = None,
    ) -> bool:
        """Amend a reading; its note is carried over to the replacement. When that closes
        an open critical flag, the amendment is signed (:attr:`signatureNeeded`) first."""
        link = self.link
        readings = link.view.record.readings if link.view is not None else ()
        original = next((r for r in readings if r.id == target_id), None)
        note = original.note if original is not None else ""
        cid = link._entry_id("correction", "amend", target_id, repr(dict(raw)), reason,
                             tuple(confirmed))
        answer = Answer(finished)
        session_id, by = link.session_id, link.staff_id

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(link._saved_after_all("Amended reading"))
                return
            link._done("Amended reading")
            answer(True)

        def sign() -> None:
            self.signing.ask(
                "Amend reading behind a critical flag",
                AMEND_CRITICAL_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.amend_reading(target_id, raw, reason, confirmed, p,
                                                  finished=fin))
            answer(False)

        link._attempt(lambda: link.service.amend_reading(
            session_id, target_id, raw, reason=reason, by=by,
            confirmed=confirmed, note=note, pin=pin, correction_id=cid,
        ), done, signature=sign if pin is None else None, entry=("correction", cid))
        return answer.value
