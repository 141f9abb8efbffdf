"""Fixtures of the service's parts: a patient on file and a session on chair 2."""

from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def patient(service, nurse):
    return service.add_patient("MRN100200", by=nurse, name="Ada Byrne",
                               date_of_birth=date(1980, 4, 2), weight_kg=70.0)


@pytest.fixture
def session_id(service, nurse, patient, clock):
    return service.start_session(patient.id, by=nurse, chair="2", lot_number="K-2231",
                                 escort_name="Sam Byrne")
