"""Chart history: every reading and event of a session, its corrections, and the way to make one.

The record is never edited in place (product brief, "Records"): a wrong entry is *voided*
with a reason, or a reading is *amended* (a new reading replaces it, with a reason), and the
old entry stays in the history, marked as such, with who corrected it and when.

:mod:`.entries` words each entry and what became of it; :mod:`.model` is the table over them
and paints its rows; :mod:`.panel` is the touch list with "Void…" and "Amend…";
:mod:`.dialogs` asks why an entry is voided, and :mod:`.amend` corrects a reading's values.
"""
