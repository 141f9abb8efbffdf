"""The service called from several threads at once (the app's database worker, a screen
still reading in the GUI thread, a background drain): every load gives the session whole
and never older than one before it, the kept evaluations included."""

from __future__ import annotations

import threading
from datetime import timedelta

from monitor.clinical.domain import EventKind

BASELINE = {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98", "rr": "14", "cadss6": "0",
            "moaas": "5"}
READERS = 4
LOADS = 25
SAVES = 10
WAIT_S = 120.0


def test_loads_from_several_threads_while_saving_keep_every_view_whole(service, nurse, clock):
    sessions = []
    for chair in ("1", "2"):
        patient = service.add_patient(f"MRN-T{chair}", by=nurse, name="Pat Example",
                                      weight_kg=70)
        session_id = service.start_session(patient.id, by=nurse, chair=chair)
        service.record_reading(session_id, BASELINE, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
        sessions.append(session_id)
    failures: list[BaseException] = []
    seen: dict[int, dict[object, list[int]]] = {}

    def read(n: int) -> None:
        counts: dict[object, list[int]] = {s: [] for s in sessions}
        try:
            for i in range(LOADS):
                session_id = sessions[(n + i) % 2]
                view = service.load(session_id)
                assert view.info.id == session_id
                counts[session_id].append(len(view.record.readings))
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            failures.append(exc)
        seen[n] = counts

    readers = [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    for reader in readers:
        reader.start()
    for _ in range(SAVES):
        clock.advance(timedelta(minutes=1))
        for session_id in sessions:
            service.record_reading(session_id, {"hr": "80"}, by=nurse)
    for reader in readers:
        reader.join(WAIT_S)
    assert failures == []
    assert len(seen) == READERS
    for counts in seen.values():
        for observed in counts.values():
            assert observed == sorted(observed)  # never older than a load before it
            assert all(1 <= c <= 1 + SAVES for c in observed)
    for session_id in sessions:
        assert len(service.load(session_id).record.readings) == 1 + SAVES
