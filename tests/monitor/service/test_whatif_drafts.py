"""The what-if of a stored draft (the app's) and of a draft file (the command line's): both
are the draft's changes on the profile's current version, compared with the version each
session ran under; and a draft withdrawn from the command line."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.clinical.protocol import load_draft
from monitor.clock import ManualClock
from monitor.demo import data as demo
from monitor.service.auth import KEY_FILE_ENV
from monitor.service.clinic import ClinicService
from monitor.service.whatif import period, what_if
from monitor.storage.model import AuditLog
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SBP = "bp.high_warning_sbp_at_or_above"
HR = "hr.high_warning_at_or_above"
SBP_FILE = """\
[protocol]
id = "iv_ketamine"
name = "IV ketamine (draft)"
version = "2.0-draft"
extends = "iv_ketamine"

[bp]
high_warning_sbp_at_or_above = { value = 150, unit = "mmHg", source = "what-if" }
"""


@pytest.fixture(autouse=True)
def _same_secret() -> None:
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())


@pytest.fixture
def clinic(tmp_path):
    """150 demo sessions, an admin and a clinician."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    store = open_store(url)
    demo.generate(store, sessions=150, seed=7, clock_now=NOW)
    clock = ManualClock(NOW + timedelta(hours=1))
    service = ClinicService(store, clock, secret=TEST_SECRET)
    admin = service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    yield service, url, admin, clinician
    store.close()


def _cli(argv, clock, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(argv, clock=clock)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_app_what_if_of_a_draft_matches_the_command_line_json(clinic, capsys,
                                                                    monkeypatch):
    service, url, admin, _ = clinic
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Lower SBP band",
                                           parameters={SBP: 150})
    since, until = date(2025, 1, 1), date(2026, 3, 2)
    steps: list[tuple[int, int]] = []
    app = service.protocols.what_if(draft, since=period(since, until)[0],
                                    until=period(since, until)[1],
                                    progress=lambda done, total: steps.append((done, total)),
                                    cancel=threading.Event())
    status, out, err = _cli(["protocol", "what-if", "--draft", str(draft), "--since",
                             str(since), "--until", str(until), "--workers", "1", "--json",
                             "--db", url], service.clock, capsys, monkeypatch)
    assert (status, err) == (0, "")
    assert app.to_json() == json.loads(out)
    assert app.sessions > 0
    assert app.changed, "a lower SBP warning limit changes some demo sessions"
    assert steps[-1] == (app.total, app.total)


def test_a_draft_file_applies_to_the_current_version_not_the_factory_file(
        clinic, tmp_path, capsys, monkeypatch):
    service, url, admin, clinician = clinic
    # The clinic's protocol is no longer its file: a tighter HR band was approved.
    hr = service.protocols.create_draft("iv_ketamine", by=admin, reason="Tighter HR band",
                                        parameters={HR: 85})
    service.protocols.approve(hr, by=clinician, pin=TEST_PIN)
    path = tmp_path / "sbp.toml"
    path.write_text(SBP_FILE, encoding="utf-8")

    from_file = service.protocols.revision(SBP_FILE, "sbp.toml")
    assert from_file.hr.high_warning_at_or_above == 85  # kept from the approved version
    assert from_file.bp.high_warning_sbp_at_or_above == 150
    # The app's draft of the same change is made on the same version: the same comparison.
    stored = service.protocols.create_draft("iv_ketamine", by=admin, reason="Lower SBP band",
                                            parameters={SBP: 150})
    app = service.protocols.what_if(stored)
    status, out, err = _cli(["protocol", "what-if", str(path), "--workers", "1", "--json",
                             "--db", url], service.clock, capsys, monkeypatch)
    assert (status, err) == (0, "")
    assert json.loads(out) == app.to_json()
    # On the factory file instead, the approved HR band would be silently undone: the
    # demo sessions (run under the factory file) would show no HR change at all.
    factory_based = what_if(service.store, load_draft(path)).to_json()
    assert factory_based["flags_by_measure_after"]["hr"] == factory_based[
        "flags_by_measure_before"]["hr"]
    assert app.to_json()["flags_by_measure_after"]["hr"] != app.to_json()[
        "flags_by_measure_before"]["hr"]


def test_what_if_names_a_missing_draft_and_needs_one_draft(clinic, tmp_path, capsys,
                                                           monkeypatch):
    service, url, _, _ = clinic
    status, _, err = _cli(["protocol", "what-if", "--draft",
                           "00000000-0000-0000-0000-000000000001", "--db", url],
                          service.clock, capsys, monkeypatch)
    assert status == 1
    assert "no protocol draft" in err
    status, _, err = _cli(["protocol", "what-if", "--db", url], service.clock, capsys,
                          monkeypatch)
    assert status == 2
    assert "name the draft" in err


def test_withdraw_from_the_command_line_is_audited_and_final(clinic, capsys, monkeypatch):
    service, url, admin, _ = clinic
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Trial HR band",
                                           parameters={HR: 105})
    status, out, err = _cli(["protocol", "withdraw", str(draft), "--as", "Ada Admin",
                             "--reason", "Superseded by the review", "--db", url],
                            service.clock, capsys, monkeypatch, f"{TEST_PIN}\n")
    assert (status, err) == (0, "")
    assert out.strip() == f"withdrawn {draft}"
    assert service.protocols.draft(draft).state == "withdrawn"
    with service.store.read() as db:
        entry = db.query(AuditLog).filter_by(action="protocol_draft_withdraw").one()
    assert entry.staff_id == admin
    assert json.loads(entry.old or "") == {"state": "draft"}
    assert json.loads(entry.new or "") == {"state": "withdrawn",
                                           "reason": "Superseded by the review"}

    status, _, err = _cli(["protocol", "withdraw", str(draft), "--as", "Ada Admin",
                           "--reason", "Again", "--db", url], service.clock, capsys,
                          monkeypatch, f"{TEST_PIN}\n")
    assert status == 2
    assert "This draft is withdrawn" in err


def test_a_nurse_cannot_withdraw_a_draft(clinic, capsys, monkeypatch):
    service, url, admin, _ = clinic
    service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Trial HR band",
                                           parameters={HR: 105})
    status, _, err = _cli(["protocol", "withdraw", str(draft), "--as", "Nora Nurse",
                           "--reason", "Not wanted", "--db", url], service.clock, capsys,
                          monkeypatch, f"{TEST_PIN}\n")
    assert status == 2
    assert "A nurse cannot change the protocol" in err
    assert service.protocols.draft(draft).state == "draft"
