"""Chart, rail and history after many saves show exactly what they show when built from scratch.

Both keep what they worked out for earlier readings and add only the new ones on a save;
a correction or another session makes them start again.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from monitor.clinical.domain import EventKind
from tests.conftest import TEST_PIN
from tests.ui.sessions import host, patient_session
from ui.common.theme import LIGHT
from ui.session.chart import SessionChart
from ui.session.history.entries import history_entries
from ui.session.history.model import EntriesModel
from ui.session.rail import ValueRail

SCATTERS = ("systolic", "diastolic", "heart_rate_dots", "spo2_dots")


def _shown(chart: SessionChart) -> dict[str, tuple[list[float], list[float]]]:
    items = {name: getattr(chart, name) for name in SCATTERS}
    items.update({f"offscale-{k}": v for k, v in chart.offscale.items()})
    shown = {}
    for name, item in items.items():
        x, y = item.getData()
        shown[name] = (np.asarray(x).tolist(), np.asarray(y).tolist())
    for name in ("heart_rate", "spo2", "bp_bars"):
        x, y = getattr(chart, name).getData()
        shown[name] = ([] if x is None else list(x), [] if y is None else list(y))
    return shown


def _tiles(rail: ValueRail) -> dict[object, tuple[str, str]]:
    return {m: (t.value.text(), t.age.text()) for m, t in rail.tiles.items()}


def test_chart_rail_and_history_after_saves_equal_a_fresh_build(qtbot, service, clock, nurse):
    theme = LIGHT
    kept_chart, kept_rail = SessionChart(theme), ValueRail(theme)
    kept_history = EntriesModel(theme)
    resets = []
    kept_history.modelReset.connect(lambda: resets.append(1))
    windows = [host(qtbot, kept_chart, 900, 600), host(qtbot, kept_rail, 300, 600)]
    session = patient_session(service, nurse)
    service.record_event(session, EventKind.INFUSION_START, by=nurse)
    ids = []
    for i in range(40):
        clock.advance(timedelta(seconds=30))
        values = {"sbp": 120 + (i * 37) % 110, "dbp": 70 + (i * 11) % 60, "hr": 50 + (i * 13) % 90,
                  "spo2": 86 + i % 14}
        ids.append(service.record_reading(session, values, by=nurse,
                                          confirmed=tuple(values)).id)
        if i == 25:  # a correction: everything is worked out again
            service.void(session, "reading", ids[3], reason="wrong patient", by=nurse,
                         pin=TEST_PIN)
        view = service.load(session)
        kept_chart.show_view(view)
        kept_rail.show_view(view)
        kept_history.set_view(view)
        assert kept_history.entries() == history_entries(view)
        if i == 24:
            assert len(resets) == 1  # the first view; later saves inserted their rows
        if i % 8 == 7 or i == 25:
            fresh_chart, fresh_rail = SessionChart(theme), ValueRail(theme)
            windows += [host(qtbot, fresh_chart, 900, 600), host(qtbot, fresh_rail, 300, 600)]
            fresh_chart.show_view(view)
            fresh_rail.show_view(view)
            assert _shown(kept_chart) == _shown(fresh_chart)
            assert _tiles(kept_rail) == _tiles(fresh_rail)
