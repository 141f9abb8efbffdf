"""The e-signatures asked at one chair, and the discharge signed with one.

An action that is an e-signature (a critical flag's acknowledgement, a correction behind
one, the discharge) is recorded only once its signer has given the PIN again:
:meth:`Signing.ask` announces the request (``signatureNeeded``) and records nothing yet.
:meth:`Signing.sign_discharge` is the nurse's sign-off, :meth:`Signing.override_discharge`
a clinician's override with a written reason; both say so only once committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ui.common.signature import DISCHARGE_MEANING, OVERRIDE_MEANING, SignatureRequest
from ui.session.link import Answer, Finished, SessionLink


class Signing:
    """The signature requests and the discharge of one session, through its ``link``."""

    def __init__(self, link: SessionLink) -> None:
        self.link = link

    def ask(self, title: str, meaning: str,
            signed: Callable[[str, Finished | None], bool]) -> bool:
        """Announce that ``signed(pin, finished)`` needs the signer's PIN; nothing is
        recorded yet. The request's ``submit`` answers at once (the inline worker); its
        ``start`` tells the dialog when the outcome arrives (a background worker)."""
        link = self.link

        def submit(pin: str) -> str | None:
            return None if signed(pin, None) else (link.last_refusal or "Not signed")

        def start(pin: str, reply: Callable[[str | None], None]) -> None:
            signed(pin, lambda ok: reply(None if ok else (link.last_refusal or "Not signed")))

        link.signatureNeeded.emit(SignatureRequest(title, meaning, submit, start,
                                                   final=lambda: link.refused_as_done))
        return False

    def sign_discharge(self, pin: str | None = None, *,
                       finished: Finished | None = None) -> bool:
        """Sign the discharge: without ``pin``, the signature is asked for first."""
        if pin is None:
            return self.ask(
                "Sign discharge", DISCHARGE_MEANING,
                lambda p, fin: self.sign_discharge(p, finished=fin))
        link = self.link
        session_id, by = link.session_id, link.staff_id
        return self._discharge(
            lambda: link.service.sign_discharge(session_id, by=by, pin=pin),
            "Discharge signed", finished)

    def override_discharge(self, reason: str, pin: str | None = None, *,
                           finished: Finished | None = None) -> bool:
        """A clinician's override: without ``pin``, the signature is asked for first."""
        if pin is None:
            return self.ask(
                "Discharge with override", OVERRIDE_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.override_discharge(reason, p, finished=fin))
        link = self.link
        session_id, by = link.session_id, link.staff_id
        return self._discharge(
            lambda: link.service.override_discharge(session_id, reason=reason, by=by, pin=pin),
            "Discharge override recorded", finished)

    def _discharge(self, sign: Callable[[], uuid.UUID], text: str,
                   finished: Finished | None) -> bool:
        """Record a signed discharge (``sign``) and say ``text`` once it is committed."""
        answer = Answer(finished)

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(False)
                return
            self.link._done(text)
            answer(True)

        self.link._attempt(sign, done)
        return answer.value
