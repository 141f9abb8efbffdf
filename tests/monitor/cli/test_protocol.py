"""``python -m monitor protocol``: import a draft, approve it, list and export versions."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.clinical.protocol import load_protocol_text
from monitor.service.auth import KEY_FILE_ENV
from monitor.service.clinic import ClinicService
from monitor.storage import protocol_store
from tests.conftest import TEST_PIN, TEST_SECRET

DRAFT = """\
# Tighter heart-rate bands after the 2026 review.
[protocol]
extends = "iv_ketamine"

[hr]
high_warning_at_or_above = { value = 105, unit = "/min", source = "clinic review 2026" }
"""


@pytest.fixture(autouse=True)
def _same_secret() -> None:
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())


@pytest.fixture
def people(store, clock):
    service = ClinicService(store, clock, secret=TEST_SECRET)
    return {role: service.ensure_staff(name, role, pin=TEST_PIN) for role, name in (
        ("admin", "Ada Admin"), ("clinician", "Cleo Clinician"), ("nurse", "Nora Nurse"))}


def run(argv, clock, capsys, monkeypatch, stdin: str = ""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(argv, clock=clock)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _import(tmp_path, text, db_url, clock, capsys, monkeypatch, name="draft.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return run(["protocol", "import", str(path), "--as", "Ada Admin", "--reason",
                "2026 review of HR bands", "--db", db_url], clock, capsys, monkeypatch,
               f"{TEST_PIN}\n")


def test_import_approve_and_a_new_session_names_the_new_version(
        tmp_path, db_url, clock, capsys, monkeypatch, people, store):
    status, out, err = _import(tmp_path, DRAFT, db_url, clock, capsys, monkeypatch)
    assert (status, err) == (0, "")
    draft = out.strip()
    status, out, err = run(["protocol", "approve", draft, "--as", "Cleo Clinician", "--db",
                            db_url], clock, capsys, monkeypatch, f"{TEST_PIN}\n")
    assert (status, err) == (0, "")
    version = uuid.UUID(out.strip())

    status, out, _ = run(["protocol", "list", "--json", "--db", db_url], clock, capsys,
                         monkeypatch)
    listing = json.loads(out)
    assert listing["active"] == {"iv_ketamine": str(version), "esketamine_rems": None}
    (approved,) = [v for v in listing["versions"] if v["id"] == str(version)]
    assert (approved["made_by"], approved["approved_by"], approved["reason"],
            approved["version"]) == ("Ada Admin", "Cleo Clinician", "2026 review of HR bands",
                                     "1.2")
    assert listing["drafts"][0]["state"] == "approved"
    assert listing["drafts"][0]["changes"]["parameters"] == {"hr.high_warning_at_or_above": {
        "value": 105, "unit": "/min", "source": "clinic review 2026"}}

    service = ClinicService(store, clock, secret=TEST_SECRET)
    patient = service.add_patient("MRN200", by=people["nurse"], weight_kg=70.0)
    session = service.start_session(patient.id, by=people["nurse"], chair="2")
    status, out, _ = run(["show", str(session), "--json", "--db", db_url], clock, capsys,
                         monkeypatch)
    shown = json.loads(out)["session"]
    assert (shown["protocol_version"], shown["protocol_hash"]) == ("1.2", approved["sha256"])


def test_import_refuses_a_warning_beyond_its_critical_limit_naming_line_and_field(
        tmp_path, db_url, clock, capsys, monkeypatch, people):
    status, out, err = _import(tmp_path, DRAFT.replace("value = 105", "value = 140"), db_url,
                               clock, capsys, monkeypatch)
    assert (status, out) == (2, "")
    assert "draft.toml, line 6, field hr.high_warning_at_or_above: 140 must be below " \
           "hr.high_critical_at_or_above (131)" in err
    status, out, _ = run(["protocol", "list", "--json", "--db", db_url], clock, capsys,
                         monkeypatch)
    assert json.loads(out)["drafts"] == []


@pytest.mark.parametrize(("text", "expected"), [
    (DRAFT.replace("value = 105", "value = 105.5"),
     "line 6, field hr.high_warning_at_or_above: expected a whole number, got 105.5"),
    (DRAFT.replace("value = 105", "value = 500"),
     "line 6, field hr.high_warning_at_or_above: 500 is outside the accepted range 20–250"),
    (DRAFT.replace("[hr]", "[heart]"), "line 5, field heart: unknown section [heart]"),
    (DRAFT.replace('unit = "/min", ', ""), "line 6, field hr.high_warning_at_or_above: "
                                           "missing unit"),
    (DRAFT.replace("extends", "extend"), "line 3, field protocol.extend: unknown field"),
    (DRAFT.replace("105,", "105"), "line 6: TOML syntax error"),
])
def test_import_refuses_malformed_input_with_its_line_and_field(
        tmp_path, db_url, clock, capsys, monkeypatch, people, text, expected):
    status, _, err = _import(tmp_path, text, db_url, clock, capsys, monkeypatch)
    assert status == 2
    assert expected in err


def test_approve_with_a_wrong_pin_or_by_a_nurse_activates_nothing(
        tmp_path, db_url, clock, capsys, monkeypatch, people):
    _, out, _ = _import(tmp_path, DRAFT, db_url, clock, capsys, monkeypatch)
    draft = out.strip()
    status, _, err = run(["protocol", "approve", draft, "--as", "Cleo Clinician", "--db",
                          db_url], clock, capsys, monkeypatch, "000000\n")
    assert status == 2
    assert "PIN" in err
    status, _, err = run(["protocol", "approve", draft, "--as", "Nora Nurse", "--db", db_url],
                         clock, capsys, monkeypatch, f"{TEST_PIN}\n")
    assert status == 2
    assert "A nurse cannot approve a protocol version" in err
    _, out, _ = run(["protocol", "list", "--json", "--db", db_url], clock, capsys, monkeypatch)
    assert json.loads(out)["active"]["iv_ketamine"] is None


def test_export_loads_back_to_the_same_version_and_imports_as_no_change(
        tmp_path, db_url, clock, capsys, monkeypatch, people):
    _, out, _ = _import(tmp_path, DRAFT, db_url, clock, capsys, monkeypatch)
    draft = out.strip()
    status, _, _ = run(["protocol", "export", "--draft", draft, "-o",
                        str(tmp_path / "draft-out.toml"), "--db", db_url], clock, capsys,
                       monkeypatch)
    assert status == 0
    _, out, _ = run(["protocol", "approve", draft, "--as", "Cleo Clinician", "--db", db_url],
                    clock, capsys, monkeypatch, f"{TEST_PIN}\n")
    version = out.strip()
    exported = tmp_path / "version.toml"
    status, _, err = run(["protocol", "export", "--version", version, "-o", str(exported),
                          "--db", db_url], clock, capsys, monkeypatch)
    assert (status, err) == (0, "")
    text = exported.read_text(encoding="utf-8")
    assert text == (tmp_path / "draft-out.toml").read_text(encoding="utf-8")
    loaded = load_protocol_text(text, "version.toml")
    assert str(protocol_store.version_of(loaded, "iv_ketamine", clock.now()).id) == version

    status, out, _ = _import(tmp_path, text, db_url, clock, capsys, monkeypatch,
                             name="version.toml")
    assert status == 0
    _, listing, _ = run(["protocol", "list", "--json", "--db", db_url], clock, capsys,
                        monkeypatch)
    (again,) = [d for d in json.loads(listing)["drafts"] if d["id"] == out.strip()]
    assert again["changes"] == {"parameters": {}, "medications": None, "version": None}
    assert again["base_version"] == version

    status, _, err = run(["protocol", "export", "--version", version, "-o", str(exported),
                          "--db", db_url], clock, capsys, monkeypatch)
    assert status == 2
    assert "exists" in err


def test_export_of_the_factory_default_loads_as_the_shipped_file(
        tmp_path, db_url, clock, capsys, monkeypatch):
    out_file = tmp_path / "factory.toml"
    status, _, _ = run(["protocol", "export", "--profile", "esketamine_rems", "-o",
                        str(out_file), "--db", db_url], clock, capsys, monkeypatch)
    assert status == 0
    loaded = load_protocol_text(out_file.read_text(encoding="utf-8"), "factory.toml")
    assert loaded.discharge.min_observation_min == 120
