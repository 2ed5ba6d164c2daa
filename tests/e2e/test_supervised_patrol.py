"""A whole supervised patrol of the demo in the twin: phases in the log, an investigation flown
past the anomaly's onset and across it, the survey resumed and completed, home by water."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riverpatrol.analysis.track import river_frame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import SimulationResult, simulate

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


@pytest.fixture(scope="module")
def patrol(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(load_scenario(DEMO), tmp_path_factory.mktemp("supervised"))


def test_phases_run_from_preflight_to_done(patrol: SimulationResult) -> None:
    with PatrolLog(patrol.log_path) as log:
        phases = [(e.detail["previous"], e.detail["phase"]) for e in log.records("event") if e.kind == "phase"]
    assert phases[0] == ("preflight", "transit") and phases[1] == ("transit", "survey")
    assert phases[-2:] == [("survey", "return"), ("return", "done")]
    assert patrol.truth["mission_complete"] is True


def test_investigations_go_past_the_onset_and_across_the_plume(patrol: SimulationResult) -> None:
    with PatrolLog(patrol.log_path) as log:
        events = list(log.records("event"))
        fixes = np.array([(p.t, p.lon, p.lat) for p in log.records("position")])
        frame = river_frame(log.meta)
    s, n = frame.lonlat_to_river(fixes[:, 1], fixes[:, 2])
    starts = [e for e in events if e.kind == "phase" and e.detail["phase"] == "investigate"]
    assert starts, "the demo's outfalls raise at least one anomaly worth a second look"
    for start in starts:
        end = next(e.t for e in events if e.t > start.t and e.kind == "phase" and e.detail["previous"] == "investigate")
        during = (fixes[:, 0] >= start.t) & (fixes[:, 0] <= end)
        onset = start.detail["chainage_m"]
        assert s[during].min() < max(onset - 40.0, 10.0)  # past the onset upstream ...
        assert s[during].max() > min(onset + 40.0, frame.length - 10.0)  # ... and below it, within the reach
        assert n[during].min() < -5.0 and n[during].max() > 5.0  # bank to bank across the plume
        assert end - start.t < 1.5 * 360.0  # within its time budget
        assert start.detail["parameters"] and start.detail["score"] > 0  # logged with its reason
