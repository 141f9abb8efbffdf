"""Fixtures of the entry form tests: the vitals form and the session's last reading."""

import uuid
from datetime import timedelta

import pytest

from monitor.clinical.domain import Reading
from tests.ui.session.entry.forms import show
from ui.common.theme import DIM
from ui.session.entry import VitalsEntry


@pytest.fixture
def vitals(qtbot, clock):
    return show(qtbot, VitalsEntry(DIM, clock))


@pytest.fixture
def last_reading(clock):
    return Reading(
        uuid.uuid4(), clock.now() - timedelta(minutes=10), sbp=128, dbp=82, hr=72, spo2=97, rr=14
    )
