"""What-if before going live: a period's sessions replayed under a draft protocol and compared
with the versions they ran under."""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from monitor.cli.main import main
from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.clinical.protocol import ProtocolError, load_draft, load_protocol
from monitor.demo import data as demo
from monitor.service.whatif import WhatIfResult, what_if
from monitor.storage import protocol_store
from monitor.storage.model import EventRow, ReadingRow, TreatmentSession
from monitor.storage.store import Store, open_store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEED = 7
SESSIONS = 150
#: The demo's blood-pressure course seldom passes 170 (the published +16 mmHg), so the
#: draft lowers the SBP warning limit further to reach enough sessions.
NEW_SBP_WARNING = 150
DRAFT_HEADER = ('[protocol]\nid = "iv_ketamine"\nname = "IV ketamine (draft)"\n'
                'version = "2.0-draft"\nextends = "iv_ketamine"\n')


def _draft(path: Path, body: str = "") -> Path:
    path.write_text(DRAFT_HEADER + body, encoding="utf-8")
    return path


def _sbp_draft(path: Path, limit: int = NEW_SBP_WARNING) -> Path:
    return _draft(path, "\n[bp]\nhigh_warning_sbp_at_or_above = "
                        f'{{ value = {limit}, unit = "mmHg", source = "draft" }}\n')


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Store:
    """A demo clinic of :data:`SESSIONS` sessions, shared by the tests that only read it."""
    path = tmp_path_factory.mktemp("whatif") / "clinic.sqlite3"
    store = open_store(f"sqlite:///{path}")
    demo.generate(store, sessions=SESSIONS, seed=SEED, clock_now=NOW)
    yield store
    store.close()


@pytest.fixture
def clinic_url(clinic) -> str:
    return clinic.url.render_as_string(hide_password=False)


# --- the independent expectation -----------------------------------------------------------


def _bp_high_firings(readings: list[Any], start: datetime | None, sbp_warning: int,
                     protocol: Any) -> set[tuple[datetime, int]]:
    """The (time, tier) of each ``bp-high`` flag, worked out here from the stored readings
    as rules.py documents the condition, independently of its code:

    * a reading's tier: SBP ≥ 200 or DBP ≥ 120 critical; "high" (SBP ≥ the warning limit or
      DBP ≥ 110) warning, critical when the previous BP reading was high too and at most
      the repeat window earlier; before the infusion start also the baseline tiers (160/100
      warning, 140/90 advisory);
    * an episode runs while readings are above normal; a flag fires when a reading's tier
      exceeds what the episode reached.

    Left out, since the demo data never meets them: an earlier flag still unacknowledged
    holding back a new episode's, and the overdue advisories (which can only differ where
    a bp-high tier does).
    """
    bp, base = protocol.bp, protocol.baseline_bp
    window = timedelta(minutes=bp.repeat_window_min)
    fired: set[tuple[datetime, int]] = set()
    previous_high_at: datetime | None = None
    reached = 0
    for reading in readings:
        sbp, dbp = reading.sbp or 0, reading.dbp or 0
        in_baseline = start is None or reading.time < start
        high = sbp >= sbp_warning or dbp >= bp.high_warning_dbp_at_or_above
        repeat = previous_high_at is not None and reading.time - previous_high_at <= window
        if (sbp >= bp.high_critical_sbp_at_or_above or dbp >= bp.high_critical_dbp_at_or_above
                or (high and repeat)):
            tier = 3
        elif high or (in_baseline and (sbp >= base.warning_sbp_at_or_above
                                       or dbp >= base.warning_dbp_at_or_above)):
            tier = 2
        elif in_baseline and (sbp >= base.advisory_sbp_at_or_above
                              or dbp >= base.advisory_dbp_at_or_above):
            tier = 1
        else:
            tier = 0
        if tier > reached:
            fired.add((reading.time, tier))
        reached = tier and max(reached, tier)
        previous_high_at = reading.time if high else None
    return fired


def _expected_changes(store: Store, sbp_warning: int) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """The sessions whose bp-high flags differ at ``sbp_warning`` instead of the protocol's
    180, and those with a reading between the two limits (changed or not)."""
    protocol = load_protocol("iv_ketamine")
    readings: dict[uuid.UUID, list[Any]] = defaultdict(list)
    starts: dict[uuid.UUID, datetime] = {}
    with store.read() as db:
        for row in db.execute(select(ReadingRow.session_id, ReadingRow.time, ReadingRow.sbp,
                                     ReadingRow.dbp)
                              .where((ReadingRow.sbp.is_not(None)) | (ReadingRow.dbp.is_not(None)))
                              .order_by(ReadingRow.time)):
            readings[row.session_id].append(row)
        for row in db.execute(select(EventRow.session_id, EventRow.time)
                              .where(EventRow.kind == EventKind.INFUSION_START.value)
                              .order_by(EventRow.time.desc())):
            starts[row.session_id] = row.time
    changed, between = set(), set()
    for session_id, rows in readings.items():
        start = starts.get(session_id)
        if any(sbp_warning <= (r.sbp or 0) < 180 for r in rows):
            between.add(session_id)
        if (_bp_high_firings(rows, start, 180, protocol)
                != _bp_high_firings(rows, start, sbp_warning, protocol)):
            changed.add(session_id)
    return changed, between


# --- the comparison ------------------------------------------------------------------------


def test_lower_sbp_warning_changes_exactly_the_sessions_the_readings_say(clinic, tmp_path):
    result = what_if(clinic, load_draft(_sbp_draft(tmp_path / "draft.toml")))
    expected, between = _expected_changes(clinic, NEW_SBP_WARNING)

    assert {c.session_id for c in result.changed} == expected
    # The data holds a case that makes the plain "a reading between the limits" wrong
    # (with this seed: a repeat within an episode that had reached critical already, so
    # the lower limit raises nothing new there).
    assert len(expected) >= 10
    assert between - expected
    for changed in result.changed:
        assert {f for f in changed.after if f[0] is not Measure.BP} \
            == {f for f in changed.before if f[0] is not Measure.BP} \
            or any(f[0] is Measure.OVERDUE for f in (*changed.before, *changed.after))
    assert result.flags_after[(Measure.BP, Severity.WARNING)] \
        > result.flags_before[(Measure.BP, Severity.WARNING)]
    assert result.warning_sessions_after > result.warning_sessions_before
    assert result.sessions == SESSIONS
    assert not result.cancelled
    for changed in result.changed:  # each side's flags in time order, as documented
        assert [f[2] for f in changed.after] == sorted(f[2] for f in changed.after)


def test_a_draft_that_changes_nothing_changes_no_session(clinic, tmp_path):
    result = what_if(clinic, load_draft(_draft(tmp_path / "same.toml")))

    assert result.sessions == SESSIONS
    assert result.changed == []
    assert result.flags_before == result.flags_after
    assert sum(result.flags_before.values()) > 0
    assert (result.ready_earlier, result.ready_later) == (0, 0)
    assert result.ready_minutes_before == result.ready_minutes_after
    assert len(result.ready_minutes_before) > SESSIONS // 2


def test_before_counts_match_the_flags_stored_while_the_sessions_ran(clinic, tmp_path):
    from monitor.storage.model import FlagRow  # noqa: PLC0415

    result = what_if(clinic, load_draft(_draft(tmp_path / "same.toml")))
    with clinic.read() as db:
        stored = db.execute(select(FlagRow.measure, FlagRow.severity)).all()
    assert sum(result.flags_before.values()) == len(stored)


def test_a_longer_minimum_stay_makes_sessions_ready_later_never_earlier(clinic, tmp_path):
    draft = _draft(tmp_path / "stay.toml", '\n[discharge]\nmin_observation_min = '
                                           '{ value = 180, unit = "min", source = "draft" }\n')
    result = what_if(clinic, load_draft(draft))

    assert result.changed == []
    assert result.ready_earlier == 0
    assert result.ready_later > 0
    assert min(result.ready_minutes_after) >= 180
    assert max(result.ready_minutes_before) < 180


def test_since_and_until_take_the_sessions_of_those_days(clinic, tmp_path):
    with clinic.read() as db:
        times = sorted(db.scalars(select(TreatmentSession.time)))
    middle = times[len(times) // 2].date()
    since, until = middle - timedelta(days=20), middle + timedelta(days=20)
    inside = [t for t in times if since <= t.date() <= until]
    assert 0 < len(inside) < len(times)

    result = what_if(clinic, load_draft(_draft(tmp_path / "same.toml")),
                     since=datetime.combine(since, datetime.min.time(), UTC),
                     until=datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC))
    assert result.sessions == len(inside)


def test_one_worker_and_two_give_the_same_answer(clinic, tmp_path):
    draft = load_draft(_sbp_draft(tmp_path / "draft.toml"))
    seen: list[tuple[int, int]] = []

    single = what_if(clinic, draft, workers=1, chunk_sessions=40)
    pooled = what_if(clinic, draft, workers=2, chunk_sessions=40,
                     progress=lambda done, total: seen.append((done, total)))

    assert pooled.to_json() == single.to_json()
    assert len(seen) == 4
    assert seen[-1] == (SESSIONS, SESSIONS)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_worker_processes_open_the_same_database_on_each_backend(store, tmp_path):
    demo.generate(store, sessions=40, seed=SEED, clock_now=NOW)
    draft = load_draft(_sbp_draft(tmp_path / "draft.toml"))

    single = what_if(store, draft, workers=1, chunk_sessions=10)
    pooled = what_if(store, draft, workers=2, chunk_sessions=10)

    assert single.sessions == 40
    assert pooled.to_json() == single.to_json()


def test_an_in_memory_database_is_evaluated_in_this_process(tmp_path):
    store = open_store("sqlite://")
    try:
        demo.generate(store, sessions=30, seed=SEED, clock_now=NOW)
        result = what_if(store, load_draft(_draft(tmp_path / "same.toml")), workers=2,
                         chunk_sessions=10)
    finally:
        store.close()
    assert result.sessions == 30


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_between_chunks_and_reports_what_was_done(clinic, tmp_path, workers):
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        cancel.set()

    result = what_if(clinic, load_draft(_draft(tmp_path / "same.toml")), workers=workers,
                     chunk_sessions=10, progress=progress, cancel=cancel)

    assert result.cancelled
    assert 10 <= result.sessions < SESSIONS
    assert result.sessions % 10 == 0
    assert result.to_json()["cancelled"] is True


def test_sessions_of_another_profile_are_skipped_and_counted(clinic, tmp_path):
    path = tmp_path / "rems.toml"
    path.write_text('[protocol]\nid = "esketamine_rems"\nname = "REMS draft"\n'
                    'version = "1.2-draft"\nextends = "esketamine_rems"\n', encoding="utf-8")
    result = what_if(clinic, load_draft(path))
    assert (result.profile, result.sessions, result.skipped_other_profiles) \
        == ("esketamine_rems", 0, SESSIONS)


# --- patient limits, corrections, versions ---------------------------------------------------


def _session_with_bp(service, nurse, clock, sbp_values: list[int]) -> uuid.UUID:
    patient = service.add_patient(f"MRN{uuid.uuid4().hex[:6]}", by=nurse, name="Test Person")
    session = service.start_session(patient.id, by=nurse)
    service.record_reading(session, {"sbp": "120", "dbp": "80", "hr": "70", "spo2": "98",
                                     "rr": "14"}, by=nurse)
    clock.advance(timedelta(minutes=1))
    service.record_event(session, EventKind.INFUSION_START, by=nurse)
    for sbp in sbp_values:
        clock.advance(timedelta(minutes=15))
        service.record_reading(session, {"sbp": str(sbp), "dbp": "80", "hr": "70",
                                         "spo2": "98", "rr": "14"}, by=nurse)
    return session


def test_the_patients_own_limit_stays_on_top_of_the_draft(service, nurse, clock, store,
                                                          tmp_path):
    own = _session_with_bp(service, nurse, clock, [165])
    other = _session_with_bp(service, nurse, clock, [165])
    with store.write() as db:  # the patient's own limit, as the session started with it
        db.execute(update(TreatmentSession).where(TreatmentSession.id == own).values(
            limit_overrides={"bp.high_warning_sbp_at_or_above": 190}))

    result = what_if(store, load_draft(_sbp_draft(tmp_path / "draft.toml", 160)))

    assert [c.session_id for c in result.changed] == [other]
    assert own not in {c.session_id for c in result.changed}


def test_a_patient_limit_the_draft_cannot_take_is_named_not_compared(service, nurse, clock,
                                                                    store, tmp_path):
    session = _session_with_bp(service, nurse, clock, [165])
    with store.write() as db:  # the patient's own limit, as the session started with it
        db.execute(update(TreatmentSession).where(TreatmentSession.id == session).values(
            limit_overrides={"bp.high_critical_sbp_at_or_above": 165}))

    seen: list[tuple[int, int]] = []
    result = what_if(store, load_draft(_sbp_draft(tmp_path / "draft.toml", 170)),
                     progress=lambda done, total: seen.append((done, total)))

    assert result.sessions == 0
    assert seen == [(1, 1)]
    assert [s for s, _ in result.refused] == [session]
    assert "bp.high_critical_sbp_at_or_above" in result.refused[0][1]


def test_a_session_whose_version_does_not_load_is_named_not_compared(
        service, nurse, clock, store, tmp_path, monkeypatch):
    session = _session_with_bp(service, nurse, clock, [165])

    def damaged(*_: object) -> None:
        raise ProtocolError("stored protocol iv_ketamine", "the stored content does not "
                                                           "match its SHA-256")

    monkeypatch.setattr(protocol_store.VersionCache, "protocol", damaged)
    result = what_if(store, load_draft(_draft(tmp_path / "same.toml")))

    assert result.sessions == 0
    assert result.refused == [(session, "stored protocol iv_ketamine: the stored content "
                                        "does not match its SHA-256")]


def test_a_voided_reading_is_not_replayed(service, nurse, clock, store, tmp_path):
    session = _session_with_bp(service, nurse, clock, [165])
    view = service.load(session)
    reading = max(view.record.readings, key=lambda r: r.time)
    service.void(session, "reading", reading.id, reason="wrong patient", by=nurse)

    result = what_if(store, load_draft(_sbp_draft(tmp_path / "draft.toml", 160)))

    assert result.sessions == 1
    assert result.changed == []


def test_before_is_judged_by_the_version_the_session_ran_under(service, nurse, clock, store,
                                                               tmp_path):
    """A session started under an earlier version keeps it: a draft equal to today's file
    still changes the session, since today's file is not what the session ran under."""
    session = _session_with_bp(service, nurse, clock, [165])
    # Today's file already warns at 160; the session ran under 180.
    directory = tmp_path / "protocols"
    directory.mkdir()
    for name in ("iv_ketamine", "esketamine_rems"):
        text = (Path(load_protocol(name).path or "")).read_text(encoding="utf-8")
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    path = directory / "iv_ketamine.toml"
    text = path.read_text(encoding="utf-8")
    assert "high_warning_sbp_at_or_above = { value = 180" in text
    path.write_text(text.replace("high_warning_sbp_at_or_above = { value = 180",
                                 "high_warning_sbp_at_or_above = { value = 160"),
                    encoding="utf-8")

    same_as_today = load_draft(_draft(tmp_path / "same.toml"), directory)
    result = what_if(store, same_as_today, protocol_dir=directory)

    assert [c.session_id for c in result.changed] == [session]


# --- the command line ------------------------------------------------------------------------


def test_cli_json_has_the_documented_keys(clinic_url, tmp_path, capsys):
    draft = _sbp_draft(tmp_path / "draft.toml")
    code = main(["protocol", "what-if", str(draft), "--json", "--workers", "1",
                 "--db", clinic_url])
    assert code == 0
    data = json.loads(capsys.readouterr().out)

    assert {"sessions", "flags_before", "flags_after", "changed_sessions", "ready_earlier",
            "ready_later", "skipped_other_profiles", "sessions_with_warning_before",
            "sessions_with_warning_after", "ready_median_min_before",
            "ready_median_min_after", "flags_by_measure_before", "flags_by_measure_after",
            "cancelled", "refused_sessions"} <= data.keys()
    assert data["sessions"] == SESSIONS
    assert set(data["flags_before"]) == {"advisory", "warning", "critical"}
    changed = data["changed_sessions"][0]
    assert {"session_id", "before", "after"} <= changed.keys()
    assert set(changed["after"][0]) == {"measure", "severity", "time"}
    assert isinstance(data["ready_earlier"], int)
    assert isinstance(data["ready_later"], int)


def test_cli_summary_reads_as_a_table(clinic_url, tmp_path, capsys):
    draft = _sbp_draft(tmp_path / "draft.toml")
    assert main(["protocol", "what-if", str(draft), "--workers", "1", "--since", "2000-01-01",
                 "--db", clinic_url]) == 0
    out = capsys.readouterr().out
    assert f"Sessions compared: {SESSIONS} (0 of other profiles skipped)" in out
    assert "Sessions whose flags change:" in out
    assert "before:" in out


def test_cli_refuses_a_malformed_draft_naming_line_and_field(clinic_url, tmp_path, capsys):
    path = _draft(tmp_path / "bad.toml", "\n[bp]\nhigh_warning_sbp_at_or_above = "
                                         '{ value = 400, unit = "mmHg", source = "x" }\n')
    assert main(["protocol", "what-if", str(path), "--db", clinic_url]) == 2
    err = capsys.readouterr().err
    assert "bad.toml, line 8, field bp.high_warning_sbp_at_or_above" in err
    assert "400 is outside the accepted range" in err


def test_cli_refuses_bad_dates_and_workers(clinic_url, tmp_path, capsys):
    draft = _draft(tmp_path / "same.toml")
    assert main(["protocol", "what-if", str(draft), "--since", "2026-13-01", "--until",
                 "2026-01-01", "--workers", "0", "--db", clinic_url]) == 2
    err = capsys.readouterr().err
    assert "--since: expected a date YYYY-MM-DD, got '2026-13-01'" in err
    assert "--workers: expected a whole number from 1 to 256, got 0" in err


def test_result_json_is_plain_data():
    json.dumps(WhatIfResult(profile="iv_ketamine").to_json())
