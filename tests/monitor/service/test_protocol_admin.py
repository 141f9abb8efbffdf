"""Protocol drafts, approval and activation: a session keeps the version it started under."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.protocol import load_protocol, load_protocol_text
from monitor.clinical.protocol_changes import ProtocolChangeError, next_label
from monitor.service.auth import LoginRefused, SignatureRequired
from monitor.service.protocol_admin import APPROVED, MEANING_APPROVE
from monitor.storage import protocol_store
from tests.conftest import TEST_PIN

HR = "hr.high_warning_at_or_above"


@pytest.fixture
def admin(service) -> uuid.UUID:
    return service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)


def _session(service, nurse, mrn="MRN100"):
    patient = service.find_patient(mrn) or service.add_patient(mrn, by=nurse, weight_kg=70.0)
    return service.start_session(patient.id, by=nurse, chair="1")


def _draft(service, admin, **parameters):
    return service.protocols.create_draft(
        "iv_ketamine", by=admin, reason="Clinic review of HR bands",
        parameters=parameters or {HR: {"value": 105, "source": "clinic review 2026"}})


def test_editing_and_approving_a_draft_never_changes_a_running_or_past_session(
        service, nurse, admin, clinician, clock):
    running = _session(service, nurse)
    before = service.session_info(running)
    draft = _draft(service, admin)
    service.protocols.edit_draft(draft, by=admin, parameters={HR: 100})
    assert service.load(running).protocol.hr.high_warning_at_or_above == 111

    clock.advance(timedelta(minutes=5))
    version = service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    after = service.session_info(running)
    assert (after.protocol_version_id, after.protocol_hash) == (
        before.protocol_version_id, before.protocol_hash)
    assert service.load(running).protocol.hr.high_warning_at_or_above == 111

    started_after = _session(service, nurse, "MRN101")
    info = service.session_info(started_after)
    assert info.protocol_version_id == version
    assert info.protocol_version == "1.2"
    assert service.load(started_after).protocol.hr.high_warning_at_or_above == 100
    assert service.protocol_for("iv_ketamine").hr.high_warning_at_or_above == 100
    # Another profile keeps its file.
    assert service.protocol_for("esketamine_rems").hr.high_warning_at_or_above == 111


def test_the_factory_file_seeds_the_first_version_and_the_listing_says_who_and_why(
        service, admin, clinician):
    draft = _draft(service, admin)
    factory = protocol_store.version_of(load_protocol("iv_ketamine"), "iv_ketamine",
                                        service.clock.now())
    assert service.protocols.draft(draft).base_version_id == factory.id
    assert service.protocols.active() == {"iv_ketamine": None, "esketamine_rems": None}
    version = service.protocols.approve(draft, by=clinician, pin=TEST_PIN)

    versions = {v.version.id: v for v in service.protocols.versions()}
    assert versions[factory.id].activation is None
    approved = versions[version]
    assert (approved.made_by, approved.reason, approved.active) == (
        "Ada Admin", "Clinic review of HR bands", True)
    assert approved.activation is not None
    assert approved.activation.approver_name == "Cleo Clinician"
    assert approved.activation.meaning == MEANING_APPROVE
    assert approved.activation.content_hash == approved.version.hash
    assert service.protocols.draft(draft).state == APPROVED
    rows = {r.field: r for r in service.protocols.parameters("iv_ketamine")}
    assert rows[HR].differs
    assert rows[HR].value == 105
    assert rows[HR].factory_value == 111
    assert rows[HR].source == "clinic review 2026"
    assert not rows["hr.high_critical_at_or_above"].differs


def test_values_are_refused_naming_parameter_unit_and_accepted_range(service, admin):
    with pytest.raises(ProtocolChangeError) as refused:
        _draft(service, admin, **{HR: 300})
    assert refused.value.errors[0].field == HR
    assert "hr.high_warning_at_or_above (/min)" in str(refused.value)
    assert "300 is outside the accepted range 20–250 /min" in str(refused.value)
    assert service.protocols.check(HR, "abc", unit="/min")[0].message.startswith(
        "hr.high_warning_at_or_above (/min): expected a whole number")
    assert service.protocols.check(HR, "120") == []
    assert service.protocols.check("discharge.min_observation_from", "dawn")[0].message \
        .endswith("(accepted: infusion_stop, infusion_start)")
    assert service.protocols.drafts() == []


def test_a_draft_with_a_warning_beyond_its_critical_limit_is_refused(service, admin):
    with pytest.raises(ProtocolChangeError, match=r"hr\.high_warning_at_or_above \(/min\): "
                       r"131 must be below hr\.high_critical_at_or_above \(131\)"):
        _draft(service, admin, **{HR: 131})
    draft = _draft(service, admin)
    with pytest.raises(ProtocolChangeError, match=r"spo2\.low_warning_at_or_below \(%\): 90 "
                       r"must be above spo2\.low_critical_at_or_below"):
        service.protocols.edit_draft(draft, by=admin,
                                     parameters={"spo2.low_warning_at_or_below": 90})
    assert service.protocols.draft(draft).changes["parameters"] == {
        HR: {"value": 105, "unit": "/min", "source": "clinic review 2026"}}


def test_a_draft_may_not_allow_discharge_at_a_level_that_flags(service, admin):
    with pytest.raises(ProtocolChangeError, match="discharge must not allow a MOAA/S level"):
        _draft(service, admin, **{"moaas.warning_at_or_below": 5})


def test_approval_needs_a_clinicians_correct_pin(service, admin, clinician, nurse):
    draft = _draft(service, admin)
    with pytest.raises(SignatureRequired):
        service.protocols.approve(draft, by=clinician)
    with pytest.raises(LoginRefused):
        service.protocols.approve(draft, by=clinician, pin="000000")
    for person in (nurse, admin):
        with pytest.raises(PermissionDenied, match="a clinician can"):
            service.protocols.approve(draft, by=person, pin=TEST_PIN)
    assert service.protocols.active()["iv_ketamine"] is None
    assert service.protocols.draft(draft).state == "draft"
    service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    assert service.protocols.active()["iv_ketamine"] is not None


def test_only_admins_write_drafts_and_nurses_read(service, admin, nurse, clinician):
    for person in (nurse, clinician):
        with pytest.raises(PermissionDenied, match="an admin can"):
            _draft(service, person)
    draft = _draft(service, admin)
    assert [d.id for d in service.protocols.drafts()] == [draft]
    assert service.protocols.parameters("iv_ketamine", draft_id=draft)  # a nurse may read


def test_a_draft_made_before_another_approval_is_not_approved_over_it(
        service, admin, clinician, clock):
    first = _draft(service, admin)
    second = _draft(service, admin, **{"rr.high_warning_at_or_above": 22})
    service.protocols.approve(first, by=clinician, pin=TEST_PIN)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(ProtocolChangeError, match="withdraw the draft"):
        service.protocols.approve(second, by=clinician, pin=TEST_PIN)


def test_a_draft_that_changes_nothing_is_not_approved(service, admin, clinician):
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="nothing yet")
    service.protocols.edit_draft(draft, by=admin, version="1.1")
    with pytest.raises(ProtocolChangeError, match="changes nothing"):
        service.protocols.approve(draft, by=clinician, pin=TEST_PIN)


def test_every_step_is_audited_with_old_and_new_values(service, admin, clinician):
    draft = _draft(service, admin)
    service.protocols.edit_draft(draft, by=admin, parameters={
        HR: 100, "rr.high_warning_at_or_above": 22})
    service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    entries = {e.action: e for e in service.audit_entries(by=admin)
               if e.action.startswith("protocol_")}
    assert set(entries) == {"protocol_draft_create", "protocol_draft_edit",
                            "protocol_approve", "protocol_activate"}
    edit = entries["protocol_draft_edit"]
    assert edit.staff_name == "Ada Admin"
    assert edit.old == {
        HR: {"value": 105, "unit": "/min", "source": "clinic review 2026"},
        "rr.high_warning_at_or_above": {
            "value": 21, "unit": "/min", "source": "NEWS2 band 21–24 (2 points: warning)"}}
    assert edit.new[HR]["value"] == 100
    assert edit.new["rr.high_warning_at_or_above"]["value"] == 22
    approve = entries["protocol_approve"]
    assert approve.staff_name == "Cleo Clinician"
    assert approve.new is not None
    assert approve.new["meaning"] == MEANING_APPROVE
    assert entries["protocol_activate"].new is not None
    assert service.verify_audit().ok


def test_approved_drafts_and_activations_never_change(service, admin, clinician, store):
    draft = _draft(service, admin)
    service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    with pytest.raises(ProtocolChangeError, match="approved: it no longer changes"):
        service.protocols.edit_draft(draft, by=admin, parameters={HR: 101})
    for statement in ("UPDATE protocol_drafts SET reason = 'x'",
                      "DELETE FROM protocol_drafts",
                      "UPDATE protocol_activations SET reason = 'x'",
                      "DELETE FROM protocol_activations"):
        with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as connection:
            connection.execute(sa.text(statement))


def test_an_open_draft_may_be_withdrawn_and_then_is_closed(service, admin, clinician):
    draft = _draft(service, admin)
    service.protocols.withdraw(draft, by=admin, reason="superseded by the May review")
    with pytest.raises(ProtocolChangeError, match="withdrawn"):
        service.protocols.approve(draft, by=clinician, pin=TEST_PIN)


def test_export_of_a_version_and_a_draft_loads_back_to_the_same_version(
        service, admin, clinician):
    draft = _draft(service, admin)
    exported_draft = service.protocols.export_draft(draft)
    version = service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    exported = service.protocols.export_version(version)
    assert exported == exported_draft
    loaded = load_protocol_text(exported, "exported.toml")
    again = protocol_store.version_of(loaded, "iv_ketamine", service.clock.now())
    assert again.id == version


def test_next_label_counts_up_the_last_number():
    assert [next_label(x) for x in ("1.1", "2.9", "1.1-clinic", "draft")] == [
        "1.2", "2.10", "1.2-clinic", "draft.1"]


def test_check_names_an_approval_whose_signed_hash_is_not_its_versions(
        service, admin, clinician, store, db_url):
    from monitor.storage.integrity import check_database  # noqa: PLC0415

    service.protocols.approve(_draft(service, admin), by=clinician, pin=TEST_PIN)
    assert not [p for p in check_database(db_url).problems if "approval" in p]
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(sa.text("DROP TRIGGER protocol_activations_no_update"))
        else:
            connection.execute(sa.text(
                "ALTER TABLE protocol_activations DISABLE TRIGGER protocol_activations_no_change"))
        connection.execute(sa.text(f"UPDATE protocol_activations SET content_hash = '{'0' * 64}'"))
    (problem,) = [p for p in check_database(db_url).problems if "approval" in p]
    assert "was signed for SHA-256 0000000000" in problem


def test_the_author_of_a_draft_cannot_approve_it(service, admin, clinician, store):
    draft = _draft(service, admin)
    with store.engine.begin() as connection:  # as if the clinician had written it
        connection.execute(sa.text("UPDATE protocol_drafts SET created_by = :who"),
                           {"who": clinician if connection.dialect.name == "postgresql"
                            else clinician.hex})
    with pytest.raises(ProtocolChangeError, match="The author of a draft cannot approve it"):
        service.protocols.approve(draft, by=clinician, pin=TEST_PIN)
    assert service.protocols.active()["iv_ketamine"] is None


def test_saving_a_draft_unchanged_writes_nothing(service, admin, clock):
    draft = _draft(service, admin)
    before = (service.protocols.draft(draft).updated_at, service.audit_head())
    clock.advance(timedelta(minutes=3))
    service.protocols.edit_draft(draft, by=admin, parameters={HR: 105},
                                 reason="Clinic review of HR bands")
    assert (service.protocols.draft(draft).updated_at, service.audit_head()) == before
    service.protocols.edit_draft(draft, by=admin, reason="Clinic review of the HR bands")
    entry = service.audit_entries(by=admin, action="protocol_draft_edit")[0]
    assert (entry.old, entry.new) == ({"reason": "Clinic review of HR bands"},
                                      {"reason": "Clinic review of the HR bands"})
