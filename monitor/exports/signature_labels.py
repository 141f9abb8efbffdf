"""How a session's e-signatures are listed: the discharge's own apart from the others.

A critical flag's acknowledgement, or a void or amendment that closed a critical flag, is an
e-signature too, but not a discharge sign-off: the discharge panel and the report list those
under "Other e-signatures", each with its meaning. A signature is ``valid`` while what was
entered up to its time is unchanged (:func:`monitor.service.guard.signed_content_hash`); for a
discharge sign-off a change means the sign-off is superseded, for the others it says that
the record before them changed since.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.service.views import MEANING_DISCHARGE, MEANING_OVERRIDE, SignatureInfo

#: The meanings that sign the discharge itself.
DISCHARGE_MEANINGS = frozenset({MEANING_DISCHARGE, MEANING_OVERRIDE})
DISCHARGE_HEADING = "Discharge e-signatures"
OTHER_HEADING = "Other e-signatures"
SUPERSEDED = "SUPERSEDED: the record changed after signing"
CHANGED_SINCE = "the record before it changed since"


def split_signatures(
    signatures: Iterable[SignatureInfo],
) -> tuple[tuple[SignatureInfo, ...], tuple[SignatureInfo, ...]]:
    """The discharge's signatures and the others, each in the order given."""
    given = tuple(signatures)
    return (tuple(s for s in given if s.meaning in DISCHARGE_MEANINGS),
            tuple(s for s in given if s.meaning not in DISCHARGE_MEANINGS))


def validity(signature: SignatureInfo) -> str:
    """"valid", or what a change since means for this kind of signature."""
    if signature.valid:
        return "valid"
    return SUPERSEDED if signature.meaning in DISCHARGE_MEANINGS else CHANGED_SINCE


def meaning_words(signature: SignatureInfo) -> str:
    """The meaning as a heading word: "Critical flag closed by voiding its reading"."""
    return signature.meaning[:1].upper() + signature.meaning[1:]
