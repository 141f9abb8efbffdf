"""Filing the monitor feed: bindings, every observation kept, device readings confirmed or
discarded, on both backends; the full path over a real loopback MLLP server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitor.clinical.permissions import PermissionDenied
from monitor.feed.filing import FeedError, FeedFiling
from monitor.feed.interpret import FeedHandler, interpret
from monitor.feed.mllp import MllpServer, send_messages
from monitor.feed.receiver import FilingReceiver
from monitor.feed.simulate import SimulatedMonitor
from monitor.service.views import InvalidEntryError
from monitor.storage.model import AuditLog, DeviceReading, FeedBinding, ReadingRow

from .samples import UTC_ZONE

DEVICE = "0012A3FFFE4B5C6D"
OTHER = "0012A3FFFE4B5C6E"
MRN = "MRN-0001"
TIMEOUT = 20.0


def _dtm(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+0000"


def message(at: datetime, *, device: str = DEVICE, bed: str = "CHAIR1", mrn: str | None = MRN,
            nibp: tuple[int, int] | None = None, nibp_at: datetime | None = None,
            hr: int = 72, spo2: int = 97, rr: int = 14, control: str = "1") -> bytes:
    """An ORU^R01 as a monitor sends it, with an NIBP when ``nibp`` is given."""
    obx = [("147842", "MDC_ECG_HEART_RATE", hr, "264864^MDC_DIM_BEAT_PER_MIN^MDC", at),
           ("150456", "MDC_PULS_OXIM_SAT_O2", spo2, "262688^MDC_DIM_PERCENT^MDC", at),
           ("151562", "MDC_RESP_RATE", rr, "264928^MDC_DIM_RESP_PER_MIN^MDC", at)]
    if nibp is not None:
        taken = nibp_at or at
        obx += [("150021", "MDC_PRESS_BLD_NONINV_SYS", nibp[0], "266016^MDC_DIM_MMHG^MDC", taken),
                ("150022", "MDC_PRESS_BLD_NONINV_DIA", nibp[1], "266016^MDC_DIM_MMHG^MDC", taken)]
    lines = [f"MSH|^~\\&|Mon^{device}^EUI-64|ChairSide|||{_dtm(at)}||ORU^R01^ORU_R01|{control}"
             "|P|2.6|||NE|AL||UNICODE UTF-8"]
    if mrn:
        lines.append(f"PID|||{mrn}^^^Clinic^MR||Doe^Jane")
    lines.append(f"PV1||O|INFUSION^^{bed}")
    lines.append(f"OBR|1|{control}^Mon^{device}^EUI-64||182777000^monitoring^SCT|||{_dtm(at)}")
    for n, (code, refid, value, unit, when) in enumerate(obx, 1):
        lines.append(f"OBX|{n}|NM|{code}^{refid}^MDC|1.1.1.{n}|{value}|{unit}|||||R|||"
                     f"{_dtm(when)}||||{device}^^{device}^EUI-64")
    return ("\r".join(lines) + "\r").encode()


@pytest.fixture
def admin(service):
    return service.ensure_staff("Ada Admin", "admin")


@pytest.fixture
def filing(service):
    return FeedFiling(service)


@pytest.fixture
def session_id(service, nurse, clock):
    patient = service.add_patient(MRN, by=nurse, name="Jane Doe")
    return service.start_session(patient.id, by=nurse, chair="1", weight_kg=70.0)


def file_at(filing, clock, raw: bytes):
    return filing.file(interpret(raw, received_at=clock.now(), zone=UTC_ZONE), clock.now())


def statuses(filing) -> list[tuple[str, str]]:
    return [(o.measure, o.status) for o in filing.observations()]


def test_an_nibp_from_a_bound_monitor_waits_for_the_nurse_then_files_with_its_flag(
        service, filing, admin, nurse, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=5))
    filed = file_at(filing, clock, message(clock.now(), nibp=(190, 95), hr=88))
    assert filed.chair == "1"
    assert len(filed.device_readings) == 1
    [pending] = filing.pending(session_id)
    assert pending.values == {"sbp": 190, "dbp": 95, "hr": 88, "spo2": 97, "rr": 14}
    assert service.load(session_id).record.readings == ()  # nothing counts before confirming

    saved = filing.confirm(pending.id, by=nurse)

    assert saved.id == pending.reading_id
    assert {f.key for f in saved.new_flags} >= {"bp-high"}
    view = service.load(session_id)
    [reading] = view.record.readings
    assert (reading.sbp, reading.dbp, reading.hr) == (190, 95, 88)
    # The record knows the reading came from the monitor (the chart and exports mark it).
    assert reading.device == DEVICE
    assert filing.pending(session_id) == []
    assert {s for _, s in statuses(filing)} == {"filed"}
    with service.store.read() as db:
        row = db.execute(select(DeviceReading)).scalar_one()
        assert (row.status, row.decided_by, row.message_id) == ("confirmed", nurse, "1")
        assert db.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.record_kind == "device_reading", AuditLog.action == "confirm")).scalar() == 1
    with pytest.raises(FeedError, match="already confirmed"):
        filing.confirm(pending.id, by=nurse)


def test_a_device_reading_waiting_for_the_nurse_is_audited_and_announced_as_a_reading(
        service, filing, admin, session_id, clock):
    from monitor.storage.changes.kinds import ChangeKind, kind_of  # noqa: PLC0415

    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=5))
    file_at(filing, clock, message(clock.now(), nibp=(150, 90), hr=80))
    [pending] = filing.pending(session_id)
    [entry] = [e for e in service.audit_entries(by=admin, action="receive",
                                                 session_id=session_id)
               if e.record_kind == "device_reading"]
    assert (entry.record_kind, entry.record_id, entry.staff_id) == (
        "device_reading", pending.id, None)
    assert entry.new is not None
    assert (entry.new["sbp"], entry.new["dbp"], entry.new["message_id"]) == (150, 90, "1")
    # Every tablet's open session screen reloads on it, as on a typed reading.
    assert kind_of("receive", "device_reading") is ChangeKind.READING


def test_a_repeated_nibp_is_one_observation_and_one_device_reading(
        filing, admin, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    taken = clock.now() + timedelta(minutes=1)
    clock.advance(timedelta(minutes=1))
    file_at(filing, clock, message(clock.now(), nibp=(128, 80), control="1"))
    clock.advance(timedelta(minutes=1))
    again = file_at(filing, clock, message(clock.now(), nibp=(128, 80), nibp_at=taken,
                                           control="2"))
    assert again.device_readings == ()
    assert again.statuses["duplicate"] == 2
    assert len(filing.pending(session_id)) == 1


def test_a_message_for_another_patient_is_held_and_nothing_is_filed(
        filing, admin, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    filed = file_at(filing, clock, message(clock.now(), nibp=(130, 80), mrn="MRN-9999"))
    assert filed.device_readings == ()
    assert set(filed.statuses) == {"held"}
    held = filing.observations()[0]
    assert "not the patient of the session on chair 1" in held.reason
    assert filing.pending(session_id) == []


def test_observations_of_an_unbound_monitor_are_kept_and_never_filed(
        filing, admin, session_id, clock):
    clock.advance(timedelta(minutes=1))
    filed = file_at(filing, clock, message(clock.now(), nibp=(130, 80)))
    assert set(filed.statuses) == {"unbound"}
    assert filed.device_readings == ()
    assert len(filing.observations(device=DEVICE)) == 5
    [device] = filing.devices()
    assert (device.eui64, device.chair, device.last_message_at) == (DEVICE, None, clock.now())


def test_unbinding_keeps_the_binding_with_its_end_time(service, filing, admin, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    filing.bind("1", device=OTHER, by=admin)  # the chair's earlier monitor is unbound
    assert filing.unbind(device=OTHER, by=admin) == 1
    with service.store.read() as db:
        rows = db.execute(select(FeedBinding).order_by(FeedBinding.bound_at)).scalars().all()
        assert [(r.device_key, r.unbound_at is not None) for r in rows] == [
            (DEVICE, True), (OTHER, True)]
        actions = db.execute(select(AuditLog.action).where(
            AuditLog.record_kind == "monitor").order_by(AuditLog.seq)).scalars().all()
        assert actions == ["bind", "bind", "unbind"]
    assert all(d.chair is None for d in filing.devices())


def test_only_an_admin_binds_and_only_a_nurse_or_clinician_confirms(
        filing, admin, nurse, session_id, clock):
    with pytest.raises(PermissionDenied):
        filing.bind("1", device=DEVICE, by=nurse)
    with pytest.raises(FeedError, match="--device"):
        filing.bind("1", device="not-an-eui", by=admin)
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    file_at(filing, clock, message(clock.now(), nibp=(130, 80)))
    [pending] = filing.pending(session_id)
    with pytest.raises(PermissionDenied):
        filing.confirm(pending.id, by=admin)


def test_a_discarded_device_reading_keeps_its_reason_and_files_nothing(
        service, filing, admin, nurse, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    file_at(filing, clock, message(clock.now(), nibp=(260, 150)))
    [pending] = filing.pending(session_id)
    with pytest.raises(InvalidEntryError):
        filing.discard(pending.id, "", by=nurse)
    filing.discard(pending.id, "artefact", by=nurse)
    [gone] = filing.device_readings(session_id)
    assert (gone.status, gone.reason) == ("discarded", "artefact")
    assert service.load(session_id).record.readings == ()
    with service.store.read() as db:
        assert db.execute(select(func.count()).select_from(ReadingRow)).scalar() == 0


def test_auto_accept_files_at_once_as_the_feed(service, filing, admin, session_id, clock,
                                               monkeypatch):
    monkeypatch.setattr(FeedFiling, "_auto_accept", lambda self, db, sid: True)
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    file_at(filing, clock, message(clock.now(), nibp=(130, 80)))
    assert filing.pending(session_id) == []
    [auto] = filing.device_readings(session_id)
    assert auto.status == "auto"
    [reading] = service.load(session_id).record.readings
    assert reading.from_monitor
    assert reading.device == DEVICE


def test_a_frame_over_loopback_becomes_a_pending_device_reading(
        filing, admin, session_id, clock):
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    receiver = FilingReceiver(FeedHandler(clock, UTC_ZONE), filing)

    async def main() -> list[bytes]:
        server = MllpServer(receiver, receiver.reject)
        _, port = await server.start()
        try:
            return [ack async for ack in send_messages(
                "127.0.0.1", port, [message(clock.now(), nibp=(150, 90))], timeout=TIMEOUT)]
        finally:
            await server.close()

    acks = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
    receiver.join()
    receiver.close()
    assert b"MSA|AA|1" in acks[0]
    [pending] = filing.pending(session_id)
    assert pending.values["sbp"] == 150


def test_four_monitors_for_ten_minutes_file_every_reading_once(
        service, filing, admin, nurse, clock):
    chairs = ["1", "2", "3", "4"]
    monitors = []
    for n, chair in enumerate(chairs):
        device = f"0012A3FFFE4B5C7{n}"
        filing.bind(chair, device=device, by=admin)
        patient = service.add_patient(f"MRN-{n}", by=nurse)
        service.start_session(patient.id, by=nurse, chair=chair)
        monitors.append(SimulatedMonitor(chair=chair, device=device, seed=n))
    start = clock.now() + timedelta(seconds=1)
    clock.advance(timedelta(minutes=11))  # messages arrive late; received in one burst
    receiver = FilingReceiver(FeedHandler(clock, UTC_ZONE), filing)

    async def one_monitor(port: int, monitor: SimulatedMonitor) -> int:
        frames = [monitor.message(start + timedelta(seconds=s)) for s in range(600)]
        return sum([1 async for _ in send_messages("127.0.0.1", port, frames, timeout=TIMEOUT)])

    async def main() -> list[int]:
        server = MllpServer(receiver, receiver.reject, listener=lambda event: None)
        _, port = await server.start()
        try:
            return list(await asyncio.gather(*(one_monitor(port, m) for m in monitors)))
        finally:
            await server.close()

    assert asyncio.run(asyncio.wait_for(main(), 120)) == [600] * 4
    receiver.join()
    receiver.close()
    with service.store.read() as db:
        readings = db.execute(select(DeviceReading.chair, func.count()).group_by(
            DeviceReading.chair)).all()
    # An NIBP at 0 and at 5 minutes on each monitor, each repeated in 599 later messages.
    assert dict(readings) == dict.fromkeys(chairs, 2)
    counts: dict[str, int] = {}
    for observation in filing.observations(limit=100_000):
        counts[observation.status] = counts.get(observation.status, 0) + 1
    assert counts["duplicate"] == 4 * 3 * (600 - 2)
    assert sum(counts.values()) == 4 * 600 * 7


def test_an_unknown_device_reading_is_refused(filing, nurse):
    from monitor.service.views import NotFoundError  # noqa: PLC0415

    with pytest.raises(NotFoundError):
        filing.confirm(uuid.uuid4(), by=nurse)


def test_an_auto_accepted_reading_the_record_refuses_waits_for_the_nurse(
        service, filing, admin, nurse, session_id, clock, monkeypatch):
    monkeypatch.setattr(FeedFiling, "_auto_accept", lambda self, db, sid: True)
    filing.bind("1", device=DEVICE, by=admin)
    clock.advance(timedelta(minutes=1))
    ahead = clock.now() + timedelta(seconds=20)  # the monitor's clock runs ahead
    file_at(filing, clock, message(ahead, nibp=(130, 80)))
    [waiting] = filing.pending(session_id)
    assert waiting.reason.startswith("not auto-accepted: time:")
    assert service.load(session_id).record.readings == ()
    clock.advance(timedelta(minutes=1))
    filing.confirm(waiting.id, by=nurse)
    assert len(service.load(session_id).record.readings) == 1
